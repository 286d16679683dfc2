use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use clouddb_api::{ProviderApi, ProviderKind};

fn target(endpoint: Option<&str>, api: &str) -> JobTarget {
    JobTarget::new(
        ProviderKind::Azure,
        Some(api),
        "0ec0de9b-4a56-4b3c-8a9b-6f7e2c1d0e11",
        Some("westeurope"),
        None,
        None,
        endpoint,
    )
    .unwrap()
    .with_subscription_id(Some("00000000-0000-0000-0000-000000000001"))
    .unwrap()
}

fn response(status: u16, body: &str, headers: &[(&'static str, &str)]) -> HttpResponse {
    let mut map = http::HeaderMap::new();
    for (k, v) in headers {
        map.insert(*k, v.parse().unwrap());
    }
    HttpResponse {
        status,
        headers: map,
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn status_urls_per_api() {
    let url =
        AzureProvider::status_url(&target(None, "mysql-flexible"), AzureCloud::Public).unwrap();
    assert_eq!(
        url.as_str(),
        "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.DBforMySQL/locations/westeurope/azureAsyncOperation/0ec0de9b-4a56-4b3c-8a9b-6f7e2c1d0e11?api-version=2023-12-30"
    );
    let url = AzureProvider::status_url(
        &target(Some("http://127.0.0.1:1"), "postgresql-flexible"),
        AzureCloud::UsGovernment,
    )
    .unwrap();
    assert!(url
        .as_str()
        .starts_with("http://127.0.0.1:1/subscriptions/"));
    assert!(url.as_str().ends_with("?api-version=2024-08-01"));
    let mut t = target(None, "postgresql-flexible");
    t.subscription_id = None;
    assert_eq!(
        AzureProvider::status_url(&t, AzureCloud::Public)
            .unwrap_err()
            .code,
        "MissingSubscription"
    );
    t.api = ProviderApi::AlibabaRds;
    assert_eq!(
        AzureProvider::status_url(&t, AzureCloud::Public)
            .unwrap_err()
            .code,
        "UnsupportedApi"
    );
}

#[test]
fn interpret_reads_request_ids_and_retry_after() {
    let t = target(None, "postgresql-flexible");
    let r = response(
        429,
        r#"{"error":{"code":"TooManyRequests","message":"slow down"}}"#,
        &[
            ("retry-after", "17"),
            ("x-ms-correlation-request-id", "corr-1"),
            ("x-ms-ratelimit-remaining-subscription-reads", "0"),
        ],
    );
    let e = interpret(&r, &t).unwrap_err().into_error();
    assert_eq!(e.class, crate::ErrorClass::Throttled);
    assert_eq!(e.retry_after, Some(std::time::Duration::from_secs(17)));
    assert_eq!(e.request_id.as_deref(), Some("corr-1"));
    let r = response(
        503,
        "",
        &[
            ("x-ms-request-id", "req-1"),
            ("x-ms-correlation-request-id", "c"),
        ],
    );
    let e = interpret(&r, &t).unwrap_err().into_error();
    assert_eq!(e.request_id.as_deref(), Some("req-1"));
    let r = response(200, "{trunc", &[("x-ms-request-id", "req-2")]);
    let e = interpret(&r, &t).unwrap_err().into_error();
    assert_eq!(
        (e.code.as_str(), e.request_id.as_deref()),
        ("MalformedResponse", Some("req-2"))
    );
    let r = response(200, r#"{"status":"Succeeded"}"#, &[]);
    assert_eq!(
        interpret(&r, &t).unwrap().phase,
        Some(clouddb_api::JobPhase::Succeeded)
    );
}

/// A local server: a token endpoint issuing `tok-N` and a status resource that refuses the
/// first token it sees with ARM's 401 body and echoes the Authorization header in a 403
/// for `echo` jobs.
async fn serve() -> (String, Arc<AtomicUsize>) {
    use axum::extract::{Path, State};
    use axum::http::HeaderMap;
    let issued = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/token",
            axum::routing::post(|State(n): State<Arc<AtomicUsize>>| async move {
                let i = n.fetch_add(1, Ordering::SeqCst) + 1;
                axum::Json(serde_json::json!({
                    "token_type": "Bearer", "expires_in": "3599", "access_token": format!("tok-{i}")
                }))
            }),
        )
        .route(
            "/subscriptions/{sub}/providers/{ns}/locations/{loc}/azureAsyncOperation/{job}",
            axum::routing::get(|Path((_, _, _, job)): Path<(String, String, String, String)>, headers: HeaderMap| async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                let status = |s: u16| axum::http::StatusCode::from_u16(s).unwrap();
                if job == "echo" {
                    let body = format!(r#"{{"error":{{"code":"AuthorizationFailed","message":"denied for {auth}"}}}}"#);
                    return (status(403), body);
                }
                if auth == "Bearer tok-1" {
                    let body = r#"{"error":{"code":"InvalidAuthenticationToken","message":"The access token is invalid."}}"#;
                    return (status(401), body.to_string());
                }
                if job == "always-401" {
                    return (status(401), r#"{"error":{"code":"ExpiredAuthenticationToken","message":"expired"}}"#.to_string());
                }
                (status(200), r#"{"status":"InProgress","percentComplete":5}"#.to_string())
            }),
        )
        .with_state(issued.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), issued)
}

fn creds(authority: &str) -> Credentials {
    Credentials::Azure {
        tenant_id: "tenant".into(),
        client_id: "client".into(),
        client_secret: SecretString::new("client-secret-value"),
        authority_host: Some(authority.into()),
    }
}

#[tokio::test]
async fn a_refused_token_is_replaced_once_silently_then_reused() {
    let (url, issued) = serve().await;
    let provider = AzureProvider::new(HttpClient::new(&Default::default()).unwrap());
    let c = creds(&url);
    let t = target(Some(&url), "postgresql-flexible");
    let o = provider.observe(&t, &c).await.unwrap();
    assert_eq!(o.progress, Some(5));
    assert_eq!(
        issued.load(Ordering::SeqCst),
        2,
        "tok-1 refused, tok-2 fetched"
    );
    provider.observe(&t, &c).await.unwrap();
    assert_eq!(
        issued.load(Ordering::SeqCst),
        2,
        "tok-2 reused from the cache"
    );
    let mut always = t.clone();
    always.job_id = "always-401".into();
    let e = provider.observe(&always, &c).await.unwrap_err();
    assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
    assert_eq!(issued.load(Ordering::SeqCst), 3, "one retry, not a loop");
}

#[tokio::test]
async fn an_echoed_token_never_reaches_the_error() {
    let (url, _) = serve().await;
    let provider = AzureProvider::new(HttpClient::new(&Default::default()).unwrap());
    let mut t = target(Some(&url), "postgresql-flexible");
    t.job_id = "echo".into();
    let e = provider.observe(&t, &creds(&url)).await.unwrap_err();
    assert_eq!(e.reason, ErrorReason::AccessDenied);
    assert!(!e.message.contains("tok-"), "{}", e.message);
    assert!(e.message.contains("denied for"), "{}", e.message);
}

/// A credential of a national cloud (its Entra authority) gets that cloud's ARM host and
/// token scope; before, every credential got `management.azure.com` and its scope.
#[test]
fn the_authority_selects_the_arm_host_and_the_scope() {
    for (authority, arm, scope) in [
        (
            "https://login.microsoftonline.us",
            "https://management.usgovcloudapi.net/subscriptions/",
            "https://management.usgovcloudapi.net/.default",
        ),
        (
            "https://login.chinacloudapi.cn",
            "https://management.chinacloudapi.cn/subscriptions/",
            "https://management.chinacloudapi.cn/.default",
        ),
        (
            "https://login.microsoftonline.com",
            "https://management.azure.com/subscriptions/",
            "https://management.azure.com/.default",
        ),
    ] {
        let cloud = AzureCloud::from_authority(Some(authority));
        let url = AzureProvider::status_url(&target(None, "mysql-flexible"), cloud).unwrap();
        assert!(url.as_str().starts_with(arm), "{url}");
        let request = crate::azure::token::token_request(&creds(authority)).unwrap();
        let sent: Vec<(String, String)> = url::form_urlencoded::parse(request.body.as_bytes())
            .into_owned()
            .collect();
        assert!(
            sent.contains(&("scope".to_string(), scope.to_string())),
            "{authority}: {sent:?}"
        );
        assert!(
            request.url.as_str().starts_with(authority),
            "{}",
            request.url
        );
    }
}
