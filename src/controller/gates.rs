//! Pure decisions taken before a provider is asked anything: whether this reconcile polls
//! at all (deleted, terminal and maybe due for deletion, suspended, asked to refresh, not
//! due), and whether the spec can be polled (valid, an allowed endpoint, within
//! `spec.timeout`). Each returns data; `reconcile` acts on it.

use std::time::Duration;

use jiff::Timestamp;

use crate::api::{CloudDbJob, CloudDbJobStatus, ConditionType, JobPhase, REFRESH_ANNOTATION};
use crate::duration::format_duration;
use crate::providers::digest::CredentialDigest;
use crate::providers::endpoints::EndpointPolicy;
use crate::providers::target::{poll_interval, tracking_timeout};
use crate::providers::JobTarget;

use super::conditions::find;
use super::status::{refresh_generation, suspended_status};

/// Whether this reconcile polls.
#[derive(Debug, PartialEq)]
pub enum Gate {
    /// Deleted: forget the job, wait for changes.
    Deleted,
    /// Terminal: never polled again; the status only follows a new generation (`refreshed`).
    /// With `spec.ttlSecondsAfterFinished`, the object is deleted after `delete_in`.
    Terminal {
        refreshed: Option<Box<CloudDbJobStatus>>,
        delete_in: Option<Duration>,
    },
    /// Terminal for `spec.ttlSecondsAfterFinished` already: delete the object.
    Expired,
    /// `spec.suspend`: not polled; the status says so (`Some` when it must be written).
    Suspended(Option<Box<CloudDbJobStatus>>),
    /// Not due yet (our own status writes and restarts also trigger reconciles).
    NotDue(Duration),
    /// Not due, and stalled on the credential with this digest: the Secret may be
    /// re-read, and a different credential is polled at once.
    RecheckCredentials {
        wait: Duration,
        rejected: CredentialDigest,
    },
    /// Poll now.
    Due,
}

/// Decides whether to poll. `wait` is the time left before the next poll is due (`None`
/// when due), `rejected` the digest of a credential the provider refused.
///
/// A refresh request (a new value of [`REFRESH_ANNOTATION`]) polls at once, even a
/// suspended job or one not due; it never revives a finished one.
pub fn gate(
    job: &CloudDbJob,
    prev: &CloudDbJobStatus,
    wait: Option<Duration>,
    rejected: Option<CredentialDigest>,
    now: Timestamp,
) -> Gate {
    let generation = job.metadata.generation;
    if job.metadata.deletion_timestamp.is_some() {
        return Gate::Deleted;
    }
    if prev.phase.is_some_and(JobPhase::is_terminal) {
        let delete_in = ttl_deadline(job, prev).map(|deadline| {
            Duration::try_from(deadline.duration_since(now)).unwrap_or(Duration::ZERO)
        });
        if delete_in == Some(Duration::ZERO) {
            return Gate::Expired;
        }
        let refreshed = (prev.observed_generation != generation)
            .then(|| Box::new(refresh_generation(prev, generation)));
        return Gate::Terminal {
            refreshed,
            delete_in,
        };
    }
    if pending_refresh(job, prev).is_some() {
        return Gate::Due;
    }
    if job.spec.suspend == Some(true) {
        let next = suspended_status(prev, generation, now);
        return Gate::Suspended((&next != prev).then(|| Box::new(next)));
    }
    match (wait, rejected) {
        (None, _) => Gate::Due,
        (Some(wait), None) => Gate::NotDue(wait),
        (Some(wait), Some(rejected)) => Gate::RecheckCredentials { wait, rejected },
    }
}

/// The value of a refresh request not acted on yet, if the job carries one.
pub fn pending_refresh<'a>(job: &'a CloudDbJob, prev: &CloudDbJobStatus) -> Option<&'a str> {
    let requested = job
        .metadata
        .annotations
        .as_ref()?
        .get(REFRESH_ANNOTATION)?
        .as_str();
    (!requested.trim().is_empty() && prev.last_refresh_request.as_deref() != Some(requested))
        .then_some(requested)
}

/// When a finished job is due for deletion under `spec.ttlSecondsAfterFinished`: that long
/// after the controller saw it finish (the terminal condition's transition time, like
/// batch/v1 Job's completion time), not after the provider's end time, which can be long
/// before the CloudDbJob was created.
pub fn ttl_deadline(job: &CloudDbJob, status: &CloudDbJobStatus) -> Option<Timestamp> {
    let ttl = job.spec.ttl_seconds_after_finished?.max(0);
    let finished = [ConditionType::Complete, ConditionType::Failed]
        .into_iter()
        .filter_map(|t| find(&status.conditions, t))
        .find(|c| c.status == "True")
        .map(|c| c.last_transition_time.0)
        .or_else(|| status.last_poll_time.as_ref().map(|t| t.0))?;
    finished
        .checked_add(jiff::SignedDuration::from_secs(ttl))
        .ok()
}

/// A job that cannot be polled until a human fixes something.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocked {
    pub reason: &'static str,
    pub message: String,
    /// Whether to look again on a backoff (a Secret may appear) or only on a change of the
    /// object (the spec must be edited).
    pub retry: bool,
}

/// Why a job is not polled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    Blocked(Blocked),
    /// `spec.timeout` elapsed before the job finished.
    TimedOut(String),
}

/// A spec that can be polled.
#[derive(Clone, Debug, PartialEq)]
pub struct Pollable {
    pub target: JobTarget,
    pub interval: Duration,
}

/// Validates the spec (the CRD's admission rules normally have), the endpoint against the
/// operator's policy, and the tracking deadline.
pub fn validate(
    job: &CloudDbJob,
    endpoints: &EndpointPolicy,
    now: Timestamp,
) -> Result<Pollable, Stop> {
    let invalid = |message: String| {
        Stop::Blocked(Blocked {
            reason: "InvalidSpec",
            message,
            retry: false,
        })
    };
    let target = JobTarget::from_spec(&job.spec).map_err(|e| invalid(e.to_string()))?;
    if let Some(endpoint) = &target.endpoint {
        endpoints.check(endpoint).map_err(|message| {
            Stop::Blocked(Blocked {
                reason: "EndpointNotAllowed",
                message,
                retry: false,
            })
        })?;
    }
    let interval = poll_interval(&job.spec).map_err(|e| invalid(e.to_string()))?;
    let timeout = tracking_timeout(&job.spec).map_err(|e| invalid(e.to_string()))?;
    if let (Some(timeout), Some(created)) = (timeout, job.metadata.creation_timestamp.as_ref()) {
        if created
            .0
            .checked_add(timeout)
            .is_ok_and(|deadline| deadline <= now)
        {
            return Err(Stop::TimedOut(format!(
                "stopped tracking after {} (spec.timeout) before the job finished; the provider job itself was not cancelled",
                format_duration(timeout)
            )));
        }
    }
    Ok(Pollable { target, interval })
}

#[cfg(test)]
mod tests {
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
        let Gate::Suspended(Some(status)) = gate(&j, &running, None, None, now) else {
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
            Gate::Suspended(None)
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
}
