//! Pure mapping from decoded API 2.0 job responses to [`JobObservation`].

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::model::{
    RollbackData, RollbackInstanceItem, RollbackTask, TaskInfoData, UpgradeJobData,
};
use crate::decode::{parse_i64, parse_progress, parse_tencent_time};
use crate::observation::NOT_FOUND_YET;
use crate::tencent::mapping::snapshot;
use crate::{JobDetail, JobObservation};
use clouddb_api::{
    DatabaseRename, JobPhase, RollbackDetail, RollbackInstance, RollbackSubTask, UpgradeDetail,
};

/// Normalized job type for a `GetCdbTaskInfo` `functionName` (every value the API documents;
/// anything else is `other`).
pub fn task_function_job_type(function_name: &str) -> &'static str {
    match function_name.trim() {
        "import_instance" => "import",
        "qcloud_apply" => "create",
        "offline" | "delete_ro_group" | "offline_ros" => "delete",
        "rename_instance" => "rename",
        "modify_param" => "parameter",
        "renewal" => "renew",
        "upgrade" | "upgrade_ro_group" => "upgrade",
        "ro_apply" | "dr_apply" => "create-replica",
        "wwan_services" | "slave_access" => "network",
        "initial_set" => "initialize",
        "imgriate" => "migrate",
        "dr_to_master" => "switch-to-master",
        _ => "other",
    }
}

/// Phase and reason for a `GetCdbTaskInfo` status: `0` success, `1` failed, `2` running.
/// An undocumented value is a job that exists and is not reported finished: `Running` with
/// reason `UnknownStatus`.
pub fn task_status_phase(status: &str) -> (JobPhase, Option<&'static str>) {
    match parse_i64(status) {
        Some(0) => (JobPhase::Succeeded, None),
        Some(1) => (JobPhase::Failed, Some("JobFailed")),
        Some(2) => (JobPhase::Running, None),
        _ => (JobPhase::Running, Some("UnknownStatus")),
    }
}

/// Phase and reason for the upgrade/rollback job status: `0` running, `2` success,
/// `3` failed, `4` aborted, `5` deleted, `6` aborting. `1` is undocumented here but means
/// running in the API 3.0 equivalent; other values are `Running`/`UnknownStatus`.
pub fn job_status_phase(status: &str) -> (JobPhase, Option<&'static str>) {
    match parse_i64(status) {
        Some(0 | 1) => (JobPhase::Running, None),
        Some(2) => (JobPhase::Succeeded, None),
        Some(3) => (JobPhase::Failed, Some("JobFailed")),
        Some(4) => (JobPhase::Failed, Some("Aborted")),
        Some(5) => (JobPhase::Failed, Some("Deleted")),
        Some(6) => (JobPhase::Running, Some("Aborting")),
        _ => (JobPhase::Running, Some("UnknownStatus")),
    }
}

/// Sets phase, reason and provider status; a missing status is `Pending`/`NotFoundYet`.
fn apply_status(
    obs: &mut JobObservation,
    status: Option<&str>,
    phase_of: fn(&str) -> (JobPhase, Option<&'static str>),
) {
    match status {
        Some(s) => {
            let (phase, reason) = phase_of(s);
            obs.phase = Some(phase);
            obs.reason = reason.map(String::from);
            obs.provider_status = Some(s.to_string());
        }
        None => {
            obs.phase = Some(JobPhase::Pending);
            obs.reason = Some(NOT_FOUND_YET.into());
        }
    }
}

/// Percent complete: the reported value clamped, 100 once succeeded.
fn progress(raw: Option<&str>, phase: Option<JobPhase>) -> Option<u8> {
    if phase == Some(JobPhase::Succeeded) {
        return Some(100);
    }
    raw.and_then(parse_progress)
}

/// A provider message with a non-zero task error code appended.
fn message_with_code(message: Option<&str>, code: Option<&str>) -> Option<String> {
    let message = message.map(str::trim).filter(|m| !m.is_empty());
    let code = code
        .map(str::trim)
        .filter(|c| !c.is_empty() && parse_i64(c) != Some(0));
    match (message, code) {
        (Some(m), Some(c)) => Some(format!("{m} (error code {c})")),
        (Some(m), None) => Some(m.to_string()),
        (None, Some(c)) => Some(format!("error code {c}")),
        (None, None) => None,
    }
}

fn push_unique(ids: &mut Vec<String>, id: Option<&String>) {
    if let Some(id) = id {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
}

/// Maps `GetCdbTaskInfo` `data`. `envelope_message` is the top-level `message` (the task
/// itself carries none). This API reports no progress: 100 on success, none otherwise.
pub fn map_task_info(data: &TaskInfoData, envelope_message: Option<&str>) -> JobObservation {
    let mut obs = JobObservation::default();
    apply_status(&mut obs, data.status.as_deref(), task_status_phase);
    obs.progress = (obs.phase == Some(JobPhase::Succeeded)).then_some(100);
    obs.message = envelope_message
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(String::from);
    if obs.is_not_found_yet() && obs.message.is_none() {
        obs.message = Some("GetCdbTaskInfo returned no task status yet".into());
    }
    obs.job_type = data
        .function_name
        .as_deref()
        .map(|f| task_function_job_type(f).to_string());
    obs.provider_job_type = data.function_name.clone();
    obs.instance_ids = data.u_instance_ids.clone();
    obs
}

/// Maps `GetCdbUpgradeJobInfo` `data`. The job type is always `upgrade` (`type` 9 is a
/// read-only instance upgrade, 11 a master upgrade; the raw value is kept). The first
/// `detail` entry becomes `detail.upgrade`; every entry's instance is listed.
pub fn map_upgrade_job(data: &UpgradeJobData) -> JobObservation {
    let mut obs = JobObservation::default();
    apply_status(&mut obs, data.status.as_deref(), job_status_phase);
    obs.progress = progress(data.progress.as_deref(), obs.phase);
    obs.message = message_with_code(data.message.as_deref(), data.code.as_deref());
    obs.job_type = Some("upgrade".into());
    obs.provider_job_type = data.job_type.clone();
    obs.start_time = data.start_time.as_deref().and_then(parse_tencent_time);
    obs.end_time = data.end_time.as_deref().and_then(parse_tencent_time);
    for item in &data.detail {
        push_unique(&mut obs.instance_ids, item.cdb_instance_id.as_ref());
    }
    obs.detail = JobDetail {
        upgrade: data.detail.first().map(|d| UpgradeDetail {
            instance_id: d.cdb_instance_id.clone(),
            deal_name: d.deal_name.clone(),
            before: d.before.as_ref().map(snapshot),
            after: d.after.as_ref().map(snapshot),
        }),
        ..Default::default()
    };
    obs
}

fn rollback_instance(item: &RollbackInstanceItem) -> Option<RollbackInstance> {
    Some(RollbackInstance {
        instance_id: item.instance_id.clone()?,
        instance_name: item.instance_name.clone(),
        rollback_time: item.rollback_time.clone(),
        strategy: item.strategy.clone(),
        databases: item
            .dbs
            .iter()
            .filter_map(|db| {
                Some(DatabaseRename {
                    name: db.dbname.clone()?,
                    new_name: db.newname.clone(),
                })
            })
            .collect(),
        tables: Vec::new(),
    })
}

fn sub_task(task: &RollbackTask) -> RollbackSubTask {
    let (phase, _) = task
        .status
        .as_deref()
        .map(job_status_phase)
        .map_or((None, None), |(p, r)| (Some(p), r));
    RollbackSubTask {
        instance_id: task.task_info.as_ref().and_then(|i| i.instance_id.clone()),
        task_id: task.task_id.clone(),
        phase,
        provider_status: task.status.clone(),
        progress: progress(task.progress.as_deref(), phase).map(i32::from),
        message: message_with_code(task.message.as_deref(), task.code.as_deref()),
        start_time: task
            .start_time
            .as_deref()
            .and_then(parse_tencent_time)
            .map(Time),
        end_time: task
            .end_time
            .as_deref()
            .and_then(parse_tencent_time)
            .map(Time),
    }
}

/// `"N of M instance sub-tasks failed: id: message; id: message"`, or `None` if none failed.
fn sub_task_failures(tasks: &[RollbackSubTask]) -> Option<String> {
    let failed: Vec<String> = tasks
        .iter()
        .filter(|t| t.phase == Some(JobPhase::Failed))
        .map(|t| {
            let who = t
                .instance_id
                .as_deref()
                .or(t.task_id.as_deref())
                .unwrap_or("unknown instance");
            let what = t.message.as_deref().unwrap_or("no message");
            format!("{who}: {what}")
        })
        .collect();
    (!failed.is_empty()).then(|| {
        format!(
            "{} of {} instance sub-tasks failed: {}",
            failed.len(),
            tasks.len(),
            failed.join("; ")
        )
    })
}

/// Maps `GetCdbRollbackJobTask` `data`. The phase follows `jobInfo`; sub-tasks are listed in
/// `detail.rollback.tasks`, and failed ones are summarized in the message. Without
/// `jobInfo` the job is `Pending`/`NotFoundYet`.
pub fn map_rollback_job(data: &RollbackData) -> JobObservation {
    let tasks: Vec<RollbackSubTask> = data.task_detail.iter().map(sub_task).collect();
    let Some(job) = &data.job_info else {
        let mut obs =
            JobObservation::not_found_yet("GetCdbRollbackJobTask returned no jobInfo yet");
        obs.job_type = Some("rollback".into());
        return obs;
    };
    let mut obs = JobObservation::default();
    apply_status(&mut obs, job.status.as_deref(), job_status_phase);
    obs.progress = progress(job.progress.as_deref(), obs.phase);
    let job_message = message_with_code(job.message.as_deref(), job.code.as_deref());
    obs.message = match (job_message, sub_task_failures(&tasks)) {
        (Some(m), Some(f)) => Some(format!("{m}; {f}")),
        (m, f) => m.or(f),
    };
    obs.job_type = Some("rollback".into());
    obs.provider_job_type = job.job_type.clone();
    obs.start_time = job.start_time.as_deref().and_then(parse_tencent_time);
    obs.end_time = job.end_time.as_deref().and_then(parse_tencent_time);
    let instances: Vec<RollbackInstance> =
        job.detail.iter().filter_map(rollback_instance).collect();
    for i in &instances {
        push_unique(&mut obs.instance_ids, Some(&i.instance_id));
    }
    for t in &tasks {
        push_unique(&mut obs.instance_ids, t.instance_id.as_ref());
    }
    obs.detail = JobDetail {
        rollback: Some(RollbackDetail { instances, tasks }),
        ..Default::default()
    };
    obs
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
