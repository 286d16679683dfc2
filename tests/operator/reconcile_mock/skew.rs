//! The real provider clients against the simulator started with `--clock-skew`: each API
//! fails by its own signature window, and the status message carries the clock-skew hint
//! (`docs/simulator.md`).

use std::sync::Arc;

use base64::Engine;
use clouddb_job_operator::cli::providers::standard;
use clouddb_job_operator::providers::endpoints::EndpointPolicy;
use clouddb_job_operator::providers::http::HttpOptions;
use clouddb_job_operator::simulator::auth::{
    DEFAULT_HUAWEI_AK, DEFAULT_HUAWEI_SK, DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY,
};
use clouddb_job_operator::simulator::{SimConfig, Simulator};
use serde_json::{json, Value};

use super::*;

/// One Secret with every provider's keys, all the simulator's defaults.
fn simulator_secret() -> Value {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "tencent-creds", "namespace": "prod"},
        "data": {
            "secretId": b64(DEFAULT_TENCENT_SECRET_ID), "secretKey": b64(DEFAULT_TENCENT_SECRET_KEY),
            "ak": b64(DEFAULT_HUAWEI_AK), "sk": b64(DEFAULT_HUAWEI_SK),
        }
    })
}

/// The tracked job with `spec` (plus the Secret reference and the simulator's endpoint).
fn job_at(sim: &Simulator, mut spec: Value) -> CloudDbJob {
    let mut v = serde_json::to_value(job(None)).unwrap();
    spec["endpoint"] = json!(sim.url());
    spec["credentialsSecretRef"] = json!({"name": "tencent-creds"});
    v["spec"] = spec;
    job_from(v)
}

/// The status one poll of `spec` writes, against a simulator whose clock is `skew_secs`
/// ahead.
async fn status_with_skew(skew_secs: i64, spec: Value) -> Value {
    let sim = Simulator::start(
        ([127, 0, 0, 1], 0).into(),
        SimConfig {
            clock_skew_secs: skew_secs,
            ..SimConfig::builtin().unwrap()
        },
    )
    .await
    .unwrap();
    let mut h = harness(false);
    let context = Arc::get_mut(&mut h.ctx).unwrap();
    context.provider = standard(&HttpOptions::default()).unwrap();
    context.endpoints = EndpointPolicy::new(["127.0.0.1".to_string()]);
    let expected = vec![Expect::Read(200, simulator_secret()), Expect::Write(200)];
    let (_, patch) = h.reconcile_once(job_at(&sim, spec), expected).await;
    assert_eq!(sim.counters().total, 1, "one provider call");
    patch["status"].clone()
}

fn tencent() -> Value {
    json!({"provider": "tencent", "jobId": "15967", "region": "ap-guangzhou", "instanceId": "cdb-gt70m8aa"})
}

fn huawei() -> Value {
    json!({"provider": "huawei", "api": "rds", "jobId": "7a1d4c6e-2b3f-4a5e-9c8d-1e2f3a4b5c6d",
           "projectId": "0483b6b16e954cb88930a360d2c4e663"})
}

fn legacy() -> Value {
    json!({"provider": "tencent-legacy", "api": "GetCdbUpgradeJobInfo", "jobId": "47258", "region": "gz"})
}

fn assert_skew_hint(status: &Value, what: &str) {
    assert_eq!(status["reason"], "AuthenticationFailed", "{what}: {status}");
    let message = status["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("the local clock may be skewed"),
        "{what}: {message}"
    );
    assert_eq!(
        condition(status, "Stalled")["status"],
        "True",
        "{what}: {status}"
    );
}

#[tokio::test]
async fn twenty_minutes_of_skew_fail_api3_and_huawei_with_the_hint_but_not_api2() {
    let twenty_minutes = 20 * 60;
    assert_skew_hint(
        &status_with_skew(twenty_minutes, tencent()).await,
        "tencent",
    );
    assert_skew_hint(&status_with_skew(twenty_minutes, huawei()).await, "huawei");
    let legacy = status_with_skew(twenty_minutes, legacy()).await;
    assert_eq!(legacy["phase"], "Running", "API 2.0 allows 2 h: {legacy}");
    assert_eq!(legacy["reason"], Value::Null, "{legacy}");
}

#[tokio::test]
async fn three_hours_of_skew_fail_api2_with_the_hint() {
    assert_skew_hint(
        &status_with_skew(3 * 3600, legacy()).await,
        "tencent-legacy",
    );
}
