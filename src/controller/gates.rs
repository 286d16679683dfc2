//! Pure decisions taken before a provider is asked anything: whether this reconcile polls
//! at all (deleted, terminal and maybe due for deletion, suspended and maybe past
//! `spec.timeout`, asked to refresh, not due), and whether the spec can be polled (valid,
//! an allowed endpoint, within `spec.timeout`). Each returns data; `reconcile` acts on it.

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
    /// `spec.suspend`: not polled; the status says so (`status`, `Some` when it must be
    /// written). `spec.timeout` keeps counting: the job is looked at again when it runs out
    /// (`wake_in`), and otherwise only when it changes.
    Suspended {
        status: Option<Box<CloudDbJobStatus>>,
        wake_in: Option<Duration>,
    },
    /// Suspended past `spec.timeout`: the job fails (reason `TrackingTimeout`, this
    /// message) without a poll, exactly as an unsuspended one does.
    TimedOut(String),
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
/// suspended job or one not due; it never revives a finished one. A suspended job times out
/// at its `spec.timeout` deadline like any other (counted from creation, suspended time
/// included), without a poll.
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
        // An unreadable timeout leaves the job suspended; resuming reports it (InvalidSpec).
        let deadline = timeout_deadline(job).ok().flatten();
        if let Some(Stop::TimedOut(message)) = deadline.and_then(|d| d.stop(now)) {
            return Gate::TimedOut(message);
        }
        let next = suspended_status(prev, generation, now);
        return Gate::Suspended {
            status: (&next != prev).then(|| Box::new(next)),
            wake_in: deadline.map(|d| d.left(now)),
        };
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

/// When `spec.timeout` runs out: `timeout` after the object's creation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeoutDeadline {
    pub at: Timestamp,
    pub timeout: Duration,
}

impl TimeoutDeadline {
    /// [`Stop::TimedOut`] from the deadline on (the deadline itself included).
    pub fn stop(&self, now: Timestamp) -> Option<Stop> {
        (self.at <= now).then(|| {
            Stop::TimedOut(format!(
                "stopped tracking after {} (spec.timeout) before the job finished; the provider job itself was not cancelled",
                format_duration(self.timeout)
            ))
        })
    }

    /// Time left before the deadline (zero once it passed).
    pub fn left(&self, now: Timestamp) -> Duration {
        Duration::try_from(self.at.duration_since(now)).unwrap_or(Duration::ZERO)
    }
}

/// The job's `spec.timeout` deadline, `None` without a timeout (or a creation time, or when
/// it lies beyond the representable range); `Err` when the timeout cannot be read.
pub fn timeout_deadline(job: &CloudDbJob) -> Result<Option<TimeoutDeadline>, String> {
    let timeout = tracking_timeout(&job.spec).map_err(|e| e.to_string())?;
    let created = job.metadata.creation_timestamp.as_ref();
    Ok(timeout.zip(created).and_then(|(timeout, created)| {
        let at = created.0.checked_add(timeout).ok()?;
        Some(TimeoutDeadline { at, timeout })
    }))
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
    if let Some(stop) = timeout_deadline(job)
        .map_err(invalid)?
        .and_then(|deadline| deadline.stop(now))
    {
        return Err(stop);
    }
    Ok(Pollable { target, interval })
}

#[cfg(test)]
#[path = "gates_tests.rs"]
mod tests;
