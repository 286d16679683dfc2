//! The reconciler against a mocked Kubernetes API (the controller-rs `ApiServerVerifier`
//! pattern): every request it makes is checked, and the exact status patch it sends is
//! asserted. Time is the harness's clock and randomness its sampler, so nothing here
//! depends on how fast the machine runs the test.
//!
//! - `polling`: what one poll writes, backoffs, the requeue delay, events, conditions.
//! - `secrets`: the credentials Secret: missing, incomplete, cached, rotated, the default TTL.
//! - `terminal`: terminal and blocked jobs: never polled again, never changed.
//! - `skew`: the real provider clients against the simulator with a skewed clock.

mod instance;
mod polling;
mod secrets;
mod skew;
mod terminal;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clouddb_job_operator::api::{CloudDbJob, JobPhase};
use clouddb_job_operator::controller::events::EventPublisher;
use clouddb_job_operator::controller::memory::JobMemory;
use clouddb_job_operator::controller::metrics::Metrics;
use clouddb_job_operator::controller::{reconcile, Context};
use clouddb_job_operator::providers::endpoints::EndpointPolicy;
use clouddb_job_operator::providers::scripted::ScriptedProvider;
use clouddb_job_operator::providers::{ErrorReason, JobObservation, ProviderError};
use http::{Method, Request, Response};
use jiff::Timestamp;
use kube::client::Body;
use kube::runtime::controller::Action;
use kube::runtime::events::Reporter;
use kube::Client;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tower_test::mock::SendResponse;

pub type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

pub const NOW: &str = "2026-11-25T10:00:00Z";
pub const SECRET_PATH: &str = "/api/v1/namespaces/prod/secrets/tencent-creds";
pub const STATUS_PATH: &str = "/apis/clouddb.io/v1alpha1/namespaces/prod/clouddbjobs/upgrade-1/status?&force=true&fieldManager=clouddb-job-operator";

pub struct Harness {
    pub ctx: Arc<Context>,
    /// The API server side, until [`Harness::serve`] takes it.
    handle: Option<Handle>,
    pub provider: Arc<ScriptedProvider>,
    pub clock: Arc<Mutex<Timestamp>>,
    /// What the jitter sampler returns (0.5 unless a test changes it).
    pub sample: Arc<Mutex<f64>>,
}

impl Harness {
    /// Starts answering the reconciler's requests: see [`serve`].
    pub fn serve(&mut self, expected: Vec<Expect>) -> Verifier {
        serve(
            self.handle.take().expect("one verifier per harness"),
            expected,
        )
    }

    /// Reconciles `job` once against [`Harness::serve`] of `expected`, which ends with the
    /// one status write; returns the requeue and the status patch.
    pub async fn reconcile_once(
        &mut self,
        job: CloudDbJob,
        expected: Vec<Expect>,
    ) -> (Action, Value) {
        assert!(matches!(expected.last(), Some(Expect::Write(_))));
        let mut verifier = self.serve(expected);
        let action = reconcile(Arc::new(job), self.ctx.clone()).await.unwrap();
        let patch = verifier.next().await;
        verifier.finish().await;
        (action, patch)
    }
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
        handle: Some(handle),
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

/// A request the reconciler is expected to make, and its answer.
#[derive(Debug)]
pub enum Expect {
    /// A GET of the credentials Secret, answered with this code and body.
    Read(u16, Value),
    /// The status patch, answered with this code (200: the patch echoed back onto the
    /// object) and passed on to the test.
    Write(u16),
    /// An event POST, answered 201 and passed on to the test.
    Event,
}

impl Expect {
    /// Checks that `request` is this one and answers it; returns what the test is given.
    async fn answer(
        self,
        request: Request<Body>,
        send: SendResponse<Response<Body>>,
    ) -> Option<Value> {
        match self {
            Expect::Read(code, body) => {
                assert_eq!(request.method(), Method::GET, "{}", request.uri());
                assert_eq!(request.uri().to_string(), SECRET_PATH);
                respond(send, code, serde_json::to_vec(&body).unwrap());
                None
            }
            Expect::Write(code) => {
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
                respond(send, code, serde_json::to_vec(&body).unwrap());
                Some(patch)
            }
            Expect::Event => {
                assert_eq!(request.method(), Method::POST);
                assert_eq!(
                    request.uri().path(),
                    "/apis/events.k8s.io/v1/namespaces/prod/events"
                );
                let bytes = request.into_body().collect_bytes().await.unwrap();
                let event: Value = serde_json::from_slice(&bytes).unwrap();
                respond(send, 201, bytes.to_vec());
                Some(event)
            }
        }
    }
}

fn respond(send: SendResponse<Response<Body>>, code: u16, body: Vec<u8>) {
    send.send_response(
        Response::builder()
            .status(code)
            .body(Body::from(body))
            .unwrap(),
    );
}

/// The API server side of a test, from [`serve`].
pub struct Verifier {
    written: mpsc::UnboundedReceiver<Value>,
    finish: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Verifier {
    /// The next status patch or event the reconciler sent.
    pub async fn next(&mut self) -> Value {
        self.written
            .recv()
            .await
            .expect("the verifier stopped before the expected write")
    }

    /// Ends the test's requests (call once its reconciles have returned): fails if one of
    /// the expected requests was not made, or another one was.
    pub async fn finish(self) {
        let _ = self.finish.send(());
        self.task.await.unwrap();
    }
}

/// Answers the requests the reconciler makes on `handle`: exactly `expected`, in order,
/// then none until [`Verifier::finish`]. Every request the reconciler makes is awaited
/// inside `reconcile`, so by the time the test finishes, each one made is pending here or
/// answered, however slowly the machine runs: no time bound is involved.
pub fn serve(mut handle: Handle, expected: Vec<Expect>) -> Verifier {
    let (tx, written) = mpsc::unbounded_channel();
    let (finish, mut finished) = oneshot::channel();
    let task = tokio::spawn(async move {
        for step in expected {
            let (request, send) = tokio::select! {
                biased;
                next = handle.next_request() => next.unwrap_or_else(|| panic!("expected {step:?}: the client is gone")),
                _ = &mut finished => panic!("the test finished without the expected {step:?}"),
            };
            if let Some(value) = step.answer(request, send).await {
                tx.send(value).unwrap();
            }
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
    Verifier {
        written,
        finish,
        task,
    }
}

/// Reconciles the job `make` builds once at each time in `at`, each from the status last
/// written. Each of the first `writes` reconciles is expected to write one (awaited here);
/// `verifier` is finished after the last. Returns the writes and every requeue.
pub async fn reconcile_series(
    ctx: &Arc<Context>,
    clock: &Mutex<Timestamp>,
    mut verifier: Verifier,
    at: &[&str],
    writes: usize,
    make: impl Fn(Option<Value>) -> CloudDbJob,
) -> (Vec<Value>, Vec<Action>) {
    let mut status = None;
    let (mut written, mut actions) = (Vec::new(), Vec::new());
    for (i, time) in at.iter().enumerate() {
        set(clock, time);
        let action = reconcile(Arc::new(make(status.clone())), ctx.clone())
            .await
            .unwrap();
        actions.push(action);
        if i < writes {
            let patch = verifier.next().await;
            status = Some(patch["status"].clone());
            written.push(patch);
        }
    }
    verifier.finish().await;
    (written, actions)
}

/// [`job`], after forgetting its schedule (as after a restart: it is polled at once).
pub fn restarted(ctx: &Context) -> impl Fn(Option<Value>) -> CloudDbJob + '_ {
    |status| {
        ctx.memory.forget("uid-1");
        job(status)
    }
}

/// A read of [`secret`] and the status write after it, `times` times over.
pub fn reads_and_writes(times: usize) -> Vec<Expect> {
    (0..times)
        .flat_map(|_| [Expect::Read(200, secret()), Expect::Write(200)])
        .collect()
}

/// Asserts that `first(sample)`, the first requeue with the jitter sampler at `sample`, is
/// `millis` for each `(sample, millis)`.
pub async fn assert_first_requeues<F: Future<Output = Action>>(
    cases: &[(f64, u64)],
    first: impl Fn(f64) -> F,
) {
    for &(sample, millis) in cases {
        assert_eq!(
            first(sample).await,
            Action::requeue(Duration::from_millis(millis)),
            "sample {sample}"
        );
    }
}

pub fn not_found() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "secrets \"tencent-creds\" not found", "reason": "NotFound", "code": 404})
}

/// The provider refusing the credential (an unknown SecretId).
pub fn credentials_rejected() -> Result<JobObservation, ProviderError> {
    Err(ProviderError::permanent(
        ErrorReason::AuthenticationFailed,
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
