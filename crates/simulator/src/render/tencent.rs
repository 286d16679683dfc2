//! Tencent Cloud API 3.0 responses: `DescribeTasks` items in the live API's shape or the
//! seed document's shape, `DescribeAsyncRequestInfo`, and the error envelope.

use serde_json::{json, Value};

use super::{tencent_time, RenderJob, TENCENT_ZERO_TIME};
use crate::scenario::{InstanceSpec, Phase, TaskKind};

/// `TaskStatus` of the live API.
pub fn task_status(phase: Phase) -> &'static str {
    match phase {
        Phase::Initial => "INITIAL",
        Phase::Waiting => "WAITING",
        Phase::Running => "RUNNING",
        Phase::Succeed => "SUCCEED",
        Phase::Failed => "FAILED",
        Phase::Killed => "KILLED",
        Phase::Removed => "REMOVED",
        Phase::Paused => "PAUSED",
    }
}

/// Integer `Status` of the seed document (the `TaskStatus.N` numbering).
pub fn seed_status(phase: Phase) -> i64 {
    match phase {
        Phase::Initial | Phase::Waiting => 0,
        Phase::Running => 1,
        Phase::Succeed => 2,
        Phase::Failed => 3,
        Phase::Killed => 4,
        Phase::Removed => 5,
        Phase::Paused => 6,
    }
}

/// `Status` of `DescribeAsyncRequestInfo` (note `SUCCESS`, not `SUCCEED`).
pub fn async_status(phase: Phase) -> &'static str {
    match phase {
        Phase::Initial => "INITIAL",
        Phase::Waiting => "UNDEFINED",
        Phase::Running => "RUNNING",
        Phase::Succeed => "SUCCESS",
        Phase::Failed => "FAILED",
        Phase::Killed => "KILLED",
        Phase::Removed => "REMOVED",
        Phase::Paused => "PAUSED",
    }
}

fn times(j: &RenderJob<'_>) -> (String, String) {
    (
        tencent_time(j.start),
        j.end
            .map(tencent_time)
            .unwrap_or_else(|| TENCENT_ZERO_TIME.to_string()),
    )
}

fn job_id_number(j: &RenderJob<'_>) -> Value {
    j.job
        .job_id
        .parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(j.job.job_id.clone()))
}

/// One `DescribeTasks` item as the live API returns it.
pub fn real_item(j: &RenderJob<'_>) -> Value {
    let (start, end) = times(j);
    let attach: Vec<Value> = match (j.job.kind, j.job.detail.fast_upgrade) {
        (TaskKind::UpgradeMaster | TaskKind::UpgradeRo, fast) => vec![json!({
            "AttachKey": "FastUpgradeStatus",
            "AttachValue": if fast.unwrap_or(false) { "1" } else { "0" },
        })],
        _ => vec![],
    };
    json!({
        "Code": j.state.code,
        "Message": j.state.message,
        "JobId": job_id_number(j),
        "Progress": j.state.progress,
        "TaskStatus": task_status(j.state.phase),
        "TaskType": j.job.kind.real_name(),
        "StartTime": start,
        "EndTime": end,
        "InstanceIds": j.instance_ids(),
        "AsyncRequestId": j.job.async_request_id.clone().unwrap_or_default(),
        "TaskAttachInfo": attach,
    })
}

fn seed_spec(spec: &InstanceSpec) -> Value {
    let zone = |z: Option<i64>| z.map(Value::from).unwrap_or_else(|| Value::from(""));
    json!({
        "SlaveZoneFirst": zone(spec.slave_zone_first),
        "MasterZone": zone(spec.master_zone),
        "Memory": spec.memory,
        "DeployMode": spec.deploy_mode,
        "Volume": spec.volume,
        "ProtectMode": spec.protect_mode,
        "SlaveZoneSecond": zone(spec.slave_zone_second),
        "EngineVersion": spec.engine_version,
        "CdbType": spec.cdb_type,
    })
}

/// The seed document's per-type `Data[]` entry.
fn seed_data(j: &RenderJob<'_>) -> Value {
    let d = &j.job.detail;
    let (start, end) = times(j);
    let instance = j.instance_id();
    match j.job.kind {
        TaskKind::Init => {
            let init = d.init.clone();
            json!({
                "InstanceId": instance,
                "Character_set_server": init.as_ref().map_or("utf8".into(), |i| i.character_set.clone()),
                "Lower_case_table_names": init.as_ref().map_or("0".into(), |i| i.lower_case_table_names.clone()),
                "Vport": init.as_ref().map_or(3306, |i| i.port),
            })
        }
        TaskKind::Sql => json!({
            "Code": j.state.code,
            "InstanceId": instance,
            "StartTime": start,
            "Databases": d.sql_databases.iter().map(|db| json!({
                "Message": db.message, "Code": db.code, "Database": db.database,
            })).collect::<Vec<_>>(),
            "Message": j.state.message,
            "EndTime": end,
        }),
        TaskKind::UpgradeMaster | TaskKind::UpgradeRo => json!({
            "InstanceId": instance,
            "Before": seed_spec(&d.before.clone().unwrap_or_default()),
            "After": seed_spec(&d.after.clone().unwrap_or_default()),
            "DealName": d.deal_name.clone().unwrap_or_default(),
        }),
        TaskKind::Param => json!({
            "InstanceId": instance,
            "Parameters": d.parameters.iter().map(|p| json!({
                "Message": p.message, "Code": p.code, "Name": p.name,
                "OldValue": p.old_value, "CurrentValue": p.current_value,
            })).collect::<Vec<_>>(),
        }),
        TaskKind::Import => {
            let file = d.import.clone();
            json!({
                "InstanceId": instance,
                "Database": file.as_ref().map_or(String::new(), |f| f.database.clone()),
                "CostTime": file.as_ref().map_or(0, |f| f.cost_time),
                "FileSize": file.as_ref().map_or(0, |f| f.file_size).to_string(),
                "FileName": file.as_ref().map_or(String::new(), |f| f.file_name.clone()),
            })
        }
        TaskKind::Rollback | TaskKind::BatchRollback => {
            let mut by_db: Vec<(String, Vec<Value>)> = Vec::new();
            for t in &d.tables {
                let entry = json!({"TableName": t.table, "NewTableName": t.new_table});
                match by_db.iter_mut().find(|(db, _)| *db == t.database) {
                    Some((_, tables)) => tables.push(entry),
                    None => by_db.push((t.database.clone(), vec![entry])),
                }
            }
            json!({
                "Status": seed_status(j.state.phase),
                "Code": j.state.code,
                "InstanceId": instance,
                "Databases": d.databases.iter().map(|db| json!({
                    "DatabaseName": db.database, "NewDatabaseName": db.new_database,
                })).collect::<Vec<_>>(),
                "Progress": j.state.progress,
                "Message": j.state.message,
                "RollbackTime": d.rollback_time.clone().unwrap_or_default(),
                "DatabaseTables": by_db.into_iter().map(|(db, tables)| json!({
                    "Tables": tables, "Database": db,
                })).collect::<Vec<_>>(),
            })
        }
        _ => json!({ "InstanceId": instance }),
    }
}

/// One `DescribeTasks` item in the seed document's shape.
pub fn seed_item(j: &RenderJob<'_>) -> Value {
    let (start, end) = times(j);
    json!({
        "Status": seed_status(j.state.phase),
        "Code": j.state.code,
        "Data": [seed_data(j)],
        "JobId": job_id_number(j),
        "StartTime": start,
        "Progress": j.state.progress,
        "Message": j.state.message,
        "EndTime": end,
        "Type": j.job.kind.code(),
    })
}

/// The `DescribeTasks` response.
pub fn describe_tasks(items: Vec<Value>, total_count: usize, request_id: &str) -> Value {
    json!({"Response": {"TotalCount": total_count, "Items": items, "RequestId": request_id}})
}

/// The `DescribeAsyncRequestInfo` response.
pub fn async_request_info(j: &RenderJob<'_>, request_id: &str) -> Value {
    json!({"Response": {
        "Status": async_status(j.state.phase),
        "Info": j.state.message,
        "RequestId": request_id,
    }})
}

/// The API 3.0 error envelope.
pub fn error(code: &str, message: &str, request_id: &str) -> Value {
    json!({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}})
}
