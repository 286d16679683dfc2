use super::*;
use crate::api::{CloudDbJobSpec, SUSPENDED_REASON};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

fn job(spec: serde_json::Value) -> CloudDbJob {
    let spec: CloudDbJobSpec = serde_json::from_value(spec).unwrap();
    let mut job = CloudDbJob::new("j", spec);
    job.metadata.generation = Some(1);
    job.metadata.creation_timestamp = Some(Time("2026-01-01T00:00:00Z".parse().unwrap()));
    job
}

fn tencent() -> serde_json::Value {
    serde_json::json!({
        "provider": "tencent", "jobId": "42", "region": "ap-guangzhou",
        "credentialsSecretRef": {"name": "creds"}
    })
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

const NOW: &str = "2026-01-01T00:10:00Z";

#[test]
fn a_due_job_polls_and_a_job_not_due_waits() {
    let prev = CloudDbJobStatus::default();
    let j = job(tencent());
    let now = at(NOW);
    assert_eq!(gate(&j, &prev, None, None, now), Gate::Due);
    let refused = crate::providers::digest::digest_of("refused");
    assert_eq!(gate(&j, &prev, None, Some(refused), now), Gate::Due);
    let wait = Duration::from_secs(9);
    assert_eq!(gate(&j, &prev, Some(wait), None, now), Gate::NotDue(wait));
    assert_eq!(
        gate(&j, &prev, Some(wait), Some(refused), now),
        Gate::RecheckCredentials {
            wait,
            rejected: refused
        }
    );
}

fn finished(phase: JobPhase, at_time: &str) -> CloudDbJobStatus {
    let (type_, other) = match phase {
        JobPhase::Succeeded => ("Complete", "Failed"),
        _ => ("Failed", "Complete"),
    };
    let cond = |t: &str, status: &str, when: &str| Condition {
        type_: t.into(),
        status: status.into(),
        reason: "R".into(),
        message: String::new(),
        observed_generation: Some(1),
        last_transition_time: Time(at(when)),
    };
    CloudDbJobStatus {
        phase: Some(phase),
        observed_generation: Some(1),
        last_poll_time: Some(Time(at(at_time))),
        conditions: vec![
            cond(type_, "True", at_time),
            // An older False condition of the other kind must not count.
            cond(other, "False", "2026-01-01T00:00:00Z"),
        ],
        ..Default::default()
    }
}

#[test]
fn deleted_and_terminal_jobs_never_poll() {
    let mut j = job(tencent());
    let done = finished(JobPhase::Succeeded, "2026-01-01T00:05:00Z");
    let now = at(NOW);
    let kept = Gate::Terminal {
        refreshed: None,
        delete_in: None,
    };
    assert_eq!(gate(&j, &done, None, None, now), kept);
    // Neither a refresh request nor suspension revives a finished job.
    j.metadata.annotations = Some([(REFRESH_ANNOTATION.to_string(), "1".to_string())].into());
    j.spec.suspend = Some(true);
    assert_eq!(gate(&j, &done, None, None, now), kept);
    j.metadata.generation = Some(2);
    match gate(&j, &done, None, None, now) {
        Gate::Terminal {
            refreshed: Some(s),
            delete_in: None,
        } => {
            assert_eq!(s.observed_generation, Some(2));
            assert_eq!(s.phase, Some(JobPhase::Succeeded));
        }
        other => panic!("{other:?}"),
    }
    j.metadata.deletion_timestamp = Some(Time(at("2026-01-01T00:01:00Z")));
    assert_eq!(gate(&j, &done, None, None, now), Gate::Deleted);
}

#[test]
fn a_finished_job_is_deleted_ttl_seconds_after_it_finished() {
    let mut j = job(tencent());
    j.spec.ttl_seconds_after_finished = Some(600);
    // Finished at 00:05 (the Complete condition), so deleted at 00:15.
    let done = finished(JobPhase::Succeeded, "2026-01-01T00:05:00Z");
    assert_eq!(
        gate(&j, &done, None, None, at(NOW)),
        Gate::Terminal {
            refreshed: None,
            delete_in: Some(Duration::from_secs(300)),
        }
    );
    assert_eq!(
        gate(&j, &done, None, None, at("2026-01-01T00:15:00Z")),
        Gate::Expired
    );
    // Failed jobs too, counted from their Failed condition.
    let failed = finished(JobPhase::Failed, "2026-01-01T00:09:00Z");
    assert_eq!(
        gate(&j, &failed, None, None, at(NOW)),
        Gate::Terminal {
            refreshed: None,
            delete_in: Some(Duration::from_secs(540)),
        }
    );
    // Zero deletes as soon as the job is seen finished.
    j.spec.ttl_seconds_after_finished = Some(0);
    assert_eq!(gate(&j, &failed, None, None, at(NOW)), Gate::Expired);
    // A running job is never deleted, whatever its TTL.
    let running = CloudDbJobStatus {
        phase: Some(JobPhase::Running),
        ..Default::default()
    };
    assert_eq!(gate(&j, &running, None, None, at(NOW)), Gate::Due);
}

#[test]
fn without_a_true_terminal_condition_the_ttl_counts_from_the_last_poll() {
    // A finished status without a True Complete/Failed condition (written before
    // conditions were kept, or edited by hand): counted from the last poll.
    let mut j = job(tencent());
    j.spec.ttl_seconds_after_finished = Some(600);
    let mut done = finished(JobPhase::Succeeded, "2026-01-01T00:05:00Z");
    done.conditions.retain(|c| c.status != "True");
    done.last_poll_time = Some(Time(at("2026-01-01T00:07:00Z")));
    assert_eq!(ttl_deadline(&j, &done), Some(at("2026-01-01T00:17:00Z")));
    assert_eq!(
        gate(&j, &done, None, None, at(NOW)),
        Gate::Terminal {
            refreshed: None,
            delete_in: Some(Duration::from_secs(420)),
        }
    );
    assert_eq!(
        gate(&j, &done, None, None, at("2026-01-01T00:17:00Z")),
        Gate::Expired
    );
    // Neither a condition nor a poll time: nothing to count from, never deleted.
    done.last_poll_time = None;
    assert_eq!(ttl_deadline(&j, &done), None);
}

#[test]
fn a_suspended_job_is_not_polled_and_says_so_once() {
    let mut j = job(tencent());
    j.spec.suspend = Some(true);
    let running = CloudDbJobStatus {
        phase: Some(JobPhase::Running),
        progress: Some(40),
        observed_generation: Some(1),
        ..Default::default()
    };
    let now = at(NOW);
    // Without `spec.timeout` nothing but a change wakes it.
    let Gate::Suspended {
        status: Some(status),
        wake_in: None,
    } = gate(&j, &running, None, None, now)
    else {
        panic!("a suspended job must not poll");
    };
    assert_eq!(status.reason.as_deref(), Some(SUSPENDED_REASON));
    assert_eq!(status.phase, Some(JobPhase::Running));
    assert_eq!(status.progress, Some(40), "the last poll's findings stay");
    let reconciling = find(&status.conditions, ConditionType::Reconciling).unwrap();
    assert_eq!(
        (reconciling.status.as_str(), reconciling.reason.as_str()),
        ("False", SUSPENDED_REASON)
    );
    // Written once: the next reconcile finds nothing to change.
    assert_eq!(
        gate(&j, &status, None, None, at("2026-01-01T01:00:00Z")),
        Gate::Suspended {
            status: None,
            wake_in: None
        }
    );
    // `suspend: false` polls as usual.
    j.spec.suspend = Some(false);
    assert_eq!(gate(&j, &status, None, None, now), Gate::Due);
}

#[test]
fn a_new_refresh_request_polls_at_once_and_only_once() {
    let mut j = job(tencent());
    let wait = Duration::from_secs(3600);
    let mut prev = CloudDbJobStatus {
        phase: Some(JobPhase::Running),
        ..Default::default()
    };
    let now = at(NOW);
    assert_eq!(pending_refresh(&j, &prev), None);
    j.metadata.annotations = Some(
        [(
            REFRESH_ANNOTATION.to_string(),
            "2026-01-01T00:09:59Z".to_string(),
        )]
        .into(),
    );
    assert_eq!(pending_refresh(&j, &prev), Some("2026-01-01T00:09:59Z"));
    assert_eq!(gate(&j, &prev, Some(wait), None, now), Gate::Due);
    // Suspended too: one poll, on request.
    j.spec.suspend = Some(true);
    assert_eq!(gate(&j, &prev, Some(wait), None, now), Gate::Due);
    j.spec.suspend = None;
    // Acted on (recorded in status): back to the schedule.
    prev.last_refresh_request = Some("2026-01-01T00:09:59Z".into());
    assert_eq!(pending_refresh(&j, &prev), None);
    assert_eq!(gate(&j, &prev, Some(wait), None, now), Gate::NotDue(wait));
    // An empty value is no request.
    j.metadata.annotations = Some([(REFRESH_ANNOTATION.to_string(), " ".to_string())].into());
    assert_eq!(pending_refresh(&j, &prev), None);
}

#[test]
fn an_invalid_spec_is_blocked_without_retry() {
    let mut spec = tencent();
    spec["jobId"] = "not-a-number".into();
    match validate(
        &job(spec),
        &EndpointPolicy::default(),
        at("2026-01-01T00:00:01Z"),
    ) {
        Err(Stop::Blocked(b)) => {
            assert_eq!(b.reason, "InvalidSpec");
            assert!(!b.retry);
            assert!(b.message.contains("not-a-number"), "{}", b.message);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_endpoint_outside_the_policy_is_blocked() {
    let mut spec = tencent();
    spec["endpoint"] = "https://evil.example.com".into();
    match validate(
        &job(spec),
        &EndpointPolicy::default(),
        at("2026-01-01T00:00:01Z"),
    ) {
        Err(Stop::Blocked(b)) => assert_eq!(b.reason, "EndpointNotAllowed"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_timeout_stops_tracking_at_its_deadline_and_not_before() {
    let mut spec = tencent();
    spec["timeout"] = "1h".into();
    spec["pollInterval"] = "20s".into();
    let j = job(spec);
    let policy = EndpointPolicy::default();
    let ok = validate(&j, &policy, at("2026-01-01T00:59:59Z")).unwrap();
    assert_eq!(ok.interval, Duration::from_secs(20));
    assert_eq!(ok.target.job_id, "42");
    match validate(&j, &policy, at("2026-01-01T01:00:00Z")) {
        Err(Stop::TimedOut(m)) => assert!(m.contains("1h"), "{m}"),
        other => panic!("{other:?}"),
    }
}

/// A suspended job with `spec.timeout: 1h`, created 00:00, last seen running.
fn suspended_with_timeout() -> (CloudDbJob, CloudDbJobStatus) {
    let mut spec = tencent();
    spec["timeout"] = "1h".into();
    spec["suspend"] = true.into();
    let running = CloudDbJobStatus {
        phase: Some(JobPhase::Running),
        progress: Some(40),
        observed_generation: Some(1),
        ..Default::default()
    };
    (job(spec), running)
}

#[test]
fn a_suspended_job_wakes_at_its_timeout_deadline() {
    let (j, running) = suspended_with_timeout();
    let Gate::Suspended {
        status: Some(status),
        wake_in,
    } = gate(&j, &running, None, None, at(NOW))
    else {
        panic!("suspended before its deadline");
    };
    // 00:10 now, deadline 01:00 (creation + 1h): looked at again then, not polled.
    assert_eq!(wake_in, Some(Duration::from_secs(50 * 60)));
    // One second before the deadline: still suspended, due again in one second.
    assert_eq!(
        gate(&j, &status, None, None, at("2026-01-01T00:59:59Z")),
        Gate::Suspended {
            status: None,
            wake_in: Some(Duration::from_secs(1)),
        }
    );
}

#[test]
fn a_suspended_job_times_out_at_its_deadline_without_a_poll() {
    let (j, running) = suspended_with_timeout();
    // At the deadline exactly, and any time after: it fails like an unsuspended job,
    // with validate's own message (reason TrackingTimeout in the status).
    let Err(expected) = validate(&j, &EndpointPolicy::default(), at("2026-01-01T01:00:00Z")) else {
        panic!("validate must time out at the deadline");
    };
    for now in ["2026-01-01T01:00:00Z", "2026-01-02T00:00:00Z"] {
        match (gate(&j, &running, None, None, at(now)), &expected) {
            (Gate::TimedOut(m), Stop::TimedOut(e)) => {
                assert_eq!(&m, e);
                assert!(m.contains("1h"), "{m}");
            }
            (other, _) => panic!("at {now}: {other:?}"),
        }
    }
    // Also when its status already says Suspended (the usual case).
    let suspended = suspended_status(&running, Some(1), at(NOW));
    assert!(matches!(
        gate(&j, &suspended, None, None, at("2026-01-01T01:00:00Z")),
        Gate::TimedOut(_)
    ));
    // A finished job never times out again.
    let done = finished(JobPhase::Succeeded, "2026-01-01T00:05:00Z");
    assert!(matches!(
        gate(&j, &done, None, None, at("2026-01-01T01:00:00Z")),
        Gate::Terminal { .. }
    ));
}

#[test]
fn an_unreadable_timeout_leaves_a_suspended_job_suspended() {
    // Admission normally refuses it; resuming reports it as InvalidSpec.
    let (mut j, running) = suspended_with_timeout();
    j.spec.timeout = Some("soon".into());
    assert!(matches!(
        gate(&j, &running, None, None, at("2026-01-02T00:00:00Z")),
        Gate::Suspended { wake_in: None, .. }
    ));
}
