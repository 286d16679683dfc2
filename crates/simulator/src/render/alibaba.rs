//! Alibaba Cloud `DescribeHistoryTasks` responses (RDS 2014-08-15 and PolarDB 2017-08-01)
//! and the OpenAPI error envelope.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::RenderJob;
use crate::scenario::{Phase, TaskKind};

/// The two APIs' names as in `spec.api`.
pub const RDS: &str = "rds";
pub const POLARDB: &str = "polardb";

/// Task time: `2024-05-01T08:00:00Z` (UTC).
pub fn time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `Status` of a task. There is no paused state: a paused job waits (`Waiting`), and a
/// killed or removed one was canceled.
pub fn status(phase: Phase) -> &'static str {
    match phase {
        Phase::Initial => "Scheduled",
        Phase::Waiting | Phase::Paused => "Waiting",
        Phase::Running => "Running",
        Phase::Succeed => "Succeed",
        Phase::Failed => "Failed",
        Phase::Killed | Phase::Removed => "Canceled",
    }
}

/// A plausible `TaskType` for a kind of work (the job's `name` overrides it).
pub fn task_type(api: &str, kind: TaskKind) -> &'static str {
    let polardb = api == POLARDB;
    match kind {
        TaskKind::Init if polardb => "CreateDBCluster",
        TaskKind::Init => "CreateDBInstance",
        TaskKind::Reboot if polardb => "RestartDBNode",
        TaskKind::Reboot => "RestartDBInstance",
        TaskKind::UpgradeMaster | TaskKind::UpgradeRo if polardb => "ModifyDBNodeClass",
        TaskKind::UpgradeMaster | TaskKind::UpgradeRo => "ModifyDBInstanceSpec",
        TaskKind::Param if polardb => "ModifyDBClusterParameters",
        TaskKind::Param => "ModifyParameter",
        TaskKind::Rollback | TaskKind::BatchRollback => "RestoreTable",
        TaskKind::Import => "ImportDatabaseBetweenInstances",
        TaskKind::Sql => "CopyDatabaseBetweenInstances",
        TaskKind::Gtid => "ModifyDBInstanceConfig",
        TaskKind::DropTables => "DeleteDatabase",
        TaskKind::SwitchDr => "SwitchDBInstanceHA",
    }
}

/// `CurrentStepName`: the step's message when the scenario gives one, otherwise empty
/// before the task starts and a generic step name after.
fn step_name(j: &RenderJob<'_>) -> String {
    if !j.state.message.is_empty() {
        return j.state.message.clone();
    }
    match j.state.phase {
        Phase::Initial => String::new(),
        Phase::Waiting | Phase::Paused => "init_task".into(),
        _ => "exec_task".into(),
    }
}

/// One `Items` entry. `remain` is the estimated seconds left; `region` the request's
/// `RegionId`.
pub fn item(j: &RenderJob<'_>, remain: i64, region: &str) -> Value {
    let api = j.job.api();
    let polardb = api == POLARDB;
    let status = status(j.state.phase);
    let step = step_name(j);
    let actions = match status {
        "Running" => json!({"Running": ["cancel"]}),
        "Waiting" => json!({"Waiting": ["modifySwitchTime"]}),
        "Failed" => json!({"Failed": ["retry"]}),
        _ => json!({}),
    };
    let action_info = json!({"steps": [{"step_name": step.clone(), "action_info": actions}]});
    let task_detail = if j.state.message.is_empty() {
        json!({})
    } else {
        json!({"progressInfo": j.state.message})
    };
    let progress = if status == "Succeed" {
        100.0
    } else {
        f64::from(j.state.progress)
    };
    json!({
        "TaskId": j.job.job_id,
        "TaskType": j.job.name.clone().unwrap_or_else(|| task_type(api, j.job.kind).to_string()),
        "Status": status,
        "Progress": progress,
        "RemainTime": if j.state.phase.is_terminal() { 0 } else { remain.max(0) },
        "StartTime": time(j.start),
        "EndTime": j.end.map(time).unwrap_or_default(),
        "CurrentStepName": step,
        "InstanceId": j.instance_id(),
        "InstanceName": j.job.instance_name.clone().unwrap_or_default(),
        "InstanceType": "Instance",
        "DbType": j.job.detail.db_type.clone()
            .unwrap_or_else(|| if polardb { "MySQL" } else { "mysql" }.to_string()),
        "Product": if polardb { "polardb" } else { "rds" },
        "RegionId": region,
        "ReasonCode": j.job.detail.reason_code.clone().unwrap_or_else(|| "user_api".to_string()),
        "TaskDetail": task_detail.to_string(),
        "ActionInfo": action_info.to_string(),
        "CallerSource": "User",
        "CallerUid": "1413459060060000",
        "Uid": "1413459060060000",
    })
}

/// The page. PolarDB documents `TotalCount` as a string, RDS as an integer.
pub fn page(
    api: &str,
    items: Vec<Value>,
    total: usize,
    page: u64,
    size: u64,
    request_id: &str,
) -> Value {
    let total = if api == POLARDB {
        Value::from(total.to_string())
    } else {
        Value::from(total)
    };
    json!({
        "RequestId": request_id,
        "PageNumber": page,
        "PageSize": size,
        "TotalCount": total,
        "Items": items,
    })
}

/// The OpenAPI error body.
pub fn error(code: &str, message: &str, request_id: &str, host: &str) -> Value {
    json!({
        "RequestId": request_id,
        "HostId": host,
        "Code": code,
        "Message": message,
        "Recommend": format!("https://api.aliyun.com/troubleshoot?q={code}&requestId={request_id}"),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::scenario::Scenario;
    use crate::timeline::state_at;
    use clouddb_api::{JobPhase, ProviderKind};
    use clouddb_providers::alibaba::mapping;
    use clouddb_providers::alibaba::model::HistoryTasksPage;

    /// A built-in Alibaba job rendered at `at` seconds, read back by the client's decoder.
    fn rendered(job_id: &str, at: u64) -> (Value, clouddb_providers::JobObservation) {
        let job = Scenario::builtins()
            .unwrap()
            .iter()
            .flat_map(|s| s.resolved_jobs())
            .find(|j| j.provider == ProviderKind::Alibaba && j.job_id == job_id)
            .unwrap();
        let state = state_at(&job.timeline, Duration::from_secs(at)).unwrap();
        let start = Timestamp::from_second(1_714_550_400).unwrap();
        let end = state.ended.map(|e| {
            start
                .checked_add(jiff::SignedDuration::from_secs(e.as_secs() as i64))
                .unwrap()
        });
        let rj = RenderJob {
            job: &job,
            state: &state,
            start,
            end,
        };
        let item = item(&rj, 42, "cn-hangzhou");
        let body = page(job.api(), vec![item.clone()], 1, 1, 10, "req");
        let decoded: HistoryTasksPage = serde_json::from_value(body).unwrap();
        let obs = mapping::find_task(&decoded, job_id)
            .map(mapping::map_task)
            .unwrap();
        (item, obs)
    }

    #[test]
    fn every_phase_has_a_documented_status() {
        let documented = [
            "Scheduled",
            "Running",
            "Succeed",
            "Failed",
            "Cancelling",
            "Canceled",
            "Waiting",
        ];
        for phase in [
            Phase::Initial,
            Phase::Waiting,
            Phase::Running,
            Phase::Succeed,
            Phase::Failed,
            Phase::Killed,
            Phase::Removed,
            Phase::Paused,
        ] {
            assert!(documented.contains(&status(phase)), "{phase:?}");
        }
    }

    #[test]
    fn items_carry_every_documented_field_and_read_back() {
        let (item, obs) = rendered("t-83br18hloy3faf0s1", 25);
        let fields = [
            "TaskId",
            "TaskType",
            "Status",
            "Progress",
            "RemainTime",
            "StartTime",
            "EndTime",
            "CurrentStepName",
            "InstanceId",
            "InstanceName",
            "InstanceType",
            "DbType",
            "Product",
            "RegionId",
            "ReasonCode",
            "TaskDetail",
            "ActionInfo",
            "CallerSource",
            "CallerUid",
            "Uid",
        ];
        let obj = item.as_object().unwrap();
        assert_eq!(obj.len(), fields.len());
        for f in fields {
            assert!(obj.contains_key(f), "{f}");
        }
        assert!(item["Progress"].is_f64());
        assert!(item["RemainTime"].is_i64());
        for f in ["TaskDetail", "ActionInfo"] {
            let text = item[f].as_str().unwrap();
            assert!(
                serde_json::from_str::<Value>(text).unwrap().is_object(),
                "{f}"
            );
        }
        assert_eq!(item["StartTime"], "2024-05-01T08:00:00Z");
        assert_eq!(obs.phase, Some(JobPhase::Running));
        assert_eq!(obs.progress, Some(45));
        assert_eq!(obs.remaining, Some(Duration::from_secs(42)));
        assert_eq!(
            obs.provider_job_type.as_deref(),
            Some("MinorVersionUpgrade")
        );
        assert_eq!(obs.job_type.as_deref(), Some("upgrade"));
        let detail = obs.detail.alibaba.unwrap();
        assert_eq!(
            detail.current_step_name.as_deref(),
            Some("upgrade_minor_version")
        );
        assert_eq!(detail.reason_code.as_deref(), Some("user_api"));
    }

    #[test]
    fn final_states_read_back_as_terminal_phases() {
        let (item, obs) = rendered("t-83br18hloy3faf0s1", 3600);
        assert_eq!(
            (item["Status"].as_str(), item["RemainTime"].as_i64()),
            (Some("Succeed"), Some(0))
        );
        assert_eq!(item["EndTime"], "2024-05-01T08:01:00Z");
        assert_eq!(
            (obs.phase, obs.progress),
            (Some(JobPhase::Succeeded), Some(100))
        );
        let (_, failed) = rendered("t-0mq1yyhm3ffl2bx1", 3600);
        assert_eq!(failed.reason.as_deref(), Some("JobFailed"));
        assert_eq!(
            failed.message.as_deref(),
            Some("the task failed at step restart_instance")
        );
        let (waiting, pending) = rendered("t-0mq1yyhm3ffl2bx1", 0);
        assert_eq!(waiting["Status"], "Waiting");
        assert_eq!(pending.phase, Some(JobPhase::Pending));
        let (killed, canceled) = rendered("t-0mqgj3x5vbc3k9a3", 3600);
        assert_eq!(killed["Status"], "Canceled");
        assert_eq!(killed["Product"], "polardb");
        assert_eq!(canceled.reason.as_deref(), Some("Canceled"));
    }

    #[test]
    fn polardb_total_count_is_a_string() {
        assert_eq!(page(POLARDB, vec![], 3, 1, 10, "r")["TotalCount"], "3");
        assert_eq!(page(RDS, vec![], 3, 1, 10, "r")["TotalCount"], 3);
        let e = error("Throttling.User", "m", "r", "h");
        for f in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
            assert!(e.get(f).is_some(), "{f}");
        }
    }
}
