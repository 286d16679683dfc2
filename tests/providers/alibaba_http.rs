//! HTTP-level tests of the Alibaba Cloud provider against a local axum server that checks
//! the ACS3-HMAC-SHA256 signature the way the OpenAPI gateway does: recomputed from the
//! request as received by the simulator's independent verifier (`simulator::verify::acs3`,
//! not the client's signer), with the 15-minute date window and the STS token, then answers
//! with canned `DescribeHistoryTasks` pages and errors.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use jiff::{SignedDuration, Timestamp};

use clouddb_job_operator::api::{JobPhase, ProviderKind};
use clouddb_job_operator::providers::alibaba::AlibabaProvider;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::{Credentials, ErrorClass, ErrorReason, JobTarget, Provider};
use clouddb_job_operator::simulator::verify::{acs3, sha256_hex};

const AK: &str = "LTAI5tExampleAccessKey";
const SECRET: &str = "ExampleAccessKeySecret+/=~value";
const TOKEN: &str = "CAIS+sts/token==value";
const RDS: &str = include_str!("../fixtures/alibaba/rds-DescribeHistoryTasks.json");

#[derive(Clone, Debug)]
struct Seen {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Vec<u8>,
}

#[derive(Default)]
struct Server {
    seen: Mutex<Vec<Seen>>,
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "RequestId": "REQ-ERR", "HostId": "rds.aliyuncs.com", "Code": code,
        "Message": message, "Recommend": "https://api.aliyun.com/troubleshoot"
    });
    (status, [("x-acs-request-id", "HDR-ERR")], body.to_string()).into_response()
}

/// The gateway's check, recomputed from the request as received.
fn verify(seen: &Seen) -> Result<(), (&'static str, String)> {
    let text = |name: &str| seen.headers.get(name).and_then(|v| v.to_str().ok());
    let bad = |m: &str| ("SignatureDoesNotMatch", m.to_string());
    let auth = text("authorization")
        .and_then(acs3::parse_authorization)
        .ok_or(("IncompleteSignature", "no ACS3 Authorization".into()))?;
    if auth.access_key_id != AK {
        return Err((
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.".into(),
        ));
    }
    let date = text("x-acs-date").unwrap_or_default();
    let when: Timestamp = date
        .parse()
        .map_err(|_| ("IllegalTimestamp", date.to_string()))?;
    if Timestamp::now().duration_since(when).abs() > SignedDuration::from_mins(15) {
        return Err(("IllegalTimestamp", "x-acs-date expired".into()));
    }
    if text("x-acs-security-token") != Some(TOKEN) {
        return Err(("InvalidSecurityToken.MismatchWithAccessKey", "token".into()));
    }
    let payload_hash = text("x-acs-content-sha256").unwrap_or_default();
    if payload_hash != sha256_hex(&seen.body) {
        return Err(bad("payload hash"));
    }
    let mut signed = Vec::new();
    for name in &auth.signed_headers {
        signed.push((
            name.clone(),
            text(name).ok_or_else(|| bad(name))?.to_string(),
        ));
    }
    let expected = acs3::signature(
        SECRET,
        &acs3::Request {
            method: seen.method.as_str(),
            path: &seen.path,
            query: &seen.query,
            headers: &signed,
            payload_hash,
        },
    );
    if expected != auth.signature {
        return Err(bad(
            "Specified signature is not matched with our calculation.",
        ));
    }
    Ok(())
}

fn page(total: serde_json::Value, page: &str, items: serde_json::Value) -> Response {
    let body = serde_json::json!({
        "RequestId": "REQ", "PageNumber": page.parse::<i64>().unwrap_or(1), "PageSize": 10,
        "TotalCount": total, "Items": items
    });
    (StatusCode::OK, body.to_string()).into_response()
}

async fn handler(
    State(server): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seen = Seen {
        method,
        path: uri.path().to_string(),
        query: url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect(),
        headers,
        body: body.to_vec(),
    };
    server.seen.lock().unwrap().push(seen.clone());
    if let Err((code, message)) = verify(&seen) {
        return error(StatusCode::BAD_REQUEST, code, &message);
    }
    let param = |name: &str| {
        seen.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let task = |id: &str, status: &str| serde_json::json!({"TaskId": id, "Status": status, "Progress": 50.0});
    match (param("TaskId").as_str(), param("PageNumber").as_str()) {
        ("t-83br18hloy3faf****", _) => (StatusCode::OK, RDS).into_response(),
        ("t-none", _) => page(serde_json::json!("0"), "1", serde_json::json!([])),
        // A server that ignores the filter: the task is on the second page.
        ("t-paged", "1") => page(
            serde_json::json!("12"),
            "1",
            serde_json::json!([task("t-x", "Running")]),
        ),
        ("t-paged", p) => page(
            serde_json::json!(12),
            p,
            serde_json::json!([task("t-paged", "Failed")]),
        ),
        ("t-throttled", _) => {
            let mut r = error(
                StatusCode::BAD_REQUEST,
                "Throttling.User",
                "Request was denied due to user flow control.",
            );
            r.headers_mut()
                .insert("x-acs-retry-after", "1500".parse().unwrap());
            r
        }
        ("t-ram", _) => error(
            StatusCode::FORBIDDEN,
            "Forbidden.RAM",
            "User not authorized to operate on the specified resource.",
        ),
        ("t-503", _) => (StatusCode::SERVICE_UNAVAILABLE, "<html>busy</html>").into_response(),
        ("t-echo", _) => {
            let auth = seen
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            error(
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                &format!("echo {auth} token {TOKEN}"),
            )
        }
        _ => error(StatusCode::BAD_REQUEST, "InvalidParameter", "unexpected"),
    }
}

async fn serve() -> (String, Arc<Server>) {
    let server = Arc::new(Server::default());
    let app = Router::new().fallback(handler).with_state(server.clone());
    let addr = crate::serve_app(app).await;
    (format!("http://{addr}"), server)
}

fn creds(secret: &str) -> Credentials {
    Credentials::Alibaba {
        access_key_id: AK.into(),
        access_key_secret: SecretString::new(secret),
        security_token: Some(SecretString::new(TOKEN)),
    }
}

fn target(endpoint: &str, api: &str, job: &str) -> JobTarget {
    JobTarget::new(
        ProviderKind::Alibaba,
        Some(api),
        job,
        Some("cn-beijing"),
        Some("rm-uf62br2491p5l****"),
        None,
        Some(endpoint),
    )
    .unwrap()
}

fn provider() -> AlibabaProvider {
    AlibabaProvider::new(HttpClient::new(&HttpOptions::default()).unwrap())
}

#[tokio::test]
async fn signed_requests_are_accepted_and_mapped() {
    let (endpoint, server) = serve().await;
    let p = provider();
    let obs = p
        .observe(
            &target(&endpoint, "rds", "t-83br18hloy3faf****"),
            &creds(SECRET),
        )
        .await
        .unwrap();
    assert_eq!(obs.phase, Some(JobPhase::Running));
    assert_eq!(obs.progress, Some(45));
    assert_eq!(obs.remaining, Some(Duration::from_secs(1200)));
    let polar = p
        .observe(&target(&endpoint, "polardb", "t-none"), &creds(SECRET))
        .await
        .unwrap();
    assert!(polar.is_not_found_yet());
    let paged = p
        .observe(&target(&endpoint, "rds", "t-paged"), &creds(SECRET))
        .await
        .unwrap();
    assert_eq!(paged.phase, Some(JobPhase::Failed));
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4);
    let nonces: HashSet<String> = seen
        .iter()
        .map(|s| {
            s.headers["x-acs-signature-nonce"]
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(nonces.len(), 4, "a fresh nonce per request");
    for s in &seen {
        assert_eq!((s.method.as_str(), s.path.as_str()), ("POST", "/"));
        assert!(s.body.is_empty());
        assert_eq!(s.headers["x-acs-action"], "DescribeHistoryTasks");
    }
    assert_eq!(seen[0].headers["x-acs-version"], "2014-08-15");
    assert_eq!(seen[1].headers["x-acs-version"], "2017-08-01");
    let pages: Vec<&str> = seen[2..]
        .iter()
        .map(|s| {
            s.query
                .iter()
                .find(|(k, _)| k == "PageNumber")
                .unwrap()
                .1
                .as_str()
        })
        .collect();
    assert_eq!(pages, ["1", "2"]);
    let q = &seen[0].query;
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("InstanceId"), Some("rm-uf62br2491p5l****"));
    assert_eq!(get("RegionId"), Some("cn-beijing"));
    let from: Timestamp = get("FromStartTime").unwrap().parse().unwrap();
    let to: Timestamp = get("ToStartTime").unwrap().parse().unwrap();
    assert_eq!(
        to.duration_since(from),
        SignedDuration::from_hours(30 * 24 + 1)
    );
}

#[tokio::test]
async fn errors_are_classified_and_scrubbed() {
    let (endpoint, _server) = serve().await;
    let p = provider();
    let observe = |job: &'static str, secret: &'static str| {
        let (p, t) = (p.clone(), target(&endpoint, "rds", job));
        async move { p.observe(&t, &creds(secret)).await.unwrap_err() }
    };
    let e = observe("t-throttled", SECRET).await;
    assert_eq!(
        (e.class, e.retry_after),
        (ErrorClass::Throttled, Some(Duration::from_millis(1500)))
    );
    assert_eq!(e.request_id.as_deref(), Some("HDR-ERR"));
    let e = observe("t-ram", SECRET).await;
    assert_eq!(
        (e.reason, e.code.as_str()),
        (ErrorReason::AccessDenied, "Forbidden.RAM")
    );
    assert!(e.rejects_credentials());
    let e = observe("t-503", SECRET).await;
    assert_eq!(e.class, ErrorClass::Transient);
    let e = observe("t-83br18hloy3faf****", "wrong-secret").await;
    assert_eq!(
        (e.reason, e.code.as_str()),
        (ErrorReason::AuthenticationFailed, "SignatureDoesNotMatch")
    );
    let e = observe("t-echo", SECRET).await;
    let shown = format!("{} {e:?}", e.describe());
    assert!(
        !shown.contains(TOKEN) && !shown.contains("Signature="),
        "{shown}"
    );
}
