//! The reconciler against a mocked Kubernetes API (the controller-rs `ApiServerVerifier`
//! pattern): every request it makes is checked, and the exact status patch it sends is
//! asserted.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clouddb_job_operator::api::{CloudDbJob, JobPhase};
use clouddb_job_operator::controller::endpoints::EndpointPolicy;
use clouddb_job_operator::controller::events::EventPublisher;
use clouddb_job_operator::controller::memory::JobMemory;
use clouddb_job_operator::controller::metrics::Metrics;
use clouddb_job_operator::controller::{reconcile, Context};
use clouddb_job_operator::providers::scripted::ScriptedProvider;
use clouddb_job_operator::providers::{JobObservation, ProviderError};
use http::{Method, Request, Response};
use jiff::Timestamp;
use kube::client::Body;
use kube::runtime::controller::Action;
use kube::runtime::events::Reporter;
use kube::Client;
use serde_json::{json, Value};

type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

const NOW: &str = "2026-11-25T10:00:00Z";
const SECRET_PATH: &str = "/api/v1/namespaces/prod/secrets/tencent-creds";
const STATUS_PATH: &str = "/apis/clouddb.io/v1alpha1/namespaces/prod/clouddbjobs/upgrade-1/status?&force=true&fieldManager=clouddb-job-operator";

struct Harness {
    ctx: Arc<Context>,
    handle: Handle,
    provider: Arc<ScriptedProvider>,
    clock: Arc<Mutex<Timestamp>>,
}

fn harness(events: bool) -> Harness {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(service, "default");
    let provider = Arc::new(ScriptedProvider::new());
    let clock = Arc::new(Mutex::new(NOW.parse::<Timestamp>().unwrap()));
    let clock_read = clock.clone();
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
        sampler: Arc::new(|| 0.5),
        schedule: Default::default(),
        secrets: Default::default(),
    });
    Harness {
        ctx,
        handle,
        provider,
        clock,
    }
}

fn job(status: Option<Value>) -> CloudDbJob {
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
    serde_json::from_value(v).unwrap()
}

fn secret() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "tencent-creds", "namespace": "prod"},
        "data": {"secretId": "QUtJRGV4YW1wbGU=", "secretKey": "c3VwZXItc2VjcmV0"}
    })
}

fn running(progress: u8) -> JobObservation {
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

async fn expect_get(handle: &mut Handle, path: &str, code: u16, body: Value) {
    let (request, send) = handle.next_request().await.expect("expected a GET");
    assert_eq!(request.method(), Method::GET);
    assert_eq!(request.uri().to_string(), path);
    send.send_response(
        Response::builder()
            .status(code)
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap(),
    );
}

/// Answers the status patch by echoing it back onto the object, and returns the patch.
async fn expect_status_patch(handle: &mut Handle, code: u16) -> Value {
    let (request, send) = handle
        .next_request()
        .await
        .expect("expected a status PATCH");
    assert_eq!(request.method(), Method::PATCH);
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

/// Fails if the reconciler made any request the test did not expect.
async fn assert_no_more_requests(handle: &mut Handle) {
    let extra = tokio::time::timeout(Duration::from_millis(100), handle.next_request()).await;
    if let Ok(Some((req, _))) = extra {
        panic!("unexpected request {} {}", req.method(), req.uri());
    }
}

fn not_found() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "secrets \"tencent-creds\" not found", "reason": "NotFound", "code": 404})
}

/// The provider refusing the credential (an unknown SecretId).
fn credentials_rejected() -> Result<JobObservation, ProviderError> {
    Err(ProviderError::permanent(
        "AuthenticationFailed",
        "AuthFailure.SecretIdNotFound",
        "unknown SecretId",
    ))
}

/// [`secret`] after a key rotation.
fn rotated_secret() -> Value {
    let mut s = secret();
    s["data"]["secretKey"] = json!("cm90YXRlZC1zZWNyZXQ=");
    s
}

/// The condition of `type_` in a written status.
fn condition<'a>(status: &'a Value, type_: &str) -> &'a Value {
    status["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .find(|c| c["type"] == type_)
        .unwrap_or_else(|| panic!("no {type_} condition in {status}"))
}

#[tokio::test]
async fn first_poll_writes_the_exact_status() {
    let Harness {
        ctx,
        mut handle,
        provider,
        ..
    } = harness(false);
    provider.script("15967", vec![Ok(running(40))]);
    let verifier = tokio::spawn(async move {
        expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        let patch = expect_status_patch(&mut handle, 200).await;
        assert_no_more_requests(&mut handle).await;
        patch
    });
    let action = reconcile(Arc::new(job(None)), ctx.clone()).await.unwrap();
    let patch = verifier.await.unwrap();
    let not_failed = |t: &str, r: &str| json!({"type": t, "status": "False", "reason": r, "message": "", "observedGeneration": 1, "lastTransitionTime": NOW});
    let summary = "Running (40%)";
    assert_eq!(
        patch,
        json!({
            "apiVersion": "clouddb.io/v1alpha1",
            "kind": "CloudDbJob",
            "status": {
                "observedGeneration": 1,
                "phase": "Running",
                "progress": 40,
                "providerStatus": "RUNNING",
                "jobType": "upgrade",
                "providerJobType": "UPGRADE MASTER",
                "startTime": "2026-11-25T09:50:00Z",
                "estimatedCompletionTime": "2026-11-25T10:15:00Z",
                "instanceIds": ["cdb-gt70m8aa"],
                "lastPollTime": NOW,
                "pollCount": 1,
                "consecutiveErrors": 0,
                "conditions": [
                    {"type": "Ready", "status": "False", "reason": "Running", "message": summary, "observedGeneration": 1, "lastTransitionTime": NOW},
                    {"type": "Reconciling", "status": "True", "reason": "Running", "message": summary, "observedGeneration": 1, "lastTransitionTime": NOW},
                    {"type": "Complete", "status": "False", "reason": "Running", "message": summary, "observedGeneration": 1, "lastTransitionTime": NOW},
                    not_failed("Failed", "NotFailed"),
                    not_failed("Stalled", "NotStalled"),
                ]
            }
        })
    );
    assert_eq!(action, Action::requeue(Duration::from_secs(30)));
    assert_eq!(provider.calls(), 1);
}

#[tokio::test]
async fn an_unchanged_poll_writes_nothing_and_a_change_writes_once() {
    let Harness {
        ctx,
        mut handle,
        provider,
        clock,
    } = harness(false);
    provider.script(
        "15967",
        vec![Ok(running(40)), Ok(running(40)), Ok(running(55))],
    );
    let (written_tx, mut written_rx) = tokio::sync::mpsc::unbounded_channel();
    let verifier = tokio::spawn(async move {
        expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        written_tx
            .send(expect_status_patch(&mut handle, 200).await)
            .unwrap();
        // Second poll: same answer, so only the Secret is read.
        expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        // Third poll: progress moved.
        expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        written_tx
            .send(expect_status_patch(&mut handle, 200).await)
            .unwrap();
        assert_no_more_requests(&mut handle).await;
    });
    reconcile(Arc::new(job(None)), ctx.clone()).await.unwrap();
    let first = written_rx.recv().await.unwrap();
    assert_eq!(first["status"]["progress"], 40);
    // The watch delivers the object with the status just written.
    let with_status = Arc::new(job(Some(first["status"].clone())));

    // A reconcile triggered before the poll is due (e.g. by our own write) does nothing.
    let early = reconcile(with_status.clone(), ctx.clone()).await.unwrap();
    assert_eq!(early, Action::requeue(Duration::from_secs(30)));
    assert_eq!(provider.calls(), 1);

    *clock.lock().unwrap() = "2026-11-25T10:00:30Z".parse().unwrap();
    let second = reconcile(with_status.clone(), ctx.clone()).await.unwrap();
    assert_eq!(second, Action::requeue(Duration::from_secs(30)));
    *clock.lock().unwrap() = "2026-11-25T10:01:00Z".parse().unwrap();
    reconcile(with_status, ctx.clone()).await.unwrap();
    let third = written_rx.recv().await.unwrap();
    verifier.await.unwrap();

    assert_eq!(third["status"]["progress"], 55);
    assert_eq!(
        third["status"]["pollCount"], 3,
        "polls between writes are counted"
    );
    assert_eq!(third["status"]["lastPollTime"], "2026-11-25T10:01:00Z");
    assert_eq!(provider.calls(), 3);
    let metrics = ctx.metrics.render(None);
    assert!(
        metrics.contains("clouddb_job_operator_status_writes_total 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("clouddb_job_operator_status_writes_skipped_total 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_missing_secret_stalls_without_calling_the_provider() {
    let Harness {
        ctx,
        mut handle,
        provider,
        ..
    } = harness(false);
    let verifier = tokio::spawn(async move {
        expect_get(&mut handle, SECRET_PATH, 404, not_found()).await;
        let patch = expect_status_patch(&mut handle, 200).await;
        assert_no_more_requests(&mut handle).await;
        patch
    });
    let action = reconcile(Arc::new(job(None)), ctx).await.unwrap();
    let patch = verifier.await.unwrap();
    let status = &patch["status"];
    assert_eq!(status["phase"], "Pending");
    assert_eq!(status["reason"], "SecretNotFound");
    assert_eq!(
        status["message"],
        "Secret \"tencent-creds\" not found in namespace \"prod\""
    );
    let stalled = condition(status, "Stalled");
    assert_eq!(stalled["status"], "True");
    assert_eq!(stalled["reason"], "SecretNotFound");
    assert_eq!(provider.calls(), 0);
    // Retried slowly (30 s first), so a Secret created later is picked up.
    assert_eq!(action, Action::requeue(Duration::from_millis(22_500)));
}

#[tokio::test]
async fn a_missing_secret_key_is_reported_by_name_only() {
    let Harness {
        ctx, mut handle, ..
    } = harness(false);
    let verifier = tokio::spawn(async move {
        let partial = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tencent-creds"}, "data": {"secretId": "QUtJRGV4YW1wbGU="}});
        expect_get(&mut handle, SECRET_PATH, 200, partial).await;
        expect_status_patch(&mut handle, 200).await
    });
    reconcile(Arc::new(job(None)), ctx).await.unwrap();
    let patch = verifier.await.unwrap();
    assert_eq!(patch["status"]["reason"], "SecretKeyMissing");
    let msg = patch["status"]["message"].as_str().unwrap();
    assert!(msg.contains("\"secretKey\""), "{msg}");
    assert!(!msg.contains("AKIDexample"), "{msg}");
}

#[tokio::test]
async fn a_terminal_job_is_left_alone() {
    let Harness {
        ctx,
        mut handle,
        provider,
        ..
    } = harness(false);
    let done = json!({"observedGeneration": 1, "phase": "Succeeded", "progress": 100});
    let action = reconcile(Arc::new(job(Some(done))), ctx).await.unwrap();
    assert_eq!(action, Action::await_change());
    assert_no_more_requests(&mut handle).await;
    assert_eq!(provider.calls(), 0);
}

#[tokio::test]
async fn a_terminal_job_only_catches_up_its_observed_generation() {
    let Harness {
        ctx,
        mut handle,
        provider,
        ..
    } = harness(false);
    let done = json!({"observedGeneration": 0, "phase": "Failed", "reason": "Aborted",
        "conditions": [{"type": "Failed", "status": "True", "reason": "Aborted", "message": "", "observedGeneration": 0, "lastTransitionTime": "2026-11-25T09:30:00Z"}]});
    let verifier = tokio::spawn(async move { expect_status_patch(&mut handle, 200).await });
    let action = reconcile(Arc::new(job(Some(done))), ctx).await.unwrap();
    let patch = verifier.await.unwrap();
    assert_eq!(action, Action::await_change());
    assert_eq!(patch["status"]["observedGeneration"], 1);
    assert_eq!(patch["status"]["phase"], "Failed");
    assert_eq!(patch["status"]["conditions"][0]["observedGeneration"], 1);
    assert_eq!(
        patch["status"]["conditions"][0]["lastTransitionTime"],
        "2026-11-25T09:30:00Z"
    );
    assert_eq!(provider.calls(), 0);
}

#[tokio::test]
async fn transient_provider_errors_back_off_without_changing_the_phase() {
    let Harness {
        ctx,
        mut handle,
        provider,
        ..
    } = harness(false);
    provider.script(
        "15967",
        vec![Err(ProviderError::transient(
            "HTTP 503",
            "Service Unavailable",
        ))],
    );
    let running_status = json!({"observedGeneration": 1, "phase": "Running", "progress": 40, "consecutiveErrors": 0});
    let verifier = tokio::spawn(async move {
        expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        expect_status_patch(&mut handle, 200).await
    });
    let action = reconcile(Arc::new(job(Some(running_status))), ctx)
        .await
        .unwrap();
    let patch = verifier.await.unwrap();
    assert_eq!(patch["status"]["phase"], "Running");
    assert_eq!(patch["status"]["progress"], 40);
    assert_eq!(patch["status"]["consecutiveErrors"], 1);
    let reconciling = condition(&patch["status"], "Reconciling");
    assert_eq!(reconciling["reason"], "RetryingAfterError");
    assert_eq!(action, Action::requeue(Duration::from_millis(1500)));
}

#[tokio::test]
async fn the_timeout_fails_the_job_without_polling() {
    let Harness {
        ctx,
        mut handle,
        provider,
        clock,
    } = harness(false);
    *clock.lock().unwrap() = "2026-11-25T11:00:01Z".parse().unwrap(); // created 09:00, timeout 2h
    let verifier = tokio::spawn(async move { expect_status_patch(&mut handle, 200).await });
    let action = reconcile(Arc::new(job(None)), ctx).await.unwrap();
    let patch = verifier.await.unwrap();
    assert_eq!(patch["status"]["phase"], "Failed");
    assert_eq!(patch["status"]["reason"], "TrackingTimeout");
    assert_eq!(action, Action::await_change());
    assert_eq!(provider.calls(), 0);
}

#[tokio::test]
async fn an_endpoint_outside_the_allow_list_is_refused() {
    let Harness {
        ctx,
        mut handle,
        provider,
        ..
    } = harness(false);
    let mut j = job(None);
    j.spec.endpoint = Some("https://collector.example.net".into());
    let verifier = tokio::spawn(async move { expect_status_patch(&mut handle, 200).await });
    let action = reconcile(Arc::new(j), ctx).await.unwrap();
    let patch = verifier.await.unwrap();
    assert_eq!(patch["status"]["reason"], "EndpointNotAllowed");
    assert_eq!(
        action,
        Action::await_change(),
        "only a spec change can fix it"
    );
    assert_eq!(provider.calls(), 0);
}

#[tokio::test]
async fn a_failed_status_write_is_an_error_for_the_error_policy() {
    let Harness {
        ctx,
        mut handle,
        provider,
        ..
    } = harness(false);
    provider.script("15967", vec![Ok(running(40))]);
    let verifier = tokio::spawn(async move {
        expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        expect_status_patch(&mut handle, 500).await;
    });
    let result = reconcile(Arc::new(job(None)), ctx.clone()).await;
    verifier.await.unwrap();
    assert!(result.is_err());
    let action = clouddb_job_operator::controller::error_policy(
        Arc::new(job(None)),
        &result.unwrap_err(),
        ctx,
    );
    assert_eq!(action, Action::requeue(Duration::from_millis(1500)));
}

#[tokio::test]
async fn phase_changes_publish_one_event() {
    let Harness {
        ctx,
        mut handle,
        provider,
        ..
    } = harness(true);
    provider.script("15967", vec![Ok(running(40))]);
    let verifier = tokio::spawn(async move {
        expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        expect_status_patch(&mut handle, 200).await;
        let (request, send) = handle.next_request().await.expect("expected an event");
        assert_eq!(request.method(), Method::POST);
        assert_eq!(
            request.uri().path(),
            "/apis/events.k8s.io/v1/namespaces/prod/events"
        );
        let bytes = request.into_body().collect_bytes().await.unwrap();
        let event: Value = serde_json::from_slice(&bytes).unwrap();
        send.send_response(
            Response::builder()
                .status(201)
                .body(Body::from(bytes.to_vec()))
                .unwrap(),
        );
        assert_no_more_requests(&mut handle).await;
        event
    });
    reconcile(Arc::new(job(None)), ctx).await.unwrap();
    let event = verifier.await.unwrap();
    assert_eq!(event["reason"], "Running");
    assert_eq!(event["type"], "Normal");
    assert_eq!(event["regarding"]["name"], "upgrade-1");
    let text = event.to_string();
    assert!(!text.contains("super-secret"), "{text}");
}

#[tokio::test]
async fn an_unknown_job_is_pending_while_young_and_stalls_after_the_grace_period() {
    let Harness {
        ctx,
        mut handle,
        provider,
        clock,
    } = harness(false);
    let not_found = || {
        Err(ProviderError::permanent(
            "JobNotFound",
            "5000",
            "resource does not exist",
        ))
    };
    provider.script("15967", vec![not_found(), not_found()]);
    *clock.lock().unwrap() = "2026-11-25T09:02:00Z".parse().unwrap(); // 2 min old
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let verifier = tokio::spawn(async move {
        expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        tx.send(expect_status_patch(&mut handle, 200).await)
            .unwrap();
        expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        tx.send(expect_status_patch(&mut handle, 200).await)
            .unwrap();
    });
    reconcile(Arc::new(job(None)), ctx.clone()).await.unwrap();
    let young = rx.recv().await.unwrap();
    assert_eq!(young["status"]["phase"], "Pending");
    assert_eq!(young["status"]["reason"], "NotFoundYet");
    *clock.lock().unwrap() = "2026-11-25T09:06:00Z".parse().unwrap(); // 6 min old
    reconcile(Arc::new(job(Some(young["status"].clone()))), ctx)
        .await
        .unwrap();
    let old = rx.recv().await.unwrap();
    verifier.await.unwrap();
    assert_eq!(old["status"]["phase"], "Pending");
    assert_eq!(old["status"]["reason"], "JobNotFound");
    let stalled = condition(&old["status"], "Stalled");
    assert_eq!(stalled["status"], "True");
}

#[tokio::test]
async fn a_secret_cache_is_reused_within_its_ttl_and_dropped_after_an_auth_failure() {
    let Harness {
        mut ctx,
        mut handle,
        provider,
        clock,
    } = harness(false);
    Arc::get_mut(&mut ctx).unwrap().secrets =
        clouddb_job_operator::controller::secrets::SecretReader::new(Duration::from_secs(60));
    provider.script(
        "15967",
        vec![
            Ok(running(40)),
            Ok(running(45)),
            credentials_rejected(),
            Ok(running(50)),
        ],
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let verifier = tokio::spawn(async move {
        // First poll reads the Secret; the second (30 s later, within the TTL) does not.
        expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        tx.send(expect_status_patch(&mut handle, 200).await)
            .unwrap();
        tx.send(expect_status_patch(&mut handle, 200).await)
            .unwrap();
        // Third poll: the cached credentials are rejected, so the Secret is re-read at
        // once; it is unchanged, so the rejection stands and is not cached...
        expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        tx.send(expect_status_patch(&mut handle, 200).await)
            .unwrap();
        // ...and the fourth poll reads the Secret again.
        expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        tx.send(expect_status_patch(&mut handle, 200).await)
            .unwrap();
        assert_no_more_requests(&mut handle).await;
    });
    let mut status = None;
    let mut patches = Vec::new();
    for at in [
        "2026-11-25T10:00:00Z",
        "2026-11-25T10:00:30Z",
        "2026-11-25T10:00:40Z",
        "2026-11-25T10:00:50Z",
    ] {
        *clock.lock().unwrap() = at.parse().unwrap();
        ctx.memory.forget("uid-1"); // poll now, whatever the schedule says
        reconcile(Arc::new(job(status.clone())), ctx.clone())
            .await
            .unwrap();
        let patch = rx.recv().await.unwrap();
        status = Some(patch["status"].clone());
        patches.push(patch);
    }
    verifier.await.unwrap();
    assert_eq!(patches[1]["status"]["progress"], 45);
    assert_eq!(patches[2]["status"]["reason"], "AuthenticationFailed");
    assert_eq!(patches[3]["status"]["progress"], 50);
    assert_eq!(patches[3]["status"]["reason"], Value::Null);
    assert_eq!(provider.calls(), 4);
}

#[tokio::test]
async fn a_cached_credential_rotated_and_rejected_is_re_read_and_polled_again_at_once() {
    let Harness {
        mut ctx,
        mut handle,
        provider,
        clock,
    } = harness(false);
    Arc::get_mut(&mut ctx).unwrap().secrets =
        clouddb_job_operator::controller::secrets::SecretReader::new(Duration::from_secs(60));
    provider.script(
        "15967",
        vec![Ok(running(40)), credentials_rejected(), Ok(running(50))],
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let verifier = tokio::spawn(async move {
        expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        tx.send(expect_status_patch(&mut handle, 200).await)
            .unwrap();
        // Second poll: the cached (old) key is rejected; the Secret now holds a new one,
        // which is used for a second call in the same reconcile.
        expect_get(&mut handle, SECRET_PATH, 200, rotated_secret()).await;
        tx.send(expect_status_patch(&mut handle, 200).await)
            .unwrap();
        assert_no_more_requests(&mut handle).await;
    });
    let mut status = None;
    let mut patches = Vec::new();
    for at in ["2026-11-25T10:00:00Z", "2026-11-25T10:00:30Z"] {
        *clock.lock().unwrap() = at.parse().unwrap();
        ctx.memory.forget("uid-1");
        reconcile(Arc::new(job(status.clone())), ctx.clone())
            .await
            .unwrap();
        let patch = rx.recv().await.unwrap();
        status = Some(patch["status"].clone());
        patches.push(patch);
    }
    verifier.await.unwrap();
    assert_eq!(provider.calls(), 3, "the rejected call and its retry");
    assert_eq!(patches[1]["status"]["progress"], 50);
    assert_eq!(patches[1]["status"]["reason"], Value::Null, "never stalled");
    let stalled = condition(&patches[1]["status"], "Stalled");
    assert_eq!(stalled["status"], "False");
}

#[tokio::test]
async fn a_job_stalled_on_a_rejected_credential_rechecks_its_secret_and_polls_when_it_changes() {
    let Harness {
        ctx,
        mut handle,
        provider,
        clock,
    } = harness(false);
    provider.script("15967", vec![credentials_rejected(), Ok(running(50))]);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let verifier = tokio::spawn(async move {
        // 1: the poll is rejected and the job stalls.
        expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        tx.send(expect_status_patch(&mut handle, 200).await)
            .unwrap();
        // 2: before the provider backoff is over, only the Secret is looked at: unchanged.
        expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        // 3: the Secret changed: the provider is polled at once with the credential that
        // read found (no second read).
        expect_get(&mut handle, SECRET_PATH, 200, rotated_secret()).await;
        tx.send(expect_status_patch(&mut handle, 200).await)
            .unwrap();
        assert_no_more_requests(&mut handle).await;
    });
    // Five failures so far: the provider backoff (4-8 min) is longer than the Secret
    // re-check (1-2 min).
    let stalled_before = json!({
        "phase": "Running", "progress": 40, "consecutiveErrors": 4, "pollCount": 9,
        "observedGeneration": 1
    });
    let set = |at: &str| *clock.lock().unwrap() = at.parse().unwrap();
    set("2026-11-25T10:00:00Z");
    let first = reconcile(Arc::new(job(Some(stalled_before))), ctx.clone())
        .await
        .unwrap();
    let patch = rx.recv().await.unwrap();
    assert_eq!(patch["status"]["reason"], "AuthenticationFailed");
    assert_eq!(patch["status"]["consecutiveErrors"], 5);
    // Requeued for the Secret re-check (sampler 0.5: 0.75 x 2 min), not the provider
    // backoff (0.75 x 8 min).
    assert_eq!(first, Action::requeue(Duration::from_secs(90)));
    let status = Some(patch["status"].clone());

    set("2026-11-25T10:01:30Z");
    let second = reconcile(Arc::new(job(status.clone())), ctx.clone())
        .await
        .unwrap();
    assert_eq!(second, Action::requeue(Duration::from_secs(90)));
    assert_eq!(
        provider.calls(),
        1,
        "no provider call for an unchanged Secret"
    );

    set("2026-11-25T10:03:00Z");
    reconcile(Arc::new(job(status)), ctx.clone()).await.unwrap();
    let patch = rx.recv().await.unwrap();
    verifier.await.unwrap();
    assert_eq!(provider.calls(), 2);
    assert_eq!(patch["status"]["progress"], 50);
    assert_eq!(patch["status"]["reason"], Value::Null);
    assert_eq!(ctx.memory.rejected("uid-1"), None);
}
