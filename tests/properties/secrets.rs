//! Hostile-server property tests: a local server echoes what the operator sent that must stay
//! secret (session token, signature, `Authorization` header), as received or encoded once
//! (percent-encoded, form-urlencoded, base64), into every field of an error answer (code,
//! message, request ID, `X-Request-Id`), and the error the provider returns (its fields,
//! `Display` and `Debug`) must contain no secret in any of those forms. Secrets include
//! characters that encoding changes, and Tencent credentials always carry a session token.
//! One loopback server per provider; 48 cases each by default (`PROPTEST_CASES` raises it).

use crate::fuzzkit;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine;
use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::encoding::percent_encode;
use clouddb_job_operator::providers::alibaba::AlibabaProvider;
use clouddb_job_operator::providers::aws::AwsProvider;
use clouddb_job_operator::providers::azure::AzureProvider;
use clouddb_job_operator::providers::credentials::{GcpServiceAccountKey, SecretString};
use clouddb_job_operator::providers::gcp::GcpProvider;
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::huawei::HuaweiProvider;
use clouddb_job_operator::providers::tencent::TencentProvider;
use clouddb_job_operator::providers::tencent_legacy::TencentLegacyProvider;
use clouddb_job_operator::providers::{Credentials, JobTarget, Provider, ProviderError};
use clouddb_job_operator::simulator::auth::default_gcp_key_json;
use fuzzkit::config;
use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::{json, Map, Value};

/// What the server answers next: a status, the JSON fields to fill with the echoed secret
/// (the rest get fixed values), which secret to echo, and whether to echo it in
/// `X-Request-Id` too.
#[derive(Clone, Debug)]
struct Plan {
    status: u16,
    /// (field, echo the secret here?) pairs, in envelope order.
    fields: Vec<(&'static str, bool)>,
    /// Index into the forms of the secrets the request carried.
    echo: usize,
    header: bool,
    /// Wrap the body as `{"Response": {..., "Error": {...}}}` (Tencent API 3.0).
    tencent3: bool,
    /// Answer an AWS `<ErrorResponse>` (XML, the fields escaped) with `x-amzn-RequestId`.
    aws: bool,
    /// Azure: serve a token endpoint too (issuing [`Shared::issue`], or refusing with
    /// the client secret echoed when `echo` is odd) and answer ARM's `{"error": {...}}`
    /// with `x-ms-request-id`.
    azure: bool,
    /// Answer Google's `{"error": {"code", <fields>}}`; at `/token`, refuse (echoing the
    /// assertion into `error`/`error_description`) when `header`, else issue `issue`.
    google: bool,
}

#[derive(Default)]
struct Shared {
    plan: Mutex<Option<Plan>>,
    /// The secret-bearing parts of the requests of the current case.
    seen: Mutex<Vec<String>>,
    /// The access token the token endpoints issue (Google, Azure).
    issue: Mutex<String>,
}

/// The secret-bearing parts of a request, as received.
fn secrets_of(uri: &Uri, headers: &HeaderMap) -> Vec<String> {
    let mut out = Vec::new();
    for name in [
        "authorization",
        "x-tc-token",
        "x-auth-token",
        "x-acs-security-token",
        "x-amz-security-token",
    ] {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
            out.push(v.to_string());
            if let Some(sig) = v.rsplit("Signature=").next().filter(|s| *s != v) {
                out.push(sig.to_string());
            }
        }
    }
    for pair in uri.query().unwrap_or_default().split('&') {
        if let Some((k, v)) = pair.split_once('=') {
            if k == "Signature" || k == "Token" {
                out.push(v.to_string());
                out.push(percent_decode_str(v).decode_utf8_lossy().into_owned());
            }
        }
    }
    out
}

/// Azure: the token endpoint (issue, or refuse echoing the client secret) and ARM (echo the
/// bearer token).
fn azure_answer(
    plan: &Plan,
    shared: &Shared,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let status = StatusCode::from_u16(plan.status).unwrap_or(StatusCode::BAD_REQUEST);
    let masked = |i: usize| plan.fields.get(i).is_some_and(|(_, on)| *on);
    let fill = |on: bool, echo: &str| {
        if on {
            format!("prefix {echo} suffix")
        } else {
            "x".into()
        }
    };
    if uri.path().ends_with("/oauth2/v2.0/token") {
        let secret: String = url::form_urlencoded::parse(body)
            .find(|(k, _)| k == "client_secret")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        shared.seen.lock().unwrap().push(secret.clone());
        if plan.echo.is_multiple_of(2) {
            let token = shared.issue.lock().unwrap().clone();
            let answer = json!({"token_type": "Bearer", "expires_in": 3599, "access_token": token});
            return (StatusCode::OK, answer.to_string()).into_response();
        }
        let candidates = forms(&secret);
        let echo = &candidates[plan.echo / 2 % candidates.len()];
        let status = if status == StatusCode::OK {
            StatusCode::UNAUTHORIZED
        } else {
            status
        };
        let answer = json!({
            "error": fill(masked(0), echo).replace(' ', ""),
            "error_description": fill(masked(1), echo),
            "trace_id": fill(masked(2), echo),
        });
        let mut response = (status, answer.to_string()).into_response();
        if plan.header {
            if let Ok(v) = echo.parse() {
                response.headers_mut().insert("x-ms-request-id", v);
            }
        }
        return response;
    }
    let secrets = secrets_of(uri, headers);
    shared.seen.lock().unwrap().extend(secrets.clone());
    let candidates: Vec<String> = secrets.iter().flat_map(|s| forms(s)).collect();
    let echo = &candidates[plan.echo % candidates.len()];
    let answer = json!({"error": {
        "code": fill(masked(0), echo).replace(' ', ""),
        "message": fill(masked(1), echo),
        "target": fill(masked(2), echo),
    }});
    let mut response = (status, answer.to_string()).into_response();
    if plan.header {
        if let Ok(v) = echo.parse::<axum::http::HeaderValue>() {
            response.headers_mut().insert("x-ms-request-id", v.clone());
            response
                .headers_mut()
                .insert("x-ms-correlation-request-id", v);
        }
    }
    response
}

async fn answer(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(plan) = shared.plan.lock().unwrap().clone() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if plan.azure {
        return azure_answer(&plan, &shared, &uri, &headers, &body);
    }
    let mut secrets = secrets_of(&uri, &headers);
    // A JWT-bearer token request carries its signed assertion in the form body.
    secrets.extend(
        url::form_urlencoded::parse(&body)
            .filter(|(k, _)| k == "assertion")
            .map(|(_, v)| v.into_owned()),
    );
    shared.seen.lock().unwrap().extend(secrets.clone());
    let candidates: Vec<String> = secrets.iter().flat_map(|s| forms(s)).collect();
    if candidates.is_empty() {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let echo = candidates[plan.echo % candidates.len()].clone();
    if plan.google && uri.path() == "/token" {
        if !plan.header {
            let token = shared.issue.lock().unwrap().clone();
            let body = json!({"access_token": token, "expires_in": 3600, "token_type": "Bearer"});
            return (StatusCode::OK, body.to_string()).into_response();
        }
        let mut body = Map::new();
        for ((_, echoed), name) in plan.fields.iter().zip(["error", "error_description"]) {
            let value = if *echoed {
                format!("prefix {echo} suffix")
            } else {
                "invalid_grant".to_string()
            };
            body.insert(name.to_string(), json!(value));
        }
        let status = StatusCode::from_u16(plan.status).unwrap_or(StatusCode::BAD_REQUEST);
        return (status, Value::Object(body).to_string()).into_response();
    }
    let mut fields = Map::new();
    for (name, echoed) in &plan.fields {
        let value = if *echoed {
            format!("prefix {echo} suffix")
        } else {
            "4100".to_string()
        };
        let value = if *name == "Code" || *name == "code" || *name == "error_code" {
            value.replace(' ', "")
        } else {
            value
        };
        fields.insert((*name).to_string(), json!(value));
    }
    if plan.aws {
        let text = |name: &str| {
            fields
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let body = format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            text("Code"),
            text("Message"),
            text("RequestId")
        );
        let status = StatusCode::from_u16(plan.status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut response = (status, body).into_response();
        if plan.header {
            if let Ok(v) = echo.parse() {
                response.headers_mut().insert("x-amzn-requestid", v);
            }
        }
        return response;
    }
    let body: Value = if plan.google {
        fields.insert("code".into(), json!(plan.status));
        json!({"error": fields})
    } else if plan.tencent3 {
        let request_id = fields.remove("RequestId").unwrap_or(json!("r"));
        json!({"Response": {"Error": fields, "RequestId": request_id}})
    } else {
        Value::Object(fields)
    };
    let status = StatusCode::from_u16(plan.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (status, body.to_string()).into_response();
    if plan.header {
        if let Ok(v) = echo.parse::<axum::http::HeaderValue>() {
            response.headers_mut().insert("x-request-id", v.clone());
            response.headers_mut().insert("x-acs-request-id", v);
        }
    }
    response
}

struct Harness {
    rt: tokio::runtime::Runtime,
    addr: SocketAddr,
    shared: Arc<Shared>,
    http: HttpClient,
}

fn harness() -> Harness {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let shared = Arc::new(Shared::default());
    let app = Router::new().fallback(answer).with_state(shared.clone());
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move { axum::serve(listener, app).await });
    let http = HttpClient::new(&HttpOptions::default()).unwrap();
    Harness {
        rt,
        addr,
        shared,
        http,
    }
}

/// A secret as sent, and encoded once in each way a server might echo it.
fn forms(secret: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    vec![
        secret.to_string(),
        percent_encode(secret),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        STANDARD.encode(secret),
        URL_SAFE.encode(secret),
    ]
}

fn assert_clean(
    e: &ProviderError,
    creds: &Credentials,
    secrets: &[&str],
) -> Result<(), TestCaseError> {
    let shown = format!(
        "{} | {} | {:?} | {} | {e} | {e:?} | {creds:?}",
        e.code,
        e.message,
        e.request_id,
        e.describe()
    );
    for s in secrets {
        for form in forms(s) {
            prop_assert!(
                !shown.contains(&form),
                "secret {s:?} leaked as {form:?}: {shown}"
            );
        }
    }
    Ok(())
}

fn plan(field_names: &'static [&'static str], tencent3: bool) -> BoxedStrategy<Plan> {
    (
        prop::sample::select(vec![200u16, 400, 401, 403, 404, 429, 500, 503]),
        prop::collection::vec(any::<bool>(), field_names.len()),
        0usize..64,
        any::<bool>(),
    )
        .prop_map(move |(status, mask, echo, header)| Plan {
            status,
            fields: field_names.iter().copied().zip(mask).collect(),
            echo,
            header,
            tencent3,
            aws: false,
            azure: false,
            google: false,
        })
        .boxed()
}

/// Secrets with characters that percent-encoding and base64 change (`+/=%&~` and inner
/// spaces); no surrounding spaces, which Secret values lose anyway.
fn secret() -> &'static str {
    "[A-Za-z0-9+/=%&~]{4}[A-Za-z0-9+/=%&~ ]{8,40}[A-Za-z0-9+/=%&~]{4}"
}

fn run(h: &Harness, strategy: impl Strategy<Value = (Plan, String, String)>, kind: ProviderKind) {
    let endpoint = format!("http://{}", h.addr);
    let mut runner = TestRunner::new(config(48));
    let result = runner.run(&strategy, |(plan, key, token)| {
        *h.shared.plan.lock().unwrap() = Some(plan);
        h.shared.seen.lock().unwrap().clear();
        *h.shared.issue.lock().unwrap() = token.clone();
        let (target, creds, provider): (JobTarget, Credentials, Box<dyn Provider>) = match kind {
            ProviderKind::Tencent | ProviderKind::TencentLegacy => {
                let creds = Credentials::Tencent {
                    secret_id: "AKIDexample".into(),
                    secret_key: SecretString::new(key.clone()),
                    token: Some(SecretString::new(token.clone())),
                };
                let target = JobTarget::new(
                    kind,
                    None,
                    "79",
                    Some("ap-guangzhou"),
                    None,
                    None,
                    Some(&endpoint),
                )
                .unwrap();
                let provider: Box<dyn Provider> = if kind == ProviderKind::Tencent {
                    Box::new(TencentProvider::new(h.http.clone()))
                } else {
                    Box::new(TencentLegacyProvider::new(h.http.clone()))
                };
                (target, creds, provider)
            }
            ProviderKind::Huawei => {
                let creds = if key.len() % 2 == 0 {
                    Credentials::HuaweiAkSk {
                        ak: "AKexample".into(),
                        sk: SecretString::new(key.clone()),
                    }
                } else {
                    Credentials::HuaweiToken {
                        token: SecretString::new(token.clone()),
                    }
                };
                let target = JobTarget::new(
                    kind,
                    Some("rds"),
                    "job-1",
                    Some("cn-north-4"),
                    None,
                    Some("project"),
                    Some(&endpoint),
                )
                .unwrap();
                (target, creds, Box::new(HuaweiProvider::new(h.http.clone())))
            }
            ProviderKind::Alibaba => {
                let creds = Credentials::Alibaba {
                    access_key_id: "LTAIexample".into(),
                    access_key_secret: SecretString::new(key.clone()),
                    security_token: Some(SecretString::new(token.clone())),
                };
                let api = if key.len() % 2 == 0 { "rds" } else { "polardb" };
                let target = JobTarget::new(
                    kind,
                    Some(api),
                    "t-83br18hloy3faf0s1",
                    Some("cn-hangzhou"),
                    None,
                    None,
                    Some(&endpoint),
                )
                .unwrap();
                (
                    target,
                    creds,
                    Box::new(AlibabaProvider::new(h.http.clone())),
                )
            }
            ProviderKind::Aws => {
                let creds = Credentials::Aws {
                    access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
                    secret_access_key: SecretString::new(key.clone()),
                    session_token: Some(SecretString::new(token.clone())),
                };
                let api = ProviderKind::Aws.apis()[key.len() % ProviderKind::Aws.apis().len()];
                let target = JobTarget::new(
                    kind,
                    Some(api),
                    "job-1",
                    Some("us-east-1"),
                    None,
                    None,
                    Some(&endpoint),
                )
                .unwrap();
                (target, creds, Box::new(AwsProvider::new(h.http.clone())))
            }
            ProviderKind::Azure => {
                let creds = Credentials::Azure {
                    tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
                    client_id: "a1b2c3d4-0000-4000-8000-000000000001".into(),
                    client_secret: SecretString::new(key.clone()),
                    authority_host: Some(endpoint.clone()),
                };
                let api = ProviderKind::Azure.apis()[key.len() % 2];
                let target = JobTarget::new(
                    kind,
                    Some(api),
                    "0ec0de9b-4a56-4b3c-8a9b-6f7e2c1d0e11",
                    Some("westeurope"),
                    None,
                    None,
                    Some(&endpoint),
                )
                .and_then(|t| t.with_subscription_id(Some("00000000-0000-0000-0000-000000000001")))
                .unwrap();
                // A fresh provider per case: a cached token would skip the token endpoint.
                (target, creds, Box::new(AzureProvider::new(h.http.clone())))
            }
            ProviderKind::Gcp => {
                let key_json = default_gcp_key_json(&endpoint);
                let creds = Credentials::Gcp(GcpServiceAccountKey::from_json(&key_json).unwrap());
                let target = JobTarget::new(
                    kind,
                    Some("cloudsql"),
                    "op-1",
                    None,
                    None,
                    Some("project"),
                    Some(&endpoint),
                )
                .unwrap();
                (target, creds, Box::new(GcpProvider::new(h.http.clone())))
            }
        };
        let outcome = h.rt.block_on(provider.observe(&target, &creds));
        if let Err(e) = outcome {
            let seen = h.shared.seen.lock().unwrap().clone();
            let mut secrets: Vec<&str> = vec![&key, &token];
            secrets.extend(creds.secrets());
            secrets.extend(seen.iter().map(String::as_str).filter(|s| s.len() >= 16));
            assert_clean(&e, &creds, &secrets)?;
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn tencent_errors_never_echo_secrets() {
    let h = harness();
    let s = (
        plan(&["Code", "Message", "RequestId"], true),
        secret(),
        secret(),
    );
    run(&h, s, ProviderKind::Tencent);
}

#[test]
fn tencent_legacy_errors_never_echo_secrets() {
    let h = harness();
    let s = (
        plan(&["code", "message", "codeDesc"], false),
        secret(),
        secret(),
    );
    run(&h, s, ProviderKind::TencentLegacy);
}

#[test]
fn huawei_errors_never_echo_secrets() {
    let h = harness();
    let s = (
        plan(&["error_code", "error_msg", "request_id"], false),
        secret(),
        secret(),
    );
    run(&h, s, ProviderKind::Huawei);
}

#[test]
fn alibaba_errors_never_echo_secrets() {
    let h = harness();
    let s = (
        plan(&["Code", "Message", "RequestId"], false),
        secret(),
        secret(),
    );
    run(&h, s, ProviderKind::Alibaba);
}

#[test]
fn aws_errors_never_echo_secrets() {
    let h = harness();
    let aws = plan(&["Code", "Message", "RequestId"], false).prop_map(|p| Plan { aws: true, ..p });
    run(&h, (aws, secret(), secret()), ProviderKind::Aws);
}

#[test]
fn azure_errors_never_echo_secrets() {
    let h = harness();
    let azure = plan(&["code", "message", "target"], false).prop_map(|p| Plan { azure: true, ..p });
    run(&h, (azure, secret(), secret()), ProviderKind::Azure);
}

#[test]
fn gcp_errors_never_echo_secrets() {
    let h = harness();
    // `header` picks a refused token request (the assertion echoed) or an issued token and an
    // API error echoing the bearer token.
    let google = plan(&["status", "message"], false).prop_map(|p| Plan { google: true, ..p });
    run(&h, (google, secret(), secret()), ProviderKind::Gcp);
}
