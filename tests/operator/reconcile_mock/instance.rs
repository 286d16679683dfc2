//! The CloudDbInstance reconciler against the mocked API server, with a scripted lister:
//! every request it makes is checked in order, and the created jobs and status asserted.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use clouddb_job_operator::api::{CloudDbInstance, JobPhase, ProviderApi};
use clouddb_job_operator::controller::discovery::job_name;
use clouddb_job_operator::controller::instance::{reconcile_instance, InstanceContext};
use clouddb_job_operator::providers::discovery::{
    DiscoveredJob, Discovery, InstanceTarget, JobLister,
};
use clouddb_job_operator::providers::{Credentials, ErrorReason, JobObservation, ProviderError};
use http::Method;
use jiff::Timestamp;
use kube::runtime::controller::Action;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use super::{harness, respond, secret, Handle};

const JOBS: &str = "/apis/clouddb.io/v1alpha1/namespaces/prod/clouddbjobs";
const STATUS: &str = "/apis/clouddb.io/v1alpha1/namespaces/prod/clouddbinstances/orders/status";
const SECRET: &str = "/api/v1/namespaces/prod/secrets/tencent-creds";

/// Answers its script in order and records what each listing was asked.
#[derive(Default)]
struct ScriptedLister {
    answers: Mutex<VecDeque<Result<Discovery, ProviderError>>>,
    calls: Mutex<Vec<(String, Timestamp)>>,
}

#[async_trait]
impl JobLister for ScriptedLister {
    async fn list_jobs(
        &self,
        target: &InstanceTarget,
        _credentials: &Credentials,
        since: Timestamp,
    ) -> Result<Discovery, ProviderError> {
        self.calls
            .lock()
            .unwrap()
            .push((target.instance_id.clone(), since));
        self.answers
            .lock()
            .unwrap()
            .pop_front()
            .expect("a scripted answer")
    }
}

fn found(jobs: &[(&str, JobPhase)]) -> Result<Discovery, ProviderError> {
    Ok(Discovery {
        jobs: jobs
            .iter()
            .map(|(id, phase)| DiscoveredJob {
                job_id: id.to_string(),
                api: ProviderApi::DescribeTasks,
                observation: JobObservation {
                    phase: Some(*phase),
                    job_type: Some("upgrade".into()),
                    start_time: Some("2026-11-25T09:30:00Z".parse().unwrap()),
                    ..Default::default()
                },
            })
            .collect(),
        ..Default::default()
    })
}

fn instance(status: Option<Value>) -> CloudDbInstance {
    let mut v = json!({
        "apiVersion": "clouddb.io/v1alpha1", "kind": "CloudDbInstance",
        "metadata": {"name": "orders", "namespace": "prod", "uid": "inst-uid", "generation": 1},
        "spec": {"provider": "tencent", "instanceId": "cdb-1", "region": "ap-guangzhou",
                 "credentialsSecretRef": {"name": "tencent-creds"}}
    });
    if let Some(s) = status {
        v["status"] = s;
    }
    serde_json::from_value(v).unwrap()
}

/// An owned CloudDbJob as the API server lists it.
fn owned(job_id: &str) -> Value {
    json!({
        "apiVersion": "clouddb.io/v1alpha1", "kind": "CloudDbJob",
        "metadata": {"name": job_name("orders", job_id), "namespace": "prod",
            "labels": {"clouddb.io/instance": "orders"},
            "ownerReferences": [{"apiVersion": "clouddb.io/v1alpha1", "kind": "CloudDbInstance",
                "name": "orders", "uid": "inst-uid", "controller": true}]},
        "spec": {"provider": "tencent", "jobId": job_id, "region": "ap-guangzhou",
                 "credentialsSecretRef": {"name": "tencent-creds"}}
    })
}

fn listing(items: Vec<Value>) -> Value {
    json!({"apiVersion": "clouddb.io/v1alpha1", "kind": "CloudDbJobList", "metadata": {}, "items": items})
}

/// One expected request: method, path, and the answer's code and body.
type Step = (Method, &'static str, u16, Value);

/// Serves `steps` in order (failing on any other request) and passes each request body on.
fn serve(
    mut handle: Handle,
    steps: Vec<Step>,
) -> (
    mpsc::UnboundedReceiver<Value>,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (finish, mut finished) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        for (method, path, code, body) in steps {
            let (request, send) = tokio::select! {
                biased;
                next = handle.next_request() => next.expect("client gone"),
                _ = &mut finished => panic!("finished without the expected {method} {path}"),
            };
            assert_eq!(request.method(), method, "{}", request.uri());
            assert_eq!(request.uri().path(), path, "{}", request.uri());
            let bytes = request.into_body().collect_bytes().await.unwrap();
            let sent: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            respond(send, code, serde_json::to_vec(&body).unwrap());
            tx.send(sent).unwrap();
        }
        tokio::select! {
            biased;
            extra = handle.next_request() => {
                if let Some((req, _)) = extra {
                    panic!("unexpected request {} {}", req.method(), req.uri());
                }
            }
            _ = finished => {}
        }
    });
    (rx, finish, task)
}

/// Runs one reconcile of `inst` with the lister answering `answer`, the API server
/// answering `steps`; returns the requeue and the bodies sent.
async fn round(
    inst: CloudDbInstance,
    answer: Result<Discovery, ProviderError>,
    steps: Vec<Step>,
) -> (Action, Vec<Value>, Arc<ScriptedLister>) {
    let mut h = harness(false);
    let lister = Arc::new(ScriptedLister::default());
    lister.answers.lock().unwrap().push_back(answer);
    let ictx = Arc::new(InstanceContext::new(h.ctx.clone(), lister.clone()));
    let n = steps.len();
    let (mut rx, finish, task) = serve(h.handle.take().unwrap(), steps);
    let action = reconcile_instance(Arc::new(inst), ictx).await.unwrap();
    let mut sent = Vec::new();
    for _ in 0..n {
        sent.push(rx.recv().await.unwrap());
    }
    let _ = finish.send(());
    task.await.unwrap();
    (action, sent, lister)
}

fn condition<'a>(status: &'a Value, type_: &str) -> &'a str {
    super::condition(status, type_)["status"].as_str().unwrap()
}

fn get(path: &'static str, body: Value) -> Step {
    (Method::GET, path, 200, body)
}

#[tokio::test]
async fn creates_one_job_per_discovered_id_and_reports_not_idle() {
    let (action, sent, lister) = round(
        instance(None),
        found(&[("101", JobPhase::Running), ("102", JobPhase::Succeeded)]),
        vec![
            get(SECRET, secret()),
            get(JOBS, listing(vec![])),
            (Method::POST, JOBS, 201, json!({})),
            (Method::POST, JOBS, 201, json!({})),
            (Method::PATCH, STATUS, 200, json!({})),
        ],
    )
    .await;
    assert_eq!(sent[2]["metadata"]["name"], job_name("orders", "101"));
    assert_eq!(sent[3]["metadata"]["name"], job_name("orders", "102"));
    assert_eq!(sent[2]["spec"]["jobId"], "101");
    assert_eq!(sent[2]["metadata"]["ownerReferences"][0]["uid"], "inst-uid");
    let status = &sent[4]["status"];
    assert_eq!(condition(status, "Idle"), "False");
    assert_eq!(condition(status, "Ready"), "True");
    assert_eq!(status["discoveredJobIds"].as_array().unwrap().len(), 2);
    assert_eq!(action, Action::requeue(Duration::from_secs(60)));
    // The window: the default 24 h before now.
    let (id, since) = lister.calls.lock().unwrap()[0].clone();
    assert_eq!(
        (id.as_str(), since.to_string()),
        ("cdb-1", "2026-11-24T10:00:00Z".into())
    );
}

/// The status the first round wrote, for the rounds after it.
async fn first_status() -> Value {
    let (_, sent, _) = round(
        instance(None),
        found(&[("101", JobPhase::Running), ("102", JobPhase::Succeeded)]),
        vec![
            get(SECRET, secret()),
            get(JOBS, listing(vec![])),
            (Method::POST, JOBS, 201, json!({})),
            (Method::POST, JOBS, 201, json!({})),
            (Method::PATCH, STATUS, 200, json!({})),
        ],
    )
    .await;
    sent[4]["status"].clone()
}

#[tokio::test]
async fn a_deleted_job_is_not_created_again_and_nothing_unchanged_is_written() {
    let status = first_status().await;
    // 102 was deleted (by a user or its TTL): only 101 is listed; no create, no write.
    let (action, sent, _) = round(
        instance(Some(status)),
        found(&[("101", JobPhase::Running), ("102", JobPhase::Succeeded)]),
        vec![
            get(SECRET, secret()),
            get(JOBS, listing(vec![owned("101")])),
        ],
    )
    .await;
    assert_eq!(sent.len(), 2);
    assert_eq!(action, Action::requeue(Duration::from_secs(60)));
}

#[tokio::test]
async fn idle_flips_true_when_the_discovered_jobs_finish() {
    let status = first_status().await;
    let (_, sent, _) = round(
        instance(Some(status)),
        found(&[("101", JobPhase::Succeeded), ("102", JobPhase::Succeeded)]),
        vec![
            get(SECRET, secret()),
            get(JOBS, listing(vec![owned("101"), owned("102")])),
            (Method::PATCH, STATUS, 200, json!({})),
        ],
    )
    .await;
    let status = &sent[2]["status"];
    assert_eq!(condition(status, "Idle"), "True");
    assert_eq!(status["activeJobCount"], 0);
}

#[tokio::test]
async fn an_unknown_instance_stalls_slowly_and_creates_nothing() {
    let missing = ProviderError::permanent(
        ErrorReason::JobNotFound,
        "ResourceNotFound.InstanceNotFoundError",
        "instance cdb-1 does not exist",
    );
    let (action, sent, _) = round(
        instance(None),
        Err(missing),
        vec![
            get(SECRET, secret()),
            (Method::PATCH, STATUS, 200, json!({})),
        ],
    )
    .await;
    let status = &sent[1]["status"];
    assert_eq!(condition(status, "Stalled"), "True");
    assert_eq!(condition(status, "Ready"), "False");
    assert_eq!(status["reason"], "InstanceNotFound");
    assert_eq!(status["message"], "instance cdb-1 does not exist");
    // Not before the poll interval, however early the backoff would be.
    assert_eq!(action, Action::requeue(Duration::from_secs(60)));
}

#[tokio::test]
async fn a_missing_secret_stalls_with_its_reason_without_listing() {
    let (_, sent, lister) = round(
        instance(None),
        found(&[]),
        vec![
            (Method::GET, SECRET, 404, super::not_found()),
            (Method::PATCH, STATUS, 200, json!({})),
        ],
    )
    .await;
    assert_eq!(sent[1]["status"]["reason"], "SecretNotFound");
    assert!(lister.calls.lock().unwrap().is_empty());
}
