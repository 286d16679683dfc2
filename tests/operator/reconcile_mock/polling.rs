//! What one poll writes, when the next one comes, and what a series of polls keeps.

use std::sync::Arc;
use std::time::Duration;

use clouddb_job_operator::api::{CloudDbJob, JobPhase};
use clouddb_job_operator::controller::batching::batch_key;
use clouddb_job_operator::controller::{reconcile, Context};
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::{
    Credentials, ErrorReason, JobObservation, JobTarget, ProviderError,
};
use kube::runtime::controller::Action;
use serde_json::{json, Value};

use super::*;

#[tokio::test]
async fn first_poll_writes_the_exact_status() {
    let mut h = harness(false);
    h.provider.script("15967", vec![Ok(running(40))]);
    let (action, patch) = h.reconcile_once(job(None), reads_and_writes(1)).await;
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
    assert_eq!(h.provider.calls(), 1);
}

#[tokio::test]
async fn an_unchanged_poll_writes_nothing_and_a_change_writes_once() {
    let mut h = harness(false);
    h.provider.script(
        "15967",
        vec![Ok(running(40)), Ok(running(40)), Ok(running(55))],
    );
    let mut verifier = h.serve(vec![
        Expect::Read(200, secret()),
        Expect::Write(200),
        // Second poll: same answer, so only the Secret is read.
        Expect::Read(200, secret()),
        // Third poll: progress moved.
        Expect::Read(200, secret()),
        Expect::Write(200),
    ]);
    reconcile(Arc::new(job(None)), h.ctx.clone()).await.unwrap();
    let first = verifier.next().await;
    assert_eq!(first["status"]["progress"], 40);
    // The watch delivers the object with the status just written.
    let with_status = Arc::new(job(Some(first["status"].clone())));

    // A reconcile triggered before the poll is due (e.g. by our own write) does nothing.
    let early = reconcile(with_status.clone(), h.ctx.clone()).await.unwrap();
    assert_eq!(early, Action::requeue(Duration::from_secs(30)));
    assert_eq!(h.provider.calls(), 1);

    set(&h.clock, "2026-11-25T10:00:30Z");
    let second = reconcile(with_status.clone(), h.ctx.clone()).await.unwrap();
    assert_eq!(second, Action::requeue(Duration::from_secs(30)));
    set(&h.clock, "2026-11-25T10:01:00Z");
    reconcile(with_status, h.ctx.clone()).await.unwrap();
    let third = verifier.next().await;
    verifier.finish().await;

    assert_eq!(third["status"]["progress"], 55);
    assert_eq!(
        third["status"]["pollCount"], 3,
        "polls between writes are counted"
    );
    assert_eq!(third["status"]["lastPollTime"], "2026-11-25T10:01:00Z");
    assert_eq!(h.provider.calls(), 3);
    let metrics = h.ctx.metrics.render(None);
    assert!(
        metrics.contains("clouddb_job_operator_status_writes_total 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("clouddb_job_operator_status_writes_skipped_total 1"),
        "{metrics}"
    );
}

/// One transient provider failure of a running job at sampler value `sample`: the patch
/// written and the requeue.
async fn one_transient_failure(sample: f64) -> (Value, Action) {
    let mut h = harness(false);
    *h.sample.lock().unwrap() = sample;
    h.provider.script(
        "15967",
        vec![Err(ProviderError::transient(
            "HTTP 503",
            "Service Unavailable",
        ))],
    );
    let running_status = json!({"observedGeneration": 1, "phase": "Running", "progress": 40, "consecutiveErrors": 0});
    let (action, patch) = h
        .reconcile_once(job(Some(running_status)), reads_and_writes(1))
        .await;
    (patch, action)
}

#[tokio::test]
async fn transient_provider_errors_back_off_without_changing_the_phase() {
    let (patch, action) = one_transient_failure(0.5).await;
    assert_eq!(patch["status"]["phase"], "Running");
    assert_eq!(patch["status"]["progress"], 40);
    assert_eq!(patch["status"]["consecutiveErrors"], 1);
    let reconciling = condition(&patch["status"], "Reconciling");
    assert_eq!(reconciling["reason"], "RetryingAfterError");
    // The first backoff is 2 s with "equal jitter": 2 s x (0.5 + 0.5 x sample), here 1.5 s.
    assert_eq!(action, Action::requeue(Duration::from_millis(1500)));
}

#[tokio::test]
async fn the_first_transient_backoff_is_drawn_between_one_and_two_seconds() {
    // The sampler's extremes give the ends of the range: half of 2 s, and all of it.
    assert_first_requeues(
        &[(0.0, 1000), (0.25, 1250), (1.0, 2000)],
        |sample| async move { one_transient_failure(sample).await.1 },
    )
    .await;
}

#[tokio::test]
async fn a_failed_status_write_is_an_error_for_the_error_policy() {
    let mut h = harness(false);
    h.provider.script("15967", vec![Ok(running(40))]);
    let verifier = h.serve(vec![Expect::Read(200, secret()), Expect::Write(500)]);
    let result = reconcile(Arc::new(job(None)), h.ctx.clone()).await;
    verifier.finish().await;
    assert!(result.is_err());
    let action = clouddb_job_operator::controller::error_policy(
        Arc::new(job(None)),
        &result.unwrap_err(),
        h.ctx,
    );
    // First API failure: 2 s x (0.5 + 0.5 x 0.5).
    assert_eq!(action, Action::requeue(Duration::from_millis(1500)));
}

#[tokio::test]
async fn phase_changes_publish_one_event() {
    let mut h = harness(true);
    let done = JobObservation {
        phase: Some(JobPhase::Succeeded),
        progress: Some(100),
        ..running(100)
    };
    h.provider.script("15967", vec![Ok(done)]);
    let mut expected = reads_and_writes(1);
    expected.push(Expect::Event);
    let mut verifier = h.serve(expected);
    let seen_running = json!({"phase": "Running", "progress": 40, "observedGeneration": 1});
    reconcile(Arc::new(job(Some(seen_running))), h.ctx.clone())
        .await
        .unwrap();
    verifier.next().await; // the status patch
    let event = verifier.next().await;
    verifier.finish().await;
    assert_eq!(event["reason"], "Succeeded");
    assert_eq!(event["type"], "Normal");
    assert_eq!(event["regarding"]["name"], "upgrade-1");
    let text = event.to_string();
    assert!(!text.contains("super-secret"), "{text}");
}

#[tokio::test]
async fn an_unknown_job_is_pending_while_young_and_stalls_after_the_grace_period() {
    let not_found = || {
        Err(ProviderError::permanent(
            ErrorReason::JobNotFound,
            "5000",
            "resource does not exist",
        ))
    };
    let out = polls(vec![
        ("2026-11-25T09:02:00Z", not_found()), // 2 min old
        ("2026-11-25T09:06:00Z", not_found()), // 6 min old
    ])
    .await;
    let (young, old) = (&out[0].0, &out[1].0);
    assert_eq!(young["status"]["phase"], "Pending");
    assert_eq!(young["status"]["reason"], "NotFoundYet");
    assert_eq!(old["status"]["phase"], "Pending");
    assert_eq!(old["status"]["reason"], "JobNotFound");
    let stalled = condition(&old["status"], "Stalled");
    assert_eq!(stalled["status"], "True");
}

/// Runs one due poll per `(time, observation)` of the tracked job, each from the status the
/// previous one wrote; returns every patch and requeue.
async fn polls(steps: Vec<(&str, Result<JobObservation, ProviderError>)>) -> Vec<(Value, Action)> {
    polls_of(job, |_| {}, steps).await
}

/// [`polls`] of the job `make` builds (from a status), after `before` has seen the context.
async fn polls_of(
    make: impl Fn(Option<Value>) -> CloudDbJob,
    before: impl FnOnce(&Context),
    steps: Vec<(&str, Result<JobObservation, ProviderError>)>,
) -> Vec<(Value, Action)> {
    let mut h = harness(false);
    before(&h.ctx);
    let verifier = h.serve(reads_and_writes(steps.len()));
    let (times, results): (Vec<&str>, Vec<_>) = steps.into_iter().unzip();
    h.provider.script("15967", results);
    let (written, actions) =
        reconcile_series(&h.ctx, &h.clock, verifier, &times, times.len(), make).await;
    written.into_iter().zip(actions).collect()
}

/// Started 09:50, polled every 30 s. At 10:00, 40 % done: the end is predicted at 10:15,
/// far away. At `second`, 99 % done: the predicted end is seconds away.
fn nearly_done(second: &str) -> Vec<(&str, Result<JobObservation, ProviderError>)> {
    vec![
        ("2026-11-25T10:00:00Z", Ok(running(40))),
        (second, Ok(running(99))),
    ]
}

#[tokio::test]
async fn a_job_near_its_predicted_end_is_polled_sooner() {
    // Not batched (one call per job): the next poll comes after half an interval.
    let async_request = |status| {
        let mut j = job(status);
        j.spec.api = Some("DescribeAsyncRequestInfo".into());
        j
    };
    let out = polls_of(async_request, |_| {}, nearly_done("2026-11-25T10:00:30Z")).await;
    assert_eq!(
        out[0].0["status"]["estimatedCompletionTime"],
        "2026-11-25T10:15:00Z"
    );
    assert_eq!(out[0].1, Action::requeue(Duration::from_secs(30)));
    let eta: jiff::Timestamp = out[1].0["status"]["estimatedCompletionTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let now: jiff::Timestamp = "2026-11-25T10:00:30Z".parse().unwrap();
    assert!(
        eta > now && eta.duration_since(now) < jiff::SignedDuration::from_secs(15),
        "{eta}"
    );
    assert_eq!(out[1].1, Action::requeue(Duration::from_secs(15)));
}

#[tokio::test]
async fn a_batched_job_near_its_end_moves_to_an_earlier_round_but_never_between_rounds() {
    // `DescribeTasks` alone in its batch: the rounds are its own interval, and there is no
    // round earlier than the next one, so it stays at 30 s.
    let out = polls(nearly_done("2026-11-25T10:00:30Z")).await;
    assert_eq!(out[1].1, Action::requeue(Duration::from_secs(30)));

    // The same batch already has 10 s rounds (a job polled every 10 s shares it): a job
    // joins the first round at least half its wish away, so the 30 s wish takes the round
    // 20 s later, and the nearly-done job's 15 s wish the round 10 s later.
    let ten_second_rounds = |ctx: &Context| {
        let creds = Credentials::Tencent {
            secret_id: "AKIDexample".into(),
            secret_key: SecretString::new("super-secret"),
            token: None,
        };
        let target = JobTarget::from_spec(&job(None).spec).unwrap();
        let key = batch_key(&target, &creds).unwrap();
        let now = NOW.parse().unwrap();
        let ten = Duration::from_secs(10);
        ctx.schedule.rounds.schedule(&key, now, ten, ten);
    };
    let out = polls_of(job, ten_second_rounds, nearly_done("2026-11-25T10:00:20Z")).await;
    assert_eq!(out[0].1, Action::requeue(Duration::from_secs(20)));
    assert_eq!(out[1].1, Action::requeue(Duration::from_secs(10)));
}

#[tokio::test]
async fn last_transition_times_move_only_when_a_condition_flips() {
    let done = JobObservation {
        phase: Some(JobPhase::Succeeded),
        provider_status: Some("SUCCEED".into()),
        progress: Some(100),
        ..running(100)
    };
    let out = polls(vec![
        ("2026-11-25T10:00:00Z", Ok(running(40))),
        ("2026-11-25T10:00:30Z", Ok(running(55))),
        (
            "2026-11-25T10:01:00Z",
            Err(ProviderError::transient("HTTP 503", "Service Unavailable")),
        ),
        ("2026-11-25T10:01:30Z", Ok(running(70))),
        ("2026-11-25T10:02:00Z", Ok(done)),
    ])
    .await;
    let ltt = |i: usize, type_: &str| {
        condition(&out[i].0["status"], type_)["lastTransitionTime"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Four polls that write (progress, then an error that changes the Reconciling reason
    // but not its status, then progress again): no condition flips, no time moves.
    for i in 0..4 {
        for type_ in ["Ready", "Reconciling", "Complete", "Failed", "Stalled"] {
            assert_eq!(ltt(i, type_), NOW, "poll {i}, {type_}");
        }
    }
    assert_eq!(
        condition(&out[2].0["status"], "Reconciling")["reason"],
        "RetryingAfterError"
    );
    // Success flips Ready, Reconciling and Complete; Failed and Stalled stay False.
    for type_ in ["Ready", "Reconciling", "Complete"] {
        assert_eq!(ltt(4, type_), "2026-11-25T10:02:00Z", "{type_}");
    }
    for type_ in ["Failed", "Stalled"] {
        assert_eq!(ltt(4, type_), NOW, "{type_}");
    }
}

/// A poll the local rate limit refused sent nothing: it is a `rate_limited_polls`, not a
/// provider call, nor the provider's throttling (the Grafana panel of those would otherwise
/// show local waits as the cloud's), and it writes no status.
#[tokio::test]
async fn a_poll_refused_by_the_local_rate_limit_is_not_counted_as_a_provider_call() {
    use clouddb_job_operator::controller::ratelimit::{limit_key, rate_limited};
    use clouddb_job_operator::providers::{Credentials, JobTarget};
    let mut h = harness(false);
    let target = JobTarget::new(
        clouddb_job_operator::api::ProviderKind::Tencent,
        None,
        "15967",
        Some("ap-guangzhou"),
        None,
        None,
        None,
    )
    .unwrap();
    let credentials = Credentials::Bearer(SecretString::new("t"));
    let key = limit_key(&target, &credentials);
    h.provider.script(
        "15967",
        vec![Err(rate_limited(&key, Duration::from_millis(250)))],
    );
    let running = json!({"observedGeneration": 1, "phase": "Running", "progress": 40, "consecutiveErrors": 0});
    let verifier = h.serve(vec![Expect::Read(200, secret())]);
    let action = reconcile(Arc::new(job(Some(running))), h.ctx.clone())
        .await
        .unwrap();
    verifier.finish().await;
    assert_ne!(
        action,
        Action::await_change(),
        "requeued after the bucket's wait"
    );
    let metrics = h.ctx.metrics.render(None);
    assert!(
        metrics.contains("clouddb_job_operator_rate_limited_polls_total 1"),
        "{metrics}"
    );
    for family in [
        "provider_calls_total{",
        "provider_throttled_total{",
        "provider_call_duration_seconds_count{",
    ] {
        assert!(
            !metrics.contains(&format!("clouddb_job_operator_{family}")),
            "{family} counted a poll that sent nothing:\n{metrics}"
        );
    }
}

/// A bounded transient error (an unknown provider code) after `before` failed polls in a
/// row: the patch written.
async fn bounded_failure_after(before: u32) -> Value {
    let mut h = harness(false);
    h.provider.script(
        "15967",
        vec![Err(ProviderError::bounded(
            ErrorReason::ProviderError,
            clouddb_job_operator::providers::DEFAULT_RETRY_BOUND,
            "SomeNewCode.NobodyKnows",
            "a code added after this client was written",
        ))],
    );
    let running_status = json!({"observedGeneration": 1, "phase": "Running", "progress": 40, "consecutiveErrors": before});
    let (_, patch) = h
        .reconcile_once(job(Some(running_status)), reads_and_writes(1))
        .await;
    patch
}

#[tokio::test]
async fn an_unknown_code_is_retried_up_to_its_bound_counted_in_the_status_then_stalls() {
    let bound = clouddb_job_operator::providers::DEFAULT_RETRY_BOUND;
    // The last failure within the bound is still transient: retrying, not stalled.
    let patch = bounded_failure_after(bound - 2).await;
    assert_eq!(patch["status"]["phase"], "Running");
    assert_eq!(patch["status"]["consecutiveErrors"], bound - 1);
    assert_eq!(
        condition(&patch["status"], "Reconciling")["reason"],
        "RetryingAfterError"
    );
    assert_ne!(condition(&patch["status"], "Stalled")["status"], "True");
    // The count comes from the status (as after a restart): the failure that reaches the
    // bound stalls the job with the provider's code and message, and never fails it.
    let patch = bounded_failure_after(bound - 1).await;
    assert_eq!(patch["status"]["phase"], "Running");
    let stalled = condition(&patch["status"], "Stalled");
    assert_eq!(stalled["status"], "True", "{patch}");
    assert_eq!(patch["status"]["reason"], "ProviderError", "{patch}");
    let message = stalled["message"].as_str().unwrap_or_default();
    assert!(message.contains("SomeNewCode.NobodyKnows"), "{message}");
    assert!(
        message.contains(&format!("after {bound} attempts")),
        "{message}"
    );
}
