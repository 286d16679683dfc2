//! The reconciler against a mocked Kubernetes API (the controller-rs `ApiServerVerifier`
//! pattern): every request it makes is checked, and the exact status patch it sends is
//! asserted. Time is the harness's clock and randomness its sampler, so nothing here
//! depends on how fast the machine runs the test.
//!
//! - `polling`: what one poll writes, backoffs, the requeue delay, events, conditions.
//! - `secrets`: the credentials Secret: missing, incomplete, cached, rotated, the default TTL.
//! - `terminal`: terminal and blocked jobs: never polled again, never changed.
//! - `skew`: the real provider clients against the simulator with a skewed clock.

mod polling;
mod secrets;
mod skew;
mod terminal;

use std::sync::{Arc, Mutex};

use clouddb_job_operator::api::{CloudDbJob, JobPhase};
use clouddb_job_operator::controller::endpoints::EndpointPolicy;
use clouddb_job_operator::controller::events::EventPublisher;
use clouddb_job_operator::controller::memory::JobMemory;
use clouddb_job_operator::controller::metrics::Metrics;
use clouddb_job_operator::controller::Context;
use clouddb_job_operator::providers::scripted::ScriptedProvider;
use clouddb_job_operator::providers::{JobObservation, ProviderError};
use http::{Method, Request, Response};
use jiff::Timestamp;
use kube::client::Body;
use kube::runtime::events::Reporter;
use kube::Client;
use serde_json::{json, Value};
use tokio::sync::oneshot;

pub type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

pub const NOW: &str = "2026-11-25T10:00:00Z";
pub const SECRET_PATH: &str = "/api/v1/namespaces/prod/secrets/tencent-creds";
pub const STATUS_PATH: &str = "/apis/clouddb.io/v1alpha1/namespaces/prod/clouddbjobs/upgrade-1/status?&force=true&fieldManager=clouddb-job-operator";

pub struct Harness {
    pub ctx: Arc<Context>,
    pub handle: Handle,
    pub provider: Arc<ScriptedProvider>,
    pub clock: Arc<Mutex<Timestamp>>,
    /// What the jitter sampler returns (0.5 unless a test changes it).
    pub sample: Arc<Mutex<f64>>,
}

pub fn harness(events: bool) -> Harness {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(service, "default");
    let provider = Arc::new(ScriptedProvider::new());
    let clock = Arc::new(Mutex::new(NOW.parse::<Timestamp>().unwrap()));
    let clock_read = clock.clone();
    let sample = Arc::new(Mutex::new(0.5));
    let sample_read = sample.clone();
    let recorder = events.then(|| {
        EventPublisher::new(
            client.clone(),
            Reporter {
                controller: "clouddb-job-operator".into(),
                instance: None,
            },
        )
    });
    let ctx = Arc::new(Context {
        client,
        provider: provider.clone(),
        memory: Arc::new(JobMemory::default()),
        metrics: Arc::new(Metrics::new()),
        recorder,
        endpoints: EndpointPolicy::default(),
        clock: Arc::new(move || *clock_read.lock().unwrap()),
        sampler: Arc::new(move || *sample_read.lock().unwrap()),
        schedule: Default::default(),
        secrets: Default::default(),
    });
    Harness {
        ctx,
        handle,
        provider,
        clock,
        sample,
    }
}

/// Sets the harness clock.
pub fn set(clock: &Mutex<Timestamp>, at: &str) {
    *clock.lock().unwrap() = at.parse().unwrap();
}

/// A CloudDbJob from a whole object.
pub fn job_from(value: Value) -> CloudDbJob {
    serde_json::from_value(value).unwrap()
}

/// The Tencent upgrade job every test tracks: created 09:00, polled every 30 s, 2 h timeout.
pub fn job(status: Option<Value>) -> CloudDbJob {
    let mut v = json!({
        "apiVersion": "clouddb.io/v1alpha1",
        "kind": "CloudDbJob",
        "metadata": {
            "name": "upgrade-1", "namespace": "prod", "uid": "uid-1", "generation": 1,
            "resourceVersion": "10", "creationTimestamp": "2026-11-25T09:00:00Z"
        },
        "spec": {
            "provider": "tencent", "jobId": "15967", "region": "ap-guangzhou",
            "credentialsSecretRef": {"name": "tencent-creds"}, "pollInterval": "30s", "timeout": "2h"
        }
    });
    if let Some(s) = status {
        v["status"] = s;
    }
    job_from(v)
}

pub fn secret() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "tencent-creds", "namespace": "prod"},
        "data": {"secretId": "QUtJRGV4YW1wbGU=", "secretKey": "c3VwZXItc2VjcmV0"}
    })
}

/// [`secret`] after a key rotation.
pub fn rotated_secret() -> Value {
    let mut s = secret();
    s["data"]["secretKey"] = json!("cm90YXRlZC1zZWNyZXQ=");
    s
}

pub fn running(progress: u8) -> JobObservation {
    JobObservation {
        phase: Some(JobPhase::Running),
        provider_status: Some("RUNNING".into()),
        progress: Some(progress),
        job_type: Some("upgrade".into()),
        provider_job_type: Some("UPGRADE MASTER".into()),
        start_time: Some("2026-11-25T09:50:00Z".parse().unwrap()),
        instance_ids: vec!["cdb-gt70m8aa".into()],
        ..Default::default()
    }
}

pub async fn expect_get(handle: &mut Handle, path: &str, code: u16, body: Value) {
    let (request, send) = handle.next_request().await.expect("expected a GET");
    assert_eq!(request.method(), Method::GET, "{}", request.uri());
    assert_eq!(request.uri().to_string(), path);
    send.send_response(
        Response::builder()
            .status(code)
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap(),
    );
}

/// Answers the status patch by echoing it back onto the object, and returns the patch.
pub async fn expect_status_patch(handle: &mut Handle, code: u16) -> Value {
    let (request, send) = handle
        .next_request()
        .await
        .expect("expected a status PATCH");
    assert_eq!(request.method(), Method::PATCH, "{}", request.uri());
    assert_eq!(request.uri().to_string(), STATUS_PATH);
    assert_eq!(
        request.headers().get("content-type").unwrap(),
        "application/apply-patch+yaml"
    );
    let bytes = request.into_body().collect_bytes().await.unwrap();
    let patch: Value = serde_json::from_slice(&bytes).unwrap();
    let mut obj = serde_json::to_value(job(None)).unwrap();
    obj["status"] = patch["status"].clone();
    let body = if code == 200 {
        obj
    } else {
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "etcd is down", "reason": "InternalError", "code": code})
    };
    send.send_response(
        Response::builder()
            .status(code)
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap(),
    );
    patch
}

/// Fails if the reconciler makes any request before `finished` fires (the test fires it
/// once its reconciles have returned). Every request the reconciler makes is awaited
/// inside `reconcile`, so an unexpected one is pending here before `finished` can fire,
/// however slowly the machine runs: no time bound is involved.
pub async fn no_more_requests(handle: &mut Handle, finished: oneshot::Receiver<()>) {
    tokio::select! {
        biased;
        extra = handle.next_request() => {
            if let Some((req, _)) = extra {
                panic!("unexpected request {} {}", req.method(), req.uri());
            }
        }
        _ = finished => {}
    }
}

pub fn not_found() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "secrets \"tencent-creds\" not found", "reason": "NotFound", "code": 404})
}

/// The provider refusing the credential (an unknown SecretId).
pub fn credentials_rejected() -> Result<JobObservation, ProviderError> {
    Err(ProviderError::permanent(
        "AuthenticationFailed",
        "AuthFailure.SecretIdNotFound",
        "unknown SecretId",
    ))
}

/// The condition of `type_` in a written status.
pub fn condition<'a>(status: &'a Value, type_: &str) -> &'a Value {
    status["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .find(|c| c["type"] == type_)
        .unwrap_or_else(|| panic!("no {type_} condition in {status}"))
}
