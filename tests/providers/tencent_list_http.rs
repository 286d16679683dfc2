//! Tencent discovery (`DescribeTasks` by `InstanceId` with the start-time window) against a
//! local server that checks the TC3 signature with the simulator's independent verifier and
//! answers 250 tasks in pages by `Offset`/`Limit`, plus the not-found instance and an error
//! that echoes the credentials.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Router;
use jiff::Timestamp;
use serde_json::{json, Value};

use clouddb_job_operator::api::{JobPhase, ProviderApi, ProviderKind};
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::discovery::{InstanceTarget, JobLister, ListerSet};
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::tencent::TencentProvider;
use clouddb_job_operator::providers::{Credentials, ErrorClass, ErrorReason};
use clouddb_job_operator::simulator::auth::{
    verify_tc3, SimCredentials, Tc3Input, DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY,
};

const TASKS: u64 = 250;

#[derive(Default)]
struct Server {
    bodies: Mutex<Vec<Value>>,
}

fn envelope(response: Value) -> Response {
    json!({ "Response": response }).to_string().into_response()
}

fn error(code: &str, message: &str) -> Response {
    envelope(json!({"Error": {"Code": code, "Message": message}, "RequestId": "req-err"}))
}

async fn handler(State(server): State<Arc<Server>>, headers: HeaderMap, body: Bytes) -> Response {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let input = Tc3Input {
        authorization: text("authorization"),
        timestamp: text("x-tc-timestamp"),
        host: text("host"),
        content_type: text("content-type"),
        body: &body,
    };
    if let Err(e) = verify_tc3(
        &SimCredentials::default(),
        &input,
        Timestamp::now().as_second(),
    ) {
        return error(e.code, &e.message);
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    server.bodies.lock().unwrap().push(request.clone());
    if text("x-tc-action") != Some("DescribeTasks") {
        return error("InvalidAction", "unexpected action");
    }
    match request["InstanceId"].as_str() {
        Some("cdb-list1") => {}
        Some("cdb-gone") => {
            return error(
                "InvalidParameter.InstanceNotFound",
                "The instance cdb-gone does not exist.",
            )
        }
        _ => {
            return error(
                "InvalidParameter",
                &format!("echo {}", text("authorization").unwrap_or_default()),
            )
        }
    }
    let offset = request["Offset"].as_u64().unwrap_or(0);
    let limit = request["Limit"].as_u64().unwrap_or(20);
    let items: Vec<Value> = (offset..(offset + limit).min(TASKS))
        .map(|i| {
            json!({
                "JobId": 5000 + i, "TaskStatus": if i == 0 { "RUNNING" } else { "SUCCEED" },
                "TaskType": "MODIFY PARAM", "Progress": if i == 0 { 30 } else { 100 },
                "StartTime": "2024-01-01 10:00:00", "EndTime": "0000-00-00 00:00:00",
                "InstanceIds": ["cdb-list1"], "Message": ""
            })
        })
        .collect();
    envelope(json!({"TotalCount": TASKS, "Items": items, "RequestId": "req"}))
}

async fn serve() -> (String, Arc<Server>) {
    let server = Arc::new(Server::default());
    let app = Router::new().fallback(handler).with_state(server.clone());
    let addr = crate::serve_app(app).await;
    (format!("http://{addr}"), server)
}

fn creds(key: &str) -> Credentials {
    Credentials::Tencent {
        secret_id: DEFAULT_TENCENT_SECRET_ID.into(),
        secret_key: SecretString::new(key),
        token: None,
    }
}

fn target(url: &str, instance: &str) -> InstanceTarget {
    InstanceTarget {
        provider: ProviderKind::Tencent,
        api: ProviderApi::DescribeTasks,
        instance_id: instance.into(),
        region: Some("ap-guangzhou".into()),
        project_id: None,
        subscription_id: None,
        endpoint: Some(url.parse().unwrap()),
    }
}

fn lister() -> TencentProvider {
    TencentProvider::new(HttpClient::new(&HttpOptions::default()).unwrap())
}

fn since() -> Timestamp {
    "2024-01-01T00:00:00Z".parse().unwrap()
}

#[tokio::test]
async fn lists_every_page_of_the_instance_within_the_window() {
    let (url, server) = serve().await;
    let set = ListerSet::new().with(ProviderKind::Tencent, Arc::new(lister()));
    let found = set
        .list_jobs(
            &target(&url, "cdb-list1"),
            &creds(DEFAULT_TENCENT_SECRET_KEY),
            since(),
        )
        .await
        .unwrap();
    assert_eq!(found.jobs.len(), TASKS as usize);
    assert_eq!(found.clamped, None);
    let first = &found.jobs[0];
    assert_eq!(first.job_id, "5000");
    assert_eq!(first.api, ProviderApi::DescribeTasks);
    assert_eq!(first.observation.phase, Some(JobPhase::Running));
    assert_eq!(first.observation.job_type.as_deref(), Some("parameter"));
    assert_eq!(found.jobs[249].observation.phase, Some(JobPhase::Succeeded));
    let bodies = server.bodies.lock().unwrap().clone();
    let offsets: Vec<u64> = bodies
        .iter()
        .map(|b| b["Offset"].as_u64().unwrap())
        .collect();
    assert_eq!(offsets, [0, 100, 200]);
    for b in &bodies {
        assert_eq!(b["InstanceId"], "cdb-list1");
        assert_eq!(b["StartTimeBegin"], "2024-01-01 08:00:00");
        assert!(
            b["StartTimeEnd"].as_str().is_some_and(|t| t > "2025"),
            "{b}"
        );
    }
}

#[tokio::test]
async fn a_page_cap_says_the_window_was_cut() {
    let (url, _server) = serve().await;
    let found = lister()
        .with_max_list_pages(2)
        .list_jobs(
            &target(&url, "cdb-list1"),
            &creds(DEFAULT_TENCENT_SECRET_KEY),
            since(),
        )
        .await
        .unwrap();
    assert_eq!(found.jobs.len(), 200);
    let note = found.clamped.expect("a cut listing is said");
    assert!(
        note.contains("first 200 tasks") && note.contains("cdb-list1"),
        "{note}"
    );
}

#[tokio::test]
async fn an_unknown_instance_is_permanent_with_the_providers_message() {
    let (url, _server) = serve().await;
    let e = lister()
        .list_jobs(
            &target(&url, "cdb-gone"),
            &creds(DEFAULT_TENCENT_SECRET_KEY),
            since(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert_eq!(e.reason, ErrorReason::JobNotFound);
    assert_eq!(e.code, "InvalidParameter.InstanceNotFound");
    assert!(e.message.contains("cdb-gone does not exist"), "{e:?}");
}

#[tokio::test]
async fn a_wrong_key_fails_and_no_secret_is_returned() {
    let (url, _server) = serve().await;
    let e = lister()
        .list_jobs(&target(&url, "cdb-list1"), &creds("wrong-key"), since())
        .await
        .unwrap_err();
    assert_eq!(e.reason, ErrorReason::AuthenticationFailed, "{e:?}");
    // A server echoing the Authorization header: the signature never reaches the error.
    let e = lister()
        .list_jobs(
            &target(&url, "cdb-echo"),
            &creds(DEFAULT_TENCENT_SECRET_KEY),
            since(),
        )
        .await
        .unwrap_err();
    let shown = e.describe();
    assert!(
        shown.contains("echo") && !shown.contains("Signature="),
        "{shown}"
    );
    assert!(!shown.contains(DEFAULT_TENCENT_SECRET_KEY), "{shown}");
}
