//! Pure mapping from a `DescribeHistoryTasks` task to the common [`JobObservation`]: no I/O
//! and no clock, so every rule is tested directly.

use std::time::Duration;

use jiff::Timestamp;

use super::model::{HistoryTasksPage, TaskItem};
use crate::decode::{parse_local_time, parse_offset_time};
use crate::{JobDetail, JobObservation, ProviderError};
use clouddb_api::{AlibabaDetail, JobPhase};

/// A documented task status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskStatus {
    /// Waiting to run.
    Scheduled,
    /// Waiting for its preset (maintenance window or switch) time.
    Waiting,
    Running,
    /// Being cancelled: still running until it reaches `Canceled`.
    Cancelling,
    Succeed,
    Failed,
    Canceled,
}

impl TaskStatus {
    /// Parses a status name (any case; `Cancelled` spelled either way).
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "scheduled" => Some(TaskStatus::Scheduled),
            "waiting" => Some(TaskStatus::Waiting),
            "running" => Some(TaskStatus::Running),
            "cancelling" | "canceling" => Some(TaskStatus::Cancelling),
            "succeed" | "succeeded" | "success" => Some(TaskStatus::Succeed),
            "failed" => Some(TaskStatus::Failed),
            "canceled" | "cancelled" => Some(TaskStatus::Canceled),
            _ => None,
        }
    }

    /// The normalized phase and reason.
    pub fn phase_and_reason(self) -> (JobPhase, Option<&'static str>) {
        match self {
            TaskStatus::Scheduled | TaskStatus::Waiting => (JobPhase::Pending, None),
            TaskStatus::Running | TaskStatus::Cancelling => (JobPhase::Running, None),
            TaskStatus::Succeed => (JobPhase::Succeeded, None),
            TaskStatus::Failed => (JobPhase::Failed, Some("JobFailed")),
            TaskStatus::Canceled => (JobPhase::Failed, Some("Canceled")),
        }
    }
}

/// How far back `DescribeHistoryTasks` looks.
pub const LOOKBACK_DAYS: i64 = 30;

/// Decodes a successful response body and maps the task `job_id`. A body that is not the
/// expected JSON (truncated, an HTML page from a proxy) is a transient error.
pub fn decode_page(body: &[u8]) -> Result<HistoryTasksPage, ProviderError> {
    crate::decode::json_object(body, "Alibaba Cloud")
}

/// The item of `page` whose `TaskId` is `job_id`, if listed.
pub fn find_task<'a>(page: &'a HistoryTasksPage, job_id: &str) -> Option<&'a TaskItem> {
    let wanted = job_id.trim();
    page.items
        .iter()
        .find(|item| item.task_id.as_deref().map(str::trim) == Some(wanted))
}

/// Decodes a page and maps `job_id`: `Ok(None)` when the page does not list it.
pub fn observation_from_body(
    body: &[u8],
    job_id: &str,
) -> Result<(Option<JobObservation>, HistoryTasksPage), ProviderError> {
    let page = decode_page(body)?;
    let obs = find_task(&page, job_id).map(map_task);
    Ok((obs, page))
}

/// The observation for a task `DescribeHistoryTasks` does not list.
pub fn not_found_yet(job_id: &str) -> JobObservation {
    JobObservation::not_found_yet(format!(
        "task {job_id} is not listed by DescribeHistoryTasks yet (it lists only tasks started \
         in the last {LOOKBACK_DAYS} days: an older task cannot be found)"
    ))
}

/// Parses a task time: `2023-05-08T07:04:17Z`, or the same without a zone (documented as UTC).
pub fn parse_time(raw: &str) -> Option<Timestamp> {
    parse_offset_time(raw).or_else(|| parse_local_time(raw, 0))
}

/// Percent complete: floored and clamped to 0-100.
pub fn progress_percent(p: f64) -> Option<u8> {
    p.is_finite().then(|| p.clamp(0.0, 100.0).floor() as u8)
}

/// Maps one task.
pub fn map_task(item: &TaskItem) -> JobObservation {
    let raw_status = item.status.as_deref();
    let state = raw_status.and_then(TaskStatus::parse);
    let progress = item.progress.and_then(progress_percent);
    let step = item.current_step_name.as_deref();
    let (phase, reason, progress, message) = match state {
        Some(state) => {
            let (phase, reason) = state.phase_and_reason();
            let progress = if phase == JobPhase::Succeeded {
                Some(100)
            } else {
                progress
            };
            let message = match state {
                TaskStatus::Failed => Some(match step {
                    Some(step) => format!("the task failed at step {step}"),
                    None => "the task failed".to_string(),
                }),
                TaskStatus::Canceled => Some("the task was canceled".to_string()),
                TaskStatus::Cancelling => Some("the task is being canceled".to_string()),
                _ => None,
            };
            (phase, reason, progress, message)
        }
        None => {
            // Never guess a terminal phase from a value we do not know.
            let phase = if progress.is_some_and(|p| p > 0) {
                JobPhase::Running
            } else {
                JobPhase::Pending
            };
            let message = match raw_status {
                Some(raw) => format!("unrecognized task status {raw:?}"),
                None => "the provider reported no task status".to_string(),
            };
            (phase, Some("UnknownStatus"), progress, Some(message))
        }
    };
    // Time left means nothing once the task has ended.
    let remaining = item
        .remain_time
        .filter(|_| !phase.is_terminal())
        .and_then(|s| u64::try_from(s).ok())
        .map(Duration::from_secs);
    let task_type = item.task_type.clone();
    JobObservation {
        phase: Some(phase),
        reason: reason.map(String::from),
        provider_status: raw_status.map(String::from),
        progress,
        message,
        job_type: task_type
            .as_deref()
            .map(|t| normalize_job_type(t).to_string()),
        provider_job_type: task_type,
        start_time: item.start_time.as_deref().and_then(parse_time),
        end_time: item.end_time.as_deref().and_then(parse_time),
        remaining,
        instance_ids: item.instance_id.iter().cloned().collect(),
        detail: JobDetail {
            alibaba: detail(item),
            ..Default::default()
        },
    }
}

fn detail(item: &TaskItem) -> Option<AlibabaDetail> {
    let d = AlibabaDetail {
        reason_code: item.reason_code.clone(),
        current_step_name: item.current_step_name.clone(),
        instance_name: item.instance_name.clone(),
        db_type: item.db_type.clone(),
    };
    (d != AlibabaDetail::default()).then_some(d)
}

/// Normalized job type by keyword in the task type, first match wins. Keywords are matched
/// case-insensitively after dropping blanks, `_` and `-`. The order matters: a
/// `CreateBackup` is a backup, `RestoreDBInstance` a restore, `ReleaseInstancePublicConnection`
/// a network change and not a delete.
pub const JOB_TYPE_KEYWORDS: &[(&[&str], &str)] = &[
    (&["restore", "recover", "clone", "flashback"], "restore"),
    (&["backup"], "backup"),
    (&["restart", "reboot"], "restart"),
    (
        &[
            "upgrade",
            "minorversion",
            "engineversion",
            "spec",
            "class",
            "storage",
            "scale",
            "resize",
            "migratetootherzone",
        ],
        "upgrade",
    ),
    (&["parameter", "param", "config"], "parameter"),
    (
        &[
            "connection",
            "network",
            "netinfo",
            "publicip",
            "vpc",
            "vswitch",
            "eip",
            "endpoint",
            "address",
        ],
        "network",
    ),
    (&["delete", "release", "destroy"], "delete"),
    (&["create"], "create"),
];

/// The normalized `jobType` of a `TaskType` (see [`JOB_TYPE_KEYWORDS`]); `other` when no
/// keyword matches.
pub fn normalize_job_type(task_type: &str) -> &'static str {
    crate::decode::job_type_by_keyword(task_type, JOB_TYPE_KEYWORDS)
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
