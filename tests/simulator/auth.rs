//! Correctly signed requests are served in each provider's shape; tampered, stale and
//! replayed ones get each provider's own error.

use std::time::Duration;

use clouddb_job_operator::providers::tencent_legacy::sign::SignatureMethod;
use clouddb_job_operator::simulator::auth::{
    DEFAULT_HUAWEI_SK, DEFAULT_HUAWEI_TOKEN, DEFAULT_TENCENT_SECRET_KEY,
};
use serde_json::json;

use super::*;

#[tokio::test]
async fn tencent_api3_describe_tasks_and_async_requests() {
    let sim = builtin().await;
    let http = client(Duration::from_secs(5));
    let r = tencent_ok(
        &http,
        &sim,
        "DescribeTasks",
        json!({"InstanceId": "cdb-gt70m8aa"}),
    )
    .await;
    let resp = &r["Response"];
    assert_eq!(resp["TotalCount"], 6, "{r}");
    assert_eq!(resp["Items"].as_array().unwrap().len(), 6);
    assert!(resp["RequestId"].as_str().unwrap().len() == 36);
    let item = &resp["Items"][0];
    assert_eq!(item["JobId"], 15964);
    assert_eq!(item["TaskType"], "INITIAL");
    assert!(item["TaskStatus"].is_string());
    let page = tencent_ok(
        &http,
        &sim,
        "DescribeTasks",
        json!({"InstanceId": "cdb-gt70m8aa", "Offset": 5, "Limit": 2}),
    )
    .await;
    assert_eq!(page["Response"]["TotalCount"], 6);
    assert_eq!(page["Response"]["Items"].as_array().unwrap().len(), 1);
    assert_eq!(page["Response"]["Items"][0]["JobId"], 15972);
    let by_async = tencent_ok(
        &http,
        &sim,
        "DescribeTasks",
        json!({"AsyncRequestId": "6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"}),
    )
    .await;
    assert_eq!(by_async["Response"]["Items"][0]["JobId"], 15967);
    let seed = tencent_ok(
        &http,
        &sim,
        "DescribeTasks",
        json!({"InstanceId": "cdb-seedshape1", "TaskTypes": [10]}),
    )
    .await;
    assert_eq!(seed["Response"]["Items"][0]["Type"], 10);
    assert!(seed["Response"]["Items"][0]["Data"][0]["DatabaseTables"].is_array());
    let too_many = tencent_ok(&http, &sim, "DescribeTasks", json!({"Limit": 101})).await;
    assert_eq!(
        too_many["Response"]["Error"]["Code"],
        "InvalidParameterValue"
    );
    let info = tencent_ok(
        &http,
        &sim,
        "DescribeAsyncRequestInfo",
        json!({"AsyncRequestId": "9e8f2c3a-5d7b-4f61-9c2e-1a2b3c4d5e6f"}),
    )
    .await;
    assert_eq!(info["Response"]["Status"], "INITIAL");
    let missing = tencent_ok(
        &http,
        &sim,
        "DescribeAsyncRequestInfo",
        json!({"AsyncRequestId": "nope"}),
    )
    .await;
    assert_eq!(
        missing["Response"]["Error"]["Code"],
        "InvalidParameter.InvalidAsyncRequestId"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn tencent_api3_rejects_bad_signatures() {
    let sim = builtin().await;
    let http = client(Duration::from_secs(5));
    let body = json!({"InstanceId": "cdb-gt70m8aa"});
    let code = |v: serde_json::Value| {
        v["Response"]["Error"]["Code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let wrong_key = http
        .send(tencent(&http, &sim, "DescribeTasks", &body, now(), "wrong"))
        .await
        .unwrap();
    assert_eq!(code(json(&wrong_key)), "AuthFailure.SignatureFailure");
    let stale = now() - 600;
    let old = http
        .send(tencent(
            &http,
            &sim,
            "DescribeTasks",
            &body,
            stale,
            DEFAULT_TENCENT_SECRET_KEY,
        ))
        .await
        .unwrap();
    assert_eq!(code(json(&old)), "AuthFailure.SignatureExpire");
    let tampered = tencent(
        &http,
        &sim,
        "DescribeTasks",
        &body,
        now(),
        DEFAULT_TENCENT_SECRET_KEY,
    )
    .body(json!({"InstanceId": "cdb-other"}).to_string());
    assert_eq!(
        code(json(&http.send(tampered).await.unwrap())),
        "AuthFailure.SignatureFailure"
    );
    let unsigned = http
        .reqwest()
        .post(format!("{}/", sim.url()))
        .header("x-tc-action", "DescribeTasks")
        .header("x-tc-version", "2017-03-20")
        .header("x-tc-region", "ap-guangzhou")
        .header("x-tc-timestamp", now().to_string())
        .body("{}");
    assert_eq!(
        code(json(&http.send(unsigned).await.unwrap())),
        "AuthFailure.InvalidAuthorization"
    );
    let no_timestamp = http
        .reqwest()
        .post(format!("{}/", sim.url()))
        .header("x-tc-action", "DescribeTasks")
        .header("x-tc-version", "2017-03-20")
        .header("x-tc-region", "ap-guangzhou")
        .body("{}");
    assert_eq!(
        code(json(&http.send(no_timestamp).await.unwrap())),
        "MissingParameter"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn tencent_api2_actions_signatures_and_replays() {
    let sim = builtin().await;
    let http = client(Duration::from_secs(5));
    let key = DEFAULT_TENCENT_SECRET_KEY;
    let send = |req| async { json(&http.send(req).await.unwrap()) };
    let task = send(legacy(
        &http,
        &sim,
        "GetCdbTaskInfo",
        "560",
        "1",
        SignatureMethod::HmacSha256,
        key,
    ))
    .await;
    assert_eq!(task["code"], "0", "{task}");
    assert_eq!(task["data"]["status"], "2");
    let upgrade = send(legacy(
        &http,
        &sim,
        "GetCdbUpgradeJobInfo",
        "47258",
        "2",
        SignatureMethod::HmacSha1,
        key,
    ))
    .await;
    assert_eq!(upgrade["code"], 0, "{upgrade}");
    assert_eq!(upgrade["data"]["jobId"], "47258");
    let rollback = send(legacy(
        &http,
        &sim,
        "GetCdbRollbackJobTask",
        "12782",
        "3",
        SignatureMethod::HmacSha256,
        key,
    ))
    .await;
    assert_eq!(
        rollback["data"]["jobInfo"]["detail"][0]["dbs"][0]["newname"],
        "test_bak"
    );
    let replay = send(legacy(
        &http,
        &sim,
        "GetCdbTaskInfo",
        "560",
        "1",
        SignatureMethod::HmacSha256,
        key,
    ))
    .await;
    assert_eq!(replay["code"], 4500, "{replay}");
    let bad = send(legacy(
        &http,
        &sim,
        "GetCdbTaskInfo",
        "560",
        "4",
        SignatureMethod::HmacSha1,
        "wrong",
    ))
    .await;
    assert_eq!(bad["code"], 4100);
    let unknown = send(legacy(
        &http,
        &sim,
        "GetCdbTaskInfo",
        "999",
        "5",
        SignatureMethod::HmacSha1,
        key,
    ))
    .await;
    assert_eq!(unknown["code"], 5000);
    sim.shutdown().await;
}

#[tokio::test]
async fn huawei_aksk_token_and_errors() {
    let sim = builtin().await;
    let http = client(Duration::from_secs(5));
    let ok = http.send(huawei_ok(&http, &sim, RDS_JOB)).await.unwrap();
    assert_eq!(ok.status, 200);
    assert!(ok.header("x-request-id").is_some());
    let job = json(&ok);
    assert_eq!(job["job"]["id"], RDS_JOB);
    assert_eq!(job["job"]["status"], "Running");
    assert!(job["job"]["created"].as_str().unwrap().ends_with("+0800"));
    let legacy_path = format!("/mysql/v3/{PROJECT}/jobs");
    let legacy = http
        .send(huawei(
            &http,
            &sim,
            &legacy_path,
            "31b8ae23-c687-4d80-b7b4-42a66c9bb886",
            DEFAULT_HUAWEI_SK,
            jiff::Timestamp::now(),
        ))
        .await
        .unwrap();
    assert_eq!(json(&legacy)["job"]["name"], "RestartGaussDBInstance");
    let token = http
        .reqwest()
        .get(format!("{}/v3/{PROJECT}/jobs?id={RDS_JOB}", sim.url()))
        .header("x-auth-token", DEFAULT_HUAWEI_TOKEN);
    assert_eq!(http.send(token).await.unwrap().status, 200);
    let bad = http
        .send(huawei(
            &http,
            &sim,
            &format!("/v3/{PROJECT}/jobs"),
            RDS_JOB,
            "wrong",
            jiff::Timestamp::now(),
        ))
        .await
        .unwrap();
    assert_eq!(bad.status, 401);
    assert_eq!(json(&bad)["error_code"], "APIGW.0301");
    assert!(bad.header("x-request-id").is_some());
    let stale = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(20);
    let old = http
        .send(huawei(
            &http,
            &sim,
            &format!("/v3/{PROJECT}/jobs"),
            RDS_JOB,
            DEFAULT_HUAWEI_SK,
            stale,
        ))
        .await
        .unwrap();
    assert_eq!(old.status, 401);
    let forged = http
        .reqwest()
        .get(format!("{}/v3/{PROJECT}/jobs?id={RDS_JOB}", sim.url()))
        .header("x-auth-token", "forged");
    assert_eq!(http.send(forged).await.unwrap().status, 401);
    let missing = http
        .send(huawei_ok(&http, &sim, "no-such-job"))
        .await
        .unwrap();
    assert_eq!(missing.status, 404);
    assert!(json(&missing)["error_code"].is_string());
    sim.shutdown().await;
}

#[tokio::test]
async fn rotated_credentials_replace_the_old_ones() {
    let sim = builtin().await;
    let http = client(Duration::from_secs(5));
    let path = format!("/v3/{PROJECT}/jobs");
    let send = |sk: &'static str| {
        http.send(huawei(
            &http,
            &sim,
            &path,
            RDS_JOB,
            sk,
            jiff::Timestamp::now(),
        ))
    };
    assert_eq!(send(DEFAULT_HUAWEI_SK).await.unwrap().status, 200);
    let mut rotated = clouddb_job_operator::simulator::SimCredentials::default();
    rotated.huawei[0].secret = "RotatedSecretAccessKey000000000000000000".into();
    sim.set_credentials(rotated);
    assert_eq!(
        send(DEFAULT_HUAWEI_SK).await.unwrap().status,
        401,
        "old key"
    );
    assert_eq!(
        send("RotatedSecretAccessKey000000000000000000")
            .await
            .unwrap()
            .status,
        200,
        "new key"
    );
    sim.reset();
    assert_eq!(
        send(DEFAULT_HUAWEI_SK).await.unwrap().status,
        401,
        "after reset"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_skewed_clock_fails_each_api_by_its_own_window() {
    // The simulator 20 minutes ahead: outside API 3.0's 5 min and Huawei's 15 min windows,
    // inside API 2.0's 2 h one.
    let sim = start(SimConfig {
        clock_skew_secs: 20 * 60,
        ..SimConfig::builtin().unwrap()
    })
    .await;
    let http = client(Duration::from_secs(5));
    let body = json!({"InstanceId": "cdb-gt70m8aa"});
    let tc3 = http
        .send(tencent(
            &http,
            &sim,
            "DescribeTasks",
            &body,
            now(),
            DEFAULT_TENCENT_SECRET_KEY,
        ))
        .await
        .unwrap();
    assert_eq!(
        json(&tc3)["Response"]["Error"]["Code"],
        "AuthFailure.SignatureExpire"
    );
    // Signed "in the future" by the skew, the same request is accepted.
    let ahead = http
        .send(tencent(
            &http,
            &sim,
            "DescribeTasks",
            &body,
            now() + 20 * 60,
            DEFAULT_TENCENT_SECRET_KEY,
        ))
        .await
        .unwrap();
    assert_eq!(json(&ahead)["Response"]["TotalCount"], 6);

    let v2 = json(
        &http
            .send(legacy(
                &http,
                &sim,
                "GetCdbTaskInfo",
                "560",
                "skew-1",
                SignatureMethod::HmacSha256,
                DEFAULT_TENCENT_SECRET_KEY,
            ))
            .await
            .unwrap(),
    );
    assert_eq!(v2["code"], "0", "{v2}");

    let hw = http.send(huawei_ok(&http, &sim, RDS_JOB)).await.unwrap();
    assert_eq!(hw.status, 401);
}
