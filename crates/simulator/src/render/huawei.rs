//! Huawei Cloud job responses (`GET /v3/{project_id}/jobs?id=` for RDS and TaurusDB, and
//! the legacy `/mysql/v3/...`) and the `{error_code, error_msg}` envelope.

use serde_json::{json, Value};

use super::{huawei_time, RenderJob};
use crate::scenario::Phase;

/// The job `status` for an API (`rds`, `taurusdb`, `taurusdb-legacy`). RDS knows only
/// Running/Completed/Failed; TaurusDB adds Pending and Canceled.
pub fn status(api: &str, phase: Phase) -> &'static str {
    let taurus = api == "taurusdb";
    match phase {
        Phase::Initial | Phase::Waiting if taurus => "Pending",
        Phase::Killed | Phase::Removed if taurus => "Canceled",
        Phase::Initial | Phase::Waiting | Phase::Running | Phase::Paused => "Running",
        Phase::Succeed => "Completed",
        Phase::Failed | Phase::Killed | Phase::Removed => "Failed",
    }
}

/// The job response. `process` is `"40%"` while running and `""` otherwise; `ended` and
/// `fail_reason` appear only when they apply.
pub fn job(j: &RenderJob<'_>) -> Value {
    let api = j.job.api();
    let status = status(api, j.state.phase);
    let process = if status == "Running" {
        format!("{}%", j.state.progress)
    } else {
        String::new()
    };
    let mut job = json!({
        "id": j.job.job_id,
        "name": j.job.display_name(),
        "status": status,
        "created": huawei_time(j.start),
        "process": process,
        "instance": {
            "id": j.instance_id(),
            "name": j.job.instance_name.clone().unwrap_or_default(),
        },
        "entities": j.job.detail.entities.clone().unwrap_or_else(|| json!({})),
    });
    if let (Some(end), Some(obj)) = (j.end, job.as_object_mut()) {
        obj.insert("ended".into(), Value::from(huawei_time(end)));
        if status == "Failed" {
            let reason = j
                .job
                .detail
                .fail_reason
                .clone()
                .unwrap_or_else(|| j.state.message.clone());
            obj.insert("fail_reason".into(), Value::from(reason));
        }
    }
    json!({ "job": job })
}

/// One RDS `ListTasks` item: the job's fields under the task list's names
/// (`create_time`, `end_time`, `instance_id`, `instance_name`; `process` a bare number).
pub fn task(j: &RenderJob<'_>) -> Value {
    let job = job(j);
    let field = |name: &str| job["job"].get(name).cloned().unwrap_or(json!(""));
    let process = field("process");
    json!({
        "id": field("id"),
        "name": field("name"),
        "instance_id": j.instance_id(),
        "instance_name": j.job.instance_name.clone().unwrap_or_default(),
        "status": field("status"),
        "process": process.as_str().map(|p| p.trim_end_matches('%').to_string()),
        "fail_reason": field("fail_reason"),
        "create_time": field("created"),
        "end_time": field("ended"),
        "order_id": "",
    })
}

/// The Huawei error body.
pub fn error(code: &str, message: &str) -> Value {
    json!({"error_code": code, "error_msg": message})
}
