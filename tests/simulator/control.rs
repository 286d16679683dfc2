//! The `/_sim/*` control API drives a running simulator.

use std::time::Duration;

use clouddb_job_operator::simulator::SimConfig;
use serde_json::json;

use super::*;

#[tokio::test]
async fn add_jobs_and_faults_read_requests_and_reset() {
    let sim = start(SimConfig::empty()).await;
    let http = client(Duration::from_secs(5));
    let control = |path: &str| format!("{}/_sim/{path}", sim.url());
    assert_eq!(
        http.send(huawei_ok(&http, &sim, "added"))
            .await
            .unwrap()
            .status,
        404
    );
    let job = json!({"provider": "huawei", "api": "taurusdb", "jobId": "added", "projectId": PROJECT,
        "timeline": [{"after": "0s", "status": "PENDING"}]});
    let added = http
        .send(http.reqwest().post(control("jobs")).json(&job))
        .await
        .unwrap();
    assert_eq!(
        added.status,
        201,
        "{}",
        String::from_utf8_lossy(&added.body)
    );
    let ok = http.send(huawei_ok(&http, &sim, "added")).await.unwrap();
    assert_eq!(json(&ok)["job"]["status"], "Pending");
    let bad = http
        .send(
            http.reqwest()
                .post(control("jobs"))
                .json(&json!({"provider": "huawei"})),
        )
        .await
        .unwrap();
    assert_eq!(bad.status, 400);
    let fault = http
        .send(http.reqwest().post(control("faults")).json(&json!("502")))
        .await
        .unwrap();
    assert_eq!(fault.status, 201);
    assert_eq!(
        http.send(huawei_ok(&http, &sim, "added"))
            .await
            .unwrap()
            .status,
        502
    );
    let cleared = http
        .send(http.reqwest().delete(control("faults")))
        .await
        .unwrap();
    assert_eq!(json(&cleared)["removed"], 1);
    assert_eq!(
        http.send(huawei_ok(&http, &sim, "added"))
            .await
            .unwrap()
            .status,
        200
    );
    let log = json(
        &http
            .send(http.reqwest().get(control("requests")))
            .await
            .unwrap(),
    );
    assert_eq!(log["counters"]["total"], 4);
    assert_eq!(log["counters"]["byStatus"]["502"], 1);
    assert_eq!(log["recent"][2]["fault"], "status 502");
    let jobs = json(
        &http
            .send(http.reqwest().get(control("jobs")))
            .await
            .unwrap(),
    );
    // The first request came before the job existed.
    assert_eq!(jobs["jobs"][0]["requests"], 3);
    http.send(http.reqwest().post(control("reset")))
        .await
        .unwrap();
    assert_eq!(sim.request_count(), 0);
    assert_eq!(
        http.send(huawei_ok(&http, &sim, "added"))
            .await
            .unwrap()
            .status,
        404
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn refuses_non_loopback_binds() {
    let err = Simulator::start("0.0.0.0:0".parse().unwrap(), SimConfig::empty()).await;
    assert!(err.is_err());
}
