//! The credentials Secret: missing, incomplete, cached (and the `run` default TTL),
//! rotated, and re-checked while stalled on a rejected credential.

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use clouddb_job_operator::cli::{run as run_cli, Cli, Command};
use clouddb_job_operator::controller::poll::FORBIDDEN_RETRIES;
use clouddb_job_operator::controller::reconcile;
use clouddb_job_operator::controller::rounds::Rounds;
use clouddb_job_operator::controller::secrets::SecretReader;
use clouddb_job_operator::providers::scripted::ScriptedProvider;
use http::{Request, Response};
use kube::client::Body;
use kube::runtime::controller::Action;
use kube::Client;
use serde_json::{json, Value};

use super::*;

#[tokio::test]
async fn a_missing_secret_stalls_without_calling_the_provider() {
    let mut h = harness(false);
    let (action, patch) = h.reconcile_once(job(None), missing_secret()).await;
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
    assert_eq!(h.provider.calls(), 0);
    // Re-checked after 30 s with equal jitter, 30 s x (0.5 + 0.5 x 0.5): a Secret created
    // later is picked up.
    assert_eq!(action, Action::requeue(Duration::from_millis(22_500)));
}

#[tokio::test]
async fn the_first_secret_recheck_is_drawn_between_15_and_30_seconds() {
    assert_first_requeues(&[(0.0, 15_000), (1.0, 30_000)], |sample| async move {
        let mut h = harness(false);
        *h.sample.lock().unwrap() = sample;
        h.reconcile_once(job(None), missing_secret()).await.0
    })
    .await;
}

/// A Secret read refused with 403.
fn refused() -> Expect {
    Expect::Read(
        403,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "secrets \"tencent-creds\" is forbidden", "reason": "Forbidden", "code": 403}),
    )
}

#[tokio::test]
async fn a_refused_secret_is_retried_before_the_job_is_reported_stalled() {
    // A kube-apiserver that has just started refuses requests until its RBAC caches are
    // synced: the first refusals are API failures to retry, without a status write.
    let mut h = harness(false);
    let mut expected: Vec<Expect> = (0..=FORBIDDEN_RETRIES).map(|_| refused()).collect();
    expected.push(Expect::Write(200));
    let mut verifier = h.serve(expected);
    for _ in 0..FORBIDDEN_RETRIES {
        let err = reconcile(Arc::new(job(None)), h.ctx.clone())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("may not read Secret"), "{err}");
    }
    // Still refused: missing RBAC, reported.
    reconcile(Arc::new(job(None)), h.ctx.clone()).await.unwrap();
    let patch = verifier.next().await;
    verifier.finish().await;
    assert_eq!(patch["status"]["reason"], "SecretForbidden");
    assert_eq!(condition(&patch["status"], "Stalled")["status"], "True");
    assert_eq!(h.provider.calls(), 0);
}

#[tokio::test]
async fn a_secret_read_again_restarts_the_count_of_refusals() {
    let mut h = harness(false);
    h.provider.script("15967", vec![Ok(running(40))]);
    let mut expected: Vec<Expect> = (0..FORBIDDEN_RETRIES).map(|_| refused()).collect();
    expected.extend(reads_and_writes(1));
    expected.push(refused());
    let mut verifier = h.serve(expected);
    for _ in 0..FORBIDDEN_RETRIES {
        assert!(reconcile(Arc::new(job(None)), h.ctx.clone()).await.is_err());
    }
    reconcile(Arc::new(job(None)), h.ctx.clone()).await.unwrap();
    let patch = verifier.next().await;
    assert_eq!(patch["status"]["phase"], "Running");
    // Refused again at the next poll, 30 s later (the job is due again; the operator's
    // memory of it is kept): the successful read restarted the count, so this refusal
    // is retried, not reported.
    set(&h.clock, "2026-11-25T10:00:30Z");
    assert!(
        reconcile(Arc::new(job(Some(patch["status"].clone()))), h.ctx.clone())
            .await
            .is_err()
    );
    verifier.finish().await;
}

/// The Secret read answered 404, and the status write after it.
fn missing_secret() -> Vec<Expect> {
    vec![Expect::Read(404, not_found()), Expect::Write(200)]
}

#[tokio::test]
async fn a_missing_secret_key_is_reported_by_name_only() {
    let partial = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tencent-creds"}, "data": {"secretId": "QUtJRGV4YW1wbGU="}});
    let (_, patch) = harness(false)
        .reconcile_once(
            job(None),
            vec![Expect::Read(200, partial), Expect::Write(200)],
        )
        .await;
    assert_eq!(patch["status"]["reason"], "SecretKeyMissing");
    let msg = patch["status"]["message"].as_str().unwrap();
    assert!(msg.contains("\"secretKey\""), "{msg}");
    assert!(!msg.contains("AKIDexample"), "{msg}");
}

#[tokio::test]
async fn run_reuses_a_secret_read_for_five_seconds_by_default() {
    // The context `run` builds from its default arguments (events off, so the only
    // requests are Secret reads and status writes).
    let Command::Run(args) = Cli::try_parse_from(["clouddb-job-operator", "run", "--no-events"])
        .unwrap()
        .command
    else {
        panic!("not the run command");
    };
    assert_eq!(args.secret_cache_ttl, Duration::from_secs(5));
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let provider = Arc::new(ScriptedProvider::new());
    provider.script("15967", vec![Ok(running(40)); 4]);
    let clock = Arc::new(std::sync::Mutex::new(
        NOW.parse::<jiff::Timestamp>().unwrap(),
    ));
    let read = clock.clone();
    let operator = run_cli::build(
        Client::new(service, "default"),
        provider.clone(),
        Arc::new(Rounds::default()),
        Arc::new(move || *read.lock().unwrap()),
        &args,
    );
    let ctx = operator.ctx;
    let verifier = serve(
        handle,
        vec![
            // 10:00:00: read and written. 10:00:04.999: same answer, from the cached Secret.
            Expect::Read(200, secret()),
            Expect::Write(200),
            // 10:00:05: the read is 5 s old, so the Secret is read again; then cached again
            // for the poll at 10:00:09.999.
            Expect::Read(200, secret()),
        ],
    );
    // Each reconcile polls now, whatever the schedule says; only the first writes.
    let times = [
        "2026-11-25T10:00:00Z",
        "2026-11-25T10:00:04.999Z",
        "2026-11-25T10:00:05Z",
        "2026-11-25T10:00:09.999Z",
    ];
    reconcile_series(&ctx, &clock, verifier, &times, 1, restarted(&ctx)).await;
    assert_eq!(provider.calls(), 4, "every reconcile polled");
}

#[tokio::test]
async fn a_secret_cache_is_reused_within_its_ttl_and_dropped_after_an_auth_failure() {
    let mut h = cached_secrets(vec![
        Ok(running(40)),
        Ok(running(45)),
        credentials_rejected(),
        Ok(running(50)),
    ]);
    let verifier = h.serve(vec![
        // First poll reads the Secret; the second (30 s later, within the TTL) does not.
        Expect::Read(200, secret()),
        Expect::Write(200),
        Expect::Write(200),
        // Third poll: the cached credentials are rejected, so the Secret is re-read at
        // once; it is unchanged, so the rejection stands and is not cached...
        Expect::Read(200, secret()),
        Expect::Write(200),
        // ...and the fourth poll reads the Secret again.
        Expect::Read(200, secret()),
        Expect::Write(200),
    ]);
    // Each reconcile polls now, whatever the schedule says.
    let times = [
        "2026-11-25T10:00:00Z",
        "2026-11-25T10:00:30Z",
        "2026-11-25T10:00:40Z",
        "2026-11-25T10:00:50Z",
    ];
    let (patches, _) =
        reconcile_series(&h.ctx, &h.clock, verifier, &times, 4, restarted(&h.ctx)).await;
    assert_eq!(patches[1]["status"]["progress"], 45);
    assert_eq!(patches[2]["status"]["reason"], "AuthenticationFailed");
    assert_eq!(patches[3]["status"]["progress"], 50);
    assert_eq!(patches[3]["status"]["reason"], Value::Null);
    assert_eq!(h.provider.calls(), 4);
}

/// A harness whose Secret reads are cached for 60 s, and whose provider answers `script`.
fn cached_secrets(script: Vec<Result<JobObservation, ProviderError>>) -> Harness {
    let mut h = harness(false);
    Arc::get_mut(&mut h.ctx).unwrap().secrets = SecretReader::new(Duration::from_secs(60));
    h.provider.script("15967", script);
    h
}

#[tokio::test]
async fn a_cached_credential_rotated_and_rejected_is_re_read_and_polled_again_at_once() {
    let mut h = cached_secrets(vec![
        Ok(running(40)),
        credentials_rejected(),
        Ok(running(50)),
    ]);
    let verifier = h.serve(vec![
        Expect::Read(200, secret()),
        Expect::Write(200),
        // Second poll: the cached (old) key is rejected; the Secret now holds a new one,
        // which is used for a second call in the same reconcile.
        Expect::Read(200, rotated_secret()),
        Expect::Write(200),
    ]);
    let times = ["2026-11-25T10:00:00Z", "2026-11-25T10:00:30Z"];
    let (patches, _) =
        reconcile_series(&h.ctx, &h.clock, verifier, &times, 2, restarted(&h.ctx)).await;
    assert_eq!(h.provider.calls(), 3, "the rejected call and its retry");
    assert_eq!(patches[1]["status"]["progress"], 50);
    assert_eq!(patches[1]["status"]["reason"], Value::Null, "never stalled");
    let stalled = condition(&patches[1]["status"], "Stalled");
    assert_eq!(stalled["status"], "False");
}

#[tokio::test]
async fn a_job_stalled_on_a_rejected_credential_rechecks_its_secret_and_polls_when_it_changes() {
    let mut h = harness(false);
    h.provider
        .script("15967", vec![credentials_rejected(), Ok(running(50))]);
    let mut verifier = h.serve(vec![
        // 1: the poll is rejected and the job stalls.
        Expect::Read(200, secret()),
        Expect::Write(200),
        // 2: before the provider backoff is over, only the Secret is looked at: unchanged.
        Expect::Read(200, secret()),
        // 3: the Secret changed: the provider is polled at once with the credential that
        // read found (no second read).
        Expect::Read(200, rotated_secret()),
        Expect::Write(200),
    ]);
    // Five failures so far: the provider backoff (4-8 min) is longer than the Secret
    // re-check (1-2 min).
    let stalled_before = json!({
        "phase": "Running", "progress": 40, "consecutiveErrors": 4, "pollCount": 9,
        "observedGeneration": 1
    });
    let set = |at: &str| set(&h.clock, at);
    set("2026-11-25T10:00:00Z");
    let first = reconcile(Arc::new(job(Some(stalled_before))), h.ctx.clone())
        .await
        .unwrap();
    let patch = verifier.next().await;
    assert_eq!(patch["status"]["reason"], "AuthenticationFailed");
    assert_eq!(patch["status"]["consecutiveErrors"], 5);
    // Requeued for the Secret re-check (sampler 0.5: 0.75 x 2 min), not the provider
    // backoff (0.75 x 8 min).
    assert_eq!(first, Action::requeue(Duration::from_secs(90)));
    let status = Some(patch["status"].clone());

    set("2026-11-25T10:01:30Z");
    let second = reconcile(Arc::new(job(status.clone())), h.ctx.clone())
        .await
        .unwrap();
    assert_eq!(second, Action::requeue(Duration::from_secs(90)));
    assert_eq!(
        h.provider.calls(),
        1,
        "no provider call for an unchanged Secret"
    );

    set("2026-11-25T10:03:00Z");
    reconcile(Arc::new(job(status)), h.ctx.clone())
        .await
        .unwrap();
    let patch = verifier.next().await;
    verifier.finish().await;
    assert_eq!(h.provider.calls(), 2);
    assert_eq!(patch["status"]["progress"], 50);
    assert_eq!(patch["status"]["reason"], Value::Null);
    assert_eq!(h.ctx.memory.rejected("uid-1"), None);
}
