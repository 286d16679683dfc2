//! Pure status transitions: previous status + what one poll found → next status.
//!
//! Everything here takes data and returns data, so every rule is unit-tested without a
//! cluster. The reconciler writes the result only when [`needs_write`] says it changed.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::conditions::{merge_conditions, DesiredCondition};
use crate::api::{CloudDbJobStatus, ConditionStatus, ConditionType, JobPhase, SUSPENDED_REASON};
use crate::providers::{ErrorClass, JobObservation, ProviderError};

/// Longest `status.message` written; provider messages can be arbitrarily long.
pub const MAX_MESSAGE_CHARS: usize = 1024;

/// What one reconcile found.
#[derive(Clone, Debug)]
pub enum PollOutcome<'a> {
    /// The provider answered.
    Observed(&'a JobObservation),
    /// The provider call failed.
    ProviderFailed(&'a ProviderError),
    /// Tracking cannot proceed until a human fixes something (invalid spec, missing Secret).
    Blocked { reason: &'a str, message: String },
    /// `spec.timeout` elapsed before the job finished.
    TimedOut { message: String },
}

/// Facts about this reconcile that are not part of the outcome.
#[derive(Clone, Copy, Debug)]
pub struct StatusContext {
    pub generation: Option<i64>,
    pub now: Timestamp,
    /// Polls made so far, including this one when it polled.
    pub poll_count: i64,
}

/// Computes the next status. A terminal status never changes again except for
/// `observedGeneration`.
pub fn next_status(
    prev: &CloudDbJobStatus,
    outcome: PollOutcome<'_>,
    ctx: &StatusContext,
) -> CloudDbJobStatus {
    if prev.phase.is_some_and(JobPhase::is_terminal) {
        return refresh_generation(prev, ctx.generation);
    }
    let mut next = prev.clone();
    if prev.reason.as_deref() == Some(SUSPENDED_REASON) {
        // Polling again: the suspension is over, whatever this poll finds.
        next.reason = None;
    }
    next.observed_generation = ctx.generation;
    next.last_poll_time = Some(Time(ctx.now));
    next.poll_count = Some(ctx.poll_count);
    let errors = prev.consecutive_errors.unwrap_or(0);
    let desired = match outcome {
        PollOutcome::Observed(obs) => {
            apply_observation(&mut next, prev, obs, ctx.now);
            next.consecutive_errors = Some(0);
            phase_conditions(&next)
        }
        PollOutcome::ProviderFailed(err) => {
            next.consecutive_errors = Some(errors.saturating_add(1));
            next.phase = Some(prev.phase.unwrap_or(JobPhase::Pending));
            match err.class {
                ErrorClass::Transient | ErrorClass::Throttled => {
                    // Phase, reason and message stay: a transient fault says nothing about
                    // the job. The Reconciling condition carries the error.
                    let mut conds = phase_conditions(&next);
                    set_reconciling(
                        &mut conds,
                        ConditionStatus::True,
                        if err.class == ErrorClass::Throttled {
                            "Throttled"
                        } else {
                            "RetryingAfterError"
                        },
                        truncate(&format!(
                            "provider call failed, retrying: {}",
                            err.describe()
                        )),
                    );
                    conds
                }
                ErrorClass::Permanent => blocked(
                    &mut next,
                    err.reason.as_str(),
                    &format!("provider rejected the request: {}", err.describe()),
                ),
            }
        }
        PollOutcome::Blocked { reason, message } => {
            next.consecutive_errors = Some(errors.saturating_add(1));
            next.phase = Some(prev.phase.unwrap_or(JobPhase::Pending));
            blocked(&mut next, reason, &message)
        }
        PollOutcome::TimedOut { message } => {
            next.phase = Some(JobPhase::Failed);
            next.reason = Some("TrackingTimeout".into());
            next.message = Some(truncate(&message));
            next.estimated_completion_time = None;
            phase_conditions(&next)
        }
    };
    next.conditions = merge_conditions(&prev.conditions, &desired, ctx.generation, ctx.now);
    next
}

/// Only `observedGeneration` (status and conditions) moves; used for terminal jobs.
pub fn refresh_generation(prev: &CloudDbJobStatus, generation: Option<i64>) -> CloudDbJobStatus {
    let mut next = prev.clone();
    next.observed_generation = generation;
    for c in &mut next.conditions {
        if ConditionType::ALL.iter().any(|t| t.as_str() == c.type_) {
            c.observed_generation = generation;
        }
    }
    next
}

/// The status of a job whose polling `spec.suspend` stopped: what the last poll found, with
/// reason `Suspended` and `Reconciling` false (nothing is in flight). `Ready` stays false:
/// the outcome is unknown, so `kubectl wait` keeps waiting, kstatus (and Flux) call the job
/// InProgress and hold a pipeline, and the Argo CD health check reports `Suspended`.
pub fn suspended_status(
    prev: &CloudDbJobStatus,
    generation: Option<i64>,
    now: Timestamp,
) -> CloudDbJobStatus {
    let mut next = prev.clone();
    next.observed_generation = generation;
    next.phase = Some(prev.phase.unwrap_or(JobPhase::Pending));
    next.reason = Some(SUSPENDED_REASON.into());
    let mut conds = phase_conditions(&next);
    set_reconciling(
        &mut conds,
        ConditionStatus::False,
        SUSPENDED_REASON,
        "polling is suspended (spec.suspend is true); the status shows the last poll".into(),
    );
    next.conditions = merge_conditions(&prev.conditions, &conds, generation, now);
    next
}

/// True when `next` differs from `prev` in anything but the poll bookkeeping
/// (`lastPollTime`, `pollCount`), which rides along with real changes only.
///
/// Compared as written: Kubernetes times are whole seconds on the wire, and providers
/// report sub-second times (AWS milliseconds, Cloud SQL nanoseconds), so a `startTime`
/// read back from the cluster never equals the one a poll just parsed. Compared as
/// values, every poll of such a job wrote its status again (1,912 writes of 3,912 for
/// 1,000 AWS snapshots in the peer benchmark).
pub fn needs_write(prev: &CloudDbJobStatus, next: &CloudDbJobStatus) -> bool {
    let strip = |s: &CloudDbJobStatus| CloudDbJobStatus {
        last_poll_time: None,
        poll_count: None,
        ..s.clone()
    };
    !same_when_written(&strip(prev), &strip(next))
}

/// Whether two statuses would be written the same (the one comparison every status write
/// is decided by: job and instance). Compared as values only, a time a provider gives to
/// the millisecond never equals the whole second the cluster gave back. Equal values
/// (the common case: provider times go in through [`wire_time`]) skip serializing.
pub fn same_when_written<T: serde::Serialize + PartialEq>(a: &T, b: &T) -> bool {
    a == b
        || match (serde_json::to_value(a), serde_json::to_value(b)) {
            (Ok(a), Ok(b)) => a == b,
            // Not reached (a status always serializes); writing is the safe answer.
            _ => false,
        }
}

/// A provider's time as the cluster stores it: whole seconds (`metav1.Time`).
pub fn wire_time(t: Timestamp) -> Time {
    Time(Timestamp::from_second(t.as_second()).unwrap_or(t))
}

fn apply_observation(
    next: &mut CloudDbJobStatus,
    prev: &CloudDbJobStatus,
    obs: &JobObservation,
    now: Timestamp,
) {
    let not_listed = obs.is_not_found_yet();
    if not_listed && prev.phase == Some(JobPhase::Running) {
        // Listings lag and page; a job seen running does not go back to Pending because
        // one poll missed it.
        next.message =
            Some("job not listed by the provider in the last poll; still tracking".into());
        return;
    }
    let phase = obs.phase_or_pending();
    next.phase = Some(phase);
    next.reason = match (phase, &obs.reason) {
        (_, Some(r)) => Some(r.clone()),
        (JobPhase::Failed, None) => Some("JobFailed".into()),
        _ => None,
    };
    next.message = obs.message.as_deref().map(truncate);
    let progress = match (phase, obs.progress) {
        (JobPhase::Succeeded, _) => Some(100),
        (_, Some(p)) => Some(i32::from(p)),
        (_, None) => prev.progress,
    };
    next.progress = progress;
    // Keep what an earlier poll learnt when this response left a field out.
    next.provider_status = obs
        .provider_status
        .clone()
        .or_else(|| prev.provider_status.clone());
    next.job_type = obs.job_type.clone().or_else(|| prev.job_type.clone());
    next.provider_job_type = obs
        .provider_job_type
        .clone()
        .or_else(|| prev.provider_job_type.clone());
    next.start_time = obs
        .start_time
        .map(wire_time)
        .or_else(|| prev.start_time.clone());
    next.end_time = obs
        .end_time
        .map(wire_time)
        .or_else(|| prev.end_time.clone());
    if !obs.instance_ids.is_empty() {
        next.instance_ids = obs.instance_ids.clone();
    }
    let d = &obs.detail;
    next.upgrade = d.upgrade.clone().or_else(|| prev.upgrade.clone());
    next.rollback = d.rollback.clone().or_else(|| prev.rollback.clone());
    if !d.parameters.is_empty() {
        next.parameters = d.parameters.clone();
    }
    next.import = d.import.clone().or_else(|| prev.import.clone());
    next.huawei = d.huawei.clone().or_else(|| prev.huawei.clone());
    next.alibaba = d.alibaba.clone().or_else(|| prev.alibaba.clone());
    next.aws = d.aws.clone().or_else(|| prev.aws.clone());
    next.azure = d.azure.clone().or_else(|| prev.azure.clone());
    next.gcp = d.gcp.clone().or_else(|| prev.gcp.clone());
    next.estimated_completion_time = if phase != JobPhase::Running {
        None
    } else if progress == prev.progress && prev.estimated_completion_time.is_some() {
        // Recomputed only when progress moves, so an unchanged job causes no write (a
        // provider's countdown, moving on every poll, would otherwise cause one each time).
        prev.estimated_completion_time.clone()
    } else if let Some(remaining) = obs.remaining {
        // The provider's own estimate, to the second.
        let remaining =
            jiff::SignedDuration::from_secs(i64::try_from(remaining.as_secs()).unwrap_or(i64::MAX));
        now.round(jiff::Unit::Second)
            .ok()
            .and_then(|now| now.checked_add(remaining).ok())
            .map(Time)
    } else {
        let start = next.start_time.as_ref().map(|t| t.0);
        match (start, progress) {
            (Some(start), Some(p)) => estimate_completion(start, now, p).map(Time),
            _ => None,
        }
    };
}

/// Linear extrapolation from the job's start: at `progress`% after `now - start`, the job
/// ends at `start + elapsed * 100 / progress`. `None` before any progress or once done.
pub fn estimate_completion(start: Timestamp, now: Timestamp, progress: i32) -> Option<Timestamp> {
    if !(1..100).contains(&progress) || now <= start {
        return None;
    }
    let elapsed = now.duration_since(start).as_secs_f64();
    let total = elapsed * 100.0 / f64::from(progress);
    let eta = start
        .checked_add(SignedDuration::from_secs_f64(total))
        .ok()?;
    // Whole seconds: Kubernetes times are second-precision on the wire anyway.
    Timestamp::from_second(eta.as_second()).ok()
}

/// Marks tracking as stuck on something a human must fix.
fn blocked(next: &mut CloudDbJobStatus, reason: &str, message: &str) -> Vec<DesiredCondition> {
    next.reason = Some(reason.to_string());
    next.message = Some(truncate(message));
    let mut conds = phase_conditions(next);
    set_reconciling(
        &mut conds,
        ConditionStatus::False,
        reason,
        truncate(message),
    );
    for c in &mut conds {
        if c.type_ == ConditionType::Stalled {
            *c = DesiredCondition::new(
                ConditionType::Stalled,
                ConditionStatus::True,
                reason,
                truncate(message),
            );
        }
    }
    conds
}

fn set_reconciling(
    conds: &mut [DesiredCondition],
    status: ConditionStatus,
    reason: &str,
    message: String,
) {
    for c in conds.iter_mut() {
        if c.type_ == ConditionType::Reconciling {
            *c = DesiredCondition::new(ConditionType::Reconciling, status, reason, message.clone());
        }
    }
}

/// The five conditions implied by the phase alone.
fn phase_conditions(status: &CloudDbJobStatus) -> Vec<DesiredCondition> {
    use ConditionStatus::{False, True};
    use ConditionType::*;
    let phase = status.phase.unwrap_or(JobPhase::Pending);
    let message = summary(status);
    let reason = status.reason.clone();
    let (ready, reconciling, complete, failed, stalled) = match phase {
        JobPhase::Pending | JobPhase::Running => (False, True, False, False, False),
        JobPhase::Succeeded => (True, False, True, False, False),
        JobPhase::Failed => (False, False, False, True, True),
    };
    let phase_reason = reason.clone().unwrap_or_else(|| phase.as_str().to_string());
    let in_progress = match phase {
        JobPhase::Pending => "Pending",
        _ => "Running",
    };
    vec![
        DesiredCondition::new(Ready, ready, &phase_reason, &message),
        DesiredCondition::new(
            Reconciling,
            reconciling,
            if reconciling == True {
                in_progress
            } else {
                phase_reason.as_str()
            },
            &message,
        ),
        DesiredCondition::new(
            Complete,
            complete,
            if complete == True {
                "Succeeded"
            } else {
                in_progress_or(phase, "NotComplete")
            },
            &message,
        ),
        DesiredCondition::new(
            Failed,
            failed,
            if failed == True {
                phase_reason.as_str()
            } else {
                "NotFailed"
            },
            if failed == True { message.as_str() } else { "" },
        ),
        DesiredCondition::new(
            Stalled,
            stalled,
            if stalled == True {
                phase_reason.as_str()
            } else {
                "NotStalled"
            },
            if stalled == True {
                message.as_str()
            } else {
                ""
            },
        ),
    ]
}

fn in_progress_or(phase: JobPhase, otherwise: &'static str) -> &'static str {
    match phase {
        JobPhase::Pending => "Pending",
        JobPhase::Running => "Running",
        _ => otherwise,
    }
}

/// One line for condition messages: phase, progress and the provider's message.
fn summary(status: &CloudDbJobStatus) -> String {
    let phase = status.phase.unwrap_or(JobPhase::Pending);
    let mut s = match status.progress {
        Some(p) => format!("{phase} ({p}%)"),
        None => phase.to_string(),
    };
    if let Some(m) = status.message.as_deref().filter(|m| !m.is_empty()) {
        s.push_str(": ");
        s.push_str(m);
    }
    truncate(&s)
}

/// Cuts at a character boundary and marks the cut.
pub fn truncate(s: &str) -> String {
    let trimmed = s.trim();
    if trimmed.chars().count() <= MAX_MESSAGE_CHARS {
        return trimmed.to_string();
    }
    let mut out: String = trimmed.chars().take(MAX_MESSAGE_CHARS - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
#[path = "status_tests.rs"]
pub(crate) mod tests;

#[cfg(test)]
#[path = "status_terminal_tests.rs"]
mod terminal_tests;
