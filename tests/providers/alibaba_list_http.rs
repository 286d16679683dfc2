//! Alibaba discovery (`DescribeHistoryTasks` by `InstanceId`, RDS and PolarDB) against a
//! local server that checks the ACS3 signature with the simulator's independent verifier
//! (nonces included: each page is signed afresh) and answers 230 tasks in pages of
//! `PageSize`, an unknown instance, and an error echoing the credentials.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use clouddb_job_operator::api::{JobPhase, ProviderApi, ProviderKind};
use clouddb_job_operator::providers::alibaba::AlibabaProvider;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::discovery::{InstanceTarget, JobLister};
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::{Credentials, ErrorClass, ErrorReason};
use clouddb_job_operator::simulator::auth::{
    verify_alibaba, AlibabaInput, NonceCache, SimCredentials, DEFAULT_ALIBABA_ACCESS_KEY_ID,
    DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
};

const TASKS: usize = 230;

/// One request as seen: the `x-acs-version` and the query.
type Seen = (String, Vec<(String, String)>);

#[derive(Default)]
struct Server {
    queries: Mutex<Vec<Seen>>,
    nonces: Mutex<NonceCache>,
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"RequestId": "REQ-ERR", "HostId": "rds.aliyuncs.com", "Code": code,
                      "Message": message, "Recommend": "https://api.aliyun.com/troubleshoot"});
    (status, body.to_string()).into_response()
}

async fn handler(
    State(server): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let input = AlibabaInput {
        method: method.as_str(),
        path: uri.path(),
        query: &query,
        headers: &headers,
        host: &host,
        body: &body,
    };
    let verified = verify_alibaba(
        &SimCredentials::default(),
        &input,
        Timestamp::now().as_second(),
        &mut server.nonces.lock().unwrap(),
    );
    if let Err(e) = verified {
        return error(StatusCode::from_u16(e.status).unwrap(), e.code, &e.message);
    }
    let version = headers
        .get("x-acs-version")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    server
        .queries
        .lock()
        .unwrap()
        .push((version.clone(), query.clone()));
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    match param("InstanceId").as_str() {
        "rm-list1" | "pc-list1" => {}
        "rm-gone" => {
            return error(
                StatusCode::NOT_FOUND,
                "InvalidDBInstanceId.NotFound",
                "The specified instance rm-gone is not found.",
            )
        }
        _ => {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                &format!("echo {auth}"),
            );
        }
    }
    let size: usize = param("PageSize").parse().unwrap_or(10);
    let page: usize = param("PageNumber").parse().unwrap_or(1);
    let started = (Timestamp::now() - SignedDuration::from_hours(1))
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let items: Vec<_> = (0..TASKS)
        .skip((page - 1) * size)
        .take(size)
        .map(|i| {
            json!({"TaskId": format!("t-{i:04}"), "TaskType": "MinorVersionUpgrade",
                   "Status": if i == 0 { "Running" } else { "Succeed" }, "Progress": 50.0,
                   "StartTime": started, "InstanceId": param("InstanceId")})
        })
        .collect();
    // PolarDB sends TotalCount as a string.
    let total = if version == "2017-08-01" {
        json!(TASKS.to_string())
    } else {
        json!(TASKS)
    };
    let body = json!({"RequestId": "REQ", "PageNumber": page, "PageSize": size,
                      "TotalCount": total, "Items": items});
    (StatusCode::OK, body.to_string()).into_response()
}

async fn serve() -> (String, Arc<Server>) {
    let server = Arc::new(Server::default());
    let app = Router::new().fallback(handler).with_state(server.clone());
    let addr = crate::serve_app(app).await;
    (format!("http://{addr}"), server)
}

fn creds(secret: &str) -> Credentials {
    Credentials::Alibaba {
        access_key_id: DEFAULT_ALIBABA_ACCESS_KEY_ID.into(),
        access_key_secret: SecretString::new(secret),
        security_token: None,
    }
}

fn target(url: &str, api: ProviderApi, instance: &str) -> InstanceTarget {
    InstanceTarget {
        provider: ProviderKind::Alibaba,
        api,
        instance_id: instance.into(),
        region: Some("cn-hangzhou".into()),
        project_id: None,
        subscription_id: None,
        endpoint: Some(url.parse().unwrap()),
    }
}

fn lister(now: Timestamp) -> AlibabaProvider {
    AlibabaProvider::new(HttpClient::new(&HttpOptions::default()).unwrap())
        .with_clock(Arc::new(move || now))
}

/// Now, to the second (the query's times have no fraction).
fn now() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).unwrap()
}

fn day_ago() -> Timestamp {
    now() - SignedDuration::from_hours(24)
}

#[tokio::test]
async fn lists_every_page_of_rds_and_polardb_instances() {
    let (url, server) = serve().await;
    let since = day_ago();
    for (api, instance, version) in [
        (ProviderApi::AlibabaRds, "rm-list1", "2014-08-15"),
        (ProviderApi::PolarDb, "pc-list1", "2017-08-01"),
    ] {
        server.queries.lock().unwrap().clear();
        let found = lister(now())
            .list_jobs(
                &target(&url, api, instance),
                &creds(DEFAULT_ALIBABA_ACCESS_KEY_SECRET),
                since,
            )
            .await
            .unwrap();
        assert_eq!(found.jobs.len(), TASKS, "{api:?}");
        assert!(found.jobs.iter().all(|j| j.api == api));
        assert_eq!(found.jobs[0].observation.phase, Some(JobPhase::Running));
        let queries = server.queries.lock().unwrap().clone();
        let pages: Vec<String> = queries
            .iter()
            .map(|(v, q)| {
                assert_eq!(v, version);
                let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                assert_eq!(get("InstanceId").as_deref(), Some(instance));
                assert_eq!(get("TaskId"), None);
                assert_eq!(get("PageSize").as_deref(), Some("100"));
                get("PageNumber").unwrap()
            })
            .collect();
        assert_eq!(pages, ["1", "2", "3"]);
    }
}

#[tokio::test]
async fn a_window_older_than_thirty_days_is_clamped_and_said() {
    let (url, server) = serve().await;
    let now = now();
    let since = now - SignedDuration::from_hours(24 * 45);
    let found = lister(now)
        .list_jobs(
            &target(&url, ProviderApi::AlibabaRds, "rm-list1"),
            &creds(DEFAULT_ALIBABA_ACCESS_KEY_SECRET),
            since,
        )
        .await
        .unwrap();
    let note = found.clamped.expect("clamped window said");
    assert!(note.contains("30 days"), "{note}");
    let queries = server.queries.lock().unwrap().clone();
    let from = queries[0]
        .1
        .iter()
        .find(|(k, _)| k == "FromStartTime")
        .map(|(_, v)| v.parse::<Timestamp>().unwrap())
        .unwrap();
    assert_eq!(from, now - SignedDuration::from_hours(24 * 30));
}

#[tokio::test]
async fn unknown_instance_is_permanent_and_no_secret_leaks() {
    let (url, _server) = serve().await;
    let since = day_ago();
    let e = lister(now())
        .list_jobs(
            &target(&url, ProviderApi::AlibabaRds, "rm-gone"),
            &creds(DEFAULT_ALIBABA_ACCESS_KEY_SECRET),
            since,
        )
        .await
        .unwrap_err();
    assert_eq!(
        (e.class, e.reason, e.code.as_str()),
        (
            ErrorClass::Permanent,
            ErrorReason::JobNotFound,
            "InvalidDBInstanceId.NotFound"
        )
    );
    assert!(e.message.contains("rm-gone is not found"), "{e:?}");
    let e = lister(now())
        .list_jobs(
            &target(&url, ProviderApi::AlibabaRds, "rm-echo"),
            &creds(DEFAULT_ALIBABA_ACCESS_KEY_SECRET),
            since,
        )
        .await
        .unwrap_err();
    let shown = e.describe();
    assert!(shown.contains("echo"), "{shown}");
    assert!(!shown.contains("Signature="), "{shown}");
    let e = lister(now())
        .list_jobs(
            &target(&url, ProviderApi::AlibabaRds, "rm-list1"),
            &creds("wrong"),
            since,
        )
        .await
        .unwrap_err();
    assert_eq!(e.reason, ErrorReason::AuthenticationFailed, "{e:?}");
}
