//! The credentials Secret: missing, incomplete, cached (and the `run` default TTL),
//! rotated, and re-checked while stalled on a rejected credential.

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use clouddb_job_operator::cli::{run as run_cli, Cli, Command};
use clouddb_job_operator::controller::reconcile;
use clouddb_job_operator::controller::rounds::Rounds;
use clouddb_job_operator::controller::secrets::SecretReader;
use clouddb_job_operator::providers::scripted::ScriptedProvider;
use http::{Request, Response};
use kube::client::Body;
use kube::runtime::controller::Action;
use kube::Client;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::*;

#[tokio::test]
async fn a_missing_secret_stalls_without_calling_the_provider() {
    let Harness {
        ctx,
        mut handle,
        provider,
        ..
    } = harness(false);
    let (done, finished) = oneshot::channel();
    let verifier = tokio::spawn(async move {
        expect_get(&mut handle, SECRET_PATH, 404, not_found()).await;
        let patch = expect_status_patch(&mut handle, 200).await;
        no_more_requests(&mut handle, finished).await;
        patch
    });
    let action = reconcile(Arc::new(job(None)), ctx).await.unwrap();
    let _ = done.send(());
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
    // Re-checked after 30 s with equal jitter, 30 s x (0.5 + 0.5 x 0.5): a Secret created
    // later is picked up.
    assert_eq!(action, Action::requeue(Duration::from_millis(22_500)));
}

#[tokio::test]
async fn the_first_secret_recheck_is_drawn_between_15_and_30_seconds() {
    for (sample, secs) in [(0.0, 15), (1.0, 30)] {
        let Harness {
            ctx,
            mut handle,
            sample: sampler,
            ..
        } = harness(false);
        *sampler.lock().unwrap() = sample;
        let verifier = tokio::spawn(async move {
            expect_get(&mut handle, SECRET_PATH, 404, not_found()).await;
            expect_status_patch(&mut handle, 200).await;
        });
        let action = reconcile(Arc::new(job(None)), ctx).await.unwrap();
        verifier.await.unwrap();
        assert_eq!(
            action,
            Action::requeue(Duration::from_secs(secs)),
            "sample {sample}"
        );
    }
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
    let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
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
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (done, finished) = oneshot::channel();
    let verifier = tokio::spawn(async move {
        // 10:00:00: read and written. 10:00:04.999: same answer, from the cached Secret.
        expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        tx.send(expect_status_patch(&mut handle, 200).await)
            .unwrap();
        // 10:00:05: the read is 5 s old, so the Secret is read again; then cached again
        // for the poll at 10:00:09.999.
        expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        no_more_requests(&mut handle, finished).await;
    });
    let mut status: Option<Value> = None;
    for at in [
        "2026-11-25T10:00:00Z",
        "2026-11-25T10:00:04.999Z",
        "2026-11-25T10:00:05Z",
        "2026-11-25T10:00:09.999Z",
    ] {
        set(&clock, at);
        ctx.memory.forget("uid-1"); // poll now, whatever the schedule says
        reconcile(Arc::new(job(status.clone())), ctx.clone())
            .await
            .unwrap();
        if status.is_none() {
            status = Some(rx.recv().await.unwrap()["status"].clone());
        }
    }
    let _ = done.send(());
    verifier.await.unwrap();
    assert_eq!(provider.calls(), 4, "every reconcile polled");
}

#[tokio::test]
async fn a_secret_cache_is_reused_within_its_ttl_and_dropped_after_an_auth_failure() {
    let Harness {
        mut ctx,
        mut handle,
        provider,
        clock,
        ..
    } = harness(false);
    Arc::get_mut(&mut ctx).unwrap().secrets = SecretReader::new(Duration::from_secs(60));
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
    let (done, finished) = oneshot::channel();
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
        no_more_requests(&mut handle, finished).await;
    });
    let mut status = None;
    let mut patches = Vec::new();
    for at in [
        "2026-11-25T10:00:00Z",
        "2026-11-25T10:00:30Z",
        "2026-11-25T10:00:40Z",
        "2026-11-25T10:00:50Z",
    ] {
        set(&clock, at);
        ctx.memory.forget("uid-1"); // poll now, whatever the schedule says
        reconcile(Arc::new(job(status.clone())), ctx.clone())
            .await
            .unwrap();
        let patch = rx.recv().await.unwrap();
        status = Some(patch["status"].clone());
        patches.push(patch);
    }
    let _ = done.send(());
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
        ..
    } = harness(false);
    Arc::get_mut(&mut ctx).unwrap().secrets = SecretReader::new(Duration::from_secs(60));
    provider.script(
        "15967",
        vec![Ok(running(40)), credentials_rejected(), Ok(running(50))],
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (done, finished) = oneshot::channel();
    let verifier = tokio::spawn(async move {
        expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        tx.send(expect_status_patch(&mut handle, 200).await)
            .unwrap();
        // Second poll: the cached (old) key is rejected; the Secret now holds a new one,
        // which is used for a second call in the same reconcile.
        expect_get(&mut handle, SECRET_PATH, 200, rotated_secret()).await;
        tx.send(expect_status_patch(&mut handle, 200).await)
            .unwrap();
        no_more_requests(&mut handle, finished).await;
    });
    let mut status = None;
    let mut patches = Vec::new();
    for at in ["2026-11-25T10:00:00Z", "2026-11-25T10:00:30Z"] {
        set(&clock, at);
        ctx.memory.forget("uid-1");
        reconcile(Arc::new(job(status.clone())), ctx.clone())
            .await
            .unwrap();
        let patch = rx.recv().await.unwrap();
        status = Some(patch["status"].clone());
        patches.push(patch);
    }
    let _ = done.send(());
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
        ..
    } = harness(false);
    provider.script("15967", vec![credentials_rejected(), Ok(running(50))]);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (done, finished) = oneshot::channel();
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
        no_more_requests(&mut handle, finished).await;
    });
    // Five failures so far: the provider backoff (4-8 min) is longer than the Secret
    // re-check (1-2 min).
    let stalled_before = json!({
        "phase": "Running", "progress": 40, "consecutiveErrors": 4, "pollCount": 9,
        "observedGeneration": 1
    });
    let set = |at: &str| set(&clock, at);
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
    let _ = done.send(());
    verifier.await.unwrap();
    assert_eq!(provider.calls(), 2);
    assert_eq!(patch["status"]["progress"], 50);
    assert_eq!(patch["status"]["reason"], Value::Null);
    assert_eq!(ctx.memory.rejected("uid-1"), None);
}
