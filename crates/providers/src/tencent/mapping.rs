//! Pure mapping from CDB API 3.0 responses to [`JobObservation`]: no I/O, so every rule is
//! tested directly against recorded responses.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::model::{AsyncRequestInfo, DescribeTasksPage, Snapshot, TaskData, TaskItem};
use crate::decode::{clamp_progress, parse_i64, parse_tencent_time};
use crate::{JobDetail, JobObservation};
use clouddb_api::{
    DatabaseRename, ImportDetail, InstanceSnapshot, JobPhase, ParameterChange, RollbackDetail,
    RollbackInstance, RollbackSubTask, TableRename, UpgradeDetail,
};

/// A task state of `DescribeTasks` (`Status` integer or `TaskStatus` name) or
/// `DescribeAsyncRequestInfo` (`Status` name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// `-1` / `UNDEFINED`.
    Undefined,
    /// `0` / `INITIAL`.
    Initial,
    /// `1` / `RUNNING`.
    Running,
    /// `2` / `SUCCEED` (`SUCCESS` in `DescribeAsyncRequestInfo`).
    Succeeded,
    /// `3` / `FAILED`.
    Failed,
    /// `4` / `KILLED`.
    Killed,
    /// `5` / `REMOVED`.
    Removed,
    /// `6` / `PAUSED` (for async requests: being terminated).
    Paused,
    /// `WAITING` (queued).
    Waiting,
}

impl TaskState {
    /// Parses a status integer (as number or text) or a status name (any case).
    pub fn parse(raw: &str) -> Option<Self> {
        let t = raw.trim();
        if let Some(n) = parse_i64(t) {
            return match n {
                -1 => Some(TaskState::Undefined),
                0 => Some(TaskState::Initial),
                1 => Some(TaskState::Running),
                2 => Some(TaskState::Succeeded),
                3 => Some(TaskState::Failed),
                4 => Some(TaskState::Killed),
                5 => Some(TaskState::Removed),
                6 => Some(TaskState::Paused),
                _ => None,
            };
        }
        match t.to_ascii_uppercase().as_str() {
            "UNDEFINED" => Some(TaskState::Undefined),
            "INITIAL" | "INIT" => Some(TaskState::Initial),
            "RUNNING" => Some(TaskState::Running),
            "SUCCEED" | "SUCCESS" | "SUCCEEDED" => Some(TaskState::Succeeded),
            "FAILED" | "FAIL" => Some(TaskState::Failed),
            "KILLED" => Some(TaskState::Killed),
            "REMOVED" => Some(TaskState::Removed),
            "PAUSED" => Some(TaskState::Paused),
            "WAITING" => Some(TaskState::Waiting),
            _ => None,
        }
    }

    /// The normalized phase and reason of a `DescribeTasks` task in this state.
    pub fn phase_and_reason(self) -> (JobPhase, Option<&'static str>) {
        match self {
            TaskState::Undefined | TaskState::Initial | TaskState::Waiting => {
                (JobPhase::Pending, None)
            }
            TaskState::Running => (JobPhase::Running, None),
            // Paused is not terminal: the task can be resumed.
            TaskState::Paused => (JobPhase::Running, Some("Paused")),
            TaskState::Succeeded => (JobPhase::Succeeded, None),
            TaskState::Failed => (JobPhase::Failed, Some("JobFailed")),
            TaskState::Killed => (JobPhase::Failed, Some("Aborted")),
            TaskState::Removed => (JobPhase::Failed, Some("Deleted")),
        }
    }
}

/// Normalizes a task type (`Type` integer or `TaskType` name) to the `jobType` vocabulary.
pub fn normalize_job_type(raw: &str) -> &'static str {
    let t = raw.trim();
    if let Some(n) = parse_i64(t) {
        return match n {
            1 | 10 => "rollback",
            2 => "sql",
            3 => "import",
            5 => "parameter",
            6 => "initialize",
            7 => "restart",
            8 => "gtid",
            9 | 11 => "upgrade",
            12 => "drop-tables",
            13 => "switch-to-master",
            _ => "other",
        };
    }
    let name = t
        .to_ascii_uppercase()
        .replace(['_', '-'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match name.as_str() {
        "ROLLBACK" | "BATCH ROLLBACK" => "rollback",
        "SQL OPERATION" => "sql",
        "IMPORT DATA" => "import",
        "MODIFY PARAM" => "parameter",
        "INITIAL" => "initialize",
        "REBOOT" => "restart",
        "OPEN GTID" => "gtid",
        "UPGRADE RO" | "UPGRADE MASTER" => "upgrade",
        "DROP TABLES" => "drop-tables",
        "SWITCH DR TO MASTER" => "switch-to-master",
        _ => "other",
    }
}

/// Whether a listed `JobId` is the wanted one (`"0079"` matches `79`; text otherwise).
pub fn job_id_matches(listed: &str, wanted: &str) -> bool {
    let (a, b) = (listed.trim(), wanted.trim());
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => !a.is_empty() && a == b,
    }
}

/// The item of `page` whose `JobId` is `job_id`, if listed.
pub fn find_task<'a>(page: &'a DescribeTasksPage, job_id: &str) -> Option<&'a TaskItem> {
    page.items.iter().find(|item| {
        item.job_id
            .as_deref()
            .is_some_and(|id| job_id_matches(id, job_id))
    })
}

/// Finds `job_id` in a page and maps it; `None` when the page does not list it.
pub fn observe_in_page(page: &DescribeTasksPage, job_id: &str) -> Option<JobObservation> {
    find_task(page, job_id).map(map_task_item)
}

/// Maps one `DescribeTasks` item (either shape) to an observation.
pub fn map_task_item(item: &TaskItem) -> JobObservation {
    let raw_status = item.task_status.as_deref().or(item.status.as_deref());
    let state = raw_status.and_then(TaskState::parse);
    let raw_type = item.task_type.as_deref().or(item.task_type_code.as_deref());
    let progress = item.progress.map(clamp_progress);
    let (phase, reason, progress, message) = match state {
        Some(state) => {
            let (phase, reason) = state.phase_and_reason();
            let progress = if phase == JobPhase::Succeeded {
                Some(100)
            } else {
                progress
            };
            let message = if phase == JobPhase::Failed {
                Some(failure_message(item))
            } else {
                item.message.clone()
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
            let what = match raw_status {
                Some(raw) => format!("unrecognized task status {raw:?}"),
                None => "the provider reported no task status".to_string(),
            };
            let message = match &item.message {
                Some(m) => format!("{what}: {m}"),
                None => what,
            };
            (phase, Some("UnknownStatus"), progress, Some(message))
        }
    };
    JobObservation {
        phase: Some(phase),
        reason: reason.map(String::from),
        provider_status: raw_status.map(String::from),
        progress,
        message,
        job_type: raw_type.map(|t| normalize_job_type(t).to_string()),
        provider_job_type: raw_type.map(String::from),
        start_time: item.start_time.as_deref().and_then(parse_tencent_time),
        end_time: item.end_time.as_deref().and_then(parse_tencent_time),
        instance_ids: instance_ids(item),
        detail: detail(&item.data),
        remaining: None,
    }
}

/// The message of a failed, killed or removed task: the provider's message (or the first
/// `Data[]` message), its error code, and any per-database errors of an SQL task.
fn failure_message(item: &TaskItem) -> String {
    let text = item
        .message
        .clone()
        .or_else(|| item.data.iter().find_map(|d| d.message.clone()));
    let mut out = text.unwrap_or_else(|| "the task did not succeed".to_string());
    if let Some(code) = item.code.filter(|c| *c != 0) {
        out.push_str(&format!(" (code {code})"));
    }
    let db_errors: Vec<String> = item
        .data
        .iter()
        .flat_map(|d| d.databases.iter())
        .filter(|db| db.database_name.is_none() && db.code.is_some_and(|c| c != 0))
        .filter_map(|db| {
            let name = db.database.as_deref()?;
            Some(match &db.message {
                Some(m) => format!("{name}: {m}"),
                None => format!("{name}: code {}", db.code.unwrap_or_default()),
            })
        })
        .collect();
    if !db_errors.is_empty() {
        out.push_str("; database errors: ");
        out.push_str(&db_errors.join("; "));
    }
    out
}

fn instance_ids(item: &TaskItem) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let data_ids = item.data.iter().filter_map(|d| d.instance_id.clone());
    for id in item.instance_ids.iter().cloned().chain(data_ids) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The common form of an instance specification (shared with API 2.0).
pub(crate) fn snapshot(s: &Snapshot) -> InstanceSnapshot {
    InstanceSnapshot {
        memory_mb: s.memory,
        volume_gb: s.volume,
        engine_version: s.engine_version.clone(),
        cdb_type: s.cdb_type.clone(),
        protect_mode: s.protect_mode.clone(),
        deploy_mode: s.deploy_mode.clone(),
        master_zone: s.master_zone.clone(),
        slave_zone_first: s.slave_zone_first.clone(),
        slave_zone_second: s.slave_zone_second.clone(),
    }
}

/// Fills the detail from the document shape's `Data[]`, by what each entry carries.
fn detail(data: &[TaskData]) -> JobDetail {
    let upgrade = data
        .iter()
        .find(|d| d.before.is_some() || d.after.is_some() || d.deal_name.is_some())
        .map(|d| UpgradeDetail {
            instance_id: d.instance_id.clone(),
            deal_name: d.deal_name.clone(),
            before: d.before.as_ref().map(snapshot),
            after: d.after.as_ref().map(snapshot),
        });
    let rollback_entries: Vec<&TaskData> = data.iter().filter(|d| is_rollback(d)).collect();
    let rollback = (!rollback_entries.is_empty()).then(|| RollbackDetail {
        instances: rollback_entries
            .iter()
            .map(|d| rollback_instance(d))
            .collect(),
        tasks: rollback_entries
            .iter()
            .filter(|d| d.status.is_some() || d.progress.is_some())
            .map(|d| rollback_task(d))
            .collect(),
    });
    let parameters = data
        .iter()
        .flat_map(|d| d.parameters.iter())
        .filter_map(|p| {
            Some(ParameterChange {
                name: p.name.clone()?,
                old_value: p.old_value.clone(),
                new_value: p.current_value.clone(),
                message: p.message.clone(),
            })
        })
        .collect();
    let import = data
        .iter()
        .find(|d| d.file_name.is_some() || d.file_size.is_some())
        .map(|d| ImportDetail {
            database: d.database.clone(),
            file_name: d.file_name.clone(),
            file_size_bytes: d.file_size,
        });
    JobDetail {
        upgrade,
        rollback,
        parameters,
        import,
        ..Default::default()
    }
}

fn is_rollback(d: &TaskData) -> bool {
    d.rollback_time.is_some()
        || !d.database_tables.is_empty()
        || d.databases.iter().any(|db| db.database_name.is_some())
}

fn rollback_instance(d: &TaskData) -> RollbackInstance {
    RollbackInstance {
        instance_id: d.instance_id.clone().unwrap_or_default(),
        instance_name: None,
        rollback_time: d.rollback_time.clone(),
        strategy: None,
        databases: d
            .databases
            .iter()
            .filter_map(|db| {
                Some(DatabaseRename {
                    name: db.database_name.clone()?,
                    new_name: db.new_database_name.clone(),
                })
            })
            .collect(),
        tables: d
            .database_tables
            .iter()
            .flat_map(|dt| {
                let database = dt.database.clone().unwrap_or_default();
                dt.tables.iter().filter_map(move |t| {
                    Some(TableRename {
                        database: database.clone(),
                        name: t.table_name.clone()?,
                        new_name: t.new_table_name.clone(),
                    })
                })
            })
            .collect(),
    }
}

fn rollback_task(d: &TaskData) -> RollbackSubTask {
    let state = d.status.as_deref().and_then(TaskState::parse);
    RollbackSubTask {
        instance_id: d.instance_id.clone(),
        task_id: None,
        phase: state.map(|s| s.phase_and_reason().0),
        provider_status: d.status.clone(),
        progress: d.progress.map(|p| i32::from(clamp_progress(p))),
        message: d.message.clone(),
        start_time: d
            .start_time
            .as_deref()
            .and_then(parse_tencent_time)
            .map(Time),
        end_time: d.end_time.as_deref().and_then(parse_tencent_time).map(Time),
    }
}

/// Maps a `DescribeAsyncRequestInfo` response. Both fields may be `null`: that is `Pending`.
///
/// `PAUSED` means "being terminated" here: still running, reason `Paused`. `UNDEFINED` means
/// created but waiting for the maintenance window: `Pending`, reason `WaitingForMaintenanceWindow`.
pub fn map_async_request_info(info: &AsyncRequestInfo) -> JobObservation {
    let raw = info.status.as_deref();
    let state = raw.and_then(TaskState::parse);
    let (phase, reason, progress) = match state {
        Some(TaskState::Undefined) => {
            (JobPhase::Pending, Some("WaitingForMaintenanceWindow"), None)
        }
        Some(s) => {
            let (phase, reason) = s.phase_and_reason();
            let progress = (phase == JobPhase::Succeeded).then_some(100);
            (phase, reason, progress)
        }
        None if raw.is_none() => (JobPhase::Pending, None, None),
        None => (JobPhase::Pending, Some("UnknownStatus"), None),
    };
    let message = match (state, raw) {
        (None, Some(raw)) => Some(match &info.info {
            Some(i) => format!("unrecognized request status {raw:?}: {i}"),
            None => format!("unrecognized request status {raw:?}"),
        }),
        (None, None) if info.info.is_none() => {
            Some("the provider reported no status for the request yet".to_string())
        }
        _ => info.info.clone(),
    };
    JobObservation {
        phase: Some(phase),
        reason: reason.map(String::from),
        provider_status: raw.map(String::from),
        progress,
        message,
        ..Default::default()
    }
}
