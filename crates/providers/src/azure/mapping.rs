//! Pure mapping from an Azure-AsyncOperation status body to the common [`JobObservation`]:
//! no I/O and no clock, so every rule is tested directly.

use jiff::Timestamp;

use super::endpoints::namespace;
use super::model::{AsyncOperation, ErrorDetail};
use crate::decode::{parse_local_time, parse_offset_time, progress_percent};
use crate::{JobDetail, JobObservation, ProviderError};
use clouddb_api::{AzureDetail, JobPhase, ProviderApi};

/// Nested `error.details` entries quoted in a failure message, at most.
pub const MAX_DETAILS: usize = 5;

/// What an async operation's `status` means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationStatus {
    /// `InProgress` and the other documented non-terminal values (`Accepted`, `Running`,
    /// `Creating`, `Updating`, `Deleting`, `Provisioning`).
    InProgress,
    /// `CancelInProgress` / `Canceling`: still running until it reaches `Canceled`.
    Canceling,
    Succeeded,
    Failed,
    /// `Canceled` or `Cancelled`.
    Canceled,
    /// A value this build does not know: running, never terminal.
    Unknown,
}

impl OperationStatus {
    /// Classifies a status value (any case).
    pub fn parse(raw: &str) -> Self {
        match raw.trim().to_ascii_lowercase().as_str() {
            "succeeded" => OperationStatus::Succeeded,
            "failed" => OperationStatus::Failed,
            "canceled" | "cancelled" => OperationStatus::Canceled,
            "cancelinprogress" | "canceling" | "cancelling" => OperationStatus::Canceling,
            "inprogress" | "accepted" | "running" | "creating" | "updating" | "deleting"
            | "provisioning" | "notstarted" => OperationStatus::InProgress,
            _ => OperationStatus::Unknown,
        }
    }
}

/// Decodes a 2xx body. A body that is not the expected JSON object (truncated, an HTML page
/// from a proxy) is a transient error.
pub fn decode_operation(body: &[u8]) -> Result<AsyncOperation, ProviderError> {
    crate::decode::json_object(body, "Azure")
}

/// The observation for an operation ARM does not know (yet): a 404 `ResourceNotFound`
/// right after the operation was started.
pub fn not_found_yet(api: ProviderApi, job_id: &str) -> JobObservation {
    JobObservation::not_found_yet(format!(
        "async operation {job_id} is not known to {} yet",
        namespace(api).unwrap_or("Azure Resource Manager")
    ))
}

/// Parses an operation time: RFC 3339 with any number of fractional digits, or the same
/// without a zone (UTC, as ARM means it).
pub fn parse_time(raw: &str) -> Option<Timestamp> {
    parse_offset_time(raw).or_else(|| parse_local_time(raw, 0))
}

/// `code: message`, either part alone, or `None` when both are empty.
fn describe(error: &ErrorDetail) -> Option<String> {
    let code = error
        .code
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let message = error
        .message
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    match (code, message) {
        (Some(c), Some(m)) => Some(format!("{c}: {m}")),
        (Some(one), None) | (None, Some(one)) => Some(one.to_string()),
        (None, None) => None,
    }
}

/// The error and up to [`MAX_DETAILS`] of its details, joined with `; `.
pub fn error_text(error: &ErrorDetail) -> Option<String> {
    let mut parts: Vec<String> = describe(error).into_iter().collect();
    parts.extend(error.details.iter().filter_map(describe).take(MAX_DETAILS));
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Maps one operation. `api` names the resource provider for the detail.
///
/// The body carries no operation type (`name` is the operation's ID), so `jobType` and
/// `providerJobType` stay unset rather than guessed.
pub fn map_operation(op: &AsyncOperation, api: ProviderApi) -> JobObservation {
    let raw_status = op
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let status = raw_status.map_or(OperationStatus::Unknown, OperationStatus::parse);
    let error = op.error.as_ref().and_then(error_text);
    let progress = op.percent_complete.and_then(progress_percent);
    let (phase, reason, progress, message) = match status {
        OperationStatus::InProgress => (JobPhase::Running, None, progress, None),
        OperationStatus::Canceling => (
            JobPhase::Running,
            None,
            progress,
            Some("the operation is being canceled".to_string()),
        ),
        OperationStatus::Succeeded => (JobPhase::Succeeded, None, Some(100), None),
        OperationStatus::Failed => (
            JobPhase::Failed,
            Some("JobFailed"),
            progress,
            Some(error.unwrap_or_else(|| "the operation failed".to_string())),
        ),
        OperationStatus::Canceled => (
            JobPhase::Failed,
            Some("Canceled"),
            progress,
            Some(match error {
                Some(e) => format!("the operation was canceled: {e}"),
                None => "the operation was canceled".to_string(),
            }),
        ),
        // Never guess a terminal phase from a value we do not know.
        OperationStatus::Unknown => (
            JobPhase::Running,
            Some("UnknownStatus"),
            progress,
            Some(match raw_status {
                Some(raw) => format!("unrecognized operation status {raw:?}"),
                None => "the provider reported no operation status".to_string(),
            }),
        ),
    };
    JobObservation {
        phase: Some(phase),
        reason: reason.map(String::from),
        provider_status: raw_status.map(String::from),
        progress,
        message,
        job_type: None,
        provider_job_type: None,
        start_time: op.start_time.as_deref().and_then(parse_time),
        end_time: op.end_time.as_deref().and_then(parse_time),
        remaining: None,
        instance_ids: Vec::new(),
        detail: JobDetail {
            azure: Some(AzureDetail {
                operation_name: op.name.clone(),
                operation_id: op.id.clone(),
                resource_provider: namespace(api).map(String::from),
                error_code: op.error.as_ref().and_then(|e| e.code.clone()),
            }),
            ..Default::default()
        },
    }
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
