//! HTTP-level tests of the Huawei provider against a local axum server that verifies the
//! SDK-HMAC-SHA256 signature the way APIG does (recomputed from the received request by the
//! simulator's independent verifier, `simulator::verify::huawei`, not the client's signer) or
//! checks the IAM token, and answers with canned task-center responses.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use jiff::{SignedDuration, Timestamp};

use clouddb_job_operator::api::{JobPhase, ProviderKind};
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::huawei::HuaweiProvider;
use clouddb_job_operator::providers::{Credentials, ErrorClass, ErrorReason, JobTarget, Provider};
use clouddb_job_operator::simulator::verify::huawei as apig;

const AK: &str = "QTWAOYTTINDUT2QVKYUC";
const SK: &str = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc";
const TOKEN: &str = "MIIPAgYJKoZIhvcNAQcCoIIO8zCCDu8CAQExDTALBglghkgBZQMEAgEwgg1UBgkqhkiG9w0BBwGggg1FBIINQXsidG9rZW4iOnsiZXhwaXJlc19hdCI6";
const PROJECT: &str = "0483b6b16e954cb88930a360d2c4e663";
const SEED: &str = include_str!("../fixtures/huawei/gaussdb-mysql-GetJob.json");

/// What the server saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    query: String,
    headers: HeaderMap,
}

#[derive(Default)]
struct Server {
    seen: Mutex<Vec<Seen>>,
}

/// Error code and message of a rejected request.
type Rejection = (&'static str, &'static str);

fn reject((code, msg): Rejection) -> Response {
    let body = format!(r#"{{"error_code":"{code}","error_msg":"{msg}","request_id":"body-req"}}"#);
    (StatusCode::UNAUTHORIZED, body).into_response()
}

/// APIG-style verification: recompute the signature from the request as received.
fn verify(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<(), Rejection> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(token) = text("x-auth-token") {
        if token != TOKEN || headers.contains_key("authorization") {
            return Err((
                "APIGW.0301",
                "Incorrect IAM authentication information: decrypt token fail",
            ));
        }
        return Ok(());
    }
    let bad = || {
        (
            "APIGW.0301",
            "Incorrect IAM authentication information: verify aksk signature fail",
        )
    };
    let auth = text("authorization")
        .and_then(apig::parse_authorization)
        .ok_or_else(bad)?;
    if auth.access != AK
        || !auth.signed_headers.iter().any(|h| h == "host")
        || !auth.signed_headers.iter().any(|h| h == "x-sdk-date")
    {
        return Err(bad());
    }
    let date = text("x-sdk-date").ok_or_else(bad)?;
    let when = apig::parse_sdk_date(date)
        .and_then(|s| Timestamp::from_second(s).ok())
        .ok_or_else(bad)?;
    if Timestamp::now().duration_since(when).abs() > SignedDuration::from_mins(15) {
        return Err(("APIGW.0301", "Incorrect IAM authentication information: verify aksk signature fail, x-sdk-date expired"));
    }
    let mut signed = Vec::new();
    for name in &auth.signed_headers {
        let value = text(name).ok_or_else(bad)?;
        signed.push((name.clone(), value.to_string()));
    }
    let path = percent_encoding::percent_decode_str(uri.path())
        .decode_utf8_lossy()
        .to_string();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let request = apig::Request {
        method: method.as_str(),
        path: &path,
        query: &query,
        headers: &signed,
        body,
    };
    let expected = apig::signature(SK, &request, date);
    if expected != auth.signature {
        return Err(bad());
    }
    Ok(())
}

async fn handler(
    State(server): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    server.seen.lock().unwrap().push(Seen {
        path: uri.path().to_string(),
        query: uri.query().unwrap_or("").to_string(),
        headers: headers.clone(),
    });
    if let Err(rejection) = verify(&method, &uri, &headers, &body) {
        return reject(rejection);
    }
    let id = uri
        .query()
        .unwrap_or("")
        .trim_start_matches("id=")
        .to_string();
    let req_id = [("X-Request-Id", format!("req-{id}"))];
    match id.as_str() {
        "job-ok" => (StatusCode::OK, req_id, SEED).into_response(),
        "job-running" => (
            StatusCode::OK,
            req_id,
            r#"{"job":{"id":"job-running","name":"EnlargeVolume","status":"Running","created":"2024-03-01T10:00:00+0800","ended":"","process":"60%","instance":{"id":"i1","name":"db"},"entities":{}}}"#,
        )
            .into_response(),
        "job-throttled" => (
            StatusCode::TOO_MANY_REQUESTS,
            [("Retry-After", "7".to_string()), ("X-Request-Id", "req-throttled".to_string())],
            r#"{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached: policy user over ratelimit,limit:60,time:1 minute"}"#,
        )
            .into_response(),
        "job-500" => (StatusCode::INTERNAL_SERVER_ERROR, req_id, "<html>oops</html>").into_response(),
        "job-401" => (StatusCode::UNAUTHORIZED, req_id, "").into_response(),
        "job-param" => (
            StatusCode::BAD_REQUEST,
            req_id,
            r#"{"error_code":"DBS.200001","error_msg":"Parameter error"}"#,
        )
            .into_response(),
        "job-truncated" => (StatusCode::OK, req_id, r#"{"job": {"id": "job-tr"#).into_response(),
        _ => (StatusCode::NOT_FOUND, req_id, "").into_response(),
    }
}

async fn start() -> (Arc<Server>, String) {
    let server = Arc::new(Server::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().fallback(handler).with_state(server.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (server, format!("http://{addr}"))
}

fn provider() -> HuaweiProvider {
    HuaweiProvider::new(HttpClient::new(&HttpOptions::default()).unwrap())
}

fn target(api: &str, job: &str, endpoint: &str) -> JobTarget {
    JobTarget::new(
        ProviderKind::Huawei,
        Some(api),
        job,
        Some("cn-north-4"),
        None,
        Some(PROJECT),
        Some(endpoint),
    )
    .unwrap()
}

fn aksk(sk: &str) -> Credentials {
    Credentials::HuaweiAkSk {
        ak: AK.into(),
        sk: SecretString::new(sk),
    }
}

fn token() -> Credentials {
    Credentials::HuaweiToken {
        token: SecretString::new(TOKEN),
    }
}

#[tokio::test]
async fn aksk_signature_verifies_server_side_for_every_api() {
    let (server, base) = start().await;
    let endpoint = format!("{base}/gw");
    let cases = [
        ("rds", format!("/gw/v3/{PROJECT}/jobs")),
        ("taurusdb", format!("/gw/v3/{PROJECT}/jobs")),
        ("taurusdb-legacy", format!("/gw/mysql/v3/{PROJECT}/jobs")),
    ];
    for (api, path) in cases {
        let obs = provider()
            .observe(&target(api, "job-ok", &endpoint), &aksk(SK))
            .await
            .unwrap_or_else(|e| panic!("{api}: {e}"));
        assert_eq!(obs.phase, Some(JobPhase::Succeeded), "{api}");
        assert_eq!(
            obs.provider_job_type.as_deref(),
            Some("RestartGaussDBInstance")
        );
        let seen = server.seen.lock().unwrap().last().cloned().unwrap();
        assert_eq!(seen.path, path, "{api}");
        assert_eq!(seen.query, "id=job-ok");
        assert_eq!(seen.headers["x-project-id"], PROJECT);
        assert_eq!(seen.headers["content-type"], "application/json");
        let host = seen.headers["host"].to_str().unwrap();
        assert!(host.starts_with("127.0.0.1:"), "{host}");
        let auth = seen.headers["authorization"].to_str().unwrap();
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-project-id;x-sdk-date"),
            "{auth}"
        );
        assert!(!seen.headers.contains_key("x-auth-token"));
    }

    let running = provider()
        .observe(&target("taurusdb", "job-running", &base), &aksk(SK))
        .await
        .unwrap();
    assert_eq!(running.phase, Some(JobPhase::Running));
    assert_eq!(running.progress, Some(60));
    assert_eq!(running.job_type.as_deref(), Some("upgrade"));
}

#[tokio::test]
async fn wrong_key_and_skewed_clock_are_rejected() {
    let (_server, base) = start().await;
    let err = provider()
        .observe(
            &target("rds", "job-ok", &base),
            &aksk("not-the-right-secret-key"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert_eq!(err.reason, "AuthenticationFailed");
    assert_eq!(err.code, "APIGW.0301");
    assert_eq!(err.request_id.as_deref(), Some("body-req"));
    assert!(!err.describe().contains("not-the-right-secret-key"));

    let skewed = provider().with_clock(Arc::new(|| {
        Timestamp::now() - SignedDuration::from_mins(20)
    }));
    let err = skewed
        .observe(&target("rds", "job-ok", &base), &aksk(SK))
        .await
        .unwrap_err();
    assert_eq!(err.reason, "AuthenticationFailed");
    assert!(
        err.message.contains("clock may be skewed"),
        "{}",
        err.message
    );

    let slightly =
        provider().with_clock(Arc::new(|| Timestamp::now() + SignedDuration::from_mins(5)));
    let ok = slightly
        .observe(&target("rds", "job-ok", &base), &aksk(SK))
        .await;
    assert!(ok.is_ok(), "{ok:?}");
}

#[tokio::test]
async fn token_mode_sends_the_token_and_does_not_sign() {
    let (server, base) = start().await;
    for (api, path) in [
        ("rds", format!("/v3/{PROJECT}/jobs")),
        ("taurusdb", format!("/v3/{PROJECT}/jobs")),
        ("taurusdb-legacy", format!("/mysql/v3/{PROJECT}/jobs")),
    ] {
        let obs = provider()
            .observe(&target(api, "job-ok", &base), &token())
            .await
            .unwrap();
        assert_eq!(obs.phase, Some(JobPhase::Succeeded));
        let seen = server.seen.lock().unwrap().last().cloned().unwrap();
        assert_eq!(seen.path, path);
        assert_eq!(seen.headers["x-auth-token"], TOKEN);
        assert!(!seen.headers.contains_key("authorization"));
        assert!(!seen.headers.contains_key("x-sdk-date"));
    }
    let bad = Credentials::HuaweiToken {
        token: SecretString::new("expired-token-value"),
    };
    let err = provider()
        .observe(&target("rds", "job-ok", &base), &bad)
        .await
        .unwrap_err();
    assert_eq!(err.reason, "AuthenticationFailed");
    assert!(!err.describe().contains("expired-token-value"));
}

#[tokio::test]
async fn error_classification_over_http() {
    let (_server, base) = start().await;
    let p = provider();
    let observe = |job: &'static str| {
        let p = p.clone();
        let t = target("rds", job, &base);
        async move { p.observe(&t, &aksk(SK)).await }
    };

    let e = observe("job-throttled").await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Throttled);
    assert_eq!(e.code, "APIGW.0308");
    assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
    assert_eq!(e.request_id.as_deref(), Some("req-throttled"));

    let e = observe("job-500").await.unwrap_err();
    assert_eq!(
        (e.class, e.code.as_str()),
        (ErrorClass::Transient, "HTTP 500")
    );
    assert_eq!(e.request_id.as_deref(), Some("req-job-500"));

    let e = observe("job-401").await.unwrap_err();
    assert_eq!(
        (e.class, e.reason),
        (ErrorClass::Permanent, ErrorReason::AuthenticationFailed)
    );

    let e = observe("job-param").await.unwrap_err();
    assert_eq!(
        (e.class, e.reason),
        (ErrorClass::Permanent, ErrorReason::InvalidRequest)
    );
    assert_eq!(e.code, "DBS.200001");

    let e = observe("job-truncated").await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Transient);
    assert_eq!(e.request_id.as_deref(), Some("req-job-truncated"));

    let obs = observe("job-unknown").await.unwrap();
    assert_eq!(obs.phase, Some(JobPhase::Pending));
    assert_eq!(obs.reason.as_deref(), Some("NotFoundYet"));

    for job in [
        "job-throttled",
        "job-500",
        "job-401",
        "job-param",
        "job-truncated",
    ] {
        let e = observe(job).await.unwrap_err();
        assert!(!e.describe().contains(SK), "{job}");
        assert!(!e.describe().contains("Signature="), "{job}");
    }
}
