//! HTTP-level tests of the Google Cloud SQL provider against a local axum server playing the
//! OAuth2 token endpoint and the Admin API: each assertion is checked by the simulator's
//! independent verifier (`simulator::auth::verify_jwt_bearer`: RS256 with the public key,
//! `iss`/`aud`/`scope`/`iat`/`exp`/`kid`), each API call's bearer token against the tokens
//! issued, and the API answers come from a script (operations and Google error bodies).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::json;

use clouddb_job_operator::api::{JobPhase, ProviderKind};
use clouddb_job_operator::providers::credentials::GcpServiceAccountKey;
use clouddb_job_operator::providers::gcp::GcpProvider;
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::{Credentials, ErrorClass, ErrorReason, JobTarget, Provider};
use clouddb_job_operator::simulator::auth::{
    default_gcp_key_json, verify_jwt_bearer, SimCredentials, DEFAULT_GCP_PRIVATE_KEY,
};

const RUNNING: &str = include_str!("../fixtures/gcp/operation-import-running.json");
const FAILED: &str = include_str!("../fixtures/gcp/operation-export-failed.json");
const UNTRUSTED_KEY: &str = include_str!("../fixtures/gcp/untrusted-test-key.pem");
const PROJECT: &str = "my-project";
const OPERATION: &str = "6b9f4b5e-2a1d-4c7e-9f0a-1d2c3b4a5f60";

/// What the API answers next (the last one repeats).
#[derive(Clone)]
enum Answer {
    Json(u16, serde_json::Value),
    Raw(u16, &'static str),
    /// Google's 401 whatever the token.
    Unauthenticated,
}

#[derive(Default)]
struct Server {
    token_requests: Mutex<u32>,
    /// Issued tokens, in order; `revoked` ones are refused.
    issued: Mutex<Vec<String>>,
    revoked: Mutex<Vec<String>>,
    api_calls: Mutex<Vec<(String, Option<String>)>>,
    script: Mutex<VecDeque<Answer>>,
    /// `expires_in` of issued tokens.
    lifetime: Mutex<u64>,
    /// Refuse every token request with this `{error, error_description}`.
    refuse: Mutex<Option<(&'static str, &'static str)>>,
}

fn google_error(code: u16, status: &str, message: &str) -> serde_json::Value {
    json!({"error": {"code": code, "message": message, "status": status}})
}

async fn handle(
    State(server): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if uri.path() == "/token" {
        *server.token_requests.lock().unwrap() += 1;
        assert_eq!(method, Method::POST);
        assert_eq!(
            headers.get("content-type").unwrap(),
            "application/x-www-form-urlencoded"
        );
        if let Some((error, description)) = *server.refuse.lock().unwrap() {
            let body = json!({"error": error, "error_description": description});
            return (StatusCode::BAD_REQUEST, body.to_string()).into_response();
        }
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let now = jiff::Timestamp::now().as_second();
        return match verify_jwt_bearer(&SimCredentials::default(), &form, &host, now) {
            Err(e) => {
                let body = json!({"error": e.error, "error_description": e.description});
                (StatusCode::from_u16(e.status).unwrap(), body.to_string()).into_response()
            }
            Ok(grant) => {
                assert_eq!(
                    grant.scopes,
                    vec!["https://www.googleapis.com/auth/sqlservice.admin"]
                );
                let mut issued = server.issued.lock().unwrap();
                let token = format!("ya29.test-{}", issued.len());
                issued.push(token.clone());
                let body = json!({"access_token": token, "expires_in": *server.lifetime.lock().unwrap(), "token_type": "Bearer"});
                (StatusCode::OK, body.to_string()).into_response()
            }
        };
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(String::from);
    server
        .api_calls
        .lock()
        .unwrap()
        .push((uri.path().to_string(), bearer.clone()));
    let valid = bearer.as_ref().is_some_and(|t| {
        server.issued.lock().unwrap().contains(t) && !server.revoked.lock().unwrap().contains(t)
    });
    let unauthenticated = || {
        let body = google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.");
        (StatusCode::UNAUTHORIZED, body.to_string()).into_response()
    };
    if !valid {
        return unauthenticated();
    }
    let answer = {
        let mut script = server.script.lock().unwrap();
        if script.len() > 1 {
            script.pop_front().unwrap()
        } else {
            script
                .front()
                .cloned()
                .unwrap_or(Answer::Raw(500, "no script"))
        }
    };
    match answer {
        Answer::Json(status, body) => {
            let mut r = (StatusCode::from_u16(status).unwrap(), body.to_string()).into_response();
            if status == 429 {
                r.headers_mut().insert("retry-after", "7".parse().unwrap());
            }
            r
        }
        Answer::Raw(status, body) => (StatusCode::from_u16(status).unwrap(), body).into_response(),
        Answer::Unauthenticated => unauthenticated(),
    }
}

struct Fixture {
    server: Arc<Server>,
    base: String,
    provider: GcpProvider,
}

async fn fixture(script: Vec<Answer>) -> Fixture {
    let server = Arc::new(Server {
        script: Mutex::new(script.into()),
        lifetime: Mutex::new(3600),
        ..Default::default()
    });
    let app = Router::new().fallback(handle).with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let provider = GcpProvider::new(HttpClient::new(&HttpOptions::default()).unwrap());
    Fixture {
        server,
        base,
        provider,
    }
}

impl Fixture {
    fn key(&self) -> Credentials {
        Credentials::Gcp(
            GcpServiceAccountKey::from_json(&default_gcp_key_json(&self.base)).unwrap(),
        )
    }

    fn target(&self, job: &str) -> JobTarget {
        JobTarget::new(
            ProviderKind::Gcp,
            Some("cloudsql"),
            job,
            None,
            None,
            Some(PROJECT),
            Some(&self.base),
        )
        .unwrap()
    }

    fn token_requests(&self) -> u32 {
        *self.server.token_requests.lock().unwrap()
    }
}

fn ok(body: &str) -> Answer {
    Answer::Json(200, serde_json::from_str(body).unwrap())
}

#[tokio::test]
async fn a_running_operation_is_read_with_a_verified_token() {
    let f = fixture(vec![ok(RUNNING)]).await;
    let obs = f
        .provider
        .observe(&f.target(OPERATION), &f.key())
        .await
        .unwrap();
    assert_eq!(obs.phase, Some(JobPhase::Running));
    assert_eq!(obs.progress, None);
    assert_eq!(obs.job_type.as_deref(), Some("import"));
    let calls = f.server.api_calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        vec![(
            format!("/v1/projects/{PROJECT}/operations/{OPERATION}"),
            Some("ya29.test-0".to_string())
        )]
    );
}

#[tokio::test]
async fn a_failed_operation_carries_the_error_codes() {
    let f = fixture(vec![ok(FAILED)]).await;
    let obs = f
        .provider
        .observe(&f.target(OPERATION), &f.key())
        .await
        .unwrap();
    assert_eq!(obs.phase, Some(JobPhase::Failed));
    assert!(obs.message.unwrap().starts_with("ERROR_RDBMS: GRANT"));
    assert_eq!(
        obs.detail.gcp.unwrap().error_codes,
        vec!["ERROR_RDBMS", "UNKNOWN"]
    );
}

#[tokio::test]
async fn many_jobs_with_one_key_share_one_token() {
    let f = fixture(vec![ok(RUNNING)]).await;
    let creds = f.key();
    let jobs: Vec<_> = (0..20)
        .map(|i| {
            let (p, t, c) = (
                f.provider.clone(),
                f.target(&format!("op-{i}")),
                creds.clone(),
            );
            tokio::spawn(async move { p.observe(&t, &c).await })
        })
        .collect();
    for job in jobs {
        assert_eq!(job.await.unwrap().unwrap().phase, Some(JobPhase::Running));
    }
    assert_eq!(f.token_requests(), 1);
    assert_eq!(f.provider.token_cache().fetches(), 1);
    assert_eq!(f.server.api_calls.lock().unwrap().len(), 20);
}

#[tokio::test]
async fn a_revoked_token_is_replaced_once_silently() {
    let f = fixture(vec![ok(RUNNING)]).await;
    let creds = f.key();
    f.provider
        .observe(&f.target(OPERATION), &creds)
        .await
        .unwrap();
    f.server.revoked.lock().unwrap().push("ya29.test-0".into());
    let obs = f
        .provider
        .observe(&f.target(OPERATION), &creds)
        .await
        .unwrap();
    assert_eq!(obs.phase, Some(JobPhase::Running));
    assert_eq!(f.token_requests(), 2);
    let tokens: Vec<Option<String>> = f
        .server
        .api_calls
        .lock()
        .unwrap()
        .iter()
        .map(|(_, t)| t.clone())
        .collect();
    let t = |s: &str| Some(s.to_string());
    assert_eq!(
        tokens,
        vec![t("ya29.test-0"), t("ya29.test-0"), t("ya29.test-1")]
    );
}

#[tokio::test]
async fn a_401_after_a_fresh_token_is_an_authentication_failure() {
    let f = fixture(vec![Answer::Unauthenticated]).await;
    let e = f
        .provider
        .observe(&f.target(OPERATION), &f.key())
        .await
        .unwrap_err();
    assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
    assert!(e.is_permanent());
    assert_eq!(e.code, "UNAUTHENTICATED");
    // One refresh, not a loop.
    assert_eq!(f.token_requests(), 2);
    assert_eq!(f.server.api_calls.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_key_the_endpoint_does_not_trust_is_refused_without_leaking_it() {
    let f = fixture(vec![ok(RUNNING)]).await;
    let mut key = GcpServiceAccountKey::from_json(&default_gcp_key_json(&f.base)).unwrap();
    key.private_key =
        clouddb_job_operator::providers::credentials::SecretString::new(UNTRUSTED_KEY);
    let e = f
        .provider
        .observe(&f.target(OPERATION), &Credentials::Gcp(key))
        .await
        .unwrap_err();
    assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
    assert_eq!(e.code, "invalid_grant");
    assert!(
        e.message.contains("Invalid JWT Signature."),
        "{}",
        e.message
    );
    assert!(f.server.api_calls.lock().unwrap().is_empty());
    for secret_line in UNTRUSTED_KEY.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!e.to_string().contains(secret_line));
    }
}

#[tokio::test]
async fn token_refusals_reject_the_credentials() {
    for (error, description) in [
        ("invalid_grant", "Invalid grant: account not found"),
        ("invalid_client", "The OAuth client was not found."),
        (
            "unauthorized_client",
            "Client is unauthorized to retrieve access tokens.",
        ),
    ] {
        let f = fixture(vec![ok(RUNNING)]).await;
        *f.server.refuse.lock().unwrap() = Some((error, description));
        let e = f
            .provider
            .observe(&f.target(OPERATION), &f.key())
            .await
            .unwrap_err();
        assert!(e.rejects_credentials(), "{error}: {e:?}");
        assert!(e.is_permanent());
        assert!(e.message.contains(description));
    }
}

#[tokio::test]
async fn api_errors_classify() {
    let cases = [
        (
            Answer::Json(
                429,
                google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded"),
            ),
            ErrorClass::Throttled,
            ErrorReason::Throttled,
        ),
        (
            Answer::Json(
                503,
                google_error(503, "UNAVAILABLE", "The service is currently unavailable."),
            ),
            ErrorClass::Transient,
            ErrorReason::ProviderError,
        ),
        (
            Answer::Raw(502, "<html>bad gateway</html>"),
            ErrorClass::Transient,
            ErrorReason::ProviderError,
        ),
        (
            Answer::Json(
                403,
                google_error(
                    403,
                    "PERMISSION_DENIED",
                    "The client is not authorized to make this request.",
                ),
            ),
            ErrorClass::Permanent,
            ErrorReason::AccessDenied,
        ),
        (
            Answer::Json(
                400,
                google_error(400, "INVALID_ARGUMENT", "Invalid request."),
            ),
            ErrorClass::Permanent,
            ErrorReason::InvalidRequest,
        ),
        (
            Answer::Raw(200, "{\"status\": "),
            ErrorClass::Transient,
            ErrorReason::ProviderError,
        ),
    ];
    for (answer, class, reason) in cases {
        let f = fixture(vec![answer]).await;
        let e = f
            .provider
            .observe(&f.target(OPERATION), &f.key())
            .await
            .unwrap_err();
        assert_eq!((e.class, e.reason), (class, reason), "{e:?}");
        if class == ErrorClass::Throttled {
            assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
        }
    }
}

#[tokio::test]
async fn a_404_is_the_not_found_grace() {
    let f = fixture(vec![Answer::Json(
        404,
        google_error(404, "NOT_FOUND", "The Cloud SQL operation does not exist."),
    )])
    .await;
    let obs = f
        .provider
        .observe(&f.target(OPERATION), &f.key())
        .await
        .unwrap();
    assert!(obs.is_not_found_yet());
    assert_eq!(obs.phase, Some(JobPhase::Pending));
}

#[tokio::test]
async fn an_echoed_token_is_redacted_from_errors() {
    let f = fixture(vec![Answer::Json(
        400,
        google_error(
            400,
            "INVALID_ARGUMENT",
            "bad header Authorization: Bearer ya29.test-0 and token ya29.test-0",
        ),
    )])
    .await;
    let e = f
        .provider
        .observe(&f.target(OPERATION), &f.key())
        .await
        .unwrap_err();
    assert!(!e.to_string().contains("ya29.test-0"), "{e}");
    assert!(!e
        .to_string()
        .contains(DEFAULT_GCP_PRIVATE_KEY.lines().nth(1).unwrap()));
}
