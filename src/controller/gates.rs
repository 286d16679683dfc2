//! Pure decisions taken before a provider is asked anything: whether this reconcile polls
//! at all (deleted, terminal, not due), and whether the spec can be polled (valid, an
//! allowed endpoint, within `spec.timeout`). Each returns data; `reconcile` acts on it.

use std::time::Duration;

use jiff::Timestamp;

use crate::api::{CloudDbJob, CloudDbJobStatus, JobPhase};
use crate::duration::format_duration;
use crate::providers::endpoints::EndpointPolicy;
use crate::providers::target::{poll_interval, tracking_timeout};
use crate::providers::JobTarget;

use super::status::refresh_generation;

/// Whether this reconcile polls.
#[derive(Debug, PartialEq)]
pub enum Gate {
    /// Deleted: forget the job, wait for changes.
    Deleted,
    /// Terminal: never polled again; the status only follows a new generation (`Some`).
    Terminal(Option<Box<CloudDbJobStatus>>),
    /// Not due yet (our own status writes and restarts also trigger reconciles).
    NotDue(Duration),
    /// Not due, and stalled on the credential with this fingerprint: the Secret may be
    /// re-read, and a different credential is polled at once.
    RecheckCredentials { wait: Duration, rejected: u64 },
    /// Poll now.
    Due,
}

/// Decides whether to poll. `wait` is the time left before the next poll is due (`None`
/// when due), `rejected` the fingerprint of a credential the provider refused.
pub fn gate(
    job: &CloudDbJob,
    prev: &CloudDbJobStatus,
    wait: Option<Duration>,
    rejected: Option<u64>,
) -> Gate {
    let generation = job.metadata.generation;
    if job.metadata.deletion_timestamp.is_some() {
        return Gate::Deleted;
    }
    if prev.phase.is_some_and(JobPhase::is_terminal) {
        let refreshed = (prev.observed_generation != generation)
            .then(|| Box::new(refresh_generation(prev, generation)));
        return Gate::Terminal(refreshed);
    }
    match (wait, rejected) {
        (None, _) => Gate::Due,
        (Some(wait), None) => Gate::NotDue(wait),
        (Some(wait), Some(rejected)) => Gate::RecheckCredentials { wait, rejected },
    }
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
    use crate::api::CloudDbJobSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

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

    #[test]
    fn a_due_job_polls_and_a_job_not_due_waits() {
        let prev = CloudDbJobStatus::default();
        let j = job(tencent());
        assert_eq!(gate(&j, &prev, None, None), Gate::Due);
        assert_eq!(gate(&j, &prev, None, Some(7)), Gate::Due);
        let wait = Duration::from_secs(9);
        assert_eq!(gate(&j, &prev, Some(wait), None), Gate::NotDue(wait));
        assert_eq!(
            gate(&j, &prev, Some(wait), Some(7)),
            Gate::RecheckCredentials { wait, rejected: 7 }
        );
    }

    #[test]
    fn deleted_and_terminal_jobs_never_poll() {
        let mut j = job(tencent());
        let done = CloudDbJobStatus {
            phase: Some(JobPhase::Succeeded),
            observed_generation: Some(1),
            ..Default::default()
        };
        assert_eq!(gate(&j, &done, None, None), Gate::Terminal(None));
        j.metadata.generation = Some(2);
        match gate(&j, &done, None, None) {
            Gate::Terminal(Some(s)) => {
                assert_eq!(s.observed_generation, Some(2));
                assert_eq!(s.phase, Some(JobPhase::Succeeded));
            }
            other => panic!("{other:?}"),
        }
        j.metadata.deletion_timestamp = Some(Time(at("2026-01-01T00:01:00Z")));
        assert_eq!(gate(&j, &done, None, None), Gate::Deleted);
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
