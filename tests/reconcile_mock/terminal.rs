//! Terminal and blocked jobs: a terminal status is never changed again, whatever the
//! provider says later; only its `observedGeneration` catches up.

use std::sync::Arc;

use clouddb_job_operator::api::JobPhase;
use clouddb_job_operator::controller::reconcile;
use clouddb_job_operator::providers::JobObservation;
use kube::runtime::controller::Action;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::*;

#[tokio::test]
async fn a_terminal_job_is_left_alone() {
    for done in [
        json!({"observedGeneration": 1, "phase": "Succeeded", "progress": 100}),
        json!({"observedGeneration": 1, "phase": "Failed", "reason": "JobFailed", "progress": 60}),
        json!({"observedGeneration": 1, "phase": "Failed", "reason": "TrackingTimeout"}),
    ] {
        let Harness {
            ctx,
            mut handle,
            provider,
            ..
        } = harness(false);
        provider.script("15967", vec![Ok(running(40))]);
        let (finish, finished) = oneshot::channel();
        let verifier = tokio::spawn(async move { no_more_requests(&mut handle, finished).await });
        let action = reconcile(Arc::new(job(Some(done.clone()))), ctx)
            .await
            .unwrap();
        let _ = finish.send(());
        verifier.await.unwrap();
        assert_eq!(action, Action::await_change(), "{done}");
        assert_eq!(provider.calls(), 0, "{done}");
    }
}

/// Reconciles the job once per time in `at`, each from the status last written, with the
/// provider answering `later` to any poll after the first; expects exactly one write (the
/// first reconcile's) and returns it.
async fn written_once(
    first: Vec<Result<JobObservation, clouddb_job_operator::providers::ProviderError>>,
    at: &[&str],
) -> (Value, usize) {
    let Harness {
        ctx,
        mut handle,
        provider,
        clock,
        ..
    } = harness(false);
    let polls_first = first.len();
    let mut script = first;
    let succeeded = JobObservation {
        phase: Some(JobPhase::Succeeded),
        provider_status: Some("SUCCEED".into()),
        progress: Some(100),
        ..running(100)
    };
    script.extend([Ok(running(70)), Ok(succeeded)]);
    provider.script("15967", script);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (finish, finished) = oneshot::channel();
    let verifier = tokio::spawn(async move {
        for _ in 0..polls_first {
            expect_get(&mut handle, SECRET_PATH, 200, secret()).await;
        }
        tx.send(expect_status_patch(&mut handle, 200).await)
            .unwrap();
        no_more_requests(&mut handle, finished).await;
    });
    let mut status = None;
    for (i, time) in at.iter().enumerate() {
        set(&clock, time);
        ctx.memory.forget("uid-1"); // as after a restart: no schedule to wait for
        let action = reconcile(Arc::new(job(status.clone())), ctx.clone())
            .await
            .unwrap();
        assert_eq!(action, Action::await_change(), "reconcile {i} at {time}");
        if i == 0 {
            status = Some(rx.recv().await.unwrap()["status"].clone());
        }
    }
    let _ = finish.send(());
    verifier.await.unwrap();
    (status.unwrap(), provider.calls())
}

#[tokio::test]
async fn a_failed_job_stays_failed_whatever_the_provider_says_later() {
    let failed = JobObservation {
        phase: Some(JobPhase::Failed),
        provider_status: Some("FAILED".into()),
        message: Some("upgrade failed".into()),
        ..running(60)
    };
    let (status, calls) = written_once(
        vec![Ok(failed)],
        &[
            "2026-11-25T10:00:00Z",
            "2026-11-25T10:05:00Z",
            "2026-11-25T10:30:00Z",
        ],
    )
    .await;
    assert_eq!(status["phase"], "Failed");
    assert_eq!(status["reason"], "JobFailed");
    assert_eq!(calls, 1, "never polled again");
}

#[tokio::test]
async fn a_timed_out_job_stays_failed_whatever_the_provider_says_later() {
    // Created 09:00 with a 2 h timeout: at 11:00:01 it fails without a poll, and stays so.
    let (status, calls) = written_once(
        vec![],
        &[
            "2026-11-25T11:00:01Z",
            "2026-11-25T11:05:00Z",
            "2026-11-25T12:00:00Z",
        ],
    )
    .await;
    assert_eq!(status["phase"], "Failed");
    assert_eq!(status["reason"], "TrackingTimeout");
    assert_eq!(condition(&status, "Failed")["reason"], "TrackingTimeout");
    assert_eq!(calls, 0, "never polled");
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
    let (finish, finished) = oneshot::channel();
    let verifier = tokio::spawn(async move {
        let patch = expect_status_patch(&mut handle, 200).await;
        no_more_requests(&mut handle, finished).await;
        patch
    });
    let action = reconcile(Arc::new(job(Some(done))), ctx).await.unwrap();
    let _ = finish.send(());
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
async fn the_timeout_fails_the_job_without_polling() {
    let Harness {
        ctx,
        mut handle,
        provider,
        clock,
        ..
    } = harness(false);
    set(&clock, "2026-11-25T11:00:01Z"); // created 09:00, timeout 2h
    let (finish, finished) = oneshot::channel();
    let verifier = tokio::spawn(async move {
        let patch = expect_status_patch(&mut handle, 200).await;
        no_more_requests(&mut handle, finished).await;
        patch
    });
    let action = reconcile(Arc::new(job(None)), ctx).await.unwrap();
    let _ = finish.send(());
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
    let (finish, finished) = oneshot::channel();
    let verifier = tokio::spawn(async move {
        let patch = expect_status_patch(&mut handle, 200).await;
        no_more_requests(&mut handle, finished).await;
        patch
    });
    let action = reconcile(Arc::new(j), ctx).await.unwrap();
    let _ = finish.send(());
    let patch = verifier.await.unwrap();
    assert_eq!(patch["status"]["reason"], "EndpointNotAllowed");
    assert_eq!(
        action,
        Action::await_change(),
        "only a spec change can fix it"
    );
    assert_eq!(provider.calls(), 0);
}
