//! Tencent API 2.0 responses, with the documents' quirks: integers sent as strings, an
//! integer top-level `code` in GetCdbUpgradeJobInfo but a string one elsewhere, `data` an
//! object, empty zones as `""`, lower-case `starttime` in GetCdbRollbackJobTask.

use serde_json::{json, Value};

use super::{tencent_time, RenderJob, TENCENT_ZERO_TIME};
use crate::scenario::{InstanceSpec, Phase};

/// GetCdbTaskInfo `status`: 0 success, 1 failure, 2 running.
pub fn task_info_status(phase: Phase) -> &'static str {
    match phase {
        Phase::Succeed => "0",
        Phase::Failed | Phase::Killed | Phase::Removed => "1",
        _ => "2",
    }
}

/// Job `status` of the upgrade and rollback APIs: 0 running, 2 ok, 3 failed, 4 terminated,
/// 5 deleted, 6 terminating.
pub fn job_status(phase: Phase) -> i64 {
    match phase {
        Phase::Initial | Phase::Waiting | Phase::Running => 0,
        Phase::Succeed => 2,
        Phase::Failed => 3,
        Phase::Killed => 4,
        Phase::Removed => 5,
        Phase::Paused => 6,
    }
}

fn end_time(j: &RenderJob<'_>) -> String {
    j.end
        .map(tencent_time)
        .unwrap_or_else(|| TENCENT_ZERO_TIME.to_string())
}

/// GetCdbTaskInfo.
pub fn task_info(j: &RenderJob<'_>) -> Value {
    let ids = if j.state.phase == Phase::Succeed {
        j.instance_ids()
    } else {
        vec![]
    };
    json!({
        "code": "0",
        "message": "",
        "codeDesc": "Success",
        "data": {
            "status": task_info_status(j.state.phase),
            "functionName": j.job.display_name(),
            "uInstanceIds": ids,
        }
    })
}

fn spec(s: &InstanceSpec) -> Value {
    let zone = |z: Option<i64>| z.map(Value::from).unwrap_or_else(|| Value::from(""));
    json!({
        "memory": s.memory,
        "volume": s.volume,
        "engineVersion": s.engine_version,
        "protectMode": s.protect_mode,
        "deployMode": s.deploy_mode,
        "masterZone": zone(s.master_zone),
        "slaveZoneFirst": zone(s.slave_zone_first),
        "slaveZoneSecond": zone(s.slave_zone_second),
        "cdbType": s.cdb_type,
    })
}

/// GetCdbUpgradeJobInfo.
pub fn upgrade_job_info(j: &RenderJob<'_>) -> Value {
    let d = &j.job.detail;
    json!({
        "code": 0,
        "message": "",
        "codeDesc": "Success",
        "data": {
            "code": j.state.code.to_string(),
            "message": j.state.message,
            "jobId": j.job.job_id,
            "type": j.job.kind.code().to_string(),
            "status": job_status(j.state.phase).to_string(),
            "progress": j.state.progress.to_string(),
            "startTime": tencent_time(j.start),
            "endTime": end_time(j),
            "detail": [{
                "cdbInstanceId": j.instance_id(),
                "dealName": d.deal_name.clone().unwrap_or_default(),
                "before": spec(&d.before.clone().unwrap_or_default()),
                "after": spec(&d.after.clone().unwrap_or_default()),
            }],
        }
    })
}

fn rollback_detail(j: &RenderJob<'_>, instance: &str) -> Value {
    let d = &j.job.detail;
    json!({
        "instanceid": instance,
        "instancename": j.job.instance_name.clone().unwrap_or_default(),
        "strategy": d.strategy.clone().unwrap_or_else(|| "full".into()),
        "rollbacktime": d.rollback_time.clone().unwrap_or_default(),
        "type": "nopriv",
        "operator": d.operator.clone().unwrap_or_default(),
        "dbs": d.databases.iter().map(|db| json!({
            "dbname": db.database, "newname": db.new_database,
        })).collect::<Vec<_>>(),
    })
}

/// GetCdbRollbackJobTask: the job and one task per instance.
pub fn rollback_job_task(j: &RenderJob<'_>) -> Value {
    let status = job_status(j.state.phase).to_string();
    let progress = j.state.progress.to_string();
    let code = j.state.code.to_string();
    let (start, end) = (tencent_time(j.start), end_time(j));
    let instances = j.instance_ids();
    let details: Vec<Value> = instances.iter().map(|i| rollback_detail(j, i)).collect();
    let tasks: Vec<Value> = instances
        .iter()
        .enumerate()
        .map(|(n, i)| {
            json!({
                "taskInfo": rollback_detail(j, i),
                "taskid": (n + 1).to_string(),
                "workid": format!("{}{}", j.job.job_id, n + 1),
                "status": status,
                "progress": progress,
                "code": code,
                "message": j.state.message,
                "starttime": start,
                "endtime": end,
            })
        })
        .collect();
    json!({
        "code": "0",
        "message": "",
        "data": {
            "jobInfo": {
                "jobId": j.job.job_id,
                "type": j.job.kind.code().to_string(),
                "status": status,
                "progress": progress,
                "code": code,
                "message": j.state.message,
                "starttime": start,
                "endtime": end,
                "detail": details,
            },
            "taskDetail": tasks,
        }
    })
}

/// The API 2.0 error envelope.
pub fn error(code: i64, code_desc: &str, message: &str) -> Value {
    json!({"code": code, "message": message, "codeDesc": code_desc})
}
