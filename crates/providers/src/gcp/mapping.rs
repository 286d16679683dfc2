//! Pure mapping from a Cloud SQL `Operation` to the common [`JobObservation`]: no I/O and
//! no clock, so every rule is tested directly.
//!
//! | `status` | phase | reason | progress |
//! |---|---|---|---|
//! | `PENDING` | Pending | | unset |
//! | `RUNNING` | Running | | unset |
//! | `DONE` without `error` | Succeeded | | 100 |
//! | `DONE` with `error` | Failed | `JobFailed` | unset |
//! | `SQL_OPERATION_STATUS_UNSPECIFIED`, anything else, missing | Pending (Running once started) | `UnknownStatus` | unset |
//!
//! The API has no progress field, so progress stays unset until the operation is done:
//! guessing one would make the ETA a fiction.

use jiff::Timestamp;

use super::model::{Operation, OperationError};
use crate::decode::parse_offset_time;
use crate::{JobDetail, JobObservation, ProviderError};
use clouddb_api::{GcpDetail, JobPhase};

/// A documented operation status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationStatus {
    Pending,
    Running,
    Done,
}

impl OperationStatus {
    /// Parses a status name (any case). `SQL_OPERATION_STATUS_UNSPECIFIED` is not a status
    /// the job can be in, so it is `None` like any unknown value.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_uppercase().as_str() {
            "PENDING" => Some(OperationStatus::Pending),
            "RUNNING" => Some(OperationStatus::Running),
            "DONE" => Some(OperationStatus::Done),
            _ => None,
        }
    }
}

/// Decodes a successful response body. A body that is not a JSON object (truncated, an
/// HTML page from a proxy) is a transient error.
pub fn decode_operation(body: &[u8]) -> Result<Operation, ProviderError> {
    crate::decode::json_object(body, "Cloud SQL")
}

/// Decodes and maps a successful response body.
pub fn observation_from_body(body: &[u8]) -> Result<JobObservation, ProviderError> {
    decode_operation(body).map(|op| map_operation(&op))
}

/// The observation for an operation the API does not know (yet): an operation just created
/// can answer 404 for a moment.
pub fn not_found_yet(job_id: &str, project: &str) -> JobObservation {
    JobObservation::not_found_yet(format!(
        "operation {job_id} is not known in project {project} yet (Cloud SQL may answer 404 \
         for an operation just created; check the operation ID and projectId if this lasts)"
    ))
}

/// Parses an operation time (RFC 3339).
pub fn parse_time(raw: &str) -> Option<Timestamp> {
    parse_offset_time(raw)
}

/// `CODE: message` for each error, joined with `; `.
pub fn error_summary(errors: &[OperationError]) -> Option<String> {
    let parts: Vec<String> = errors
        .iter()
        .filter_map(|e| {
            let code = e.code.as_deref().map(str::trim).filter(|c| !c.is_empty());
            let message = e
                .message
                .as_deref()
                .map(str::trim)
                .filter(|m| !m.is_empty());
            match (code, message) {
                (Some(c), Some(m)) => Some(format!("{c}: {m}")),
                (Some(c), None) => Some(c.to_string()),
                (None, Some(m)) => Some(m.to_string()),
                (None, None) => None,
            }
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Maps one operation.
pub fn map_operation(op: &Operation) -> JobObservation {
    let raw_status = op.status.as_deref();
    let errors: &[OperationError] = op.error.as_ref().map_or(&[], |e| e.errors.as_slice());
    let start_time = op
        .start_time
        .as_deref()
        .and_then(parse_time)
        .or_else(|| op.insert_time.as_deref().and_then(parse_time));
    let (phase, reason, progress, message) = match raw_status.and_then(OperationStatus::parse) {
        Some(OperationStatus::Pending) => (JobPhase::Pending, None, None, None),
        Some(OperationStatus::Running) => (JobPhase::Running, None, None, None),
        // `error` is set only on a failed operation; an empty one still says it failed.
        Some(OperationStatus::Done) if op.error.is_some() => (
            JobPhase::Failed,
            Some("JobFailed"),
            None,
            Some(
                error_summary(errors)
                    .unwrap_or_else(|| "the operation failed without error detail".into()),
            ),
        ),
        Some(OperationStatus::Done) => (
            JobPhase::Succeeded,
            None,
            Some(100),
            op.api_warning
                .as_ref()
                .and_then(|w| w.message.as_deref())
                .map(|m| format!("warning: {}", m.trim())),
        ),
        None => {
            // Never guess a terminal phase from a value we do not know.
            let phase = if op.start_time.is_some() {
                JobPhase::Running
            } else {
                JobPhase::Pending
            };
            let message = match raw_status {
                Some(raw) => format!("unrecognized operation status {raw:?}"),
                None => "the provider reported no operation status".to_string(),
            };
            (phase, Some("UnknownStatus"), None, Some(message))
        }
    };
    let operation_type = op.operation_type.clone();
    JobObservation {
        phase: Some(phase),
        reason: reason.map(String::from),
        provider_status: raw_status.map(String::from),
        progress,
        message,
        job_type: operation_type
            .as_deref()
            .map(|t| normalize_job_type(t).to_string()),
        provider_job_type: operation_type,
        start_time,
        end_time: op.end_time.as_deref().and_then(parse_time),
        remaining: None,
        instance_ids: op.target_id.iter().cloned().collect(),
        detail: JobDetail {
            gcp: detail(op, errors),
            ..Default::default()
        },
    }
}

fn detail(op: &Operation, errors: &[OperationError]) -> Option<GcpDetail> {
    let d = GcpDetail {
        operation_type: op.operation_type.clone(),
        target_id: op.target_id.clone(),
        target_project: op.target_project.clone(),
        user: op.user.clone(),
        error_codes: errors.iter().filter_map(|e| e.code.clone()).collect(),
    };
    (d != GcpDetail::default()).then_some(d)
}

/// Normalized job type per `operationType` (exact names: `CREATE_USER` is not a `create`).
/// `UPDATE` patches instance settings (tier, flags, ...), which other clouds split into
/// `upgrade` and `parameter`: it gets its own `update`. A clone is a point-in-time copy, a
/// `restore` as for Alibaba Cloud; failovers and promotions are `switchover`s.
pub const JOB_TYPES: &[(&[&str], &str)] = &[
    (&["IMPORT"], "import"),
    (&["EXPORT"], "export"),
    (&["CREATE", "CREATE_REPLICA", "CREATE_READ_POOL"], "create"),
    (&["DELETE"], "delete"),
    (&["RESTART", "AUTO_RESTART"], "restart"),
    (&["UPDATE"], "update"),
    (&["MAJOR_VERSION_UPGRADE"], "upgrade"),
    (
        &[
            "BACKUP",
            "SNAPSHOT",
            "BACKUP_VOLUME",
            "ADVANCED_BACKUP",
            "ENHANCED_BACKUP",
        ],
        "backup",
    ),
    (&["RESTORE_VOLUME", "CLONE", "CREATE_CLONE"], "restore"),
    (
        &[
            "FAILOVER",
            "SWITCHOVER",
            "SWITCHOVER_TO_REPLICA",
            "PROMOTE_REPLICA",
        ],
        "switchover",
    ),
    (
        &[
            "MAINTENANCE",
            "CLUSTER_MAINTENANCE",
            "SELF_SERVICE_MAINTENANCE",
        ],
        "maintenance",
    ),
    (&["ENABLE_PRIVATE_IP"], "network"),
];

/// The normalized `jobType` of an `operationType` (see [`JOB_TYPES`]); `other` otherwise.
pub fn normalize_job_type(operation_type: &str) -> &'static str {
    let wanted = operation_type.trim().to_ascii_uppercase();
    JOB_TYPES
        .iter()
        .find(|(names, _)| names.contains(&wanted.as_str()))
        .map_or("other", |(_, t)| *t)
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
