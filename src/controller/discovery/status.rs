//! The instance's status after a round: active jobs, bookkeeping, maintenance and the
//! `Ready`, `Reconciling`, `Stalled` and `Idle` conditions.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::ResourceExt;

use crate::api::{
    ActiveJob, CloudDbInstance, CloudDbInstanceStatus, DiscoveredJobId, JobPhase,
    MaintenanceWindow, IDLE_CONDITION,
};
use crate::controller::conditions::sanitize_reason;
use crate::controller::status::{same_when_written, wire_time};
use crate::duration::parse_duration;
use crate::providers::discovery::{DiscoveredJob, Discovery};
use crate::providers::{ErrorClass, ErrorReason, ProviderError};

use super::naming::job_name;

/// Reasons this module writes besides the provider's error reasons.
pub struct Reason;

impl Reason {
    /// Ready: the last listing worked.
    pub const DISCOVERED: &'static str = "Discovered";
    /// Idle True: no selected job is Pending or Running.
    pub const NO_ACTIVE_JOBS: &'static str = "NoActiveJobs";
    /// Idle False.
    pub const JOBS_ACTIVE: &'static str = "JobsActive";
    /// Idle Unknown: no successful listing to judge by.
    pub const NOT_DISCOVERED: &'static str = "NotDiscovered";
    /// Stalled: the provider does not know the instance.
    pub const INSTANCE_NOT_FOUND: &'static str = "InstanceNotFound";
}

/// Where the discovery window starts (`now - discover.window`); `None` for a window that
/// does not parse (admission refuses those first).
pub fn window_start(instance: &CloudDbInstance, now: Timestamp) -> Option<Timestamp> {
    let window = parse_duration(&instance.spec.discover.window).ok()?;
    let window = SignedDuration::try_from(window).ok()?;
    now.checked_sub(window).ok()
}

pub(super) fn listed_status<'a>(
    instance: &CloudDbInstance,
    previous: &CloudDbInstanceStatus,
    discovery: &Discovery,
    selected: impl Iterator<Item = &'a DiscoveredJob>,
    tracked: &BTreeSet<String>,
    discovered_job_ids: Vec<DiscoveredJobId>,
    now: Timestamp,
) -> CloudDbInstanceStatus {
    let name = instance.name_any();
    let active_jobs: Vec<ActiveJob> = selected
        .filter_map(|job| {
            let phase = job.observation.phase_or_pending();
            (!phase.is_terminal()).then(|| ActiveJob {
                name: tracked
                    .contains(&job.job_id)
                    .then(|| job_name(&name, &job.job_id)),
                job_id: job.job_id.clone(),
                job_type: job.observation.job_type.clone(),
                phase,
                progress: job.observation.progress.map(i32::from),
            })
        })
        .collect();
    let running = active_jobs
        .iter()
        .filter(|j| j.phase == JobPhase::Running)
        .count();
    let (idle, reconciling) = if active_jobs.is_empty() {
        let idle = desired(
            "Idle",
            "True",
            Reason::NO_ACTIVE_JOBS,
            "no discovered job is Pending or Running",
        );
        (
            idle,
            desired("Reconciling", "False", Reason::DISCOVERED, ""),
        )
    } else {
        let message = format!(
            "{} discovered job(s) active ({running} Running): {}",
            active_jobs.len(),
            active_jobs
                .iter()
                .map(|j| j.job_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        // Reconciling as well: kstatus (so Flux's health checks) reads Reconciling, Stalled
        // and Ready but not Idle, and a pipeline gated on the instance must wait while its
        // jobs run.
        (
            desired("Idle", "False", Reason::JOBS_ACTIVE, &message),
            desired("Reconciling", "True", Reason::JOBS_ACTIVE, &message),
        )
    };
    let conditions = [
        desired(
            "Ready",
            "True",
            Reason::DISCOVERED,
            "the provider lists the instance's jobs",
        ),
        reconciling,
        desired("Stalled", "False", Reason::DISCOVERED, ""),
        idle,
    ];
    let mut status = CloudDbInstanceStatus {
        observed_generation: instance.metadata.generation,
        active_job_count: Some(active_jobs.len() as i32),
        active_jobs,
        discovered_job_ids,
        last_discovery_time: previous.last_discovery_time.clone(),
        upcoming_maintenance: discovery
            .upcoming
            .iter()
            .map(|m| MaintenanceWindow {
                action: m.action.clone(),
                description: m.description.clone(),
                not_before: m.not_before.map(wire_time),
                forced_after: m.forced_after.map(wire_time),
            })
            .collect(),
        window_clamped: discovery.clamped.clone(),
        reason: Some(Reason::DISCOVERED.to_string()),
        message: None,
        consecutive_errors: None,
        conditions: merge(&previous.conditions, &conditions, instance, now),
    };
    // The time is refreshed with other changes only, so that an unchanged instance costs
    // no API-server write.
    if !same_when_written(&status, previous) || status.last_discovery_time.is_none() {
        status.last_discovery_time = Some(Time(now));
    }
    status
}

pub(super) fn failed_status(
    instance: &CloudDbInstance,
    previous: &CloudDbInstanceStatus,
    error: &ProviderError,
    now: Timestamp,
) -> CloudDbInstanceStatus {
    let mut status = previous.clone();
    status.observed_generation = instance.metadata.generation;
    status.consecutive_errors = Some(previous.consecutive_errors.unwrap_or(0).saturating_add(1));
    status.message = Some(error.message.clone());
    let keep = |type_: &str, status: &str, reason: &str| -> Desired {
        match previous.conditions.iter().find(|c| c.type_ == type_) {
            Some(c) => (
                type_.to_string(),
                c.status.clone(),
                c.reason.clone(),
                c.message.clone(),
            ),
            None => desired(type_, status, reason, ""),
        }
    };
    let conditions = if error.class == ErrorClass::Permanent {
        // Needs a human: say why, and stop claiming anything about the jobs.
        let reason = stall_reason(error);
        status.active_jobs.clear();
        status.active_job_count = Some(0);
        status.reason = Some(reason.clone());
        [
            desired("Ready", "False", &reason, &error.message),
            desired("Reconciling", "False", &reason, ""),
            desired("Stalled", "True", &reason, &error.message),
            desired(
                "Idle",
                "Unknown",
                Reason::NOT_DISCOVERED,
                "discovery failed; see Stalled",
            ),
        ]
    } else {
        // Retried with backoff: what was known stays, Ready and Idle included.
        let reason = error.reason.as_str();
        status.reason = Some(reason.to_string());
        [
            keep("Ready", "Unknown", Reason::NOT_DISCOVERED),
            desired("Reconciling", "True", reason, &error.message),
            desired("Stalled", "False", reason, ""),
            keep("Idle", "Unknown", Reason::NOT_DISCOVERED),
        ]
    };
    status.conditions = merge(&previous.conditions, &conditions, instance, now);
    status
}

/// `Stalled`'s reason: the provider's, except that a lookup of something unknown means
/// the instance (the only thing a listing names).
fn stall_reason(error: &ProviderError) -> String {
    match error.reason {
        ErrorReason::JobNotFound => Reason::INSTANCE_NOT_FOUND.to_string(),
        other => other.as_str().to_string(),
    }
}

/// (type, status, reason, message)
type Desired = (String, String, String, String);

fn desired(type_: &str, status: &str, reason: &str, message: &str) -> Desired {
    (
        type_.to_string(),
        status.to_string(),
        reason.to_string(),
        message.to_string(),
    )
}

/// One entry per type in the given order; `lastTransitionTime` kept while the status is
/// unchanged; conditions of other types (written by someone else) kept as they are.
fn merge(
    previous: &[Condition],
    desired: &[Desired],
    instance: &CloudDbInstance,
    now: Timestamp,
) -> Vec<Condition> {
    debug_assert!(desired.iter().any(|d| d.0 == IDLE_CONDITION));
    let mut out: Vec<Condition> = desired
        .iter()
        .map(|(type_, status, reason, message)| {
            let last_transition_time = match previous.iter().find(|c| &c.type_ == type_) {
                Some(p) if &p.status == status => p.last_transition_time.clone(),
                _ => Time(now),
            };
            Condition {
                type_: type_.clone(),
                status: status.clone(),
                reason: sanitize_reason(reason),
                message: message.clone(),
                observed_generation: instance.metadata.generation,
                last_transition_time,
            }
        })
        .collect();
    for p in previous {
        if !desired.iter().any(|d| d.0 == p.type_) {
            out.push(p.clone());
        }
    }
    out
}
