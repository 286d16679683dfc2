//! HTTP-level tests of the `tencent-legacy` provider against a small local API 2.0 server
//! that verifies every signature server-side (recomputed from the received query and Host by
//! the simulator's independent verifier, `simulator::verify::v2`, not the client's
//! `sign.rs`), rejects reused Nonces and Timestamps more than 2 h off with code 4500,
//! and answers with the seed examples.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use clouddb_job_operator::api::{JobPhase, ProviderKind};
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::tencent_legacy::client::decode_response;
use clouddb_job_operator::providers::tencent_legacy::{Api, TencentLegacyProvider};
use clouddb_job_operator::providers::{Credentials, ErrorClass, JobTarget, Provider};
use clouddb_job_operator::simulator::verify::{self, v2};
use jiff::{SignedDuration, Timestamp};

const SECRET_ID: &str = "AKIDtestlegacy";
const SECRET_KEY: &str = "legacy-secret-key-0123456789";
const TOKEN: &str = "session+token/with=odd chars";

#[derive(Default)]
struct Server {
    nonces: Mutex<HashSet<String>>,
    /// Every request's decoded query and raw query string, in order.
    requests: Mutex<Vec<(BTreeMap<String, String>, String)>>,
}

fn envelope(code: i64, message: &str, desc: &str) -> Response {
    axum::Json(serde_json::json!({"code": code, "message": message, "codeDesc": desc}))
        .into_response()
}

async fn handle(
    State(server): State<Arc<Server>>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    let params: BTreeMap<String, String> = url::form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if let Ok(mut requests) = server.requests.lock() {
        requests.push((params.clone(), raw.clone()));
    }
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let hash = v2::hash_for(params.get("SignatureMethod").map(String::as_str));
    let pairs: Vec<(String, String)> = params.clone().into_iter().collect();
    let expected = v2::signature(
        SECRET_KEY,
        hash,
        &v2::source("GET", host, uri.path(), &pairs),
    );
    let provided = params.get("Signature").cloned().unwrap_or_default();
    if !verify::same(&expected, &provided) {
        return envelope(4100, "signature verification failed", "AuthFailure");
    }
    let now = Timestamp::now().as_second();
    let ts: i64 = params
        .get("Timestamp")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    if (ts - now).abs() > 7200 {
        return envelope(
            4500,
            "request timestamp too far from server time",
            "RequestReplay",
        );
    }
    let nonce = params.get("Nonce").cloned().unwrap_or_default();
    let fresh = server
        .nonces
        .lock()
        .map(|mut n| n.insert(nonce))
        .unwrap_or(false);
    if !fresh {
        return envelope(4500, "nonce already used", "RequestReplay");
    }
    let body = match params.get("jobId").map(String::as_str) {
        Some("404") => return envelope(5000, "(100204) job not exist", "ResourceNotFound"),
        Some("503") => {
            return (StatusCode::SERVICE_UNAVAILABLE, "<html>busy</html>").into_response()
        }
        Some("777") => r#"{"code":0,"data":{"status":"#,
        _ => match params.get("Action").map(String::as_str) {
            Some("GetCdbTaskInfo") => {
                include_str!("../fixtures/tencent_legacy/GetCdbTaskInfo.json")
            }
            Some("GetCdbUpgradeJobInfo") => {
                include_str!("../fixtures/tencent_legacy/GetCdbUpgradeJobInfo.json")
            }
            Some("GetCdbRollbackJobTask") => {
                include_str!("../fixtures/tencent_legacy/GetCdbRollbackJobTask.json")
            }
            _ => return envelope(4000, "unknown action", "InvalidParameter"),
        },
    };
    ([("content-type", "application/json")], body).into_response()
}

async fn start() -> (Arc<Server>, String) {
    let server = Arc::new(Server::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(server.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (server, format!("http://{addr}"))
}

fn http() -> HttpClient {
    HttpClient::new(&HttpOptions::default()).unwrap()
}

fn target(endpoint: &str, api: &str, job: &str) -> JobTarget {
    JobTarget::new(
        ProviderKind::TencentLegacy,
        Some(api),
        job,
        Some("gz"),
        None,
        None,
        Some(endpoint),
    )
    .unwrap()
}

fn creds(key: &str, token: Option<&str>) -> Credentials {
    Credentials::Tencent {
        secret_id: SECRET_ID.into(),
        secret_key: SecretString::new(key),
        token: token.map(SecretString::new),
    }
}

#[tokio::test]
async fn every_api_round_trips_with_verified_signatures_and_fresh_nonces() {
    let (server, endpoint) = start().await;
    let provider = TencentLegacyProvider::new(http());
    let c = creds(SECRET_KEY, None);
    let task = provider
        .observe(&target(&endpoint, "GetCdbTaskInfo", "560"), &c)
        .await
        .unwrap();
    assert_eq!(task.phase, Some(JobPhase::Succeeded));
    assert_eq!(task.job_type.as_deref(), Some("create"));
    assert_eq!(task.instance_ids, vec!["cdb-d1rqa7bj"]);
    let upgrade = provider
        .observe(&target(&endpoint, "GetCdbUpgradeJobInfo", "12944"), &c)
        .await
        .unwrap();
    assert_eq!(upgrade.provider_job_type.as_deref(), Some("11"));
    assert_eq!(
        upgrade.detail.upgrade.unwrap().after.unwrap().volume_gb,
        Some(40)
    );
    let rollback = provider
        .observe(&target(&endpoint, "GetCdbRollbackJobTask", "12782"), &c)
        .await
        .unwrap();
    assert_eq!(rollback.detail.rollback.unwrap().tasks.len(), 1);
    // Same job polled again: accepted because the Nonce is fresh.
    let again = provider
        .observe(&target(&endpoint, "GetCdbTaskInfo", "560"), &c)
        .await
        .unwrap();
    assert_eq!(again, task);

    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 4);
    let nonces: HashSet<&str> = requests.iter().map(|(p, _)| p["Nonce"].as_str()).collect();
    assert_eq!(nonces.len(), 4, "every call needs a fresh Nonce");
    for (params, raw) in &requests {
        assert_eq!(params["SignatureMethod"], "HmacSHA256");
        assert_eq!(params["Region"], "gz");
        assert_eq!(params["SecretId"], SECRET_ID);
        assert!(!params.contains_key("Token"));
        let now = Timestamp::now().as_second();
        let ts: i64 = params["Timestamp"].parse().unwrap();
        assert!((now - ts).abs() < 60);
        // The signature is sent URL-encoded (base64 `/`, `+`, `=` never appear raw).
        let sent = raw
            .split('&')
            .find_map(|kv| kv.strip_prefix("Signature="))
            .unwrap();
        assert!(!sent.contains(['/', '+', '=']), "{sent}");
    }
    assert_eq!(requests[1].0["Action"], "GetCdbUpgradeJobInfo");
    assert_eq!(requests[1].0["jobId"], "12944");
}

#[tokio::test]
async fn temporary_credentials_send_a_signed_token() {
    let (server, endpoint) = start().await;
    let provider = TencentLegacyProvider::new(http());
    let obs = provider
        .observe(
            &target(&endpoint, "GetCdbTaskInfo", "1"),
            &creds(SECRET_KEY, Some(TOKEN)),
        )
        .await
        .unwrap();
    assert_eq!(obs.phase, Some(JobPhase::Succeeded));
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(requests[0].0["Token"], TOKEN);
}

#[tokio::test]
async fn a_reused_nonce_is_rejected_as_a_replay() {
    let (server, endpoint) = start().await;
    let client = http();
    let provider = TencentLegacyProvider::new(client.clone());
    provider
        .observe(
            &target(&endpoint, "GetCdbTaskInfo", "1"),
            &creds(SECRET_KEY, None),
        )
        .await
        .unwrap();
    let raw = server.requests.lock().unwrap()[0].1.clone();
    let replay = client
        .send(
            client
                .reqwest()
                .get(format!("{endpoint}/v2/index.php?{raw}")),
        )
        .await
        .unwrap();
    let err = decode_response(Api::TaskInfo, &replay).unwrap_err();
    assert_eq!(err.code, "4500");
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(
        err.message.contains("clock may be skewed"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_skewed_clock_is_reported_as_such() {
    let (_server, endpoint) = start().await;
    let provider = TencentLegacyProvider::new(http())
        .with_clock(|| Timestamp::now() - SignedDuration::from_hours(3));
    let err = provider
        .observe(
            &target(&endpoint, "GetCdbUpgradeJobInfo", "1"),
            &creds(SECRET_KEY, None),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.reason.as_str()),
        ("4500", "AuthenticationFailed")
    );
    assert!(
        err.message.contains("clock may be skewed"),
        "{}",
        err.message
    );
    // Within the 2 h window the same skew direction is accepted.
    let ok = TencentLegacyProvider::new(http())
        .with_clock(|| Timestamp::now() - SignedDuration::from_mins(90))
        .observe(
            &target(&endpoint, "GetCdbUpgradeJobInfo", "1"),
            &creds(SECRET_KEY, None),
        )
        .await;
    assert!(ok.is_ok(), "{ok:?}");
}

#[tokio::test]
async fn wrong_key_fails_authentication_without_leaking_secrets() {
    let (server, endpoint) = start().await;
    let wrong_key = "wrong-secret-key-value";
    let err = TencentLegacyProvider::new(http())
        .observe(
            &target(&endpoint, "GetCdbRollbackJobTask", "1"),
            &creds(wrong_key, Some(TOKEN)),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.reason.as_str()),
        ("4100", "AuthenticationFailed")
    );
    assert_eq!(err.class, ErrorClass::Permanent);
    let sent_signature = server.requests.lock().unwrap()[0].0["Signature"].clone();
    let shown = format!("{err:?} {}", err.describe());
    for secret in [wrong_key, TOKEN, sent_signature.as_str()] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[tokio::test]
async fn provider_errors_server_errors_and_truncated_bodies() {
    let (_server, endpoint) = start().await;
    let provider = TencentLegacyProvider::new(http());
    let c = creds(SECRET_KEY, None);
    let missing = provider
        .observe(&target(&endpoint, "GetCdbTaskInfo", "404"), &c)
        .await
        .unwrap_err();
    assert_eq!(
        (missing.code.as_str(), missing.reason.as_str()),
        ("5000", "JobNotFound")
    );
    assert!(missing
        .message
        .contains("job not exist (module error 100204)"));
    let busy = provider
        .observe(&target(&endpoint, "GetCdbTaskInfo", "503"), &c)
        .await
        .unwrap_err();
    assert_eq!(
        (busy.class, busy.code.as_str()),
        (ErrorClass::Transient, "HTTP 503")
    );
    let truncated = provider
        .observe(&target(&endpoint, "GetCdbTaskInfo", "777"), &c)
        .await
        .unwrap_err();
    assert_eq!(
        (truncated.class, truncated.code.as_str()),
        (ErrorClass::Transient, "InvalidResponse")
    );
}

#[tokio::test]
async fn network_errors_are_transient() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = TencentLegacyProvider::new(http())
        .observe(
            &target(&format!("http://{addr}"), "GetCdbTaskInfo", "1"),
            &creds(SECRET_KEY, None),
        )
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Transient);
    assert!(!err.message.contains("Signature"), "{}", err.message);
}

#[tokio::test]
async fn wrong_credential_kind_is_permanent() {
    let err = TencentLegacyProvider::new(http())
        .observe(
            &target("http://127.0.0.1:9", "GetCdbTaskInfo", "1"),
            &Credentials::HuaweiToken {
                token: SecretString::new("t"),
            },
        )
        .await
        .unwrap_err();
    assert!(err.is_permanent());
}
