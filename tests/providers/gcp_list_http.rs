//! Cloud SQL discovery (`operations.list` by `instance`, paged by `pageToken`) against a
//! local server, with a workload-identity bearer token: `instances.get`'s scheduled
//! maintenance, the filter and paging, a missing instance (Google's 404), and an error
//! echoing the token.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use jiff::Timestamp;
use serde_json::json;

use clouddb_job_operator::api::{JobPhase, ProviderApi, ProviderKind};
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::discovery::{InstanceTarget, JobLister};
use clouddb_job_operator::providers::gcp::GcpProvider;
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::{Credentials, ErrorClass, ErrorReason};

const TOKEN: &str = "ya29.test-access-token";

#[derive(Default)]
struct Server {
    uris: Mutex<Vec<String>>,
}

fn google_error(status: StatusCode, message: &str) -> Response {
    let code = match status {
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::UNAUTHORIZED => "UNAUTHENTICATED",
        _ => "INVALID_ARGUMENT",
    };
    let body = json!({"error": {"code": status.as_u16(), "message": message, "status": code}});
    (status, body.to_string()).into_response()
}

fn operation(name: &str, status: &str) -> serde_json::Value {
    json!({"kind": "sql#operation", "name": name, "status": status, "operationType": "BACKUP_VOLUME",
           "insertTime": Timestamp::now().to_string(), "targetId": "orders-db"})
}

async fn handler(State(server): State<Arc<Server>>, uri: Uri, headers: HeaderMap) -> Response {
    server.uris.lock().unwrap().push(uri.to_string());
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if auth != format!("Bearer {TOKEN}") {
        return google_error(
            StatusCode::UNAUTHORIZED,
            "Request had invalid authentication credentials.",
        );
    }
    if uri.path() == "/sql/v1/projects/my-project/instances/orders-db" {
        let body = json!({"kind": "sql#instance", "name": "orders-db",
            "scheduledMaintenance": {"startTime": "2030-01-01T02:00:00Z", "canDefer": false,
                                     "canReschedule": false}});
        return (StatusCode::OK, body.to_string()).into_response();
    }
    if uri.path() == "/sql/v1/projects/my-project/instances/gone" {
        return google_error(
            StatusCode::NOT_FOUND,
            "The Cloud SQL instance does not exist.",
        );
    }
    if uri.path().contains("/instances/") {
        return (StatusCode::OK, json!({"kind": "sql#instance"}).to_string()).into_response();
    }
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    match (get("instance"), get("pageToken")) {
        (Some("orders-db"), None) => (
            StatusCode::OK,
            json!({"kind": "sql#operationsList", "items": [operation("op-1", "RUNNING")],
                   "nextPageToken": "next/1"})
            .to_string(),
        )
            .into_response(),
        (Some("orders-db"), Some("next/1")) => (
            StatusCode::OK,
            json!({"kind": "sql#operationsList", "items": [operation("op-2", "DONE")]}).to_string(),
        )
            .into_response(),
        (Some("gone"), _) => google_error(
            StatusCode::NOT_FOUND,
            "The Cloud SQL instance does not exist.",
        ),
        _ => google_error(StatusCode::BAD_REQUEST, &format!("echo {auth}")),
    }
}

async fn serve() -> (String, Arc<Server>) {
    let server = Arc::new(Server::default());
    let app = Router::new().fallback(handler).with_state(server.clone());
    let addr = crate::serve_app(app).await;
    (format!("http://{addr}"), server)
}

fn target(url: &str, instance: &str) -> InstanceTarget {
    InstanceTarget {
        provider: ProviderKind::Gcp,
        api: ProviderApi::CloudSql,
        instance_id: instance.into(),
        region: None,
        project_id: Some("my-project".into()),
        subscription_id: None,
        endpoint: Some(format!("{url}/sql/").parse().unwrap()),
    }
}

fn lister() -> GcpProvider {
    GcpProvider::new(HttpClient::new(&HttpOptions::default()).unwrap())
}

fn bearer() -> Credentials {
    Credentials::Bearer(SecretString::new(TOKEN))
}

fn hour_ago() -> Timestamp {
    Timestamp::now() - jiff::SignedDuration::from_hours(1)
}

#[tokio::test]
async fn lists_every_page_of_the_instance() {
    let (url, server) = serve().await;
    let found = lister()
        .list_jobs(&target(&url, "orders-db"), &bearer(), hour_ago())
        .await
        .unwrap();
    let ids: Vec<&str> = found.jobs.iter().map(|j| j.job_id.as_str()).collect();
    assert_eq!(ids, ["op-1", "op-2"]);
    assert_eq!(found.jobs[0].observation.phase, Some(JobPhase::Running));
    assert_eq!(found.jobs[1].observation.phase, Some(JobPhase::Succeeded));
    assert_eq!(found.upcoming.len(), 1);
    assert_eq!(
        found.upcoming[0].not_before,
        Some("2030-01-01T02:00:00Z".parse().unwrap())
    );
    assert_eq!(
        server.uris.lock().unwrap().clone(),
        [
            "/sql/v1/projects/my-project/instances/orders-db",
            "/sql/v1/projects/my-project/operations?instance=orders-db&maxResults=100",
            "/sql/v1/projects/my-project/operations?instance=orders-db&maxResults=100&pageToken=next%2F1",
        ]
    );
}

#[tokio::test]
async fn missing_instance_is_permanent_and_the_token_never_returned() {
    let (url, _server) = serve().await;
    let e = lister()
        .list_jobs(&target(&url, "gone"), &bearer(), hour_ago())
        .await
        .unwrap_err();
    assert_eq!(
        (e.class, e.reason),
        (ErrorClass::Permanent, ErrorReason::JobNotFound)
    );
    assert!(e.message.contains("does not exist"), "{e:?}");
    let e = lister()
        .list_jobs(&target(&url, "echo"), &bearer(), hour_ago())
        .await
        .unwrap_err();
    let shown = e.describe();
    assert!(shown.contains("echo") && !shown.contains(TOKEN), "{shown}");
    let e = lister()
        .list_jobs(
            &target(&url, "orders-db"),
            &Credentials::Bearer(SecretString::new("wrong")),
            hour_ago(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.reason, ErrorReason::AuthenticationFailed, "{e:?}");
}
