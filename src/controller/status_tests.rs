use super::*;
use crate::api::UpgradeDetail;
use crate::controller::conditions::find;

use crate::providers::{ErrorReason, JobDetail};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn ctx(now: &str, polls: i64) -> StatusContext {
    StatusContext {
        generation: Some(1),
        now: ts(now),
        poll_count: polls,
    }
}

fn running(progress: u8) -> JobObservation {
    JobObservation {
        phase: Some(JobPhase::Running),
        provider_status: Some("RUNNING".into()),
        progress: Some(progress),
        job_type: Some("upgrade".into()),
        provider_job_type: Some("UPGRADE MASTER".into()),
        start_time: Some(ts("2026-01-01T00:00:00Z")),
        instance_ids: vec!["cdb-1".into()],
        ..Default::default()
    }
}

fn cond(s: &CloudDbJobStatus, t: ConditionType) -> (&str, &str) {
    let c = find(&s.conditions, t).unwrap_or_else(|| panic!("missing {t:?}"));
    (c.status.as_str(), c.reason.as_str())
}

#[test]
fn first_running_observation() {
    let s = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&running(40)),
        &ctx("2026-01-01T00:10:00Z", 1),
    );
    assert_eq!(s.phase, Some(JobPhase::Running));
    assert_eq!(s.progress, Some(40));
    assert_eq!(s.observed_generation, Some(1));
    assert_eq!(s.provider_status.as_deref(), Some("RUNNING"));
    assert_eq!(s.job_type.as_deref(), Some("upgrade"));
    assert_eq!(s.instance_ids, vec!["cdb-1"]);
    assert_eq!(s.consecutive_errors, Some(0));
    assert_eq!(s.poll_count, Some(1));
    assert_eq!(cond(&s, ConditionType::Ready), ("False", "Running"));
    assert_eq!(cond(&s, ConditionType::Reconciling), ("True", "Running"));
    assert_eq!(cond(&s, ConditionType::Complete), ("False", "Running"));
    assert_eq!(cond(&s, ConditionType::Failed), ("False", "NotFailed"));
    assert_eq!(cond(&s, ConditionType::Stalled), ("False", "NotStalled"));
    assert!(s
        .conditions
        .iter()
        .all(|c| c.observed_generation == Some(1)));
    // 40% after 10 minutes: 25 minutes in all.
    assert_eq!(
        s.estimated_completion_time,
        Some(Time(ts("2026-01-01T00:25:00Z")))
    );
}

#[test]
fn success_sets_ready_and_complete() {
    let prev = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&running(40)),
        &ctx("2026-01-01T00:10:00Z", 1),
    );
    let done = JobObservation {
        phase: Some(JobPhase::Succeeded),
        provider_status: Some("SUCCEED".into()),
        progress: None,
        end_time: Some(ts("2026-01-01T00:20:00Z")),
        ..Default::default()
    };
    let s = next_status(
        &prev,
        PollOutcome::Observed(&done),
        &ctx("2026-01-01T00:20:05Z", 2),
    );
    assert_eq!(s.phase, Some(JobPhase::Succeeded));
    assert_eq!(s.progress, Some(100));
    assert_eq!(s.reason, None);
    assert_eq!(s.end_time, Some(Time(ts("2026-01-01T00:20:00Z"))));
    assert_eq!(
        s.job_type.as_deref(),
        Some("upgrade"),
        "kept from earlier poll"
    );
    assert_eq!(s.estimated_completion_time, None);
    assert_eq!(cond(&s, ConditionType::Ready), ("True", "Succeeded"));
    assert_eq!(cond(&s, ConditionType::Complete), ("True", "Succeeded"));
    assert_eq!(cond(&s, ConditionType::Reconciling), ("False", "Succeeded"));
    assert_eq!(cond(&s, ConditionType::Failed).0, "False");
    let ready = find(&s.conditions, ConditionType::Ready).unwrap();
    assert_eq!(ready.last_transition_time, Time(ts("2026-01-01T00:20:05Z")));
    let failed = find(&s.conditions, ConditionType::Failed).unwrap();
    assert_eq!(
        failed.last_transition_time,
        Time(ts("2026-01-01T00:10:00Z")),
        "unchanged status keeps its time"
    );
}

#[test]
fn failure_with_reason_is_failed_and_stalled() {
    let killed = JobObservation {
        phase: Some(JobPhase::Failed),
        reason: Some("Aborted".into()),
        provider_status: Some("KILLED".into()),
        message: Some("killed by user".into()),
        ..Default::default()
    };
    let s = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&killed),
        &ctx("2026-01-01T00:00:00Z", 1),
    );
    assert_eq!(s.phase, Some(JobPhase::Failed));
    assert_eq!(s.reason.as_deref(), Some("Aborted"));
    assert_eq!(cond(&s, ConditionType::Failed), ("True", "Aborted"));
    assert_eq!(cond(&s, ConditionType::Stalled), ("True", "Aborted"));
    assert_eq!(cond(&s, ConditionType::Ready), ("False", "Aborted"));
    assert_eq!(cond(&s, ConditionType::Reconciling), ("False", "Aborted"));
    let failed = find(&s.conditions, ConditionType::Failed).unwrap();
    assert!(
        failed.message.contains("killed by user"),
        "{}",
        failed.message
    );
}

#[test]
fn plain_failure_gets_job_failed_reason() {
    let failed = JobObservation {
        phase: Some(JobPhase::Failed),
        ..Default::default()
    };
    let s = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&failed),
        &ctx("2026-01-01T00:00:00Z", 1),
    );
    assert_eq!(s.reason.as_deref(), Some("JobFailed"));
}

#[test]
fn terminal_status_never_flips_back() {
    let done = JobObservation {
        phase: Some(JobPhase::Succeeded),
        ..Default::default()
    };
    let prev = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&done),
        &ctx("2026-01-01T00:00:00Z", 1),
    );
    let mut later = ctx("2026-01-01T01:00:00Z", 9);
    later.generation = Some(2);
    for outcome in [
        PollOutcome::Observed(&running(10)),
        PollOutcome::ProviderFailed(&ProviderError::transient("HTTP 503", "x")),
        PollOutcome::TimedOut {
            message: "late".into(),
        },
    ] {
        let s = next_status(&prev, outcome, &later);
        assert_eq!(s.phase, Some(JobPhase::Succeeded));
        assert_eq!(s.observed_generation, Some(2));
        assert_eq!(s.conditions.len(), prev.conditions.len());
        assert!(s
            .conditions
            .iter()
            .all(|c| c.observed_generation == Some(2)));
        assert_eq!(s.poll_count, prev.poll_count);
        assert_eq!(cond(&s, ConditionType::Complete).0, "True");
    }
}

#[test]
fn transient_errors_never_change_the_phase() {
    let prev = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&running(40)),
        &ctx("2026-01-01T00:10:00Z", 1),
    );
    let err = ProviderError::transient("HTTP 503", "service unavailable");
    let s1 = next_status(
        &prev,
        PollOutcome::ProviderFailed(&err),
        &ctx("2026-01-01T00:11:00Z", 2),
    );
    let s2 = next_status(
        &s1,
        PollOutcome::ProviderFailed(&err),
        &ctx("2026-01-01T00:12:00Z", 3),
    );
    assert_eq!(s2.phase, Some(JobPhase::Running));
    assert_eq!(s2.progress, Some(40));
    assert_eq!(s2.consecutive_errors, Some(2));
    assert_eq!(s2.message, prev.message);
    assert_eq!(
        cond(&s2, ConditionType::Reconciling),
        ("True", "RetryingAfterError")
    );
    assert_eq!(cond(&s2, ConditionType::Failed).0, "False");
    assert_eq!(cond(&s2, ConditionType::Stalled).0, "False");
    let recovered = next_status(
        &s2,
        PollOutcome::Observed(&running(50)),
        &ctx("2026-01-01T00:13:00Z", 4),
    );
    assert_eq!(recovered.consecutive_errors, Some(0));
    assert_eq!(
        cond(&recovered, ConditionType::Reconciling),
        ("True", "Running")
    );
}

#[test]
fn throttling_is_reported_as_such() {
    let err = ProviderError::throttled("RequestLimitExceeded", "slow down");
    let s = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::ProviderFailed(&err),
        &ctx("2026-01-01T00:00:00Z", 1),
    );
    assert_eq!(s.phase, Some(JobPhase::Pending));
    assert_eq!(cond(&s, ConditionType::Reconciling), ("True", "Throttled"));
}

#[test]
fn permanent_errors_stall_until_fixed() {
    let prev = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&running(40)),
        &ctx("2026-01-01T00:10:00Z", 1),
    );
    let err = ProviderError::permanent(
        ErrorReason::AuthenticationFailed,
        "AuthFailure.SignatureFailure",
        "signature mismatch",
    )
    .with_request_id(Some("req-9".into()));
    let s = next_status(
        &prev,
        PollOutcome::ProviderFailed(&err),
        &ctx("2026-01-01T00:11:00Z", 2),
    );
    assert_eq!(
        s.phase,
        Some(JobPhase::Running),
        "the job itself did not fail"
    );
    assert_eq!(s.reason.as_deref(), Some("AuthenticationFailed"));
    assert!(s
        .message
        .as_deref()
        .unwrap()
        .contains("AuthFailure.SignatureFailure"));
    assert!(s.message.as_deref().unwrap().contains("req-9"));
    assert_eq!(
        cond(&s, ConditionType::Stalled),
        ("True", "AuthenticationFailed")
    );
    assert_eq!(
        cond(&s, ConditionType::Reconciling),
        ("False", "AuthenticationFailed")
    );
    assert_eq!(cond(&s, ConditionType::Failed).0, "False");
    let fixed = next_status(
        &s,
        PollOutcome::Observed(&running(45)),
        &ctx("2026-01-01T00:12:00Z", 3),
    );
    assert_eq!(cond(&fixed, ConditionType::Stalled).0, "False");
    assert_eq!(fixed.reason, None);
}

#[test]
fn blocked_configuration_stalls_with_its_reason() {
    let s = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Blocked {
            reason: "SecretNotFound",
            message: "Secret \"creds\" not found".into(),
        },
        &ctx("2026-01-01T00:00:00Z", 0),
    );
    assert_eq!(s.phase, Some(JobPhase::Pending));
    assert_eq!(s.reason.as_deref(), Some("SecretNotFound"));
    assert_eq!(cond(&s, ConditionType::Stalled), ("True", "SecretNotFound"));
    assert_eq!(s.consecutive_errors, Some(1));
}

#[test]
fn timeout_fails_the_job() {
    let prev = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&running(40)),
        &ctx("2026-01-01T00:10:00Z", 1),
    );
    let s = next_status(
        &prev,
        PollOutcome::TimedOut {
            message: "gave up after 1h".into(),
        },
        &ctx("2026-01-01T01:00:00Z", 1),
    );
    assert_eq!(s.phase, Some(JobPhase::Failed));
    assert_eq!(s.reason.as_deref(), Some("TrackingTimeout"));
    assert_eq!(cond(&s, ConditionType::Failed), ("True", "TrackingTimeout"));
    assert_eq!(s.estimated_completion_time, None);
}

#[test]
fn an_unchanged_job_needs_no_write() {
    let first = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&running(40)),
        &ctx("2026-01-01T00:10:00Z", 1),
    );
    let second = next_status(
        &first,
        PollOutcome::Observed(&running(40)),
        &ctx("2026-01-01T00:10:15Z", 2),
    );
    assert_ne!(first.last_poll_time, second.last_poll_time);
    assert_eq!(
        first.estimated_completion_time, second.estimated_completion_time,
        "ETA only moves with progress"
    );
    assert!(!needs_write(&first, &second));
    let third = next_status(
        &second,
        PollOutcome::Observed(&running(41)),
        &ctx("2026-01-01T00:10:30Z", 3),
    );
    assert!(needs_write(&second, &third));
    assert_ne!(
        third.estimated_completion_time,
        second.estimated_completion_time
    );
}

/// A value as the cluster gives it back: what was written, read again.
pub(crate) fn stored<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> T {
    serde_json::from_value(serde_json::to_value(value).unwrap()).unwrap()
}

#[test]
fn sub_second_provider_times_cause_no_write_once_stored() {
    // AWS reports milliseconds, Cloud SQL nanoseconds; the cluster keeps whole seconds.
    let mut obs = running(40);
    obs.start_time = Some(ts("2026-01-01T00:00:00.896Z"));
    obs.end_time = Some(ts("2026-01-01T00:30:00.123456789Z"));
    let first = stored(&next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&obs),
        &ctx("2026-01-01T00:10:00.250Z", 1),
    ));
    let second = next_status(
        &first,
        PollOutcome::Observed(&obs),
        &ctx("2026-01-01T00:10:30.700Z", 2),
    );
    assert!(
        !needs_write(&first, &second),
        "only the precision the cluster drops differs"
    );
    // A time that really moved is still written.
    obs.start_time = Some(ts("2026-01-01T00:00:01.000Z"));
    let third = next_status(
        &first,
        PollOutcome::Observed(&obs),
        &ctx("2026-01-01T00:11:00Z", 3),
    );
    assert!(needs_write(&first, &third));
}

#[test]
fn provider_times_are_kept_as_the_cluster_keeps_them() {
    assert_eq!(
        wire_time(ts("2026-01-01T00:00:00.999Z")),
        Time(ts("2026-01-01T00:00:00Z"))
    );
    // What a time the cluster gave back is compared with, whatever else sets it.
    let at = |t: &str| CloudDbJobStatus {
        estimated_completion_time: Some(Time(ts(t))),
        ..CloudDbJobStatus::default()
    };
    assert!(same_when_written(
        &at("2026-01-01T00:20:00Z"),
        &at("2026-01-01T00:20:00.5Z")
    ));
    assert!(!same_when_written(
        &at("2026-01-01T00:20:00Z"),
        &at("2026-01-01T00:20:01Z")
    ));
}

#[test]
fn a_provider_countdown_sets_the_eta_only_when_progress_moves() {
    let mut obs = running(40);
    obs.remaining = Some(std::time::Duration::from_secs(600));
    let first = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&obs),
        &ctx("2026-01-01T00:10:00.400Z", 1),
    );
    // The provider's estimate, not the extrapolation from progress (which would say 00:25).
    assert_eq!(
        first.estimated_completion_time.as_ref().map(|t| t.0),
        Some(ts("2026-01-01T00:20:00Z"))
    );
    // The countdown moved with the clock; progress did not: no write.
    obs.remaining = Some(std::time::Duration::from_secs(585));
    let second = next_status(
        &first,
        PollOutcome::Observed(&obs),
        &ctx("2026-01-01T00:10:15Z", 2),
    );
    assert!(!needs_write(&first, &second));
    obs.progress = Some(50);
    obs.remaining = Some(std::time::Duration::from_secs(300));
    let third = next_status(
        &second,
        PollOutcome::Observed(&obs),
        &ctx("2026-01-01T00:11:00Z", 3),
    );
    assert_eq!(
        third.estimated_completion_time.as_ref().map(|t| t.0),
        Some(ts("2026-01-01T00:16:00Z"))
    );
}

#[test]
fn missing_fields_keep_what_earlier_polls_learnt() {
    let mut with_detail = running(40);
    with_detail.detail = JobDetail {
        upgrade: Some(UpgradeDetail {
            instance_id: Some("cdb-1".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let first = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&with_detail),
        &ctx("2026-01-01T00:10:00Z", 1),
    );
    let sparse = JobObservation {
        phase: Some(JobPhase::Running),
        ..Default::default()
    };
    let s = next_status(
        &first,
        PollOutcome::Observed(&sparse),
        &ctx("2026-01-01T00:11:00Z", 2),
    );
    assert_eq!(s.progress, Some(40));
    assert_eq!(s.upgrade, first.upgrade);
    assert_eq!(s.instance_ids, vec!["cdb-1"]);
    assert_eq!(s.start_time, first.start_time);
}

#[test]
fn the_azure_detail_is_written_and_kept_when_a_poll_omits_it() {
    let detail = crate::api::AzureDetail {
        operation_name: Some("0ec0de9b-4a56-4b3c-8a9b-6f7e2c1d0e11".into()),
        resource_provider: Some("Microsoft.DBforPostgreSQL".into()),
        ..Default::default()
    };
    let mut with_detail = running(40);
    with_detail.detail.azure = Some(detail.clone());
    let first = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&with_detail),
        &ctx("2026-01-01T00:10:00Z", 1),
    );
    assert_eq!(first.azure.as_ref(), Some(&detail));
    let sparse = running(50);
    let s = next_status(
        &first,
        PollOutcome::Observed(&sparse),
        &ctx("2026-01-01T00:11:00Z", 2),
    );
    assert_eq!(s.azure.as_ref(), Some(&detail));
    let failed = JobObservation {
        phase: Some(JobPhase::Failed),
        provider_status: Some("Failed".into()),
        detail: JobDetail {
            azure: Some(crate::api::AzureDetail {
                error_code: Some("ServerStorageFull".into()),
                ..detail.clone()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let s = next_status(
        &s,
        PollOutcome::Observed(&failed),
        &ctx("2026-01-01T00:12:00Z", 3),
    );
    assert_eq!(
        s.azure.and_then(|a| a.error_code).as_deref(),
        Some("ServerStorageFull")
    );
}

#[test]
fn gcp_detail_is_written_and_kept_and_no_progress_is_invented() {
    let mut observed = JobObservation {
        phase: Some(JobPhase::Running),
        ..Default::default()
    };
    observed.detail.gcp = Some(clouddb_api::GcpDetail {
        operation_type: Some("IMPORT".into()),
        target_id: Some("orders-db".into()),
        ..Default::default()
    });
    let first = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&observed),
        &ctx("2026-01-01T00:10:00Z", 1),
    );
    assert_eq!(first.gcp, observed.detail.gcp);
    assert_eq!(first.progress, None);
    assert_eq!(first.estimated_completion_time, None);
    let sparse = JobObservation {
        phase: Some(JobPhase::Running),
        ..Default::default()
    };
    let second = next_status(
        &first,
        PollOutcome::Observed(&sparse),
        &ctx("2026-01-01T00:11:00Z", 2),
    );
    assert_eq!(second.gcp, first.gcp);
    assert_eq!(second.progress, None);
}

#[test]
fn a_running_job_missing_from_one_listing_stays_running() {
    let first = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&running(40)),
        &ctx("2026-01-01T00:10:00Z", 1),
    );
    let gone = JobObservation::not_found_yet("not listed");
    let s = next_status(
        &first,
        PollOutcome::Observed(&gone),
        &ctx("2026-01-01T00:11:00Z", 2),
    );
    assert_eq!(s.phase, Some(JobPhase::Running));
    assert_eq!(s.progress, Some(40));
    let fresh = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&gone),
        &ctx("2026-01-01T00:11:00Z", 1),
    );
    assert_eq!(fresh.phase, Some(JobPhase::Pending));
    assert_eq!(fresh.reason.as_deref(), Some("NotFoundYet"));
}

#[test]
fn eta_math() {
    let start = ts("2026-01-01T00:00:00Z");
    assert_eq!(
        estimate_completion(start, ts("2026-01-01T00:30:00Z"), 50),
        Some(ts("2026-01-01T01:00:00Z"))
    );
    assert_eq!(
        estimate_completion(start, ts("2026-01-01T00:30:00Z"), 0),
        None
    );
    assert_eq!(
        estimate_completion(start, ts("2026-01-01T00:30:00Z"), 100),
        None
    );
    assert_eq!(estimate_completion(start, start, 50), None);
}

#[test]
fn long_messages_are_truncated() {
    let mut obs = running(1);
    obs.message = Some("é".repeat(5000));
    let s = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&obs),
        &ctx("2026-01-01T00:10:00Z", 1),
    );
    let m = s.message.unwrap();
    assert_eq!(m.chars().count(), MAX_MESSAGE_CHARS);
    assert!(m.ends_with('…'));
}

#[test]
fn resuming_a_suspended_job_drops_the_suspension_whatever_the_first_poll_finds() {
    let seen = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&running(40)),
        &ctx("2026-01-01T00:10:00Z", 1),
    );
    let suspended = suspended_status(&seen, Some(2), ts("2026-01-01T00:11:00Z"));
    assert_eq!(suspended.reason.as_deref(), Some(SUSPENDED_REASON));
    assert_eq!(
        cond(&suspended, ConditionType::Reconciling),
        ("False", "Suspended")
    );
    assert_eq!(
        cond(&suspended, ConditionType::Stalled),
        ("False", "NotStalled")
    );
    assert_eq!(suspended.progress, Some(40));
    // Even a transient failure (which keeps phase, reason and message) ends the suspension.
    let err = ProviderError::transient("HTTP 503", "service unavailable");
    let resumed = next_status(
        &suspended,
        PollOutcome::ProviderFailed(&err),
        &ctx("2026-01-01T00:20:00Z", 2),
    );
    assert_eq!(resumed.reason, None);
    assert_eq!(
        cond(&resumed, ConditionType::Reconciling),
        ("True", "RetryingAfterError")
    );
    let resumed = next_status(
        &suspended,
        PollOutcome::Observed(&running(60)),
        &ctx("2026-01-01T00:20:00Z", 2),
    );
    assert_eq!(resumed.reason, None);
    assert_eq!(resumed.progress, Some(60));
    assert_eq!(
        cond(&resumed, ConditionType::Reconciling),
        ("True", "Running")
    );
}

/// The apiserver serves a job no controller has written with the CRD's default status
/// (`observedGeneration: 0`). Whatever the first reconcile finds, its write replaces that
/// default: it owns `observedGeneration` (the generation it saw) and sets every condition,
/// `Reconciling` included, explicitly.
#[test]
fn the_first_write_replaces_the_crds_default_status() {
    let fresh = CloudDbJobStatus::unobserved();
    assert!(fresh.is_unobserved());
    let transient = ProviderError::transient("HTTP 503", "service unavailable");
    let throttled = ProviderError::throttled("RequestLimitExceeded", "slow down");
    let now = ts("2026-01-01T00:00:00Z");
    let firsts = [
        (
            "running",
            next_status(
                &fresh,
                PollOutcome::Observed(&running(10)),
                &ctx("2026-01-01T00:00:00Z", 1),
            ),
            "True",
        ),
        (
            "not listed yet",
            next_status(
                &fresh,
                PollOutcome::Observed(&JobObservation::default()),
                &ctx("2026-01-01T00:00:00Z", 1),
            ),
            "True",
        ),
        (
            "transient error",
            next_status(
                &fresh,
                PollOutcome::ProviderFailed(&transient),
                &ctx("2026-01-01T00:00:00Z", 1),
            ),
            "True",
        ),
        (
            "throttled",
            next_status(
                &fresh,
                PollOutcome::ProviderFailed(&throttled),
                &ctx("2026-01-01T00:00:00Z", 1),
            ),
            "True",
        ),
        (
            "blocked",
            next_status(
                &fresh,
                PollOutcome::Blocked {
                    reason: "SecretNotFound",
                    message: "Secret \"creds\" not found".into(),
                },
                &ctx("2026-01-01T00:00:00Z", 0),
            ),
            "False",
        ),
        (
            "timed out",
            next_status(
                &fresh,
                PollOutcome::TimedOut {
                    message: "gave up".into(),
                },
                &ctx("2026-01-01T00:00:00Z", 0),
            ),
            "False",
        ),
        (
            "created suspended",
            suspended_status(&fresh, Some(1), now),
            "False",
        ),
    ];
    for (what, s, reconciling) in firsts {
        assert_eq!(s.observed_generation, Some(1), "{what}");
        assert!(!s.is_unobserved(), "{what}");
        assert!(needs_write(&fresh, &s), "{what}");
        for t in ConditionType::ALL {
            let c = find(&s.conditions, t).unwrap_or_else(|| panic!("{what}: no {t:?}"));
            assert_eq!(c.observed_generation, Some(1), "{what}: {t:?}");
            // A transition of the first write is the write's own time.
            assert_eq!(c.last_transition_time, Time(now), "{what}: {t:?}");
        }
        assert_eq!(s.conditions.len(), ConditionType::ALL.len(), "{what}");
        assert_eq!(
            cond(&s, ConditionType::Reconciling).0,
            reconciling,
            "{what}"
        );
    }
    // A terminal status written over the default (a refresh of a generation) keeps it too.
    let refreshed = refresh_generation(&fresh, Some(3));
    assert_eq!(refreshed.observed_generation, Some(3));
}
