//! Property tests of every entry point that reads a provider response: arbitrary bytes,
//! arbitrary JSON and structure-aware mutations of the recorded fixtures must never panic,
//! must keep progress within 0-100, and must never report a terminal phase for a job whose
//! status says it is still running. `PROPTEST_CASES` raises the case count (default 256).
//! The decoders are covered in `proptest_decoders.rs`, secret scrubbing in
//! `proptest_secrets.rs`.

use crate::fuzzkit;
use clouddb_job_operator::providers::alibaba::client::{self as ali_client, PageOutcome};
use clouddb_job_operator::providers::alibaba::{errors as ali_errors, mapping as ali_mapping};
use clouddb_job_operator::providers::azure::{client as az_client, errors as az_errors};
use clouddb_job_operator::providers::azure::{mapping as az_mapping, token as az_token};
use clouddb_job_operator::providers::gcp::{client as gcp_client, errors as gcp_errors};
use clouddb_job_operator::providers::gcp::{mapping as gcp_mapping, token as gcp_token};
use clouddb_job_operator::providers::huawei::{client as hw_client, errors as hw_errors};
use clouddb_job_operator::providers::huawei::{mapping as hw_mapping, model as hw_model};
use clouddb_job_operator::providers::tencent::{errors as tc_errors, mapping as tc_mapping};
use clouddb_job_operator::providers::tencent::{AsyncRequestInfo, DescribeTasksPage};
use clouddb_job_operator::providers::tencent_legacy::client::{decode_response, Api};
use clouddb_job_operator::providers::{JobObservation, ProviderError};
use fuzzkit::*;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};

const APIS: [Api; 3] = [Api::TaskInfo, Api::UpgradeJob, Api::RollbackJob];

fn status_code() -> BoxedStrategy<u16> {
    prop_oneof![
        3 => prop::sample::select(vec![200u16, 201, 204, 400, 401, 403, 404, 408, 429, 500, 503]),
        1 => any::<u16>(),
    ]
    .boxed()
}

/// The Tencent `DescribeTasks` path of the client: envelope, page decoding, lookup.
fn tencent_tasks(
    status: u16,
    body: &[u8],
    job_id: &str,
) -> Result<Option<JobObservation>, TestCaseError> {
    let Ok(response) = tc_errors::parse_response(status, body, None) else {
        return Ok(None);
    };
    let page: DescribeTasksPage = serde_json::from_value(response.clone()).map_err(|e| {
        TestCaseError::fail(format!(
            "a Response object must always decode: {e}: {response}"
        ))
    })?;
    for item in &page.items {
        check_observation(&tc_mapping::map_task_item(item))?;
    }
    let found = tc_mapping::observe_in_page(&page, job_id);
    if let Some(obs) = &found {
        check_observation(obs)?;
    }
    Ok(found)
}

/// The Tencent `DescribeAsyncRequestInfo` path of the client.
fn tencent_async(status: u16, body: &[u8]) -> Result<Option<JobObservation>, TestCaseError> {
    let Ok(response) = tc_errors::parse_response(status, body, None) else {
        return Ok(None);
    };
    let info: AsyncRequestInfo = serde_json::from_value(response.clone()).map_err(|e| {
        TestCaseError::fail(format!(
            "a Response object must always decode: {e}: {response}"
        ))
    })?;
    let obs = tc_mapping::map_async_request_info(&info);
    check_observation(&obs)?;
    Ok(Some(obs))
}

fn legacy(api: Api, status: u16, body: &[u8]) -> Result<Option<JobObservation>, TestCaseError> {
    match decode_response(api, &response(status, body.to_vec(), &[])) {
        Ok(obs) => {
            check_observation(&obs)?;
            Ok(Some(obs))
        }
        Err(e) => {
            check_error(&e)?;
            Ok(None)
        }
    }
}

fn huawei(status: u16, body: &[u8]) -> Result<Option<JobObservation>, TestCaseError> {
    let _ = hw_errors::parse_error_envelope(body);
    let _ = hw_errors::error_in_success_body(body);
    let _ = hw_errors::classify(status, body, None, None);
    if let Ok(obs) = hw_mapping::observation_from_body(body, "job-1") {
        check_observation(&obs)?;
    }
    if let Ok(job) = serde_json::from_slice::<hw_model::Job>(body) {
        check_observation(&hw_mapping::map_job(&job))?;
    }
    let resp = response(status, body.to_vec(), &[("x-request-id", "r".into())]);
    match hw_client::interpret(&resp, "job-1") {
        Ok(obs) => {
            check_observation(&obs)?;
            Ok(Some(obs))
        }
        Err(e) => {
            check_error(&e)?;
            Ok(None)
        }
    }
}

/// The Alibaba `DescribeHistoryTasks` path of the client: errors, page decoding, lookup.
fn alibaba(
    status: u16,
    body: &[u8],
    job_id: &str,
) -> Result<Option<JobObservation>, TestCaseError> {
    let _ = ali_errors::parse_error_envelope(body);
    let _ = ali_errors::error_in_success_body(body);
    check_error(&ali_errors::classify(status, body, None, None))?;
    if let Ok((Some(obs), _)) = ali_mapping::observation_from_body(body, job_id) {
        check_observation(&obs)?;
    }
    let resp = response(
        status,
        body.to_vec(),
        &[
            ("x-acs-request-id", "r".into()),
            ("x-acs-retry-after", "1500".into()),
        ],
    );
    match ali_client::interpret(&resp, job_id) {
        Ok(PageOutcome::Found(obs)) => {
            check_observation(&obs)?;
            Ok(Some(*obs))
        }
        Ok(PageOutcome::NotListed { .. }) => Ok(None),
        Err(e) => {
            check_error(&e)?;
            Ok(None)
        }
    }
}

/// The Azure path of the client: ARM errors, the status body, and the token answer.
fn azure(status: u16, body: &[u8]) -> Result<Option<JobObservation>, TestCaseError> {
    let _ = az_errors::parse_arm_error(body);
    check_error(&az_errors::classify(status, body, None, None).into_error())?;
    check_error(&az_errors::classify_token_error(status, body, None, None))?;
    let headers = [
        ("x-ms-request-id", "r".to_string()),
        ("retry-after", "3".to_string()),
    ];
    let resp = response(status, body.to_vec(), &headers);
    match az_token::interpret_token(&resp, jiff::Timestamp::UNIX_EPOCH) {
        Ok(token) => prop_assert!(
            (200..300).contains(&status) && token.expires_at > jiff::Timestamp::UNIX_EPOCH
        ),
        Err(e) => check_error(&e)?,
    }
    let target = clouddb_job_operator::providers::JobTarget::new(
        clouddb_job_operator::api::ProviderKind::Azure,
        None,
        "0ec0de9b-4a56-4b3c-8a9b-6f7e2c1d0e11",
        Some("westeurope"),
        None,
        None,
        None,
    )
    .and_then(|t| t.with_subscription_id(Some("00000000-0000-0000-0000-000000000001")))
    .map_err(|e| TestCaseError::fail(e.to_string()))?;
    if let Ok(op) = az_mapping::decode_operation(body) {
        check_observation(&az_mapping::map_operation(&op, target.api))?;
    }
    match az_client::interpret(&resp, &target) {
        Ok(obs) => {
            check_observation(&obs)?;
            Ok(Some(obs))
        }
        Err(failure) => {
            check_error(&failure.into_error())?;
            Ok(None)
        }
    }
}

/// The Cloud SQL path of the client: API errors, operation decoding, and the token
/// endpoint's answers.
fn gcp(status: u16, body: &[u8]) -> Result<Option<JobObservation>, TestCaseError> {
    let _ = gcp_errors::parse_google_error(body);
    if let gcp_errors::Failure::Error(e) = gcp_errors::classify(status, body, None) {
        check_error(&e)?;
    }
    check_error(&gcp_errors::classify_token_error(status, body, None))?;
    let resp = response(status, body.to_vec(), &[("retry-after", "3".into())]);
    match gcp_token::interpret_token_response(&resp, jiff::Timestamp::UNIX_EPOCH) {
        Ok(t) => prop_assert!(t.expires_at > jiff::Timestamp::UNIX_EPOCH),
        Err(e) => check_error(&e)?,
    }
    if let Ok(obs) = gcp_mapping::observation_from_body(body) {
        check_observation(&obs)?;
    }
    let target = clouddb_job_operator::providers::JobTarget::new(
        clouddb_job_operator::api::ProviderKind::Gcp,
        None,
        "op",
        None,
        None,
        Some("p"),
        None,
    )
    .unwrap();
    match gcp_client::interpret(&resp, &target) {
        Ok(obs) => {
            check_observation(&obs)?;
            Ok(Some(obs))
        }
        Err(e) => {
            check_error(&e)?;
            Ok(None)
        }
    }
}

fn check_error(e: &ProviderError) -> Result<(), TestCaseError> {
    prop_assert!(!e.code.is_empty(), "an error always has a code: {e:?}");
    let _ = e.describe();
    Ok(())
}

/// Every parser on the same input.
fn all_parsers(status: u16, body: &[u8]) -> Result<(), TestCaseError> {
    tencent_tasks(status, body, "79")?;
    tencent_async(status, body)?;
    for api in APIS {
        legacy(api, status, body)?;
    }
    huawei(status, body)?;
    alibaba(status, body, "t-83br18hloy3faf****")?;
    azure(status, body)?;
    gcp(status, body)?;
    crate::aws_xml::all_aws(status, body)?;
    Ok(())
}

/// Sets every `key` in the document to `value` (makes a fixture say "running" everywhere).
fn set_all(doc: &mut Value, key: &str, value: &Value) {
    match doc {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if k == key {
                    *v = value.clone();
                } else {
                    set_all(v, key, value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| set_all(v, key, value)),
        _ => {}
    }
}

/// The first tccli item (job 79), alone on its page, reported `RUNNING`.
fn tencent_running() -> Value {
    let mut doc = fixture(TENCENT_TCCLI);
    let item = doc["Response"]["Items"][0].clone();
    doc["Response"]["Items"] = json!([item]);
    set_all(&mut doc, "TaskStatus", &json!("RUNNING"));
    set_all(&mut doc, "Status", &json!(1));
    doc
}

fn legacy_running(api: Api) -> Value {
    let (text, running) = match api {
        Api::TaskInfo => (LEGACY_TASK, "2"),
        Api::UpgradeJob => (LEGACY_UPGRADE, "0"),
        Api::RollbackJob => (LEGACY_ROLLBACK, "0"),
    };
    let mut doc = fixture(text);
    set_all(&mut doc, "status", &json!(running));
    doc
}

fn huawei_running() -> Value {
    let mut doc = fixture(HUAWEI_JOB);
    set_all(&mut doc, "status", &json!("Running"));
    doc
}

fn run<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    let mut runner = TestRunner::new(config(cases));
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    run(256, (status_code(), json_like_bytes()), |(status, body)| {
        all_parsers(status, &body)
    });
}

#[test]
fn arbitrary_json_never_panics() {
    // Raw, and wrapped in each provider's envelope so the values reach the mappings.
    run(256, (status_code(), arb_json()), |(status, v)| {
        for doc in [
            v.clone(),
            json!({ "Response": v.clone() }),
            json!({ "Response": { "Items": v.clone(), "Status": v.clone() } }),
            json!({ "Response": { "Items": [v.clone()] } }),
            json!({ "code": 0, "data": v.clone() }),
            json!({ "code": 0, "data": { "jobInfo": v.clone(), "taskDetail": v.clone() } }),
            json!({ "job": v.clone() }),
            json!({ "TotalCount": v.clone(), "Items": [v.clone()] }),
            json!({ "Items": [{ "TaskId": "t-83br18hloy3faf****", "Status": v.clone(), "Progress": v.clone(), "RemainTime": v.clone(), "StartTime": v.clone() }] }),
        ] {
            all_parsers(status, doc.to_string().as_bytes())?;
        }
        Ok(())
    });
}

#[test]
fn mutated_tencent_pages_never_panic() {
    let seeds = [fixture(TENCENT_SEED), fixture(TENCENT_TCCLI)];
    run(256, (0..2usize, mutations(6)), |(which, edits)| {
        let doc = apply(&seeds[which], &edits, &[]);
        let body = doc.to_string();
        for id in ["79", "15964", "51788", "70"] {
            tencent_tasks(200, body.as_bytes(), id)?;
        }
        Ok(())
    });
}

#[test]
fn mutated_legacy_responses_never_panic() {
    let seeds = [
        fixture(LEGACY_TASK),
        fixture(LEGACY_UPGRADE),
        fixture(LEGACY_ROLLBACK),
    ];
    run(256, (0..3usize, mutations(6)), |(which, edits)| {
        let body = apply(&seeds[which], &edits, &[]).to_string();
        legacy(APIS[which], 200, body.as_bytes())?;
        Ok(())
    });
}

#[test]
fn mutated_huawei_responses_never_panic() {
    let seed = fixture(HUAWEI_JOB);
    run(256, (status_code(), mutations(6)), |(status, edits)| {
        let body = apply(&seed, &edits, &[]).to_string();
        huawei(status, body.as_bytes())?;
        huawei(200, body.as_bytes())?;
        Ok(())
    });
}

#[test]
fn mutated_alibaba_pages_never_panic() {
    let seeds = [fixture(ALIBABA_RDS), fixture(ALIBABA_POLARDB)];
    run(
        256,
        (status_code(), 0..2usize, mutations(6)),
        |(status, which, edits)| {
            let body = apply(&seeds[which], &edits, &[]).to_string();
            for id in ["t-83br18hloy3faf****", "t-0mqfirqcdv8rn5****"] {
                alibaba(status, body.as_bytes(), id)?;
                alibaba(200, body.as_bytes(), id)?;
            }
            Ok(())
        },
    );
}

#[test]
fn mutated_gcp_operations_never_panic() {
    let seeds = [fixture(GCP_RUNNING), fixture(GCP_FAILED)];
    run(
        256,
        (status_code(), 0..2usize, mutations(6)),
        |(status, which, edits)| {
            let body = apply(&seeds[which], &edits, &[]).to_string();
            gcp(status, body.as_bytes())?;
            gcp(200, body.as_bytes())?;
            Ok(())
        },
    );
}

#[test]
fn running_gcp_operation_never_turns_terminal() {
    let seed = fixture(GCP_RUNNING);
    let before = gcp(200, seed.to_string().as_bytes()).unwrap();
    assert!(before.is_some_and(|o| o.phase == Some(clouddb_job_operator::api::JobPhase::Running)));
    run(256, mutations(6), |edits| {
        let doc = apply(&seed, &edits, &["status"]);
        if let Some(obs) = gcp(200, doc.to_string().as_bytes())? {
            check_not_terminal(&obs)?;
            prop_assert!(obs.progress.is_none(), "no progress before done: {obs:?}");
        }
        Ok(())
    });
}

#[test]
fn running_alibaba_task_never_turns_terminal() {
    let mut seed = fixture(ALIBABA_RDS);
    set_all(&mut seed, "Status", &json!("Running"));
    let before = alibaba(200, seed.to_string().as_bytes(), "t-83br18hloy3faf****").unwrap();
    assert!(before.is_some_and(|o| o.phase == Some(clouddb_job_operator::api::JobPhase::Running)));
    run(256, mutations(6), |edits| {
        let doc = apply(&seed, &edits, &["Status"]);
        if let Some(obs) = alibaba(200, doc.to_string().as_bytes(), "t-83br18hloy3faf****")? {
            check_not_terminal(&obs)?;
        }
        Ok(())
    });
}

#[test]
fn mutated_azure_operations_never_panic() {
    let seeds = [fixture(AZURE_PG), fixture(AZURE_MYSQL_FAILED)];
    run(
        256,
        (status_code(), 0..2usize, mutations(6)),
        |(status, which, edits)| {
            let body = apply(&seeds[which], &edits, &[]).to_string();
            azure(status, body.as_bytes())?;
            azure(200, body.as_bytes())?;
            Ok(())
        },
    );
}

#[test]
fn running_azure_operation_never_turns_terminal() {
    let seed = fixture(AZURE_PG);
    let before = azure(200, seed.to_string().as_bytes()).unwrap();
    assert!(before.is_some_and(|o| o.phase == Some(clouddb_job_operator::api::JobPhase::Running)));
    run(256, mutations(6), |edits| {
        let doc = apply(&seed, &edits, &["status"]);
        if let Some(obs) = azure(200, doc.to_string().as_bytes())? {
            check_not_terminal(&obs)?;
        }
        Ok(())
    });
    // Every non-terminal value ARM or a resource provider uses, in any case.
    for status in [
        "InProgress",
        "inprogress",
        "CancelInProgress",
        "Accepted",
        "Deleting",
        "Unheard",
    ] {
        let mut doc = seed.clone();
        doc["status"] = json!(status);
        let obs = azure(200, doc.to_string().as_bytes()).unwrap().unwrap();
        assert_eq!(
            obs.phase,
            Some(clouddb_job_operator::api::JobPhase::Running),
            "{status}"
        );
    }
}

#[test]
fn running_tencent_task_never_turns_terminal() {
    let seed = tencent_running();
    let before = tencent_tasks(200, seed.to_string().as_bytes(), "79").unwrap();
    assert_eq!(
        before.and_then(|o| o.phase),
        Some(clouddb_job_operator::api::JobPhase::Running),
        "the seed itself is running"
    );
    run(256, mutations(6), |edits| {
        let doc = apply(&seed, &edits, &["TaskStatus", "Status"]);
        if let Some(obs) = tencent_tasks(200, doc.to_string().as_bytes(), "79")? {
            check_not_terminal(&obs)?;
        }
        Ok(())
    });
}

#[test]
fn running_async_request_never_turns_terminal() {
    let seed = json!({"Response": {"Status": "RUNNING", "Info": "doing", "RequestId": "r-1"}});
    run(256, mutations(4), |edits| {
        let doc = apply(&seed, &edits, &["Status"]);
        if let Some(obs) = tencent_async(200, doc.to_string().as_bytes())? {
            check_not_terminal(&obs)?;
        }
        Ok(())
    });
}

#[test]
fn running_legacy_jobs_never_turn_terminal() {
    for api in APIS {
        let seed = legacy_running(api);
        let before = legacy(api, 200, seed.to_string().as_bytes()).unwrap();
        assert_eq!(
            before.and_then(|o| o.phase),
            Some(clouddb_job_operator::api::JobPhase::Running),
            "{api:?} seed is running"
        );
    }
    run(256, (0..3usize, mutations(6)), |(which, edits)| {
        let api = APIS[which];
        let doc = apply(&legacy_running(api), &edits, &["status"]);
        if let Some(obs) = legacy(api, 200, doc.to_string().as_bytes())? {
            check_not_terminal(&obs)?;
        }
        Ok(())
    });
}

#[test]
fn running_huawei_job_never_turns_terminal() {
    let seed = huawei_running();
    run(256, mutations(6), |edits| {
        let doc = apply(&seed, &edits, &["status"]);
        if let Some(obs) = huawei(200, doc.to_string().as_bytes())? {
            check_not_terminal(&obs)?;
        }
        Ok(())
    });
}

#[test]
fn fractional_status_codes_are_never_terminal() {
    // A status of 2.5 or "0.5" is not a documented value: it must not be read as 2 or 0.
    run(
        256,
        (-10i64..10, 1u32..1000).prop_map(|(n, frac)| format!("{n}.{frac:03}")),
        |status| {
            let obs = tencent_tasks(
                200,
                json!({"Response": {"Items": [{"JobId": 1, "Status": status}]}})
                    .to_string()
                    .as_bytes(),
                "1",
            )?;
            if let Some(obs) = obs {
                check_not_terminal(&obs)?;
            }
            for api in APIS {
                let data = match api {
                    Api::RollbackJob => json!({"jobInfo": {"status": status}}),
                    _ => json!({ "status": status }),
                };
                let body = json!({"code": 0, "data": data}).to_string();
                if let Some(obs) = legacy(api, 200, body.as_bytes())? {
                    check_not_terminal(&obs)?;
                }
            }
            Ok(())
        },
    );
}
