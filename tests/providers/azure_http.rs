//! HTTP-level tests of the Azure provider against a local axum server that plays Microsoft
//! Entra ID and Azure Resource Manager with the simulator's independent checks
//! (`simulator::auth::verify_token_request` for the form, `verify_bearer` for the token),
//! then answers with canned async-operation bodies and ARM errors.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use jiff::{SignedDuration, Timestamp};

use clouddb_job_operator::api::{JobPhase, ProviderKind};
use clouddb_job_operator::providers::azure::AzureProvider;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::{Credentials, ErrorClass, ErrorReason, JobTarget, Provider};
use clouddb_job_operator::simulator::auth::{
    verify_bearer, verify_token_request, AzureApp, AzureTokens, TokenRequestInput,
};
use clouddb_job_operator::simulator::SimCredentials;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "a1b2c3d4-0000-4000-8000-000000000001";
const SECRET: &str = "Az~Secret+/=value.0000";
const SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000001";

/// What the status resource answers, by job ID.
fn canned(job: &str) -> (StatusCode, Vec<(&'static str, &'static str)>, String) {
    let json = |s: &str| s.to_string();
    match job {
        "running" => (
            StatusCode::OK,
            vec![("x-ms-request-id", "r-1")],
            json(
                r#"{"name":"running","status":"InProgress","startTime":"2024-11-30T08:15:02.9330000Z","percentComplete":37.5}"#,
            ),
        ),
        "failed" => (
            StatusCode::OK,
            vec![],
            json(
                r#"{"name":"failed","status":"Failed","startTime":"2024-11-30T08:15:02Z","endTime":"2024-11-30T08:25:00Z","error":{"code":"ServerStorageFull","message":"out of storage"}}"#,
            ),
        ),
        "throttled" => (
            StatusCode::TOO_MANY_REQUESTS,
            vec![
                ("retry-after", "17"),
                ("x-ms-ratelimit-remaining-subscription-reads", "0"),
                ("x-ms-correlation-request-id", "c-9"),
            ],
            json(r#"{"error":{"code":"TooManyRequests","message":"throttled"}}"#),
        ),
        "broken" => (
            StatusCode::SERVICE_UNAVAILABLE,
            vec![("retry-after", "4")],
            json("<html>"),
        ),
        "denied" => (
            StatusCode::FORBIDDEN,
            vec![],
            json(
                r#"{"error":{"code":"AuthorizationFailed","message":"The client does not have authorization to perform action 'Microsoft.DBforPostgreSQL/locations/azureAsyncOperation/read'."}}"#,
            ),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            vec![],
            json(r#"{"error":{"code":"ResourceNotFound","message":"not found"}}"#),
        ),
    }
}

struct Server {
    creds: SimCredentials,
    tokens: Mutex<AzureTokens>,
    lifetime: Duration,
    token_requests: AtomicU64,
    status_requests: AtomicU64,
    unauthorized: AtomicU64,
    /// Query and headers of the last status read.
    last: Mutex<Option<(Method, String, HeaderMap)>>,
}

async fn handler(
    State(server): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    if let Some(rest) = path.strip_suffix("/oauth2/v2.0/token") {
        server.token_requests.fetch_add(1, Ordering::SeqCst);
        let input = TokenRequestInput {
            method: method.as_str(),
            tenant: rest.trim_start_matches('/'),
            content_type: headers.get("content-type").and_then(|v| v.to_str().ok()),
            body: &body,
        };
        return match verify_token_request(&server.creds, &input) {
            Ok(_) => {
                let token = server.tokens.lock().unwrap().issue(
                    server.lifetime,
                    Instant::now(),
                    Timestamp::now(),
                    rand::random(),
                );
                let answer = serde_json::json!({"token_type": "Bearer", "expires_in": server.lifetime.as_secs().to_string(), "access_token": token});
                (StatusCode::OK, answer.to_string()).into_response()
            }
            Err(e) => {
                let answer = serde_json::json!({
                    "error": e.error, "error_description": format!("AADSTS{}: {}", e.aadsts, e.description),
                    "error_codes": [e.aadsts], "trace_id": "trace-1", "correlation_id": "corr-1"
                });
                (StatusCode::from_u16(e.status).unwrap(), answer.to_string()).into_response()
            }
        };
    }
    server.status_requests.fetch_add(1, Ordering::SeqCst);
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if let Err(e) = verify_bearer(
        &server.tokens.lock().unwrap(),
        auth,
        Instant::now(),
        Timestamp::now(),
    ) {
        server.unauthorized.fetch_add(1, Ordering::SeqCst);
        let body = serde_json::json!({"error": {"code": e.code, "message": e.message}});
        return (StatusCode::UNAUTHORIZED, body.to_string()).into_response();
    }
    *server.last.lock().unwrap() =
        Some((method, uri.query().unwrap_or_default().to_string(), headers));
    let job = path.rsplit('/').next().unwrap_or_default().to_string();
    let (status, headers, body) = canned(&job);
    let mut response = (status, body).into_response();
    for (k, v) in headers {
        response.headers_mut().insert(k, v.parse().unwrap());
    }
    response
}

async fn serve(lifetime: Duration) -> (String, Arc<Server>) {
    let server = Arc::new(Server {
        creds: SimCredentials {
            azure: vec![AzureApp {
                tenant_id: TENANT.into(),
                client_id: CLIENT.into(),
                client_secret: SECRET.into(),
            }],
            ..SimCredentials::default()
        },
        tokens: Mutex::new(AzureTokens::default()),
        lifetime,
        token_requests: AtomicU64::new(0),
        status_requests: AtomicU64::new(0),
        unauthorized: AtomicU64::new(0),
        last: Mutex::new(None),
    });
    let app = Router::new().fallback(handler).with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), server)
}

fn creds(url: &str, secret: &str) -> Credentials {
    Credentials::Azure {
        tenant_id: TENANT.into(),
        client_id: CLIENT.into(),
        client_secret: SecretString::new(secret),
        authority_host: Some(url.into()),
    }
}

fn target(url: &str, api: &str, job: &str) -> JobTarget {
    JobTarget::new(
        ProviderKind::Azure,
        Some(api),
        job,
        Some("westeurope"),
        None,
        None,
        Some(url),
    )
    .and_then(|t| t.with_subscription_id(Some(SUBSCRIPTION)))
    .unwrap()
}

fn http() -> HttpClient {
    HttpClient::new(&HttpOptions::default()).unwrap()
}

#[tokio::test]
async fn statuses_through_a_verified_token_and_one_token_for_many_jobs() {
    let (url, server) = serve(Duration::from_secs(3599)).await;
    let provider = Arc::new(AzureProvider::new(http()));
    let c = creds(&url, SECRET);
    let o = provider
        .observe(&target(&url, "postgresql-flexible", "running"), &c)
        .await
        .unwrap();
    assert_eq!((o.phase, o.progress), (Some(JobPhase::Running), Some(37)));
    let (method, query, headers) = server.last.lock().unwrap().clone().unwrap();
    assert_eq!(method, Method::GET);
    assert_eq!(query, "api-version=2024-08-01");
    assert_eq!(headers.get("accept").unwrap(), "application/json");
    let o = provider
        .observe(&target(&url, "mysql-flexible", "failed"), &c)
        .await
        .unwrap();
    assert_eq!(o.phase, Some(JobPhase::Failed));
    assert_eq!(
        o.message.as_deref(),
        Some("ServerStorageFull: out of storage")
    );
    assert_eq!(
        server.last.lock().unwrap().clone().unwrap().1,
        "api-version=2023-12-30"
    );
    // Fifty jobs polled at once with one credential: still the one token.
    let polls = (0..50).map(|_| {
        let provider = provider.clone();
        let (t, c) = (target(&url, "postgresql-flexible", "running"), c.clone());
        tokio::spawn(async move { provider.observe(&t, &c).await })
    });
    for poll in polls {
        poll.await.unwrap().unwrap();
    }
    assert_eq!(server.token_requests.load(Ordering::SeqCst), 1);
    assert_eq!(provider.tokens().fetches(), 1);
    assert_eq!(server.unauthorized.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_concurrent_first_poll_fetches_one_token() {
    let (url, server) = serve(Duration::from_secs(3599)).await;
    let provider = Arc::new(AzureProvider::new(http()));
    let c = creds(&url, SECRET);
    let polls: Vec<_> = (0..20)
        .map(|_| {
            let provider = provider.clone();
            let (t, c) = (target(&url, "mysql-flexible", "running"), c.clone());
            tokio::spawn(async move { provider.observe(&t, &c).await })
        })
        .collect();
    for poll in polls {
        poll.await.unwrap().unwrap();
    }
    assert_eq!(
        server.token_requests.load(Ordering::SeqCst),
        1,
        "single-flight fetch"
    );
}

#[tokio::test]
async fn a_token_near_expiry_is_replaced_before_it_expires() {
    let (url, server) = serve(Duration::from_secs(3599)).await;
    let now = Arc::new(Mutex::new(Timestamp::now()));
    let clock_now = now.clone();
    let clock: clouddb_job_operator::providers::clock::Clock =
        Arc::new(move || *clock_now.lock().unwrap());
    let provider = AzureProvider::with_clock(http(), clock);
    let (t, c) = (
        target(&url, "postgresql-flexible", "running"),
        creds(&url, SECRET),
    );
    provider.observe(&t, &c).await.unwrap();
    let advance = |secs| {
        let mut n = now.lock().unwrap();
        *n = n.checked_add(SignedDuration::from_secs(secs)).unwrap();
    };
    advance(3599 - 5 * 60 - 10);
    provider.observe(&t, &c).await.unwrap();
    assert_eq!(
        server.token_requests.load(Ordering::SeqCst),
        1,
        "still fresh"
    );
    advance(20);
    provider.observe(&t, &c).await.unwrap();
    assert_eq!(
        server.token_requests.load(Ordering::SeqCst),
        2,
        "inside the 5-minute margin: replaced while the old one was still valid"
    );
    assert_eq!(
        server.unauthorized.load(Ordering::SeqCst),
        0,
        "never sent an expired token"
    );
}

#[tokio::test]
async fn an_expired_or_revoked_token_is_replaced_silently() {
    let (url, server) = serve(Duration::from_secs(3599)).await;
    let provider = AzureProvider::new(http());
    let (t, c) = (
        target(&url, "postgresql-flexible", "running"),
        creds(&url, SECRET),
    );
    provider.observe(&t, &c).await.unwrap();
    assert_eq!(server.tokens.lock().unwrap().revoke_all(), 1);
    let o = provider.observe(&t, &c).await.unwrap();
    assert_eq!(o.phase, Some(JobPhase::Running), "no error surfaced");
    assert_eq!(server.unauthorized.load(Ordering::SeqCst), 1);
    assert_eq!(server.token_requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_short_lived_token_is_refreshed_at_half_its_life() {
    // 2-minute tokens, judged on a clock the test moves (no sleeping through a real
    // lifetime): kept for the first minute, replaced at half their life, while the first
    // is still valid (no request refused).
    let (url, server) = serve(Duration::from_secs(120)).await;
    let ahead = Arc::new(Mutex::new(SignedDuration::ZERO));
    let read = ahead.clone();
    // Frozen but for the test's moves: however slow the machine, the token is 55 s or
    // 61 s old when it is judged.
    let start = Timestamp::now();
    let provider =
        AzureProvider::with_clock(http(), Arc::new(move || start + *read.lock().unwrap()));
    let (t, c) = (
        target(&url, "postgresql-flexible", "running"),
        creds(&url, SECRET),
    );
    provider.observe(&t, &c).await.unwrap();
    *ahead.lock().unwrap() = SignedDuration::from_secs(55);
    provider.observe(&t, &c).await.unwrap();
    assert_eq!(server.token_requests.load(Ordering::SeqCst), 1);
    *ahead.lock().unwrap() = SignedDuration::from_secs(61);
    provider.observe(&t, &c).await.unwrap();
    assert_eq!(server.token_requests.load(Ordering::SeqCst), 2);
    assert_eq!(server.unauthorized.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_refused_client_stalls_without_echoing_the_secret() {
    let (url, server) = serve(Duration::from_secs(3599)).await;
    let provider = AzureProvider::new(http());
    let t = target(&url, "postgresql-flexible", "running");
    let wrong = "Wrong~Secret+/=0000";
    let e = provider.observe(&t, &creds(&url, wrong)).await.unwrap_err();
    assert_eq!(
        (e.class, e.reason),
        (ErrorClass::Permanent, ErrorReason::AuthenticationFailed)
    );
    assert_eq!(e.code, "invalid_client");
    assert!(e.message.contains("AADSTS7000215"), "{}", e.message);
    assert_eq!(e.request_id.as_deref(), Some("trace-1"));
    assert!(!format!("{e:?}").contains(wrong));
    assert_eq!(
        server.status_requests.load(Ordering::SeqCst),
        0,
        "no token, no ARM call"
    );
    let mut other_tenant = creds(&url, SECRET);
    if let Credentials::Azure { tenant_id, .. } = &mut other_tenant {
        *tenant_id = "contoso.onmicrosoft.com".into();
    }
    let e = provider.observe(&t, &other_tenant).await.unwrap_err();
    assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
    assert!(e.message.contains("AADSTS90002"), "{}", e.message);
}

#[tokio::test]
async fn arm_errors_are_classified_with_their_request_ids() {
    let (url, _) = serve(Duration::from_secs(3599)).await;
    let provider = AzureProvider::new(http());
    let c = creds(&url, SECRET);
    let observe = |job: &'static str| {
        let (provider, t, c) = (
            &provider,
            target(&url, "postgresql-flexible", job),
            c.clone(),
        );
        async move { provider.observe(&t, &c).await }
    };
    let e = observe("throttled").await.unwrap_err();
    assert_eq!(
        (e.class, e.retry_after),
        (ErrorClass::Throttled, Some(Duration::from_secs(17)))
    );
    assert_eq!(e.request_id.as_deref(), Some("c-9"));
    let e = observe("broken").await.unwrap_err();
    assert_eq!(
        (e.class, e.retry_after),
        (ErrorClass::Transient, Some(Duration::from_secs(4)))
    );
    let e = observe("denied").await.unwrap_err();
    assert_eq!(e.reason, ErrorReason::AccessDenied);
    let o = observe("unknown").await.unwrap();
    assert!(o.is_not_found_yet(), "{o:?}");
    assert_eq!(o.phase, Some(JobPhase::Pending));
}
