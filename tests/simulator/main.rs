//! End-to-end tests of the provider simulator over real HTTP: requests are signed with the
//! crate's signing modules and sent with the shared HTTP client.

mod alibaba;
mod auth;
mod aws;
mod aws_batch;
mod aws_peer;
mod azure;
mod azure_services;
mod control;
mod discovery;
mod discovery_gcp;
mod discovery_huawei;
mod faults;
mod gcp;

use std::collections::BTreeMap;
use std::time::Duration;

use clouddb_job_operator::providers::http::{HttpClient, HttpOptions, HttpResponse};
use clouddb_job_operator::providers::huawei::sign as hw;
use clouddb_job_operator::providers::tencent::sign as tc3;
use clouddb_job_operator::providers::tencent_legacy::sign as v2;
use clouddb_job_operator::providers::{ErrorClass, ProviderError};
use clouddb_job_operator::simulator::auth::{
    DEFAULT_HUAWEI_AK, DEFAULT_HUAWEI_SK, DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY,
};
use clouddb_job_operator::simulator::{SimConfig, Simulator};
use serde_json::Value;

pub const PROJECT: &str = "0483b6b16e954cb88930a360d2c4e663";
pub const RDS_JOB: &str = "7a1d4c6e-2b3f-4a5e-9c8d-1e2f3a4b5c6d";

/// The global fault rules the `every_fault_kind` tests play, one per request, in order.
pub const EVERY_FAULT: [&str; 7] = [
    "503@1",
    "reset@2",
    "malformed@3",
    "truncated@4",
    "throttle@5",
    "unknown@6",
    "slow=3s@7",
];

/// Checks the outcomes of eight polls under [`EVERY_FAULT`] (with a 1 s client timeout):
/// transient errors for the 503, the reset, the broken bodies and the slow answer,
/// throttling with the provider's `throttle_code`, the not-found grace for the hidden job,
/// and the job itself (Running) once the faults are over.
pub fn assert_every_fault(
    outcomes: &[Result<clouddb_job_operator::providers::JobObservation, ProviderError>],
    throttle_code: &str,
) {
    let err = |i: usize| outcomes[i].clone().unwrap_err();
    assert_eq!(
        (err(0).class, err(0).code.as_str()),
        (ErrorClass::Transient, "HTTP 503")
    );
    assert_eq!(err(1).class, ErrorClass::Transient);
    for i in [2, 3] {
        assert_eq!(
            (err(i).class, err(i).code.as_str()),
            (ErrorClass::Transient, "MalformedResponse"),
            "request {i}"
        );
    }
    assert_eq!(
        (err(4).class, err(4).code.as_str()),
        (ErrorClass::Throttled, throttle_code)
    );
    assert!(outcomes[5].as_ref().unwrap().is_not_found_yet());
    assert_eq!(
        (err(6).class, err(6).code.as_str()),
        (ErrorClass::Transient, "Timeout")
    );
    assert_eq!(
        outcomes[7].as_ref().unwrap().phase,
        Some(clouddb_job_operator::api::JobPhase::Running)
    );
}

pub async fn start(config: SimConfig) -> Simulator {
    Simulator::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap()
}

pub async fn builtin() -> Simulator {
    start(SimConfig::builtin().unwrap()).await
}

pub fn client(timeout: Duration) -> HttpClient {
    HttpClient::new(&HttpOptions {
        timeout,
        ..HttpOptions::default()
    })
    .unwrap()
}

pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

pub fn json(resp: &HttpResponse) -> Value {
    serde_json::from_slice(&resp.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&resp.body)))
}

/// A TC3-signed API 3.0 request.
pub fn tencent(
    http: &HttpClient,
    sim: &Simulator,
    action: &str,
    body: &Value,
    timestamp: i64,
    key: &str,
) -> reqwest::RequestBuilder {
    let host = sim.addr().to_string();
    let payload = body.to_string();
    let ct = "application/json; charset=utf-8";
    let auth = tc3::authorization(
        DEFAULT_TENCENT_SECRET_ID,
        key,
        &tc3::Tc3Request {
            method: "POST",
            host: &host,
            query: "",
            content_type: ct,
            payload: payload.as_bytes(),
            service: "cdb",
            timestamp,
        },
    );
    http.reqwest()
        .post(format!("{}/", sim.url()))
        .header("content-type", ct)
        .header("x-tc-action", action)
        .header("x-tc-version", "2017-03-20")
        .header("x-tc-region", "ap-guangzhou")
        .header("x-tc-timestamp", timestamp.to_string())
        .header("authorization", auth)
        .body(payload)
}

pub async fn tencent_ok(http: &HttpClient, sim: &Simulator, action: &str, body: Value) -> Value {
    let resp = http
        .send(tencent(
            http,
            sim,
            action,
            &body,
            now(),
            DEFAULT_TENCENT_SECRET_KEY,
        ))
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    json(&resp)
}

/// An API 2.0 request signed with `method`.
pub fn legacy(
    http: &HttpClient,
    sim: &Simulator,
    action: &str,
    job_id: &str,
    nonce: &str,
    method: v2::SignatureMethod,
    key: &str,
) -> reqwest::RequestBuilder {
    let mut params: BTreeMap<String, String> = [
        ("Action", action),
        ("Region", "ap-guangzhou"),
        ("Nonce", nonce),
        ("SecretId", DEFAULT_TENCENT_SECRET_ID),
        ("SignatureMethod", method.as_str()),
        ("jobId", job_id),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    params.insert("Timestamp".into(), now().to_string());
    let host = sim.addr().to_string();
    let src = v2::source_string("GET", &host, "/v2/index.php", &params);
    params.insert("Signature".into(), v2::sign(key, method, &src));
    http.reqwest()
        .get(format!("{}/v2/index.php", sim.url()))
        .query(&params)
}

/// A Huawei SDK-HMAC-SHA256 request.
pub fn huawei(
    http: &HttpClient,
    sim: &Simulator,
    path: &str,
    job_id: &str,
    sk: &str,
    date: jiff::Timestamp,
) -> reqwest::RequestBuilder {
    let sdk_date = date.strftime(hw::DATE_FORMAT).to_string();
    let headers = vec![
        ("host".to_string(), sim.addr().to_string()),
        ("x-sdk-date".to_string(), sdk_date.clone()),
        ("content-type".to_string(), "application/json".to_string()),
    ];
    let query = vec![("id".to_string(), job_id.to_string())];
    let auth = hw::authorization(
        DEFAULT_HUAWEI_AK,
        sk,
        &hw::SignableRequest {
            method: "GET",
            path,
            query: &query,
            headers: &headers,
            body: b"",
        },
        &sdk_date,
    );
    http.reqwest()
        .get(format!("{}{path}", sim.url()))
        .query(&query)
        .header("x-sdk-date", sdk_date)
        .header("content-type", "application/json")
        .header("authorization", auth)
}

pub fn huawei_ok(http: &HttpClient, sim: &Simulator, job_id: &str) -> reqwest::RequestBuilder {
    huawei(
        http,
        sim,
        &format!("/v3/{PROJECT}/jobs"),
        job_id,
        DEFAULT_HUAWEI_SK,
        jiff::Timestamp::now(),
    )
}
