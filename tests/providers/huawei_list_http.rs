//! Huawei RDS discovery (`ListTasks` by `instance_id` with the millisecond window, paged by
//! `offset`/`limit`) against a local server that checks SDK-HMAC-SHA256 with the
//! simulator's independent verifier: 60 tasks over two pages, the missing instance, and an
//! error echoing the credentials.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use jiff::Timestamp;
use serde_json::json;

use clouddb_job_operator::api::{JobPhase, ProviderApi, ProviderKind};
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::discovery::{InstanceTarget, JobLister};
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::huawei::HuaweiProvider;
use clouddb_job_operator::providers::{Credentials, ErrorClass, ErrorReason};
use clouddb_job_operator::simulator::auth::{
    verify_huawei, HuaweiInput, SimCredentials, DEFAULT_HUAWEI_AK, DEFAULT_HUAWEI_SK,
};

const PROJECT: &str = "0483b6b16e954cb88930a360d2c4e663";
const TASKS: usize = 60;

#[derive(Default)]
struct Server {
    queries: Mutex<Vec<Vec<(String, String)>>>,
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"error_code": code, "error_msg": message});
    (status, body.to_string()).into_response()
}

async fn handler(
    State(server): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let path = percent_encoding::percent_decode_str(uri.path())
        .decode_utf8_lossy()
        .into_owned();
    let input = HuaweiInput {
        method: method.as_str(),
        path: &path,
        query: &query,
        headers: &headers,
        body: b"",
    };
    let now = Timestamp::now().as_second();
    if let Err(e) = verify_huawei(&SimCredentials::default(), &input, now) {
        return error(StatusCode::from_u16(e.status).unwrap(), e.code, &e.message);
    }
    server.queries.lock().unwrap().push(query.clone());
    if path != format!("/v3/{PROJECT}/tasklist") {
        return error(StatusCode::NOT_FOUND, "APIGW.0101", "no such API");
    }
    let get = |k: &str| {
        query
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    match get("instance_id").as_str() {
        "in01" => {}
        "gone" => {
            return error(
                StatusCode::NOT_FOUND,
                "DBS.200823",
                "The DB instance gone does not exist.",
            )
        }
        _ => {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            return error(
                StatusCode::BAD_REQUEST,
                "DBS.200001",
                &format!("echo {auth}"),
            );
        }
    }
    let offset: usize = get("offset").parse().unwrap_or(0);
    let limit: usize = get("limit").parse().unwrap_or(10);
    let created = Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S+0000")
        .to_string();
    let tasks: Vec<_> = (0..TASKS)
        .skip(offset)
        .take(limit)
        .map(|i| {
            json!({"id": format!("task-{i:03}"), "name": "RestartInstance", "instance_id": "in01",
                   "status": if i == 0 { "Running" } else { "Completed" },
                   "process": if i == 0 { "40" } else { "" }, "create_time": created,
                   "end_time": "", "fail_reason": ""})
        })
        .collect();
    let body = json!({"total_count": TASKS, "actions": [], "tasks": tasks});
    (StatusCode::OK, body.to_string()).into_response()
}

async fn serve() -> (String, Arc<Server>) {
    let server = Arc::new(Server::default());
    let app = Router::new().fallback(handler).with_state(server.clone());
    let addr = crate::serve_app(app).await;
    (format!("http://{addr}"), server)
}

fn creds(sk: &str) -> Credentials {
    Credentials::HuaweiAkSk {
        ak: DEFAULT_HUAWEI_AK.into(),
        sk: SecretString::new(sk),
    }
}

fn target(url: &str, instance: &str) -> InstanceTarget {
    InstanceTarget {
        provider: ProviderKind::Huawei,
        api: ProviderApi::Rds,
        instance_id: instance.into(),
        region: Some("cn-north-4".into()),
        project_id: Some(PROJECT.into()),
        subscription_id: None,
        endpoint: Some(url.parse().unwrap()),
    }
}

fn lister() -> HuaweiProvider {
    HuaweiProvider::new(HttpClient::new(&HttpOptions::default()).unwrap())
}

fn hour_ago() -> Timestamp {
    Timestamp::now() - jiff::SignedDuration::from_hours(1)
}

#[tokio::test]
async fn lists_every_page_of_the_instance_tasks() {
    let (url, server) = serve().await;
    let since = hour_ago();
    let found = lister()
        .list_jobs(&target(&url, "in01"), &creds(DEFAULT_HUAWEI_SK), since)
        .await
        .unwrap();
    assert_eq!(found.jobs.len(), TASKS);
    assert!(found.jobs.iter().all(|j| j.api == ProviderApi::Rds));
    assert_eq!(found.jobs[0].observation.phase, Some(JobPhase::Running));
    assert_eq!(found.jobs[0].observation.progress, Some(40));
    assert_eq!(found.jobs[1].observation.phase, Some(JobPhase::Succeeded));
    let queries = server.queries.lock().unwrap().clone();
    let offsets: Vec<String> = queries
        .iter()
        .map(|q| {
            let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            assert_eq!(get("instance_id").as_deref(), Some("in01"));
            assert_eq!(get("start_time"), Some(since.as_millisecond().to_string()));
            assert_eq!(get("limit").as_deref(), Some("50"));
            get("offset").unwrap()
        })
        .collect();
    assert_eq!(offsets, ["0", "50"]);
}

#[tokio::test]
async fn a_missing_instance_is_permanent_and_no_secret_is_returned() {
    let (url, _server) = serve().await;
    let e = lister()
        .list_jobs(&target(&url, "gone"), &creds(DEFAULT_HUAWEI_SK), hour_ago())
        .await
        .unwrap_err();
    assert_eq!(
        (e.class, e.reason),
        (ErrorClass::Permanent, ErrorReason::JobNotFound)
    );
    assert!(e.message.contains("gone does not exist"), "{e:?}");
    let e = lister()
        .list_jobs(&target(&url, "echo"), &creds(DEFAULT_HUAWEI_SK), hour_ago())
        .await
        .unwrap_err();
    let shown = e.describe();
    assert!(
        shown.contains("echo") && !shown.contains("Signature="),
        "{shown}"
    );
    let e = lister()
        .list_jobs(&target(&url, "in01"), &creds("wrong"), hour_ago())
        .await
        .unwrap_err();
    assert_eq!(e.reason, ErrorReason::AuthenticationFailed, "{e:?}");
}
