//! The live API's item shape (`TaskStatus`/`TaskType` strings): the tccli example, every
//! status and type value, string-typed numbers, nulls; and `DescribeAsyncRequestInfo`.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::fixture;
use crate::tencent::errors::parse_response;
use crate::tencent::mapping::{
    map_async_request_info, map_task_item, normalize_job_type, observe_in_page, TaskState,
};
use crate::tencent::model::{AsyncRequestInfo, DescribeTasksPage, TaskItem};
use crate::{JobDetail, JobObservation};
use clouddb_api::JobPhase;

fn item(v: Value) -> TaskItem {
    serde_json::from_value(v).unwrap()
}

fn bj(s: &str) -> Option<Timestamp> {
    Some(format!("{}+08:00", s.replace(' ', "T")).parse().unwrap())
}

fn tccli() -> DescribeTasksPage {
    let body = fixture("describe_tasks_tccli.json");
    serde_json::from_value(parse_response(200, body.as_bytes(), None).unwrap()).unwrap()
}

#[test]
fn tccli_failed_gtid_task_with_code_9013() {
    let obs = observe_in_page(&tccli(), "79").unwrap();
    let expected = JobObservation {
        remaining: None,
        phase: Some(JobPhase::Failed),
        reason: Some("JobFailed".into()),
        provider_status: Some("FAILED".into()),
        progress: Some(10),
        message: Some("[Operate CDB Fail][Upgrade Service Fail!] reason: ERR#-999: lock_inst.cgi: 某些实例id不存在对应的实例记录 (code 9013)".into()),
        job_type: Some("gtid".into()),
        provider_job_type: Some("OPEN GTID".into()),
        start_time: bj("2019-10-09 20:03:39"),
        end_time: bj("2019-10-09 20:39:34"),
        instance_ids: vec!["cdb-qlfpnobr".into()],
        detail: JobDetail::default(),
    };
    assert_eq!(obs, expected);
}

#[test]
fn tccli_every_item() {
    let page = tccli();
    assert_eq!(page.total_count, Some(5));
    let cases = [
        (
            "70",
            JobPhase::Succeeded,
            None,
            "SUCCEED",
            100,
            "设置参数成功",
            "parameter",
            "MODIFY PARAM",
            "cdb-6kd9h71i",
            ("2018-07-06 22:03:05", "2018-07-06 22:03:28"),
        ),
        (
            "69",
            JobPhase::Succeeded,
            None,
            "SUCCEED",
            100,
            "初始化实例成功",
            "initialize",
            "INITIAL",
            "cdb-6kd9h71i",
            ("2018-07-06 22:01:42", "2018-07-06 22:02:26"),
        ),
        (
            "68",
            JobPhase::Succeeded,
            None,
            "SUCCEED",
            100,
            "实例升级任务完成",
            "upgrade",
            "UPGRADE MASTER",
            "cdb-6kd9h71i",
            ("2018-07-05 23:53:48", "2018-07-06 22:05:10"),
        ),
        (
            "66",
            JobPhase::Failed,
            Some("JobFailed"),
            "FAILED",
            0,
            "设置参数失败 (code -1)",
            "parameter",
            "MODIFY PARAM",
            "cdb-o02fxj9g",
            ("2018-07-05 23:30:36", "2018-07-05 23:30:37"),
        ),
    ];
    for (
        id,
        phase,
        reason,
        status,
        progress,
        message,
        job_type,
        raw_type,
        instance,
        (start, end),
    ) in cases
    {
        let obs = observe_in_page(&page, id).unwrap();
        assert_eq!(obs.phase, Some(phase), "{id}");
        assert_eq!(obs.reason.as_deref(), reason, "{id}");
        assert_eq!(obs.provider_status.as_deref(), Some(status), "{id}");
        assert_eq!(obs.progress, Some(progress), "{id}");
        assert_eq!(obs.message.as_deref(), Some(message), "{id}");
        assert_eq!(obs.job_type.as_deref(), Some(job_type), "{id}");
        assert_eq!(obs.provider_job_type.as_deref(), Some(raw_type), "{id}");
        assert_eq!(obs.instance_ids, vec![instance.to_string()], "{id}");
        assert_eq!((obs.start_time, obs.end_time), (bj(start), bj(end)), "{id}");
        assert_eq!(obs.detail, JobDetail::default(), "{id}");
    }
    let attach = &page.items[3].attach_info[0];
    assert_eq!(attach.key.as_deref(), Some("FastUpgradeStatus"));
    assert_eq!(attach.value.as_deref(), Some("1"));
    assert_eq!(page.items[3].async_request_id, None);
    assert_eq!(
        page.items[0].async_request_id.as_deref(),
        Some("9d21004b-3aa1896a-eeddca4b-a68f106d")
    );
}

#[test]
fn every_task_status_string_and_integer() {
    let cases: [(&str, i64, JobPhase, Option<&str>); 9] = [
        ("UNDEFINED", -1, JobPhase::Pending, None),
        ("INITIAL", 0, JobPhase::Pending, None),
        ("RUNNING", 1, JobPhase::Running, None),
        ("SUCCEED", 2, JobPhase::Succeeded, None),
        ("FAILED", 3, JobPhase::Failed, Some("JobFailed")),
        ("KILLED", 4, JobPhase::Failed, Some("Aborted")),
        ("REMOVED", 5, JobPhase::Failed, Some("Deleted")),
        ("PAUSED", 6, JobPhase::Running, Some("Paused")),
        ("WAITING", i64::MIN, JobPhase::Pending, None),
    ];
    for (name, number, phase, reason) in cases {
        let by_name = map_task_item(&item(
            json!({"JobId": 1, "TaskStatus": name, "Progress": 40}),
        ));
        assert_eq!(by_name.phase, Some(phase), "{name}");
        assert_eq!(by_name.reason.as_deref(), reason, "{name}");
        assert_eq!(by_name.provider_status.as_deref(), Some(name));
        let expected_progress = if phase == JobPhase::Succeeded {
            100
        } else {
            40
        };
        assert_eq!(by_name.progress, Some(expected_progress), "{name}");
        assert_eq!(
            map_task_item(&item(
                json!({"JobId": 1, "TaskStatus": name.to_lowercase()})
            ))
            .phase,
            Some(phase)
        );
        if number != i64::MIN {
            for raw in [json!(number), json!(number.to_string())] {
                let by_number =
                    map_task_item(&item(json!({"JobId": 1, "Status": raw, "Progress": 40})));
                assert_eq!(by_number.phase, Some(phase), "{number}");
                assert_eq!(by_number.reason.as_deref(), reason, "{number}");
                assert_eq!(by_number.provider_status, Some(number.to_string()));
            }
        }
    }
}

#[test]
fn unknown_or_missing_status_is_never_terminal() {
    let odd = map_task_item(&item(
        json!({"JobId": 1, "TaskStatus": "EXPLODED", "Progress": 30, "Message": "m"}),
    ));
    assert_eq!(odd.phase, Some(JobPhase::Running));
    assert_eq!(odd.reason.as_deref(), Some("UnknownStatus"));
    assert_eq!(
        odd.message.as_deref(),
        Some("unrecognized task status \"EXPLODED\": m")
    );
    let seven = map_task_item(&item(json!({"JobId": 1, "Status": 7})));
    assert_eq!(seven.phase, Some(JobPhase::Pending));
    assert_eq!(seven.reason.as_deref(), Some("UnknownStatus"));
    let none = map_task_item(&item(json!({"JobId": 1})));
    assert_eq!(none.phase, Some(JobPhase::Pending));
    assert_eq!(
        none.message.as_deref(),
        Some("the provider reported no task status")
    );
}

#[test]
fn every_task_type_integer_and_string() {
    let cases = [
        (1, "ROLLBACK", "rollback"),
        (2, "SQL OPERATION", "sql"),
        (3, "IMPORT DATA", "import"),
        (5, "MODIFY PARAM", "parameter"),
        (6, "INITIAL", "initialize"),
        (7, "REBOOT", "restart"),
        (8, "OPEN GTID", "gtid"),
        (9, "UPGRADE RO", "upgrade"),
        (10, "BATCH ROLLBACK", "rollback"),
        (11, "UPGRADE MASTER", "upgrade"),
        (12, "DROP TABLES", "drop-tables"),
        (13, "SWITCH DR TO MASTER", "switch-to-master"),
    ];
    for (number, name, normalized) in cases {
        assert_eq!(
            normalize_job_type(&number.to_string()),
            normalized,
            "{number}"
        );
        assert_eq!(normalize_job_type(name), normalized, "{name}");
        let obs = map_task_item(&item(
            json!({"JobId": 1, "TaskType": name, "TaskStatus": "RUNNING"}),
        ));
        assert_eq!(obs.job_type.as_deref(), Some(normalized));
        assert_eq!(obs.provider_job_type.as_deref(), Some(name));
        let obs = map_task_item(&item(json!({"JobId": 1, "Type": number, "Status": 1})));
        assert_eq!(obs.job_type.as_deref(), Some(normalized));
        assert_eq!(obs.provider_job_type, Some(number.to_string()));
    }
    assert_eq!(normalize_job_type("upgrade_master"), "upgrade");
    assert_eq!(
        normalize_job_type(" switch-dr-to-master "),
        "switch-to-master"
    );
    for other in ["4", "99", "MIGRATE", ""] {
        assert_eq!(normalize_job_type(other), "other", "{other:?}");
    }
}

#[test]
fn string_numbers_and_nulls() {
    let obs = map_task_item(&item(json!({
        "JobId": "101", "Code": "0", "Progress": "45", "TaskStatus": "RUNNING",
        "TaskType": null, "Message": null, "StartTime": "2024-03-01 08:00:00",
        "EndTime": "0000-00-00 00:00:00", "InstanceIds": ["cdb-1", null, "cdb-1", 7],
        "AsyncRequestId": null, "TaskAttachInfo": null
    })));
    assert_eq!(obs.phase, Some(JobPhase::Running));
    assert_eq!(obs.progress, Some(45));
    assert_eq!(obs.message, None);
    assert_eq!((obs.job_type, obs.provider_job_type), (None, None));
    assert_eq!(
        obs.start_time,
        Some("2024-03-01T00:00:00Z".parse().unwrap())
    );
    assert_eq!(obs.end_time, None);
    assert_eq!(obs.instance_ids, vec!["cdb-1".to_string(), "7".to_string()]);
    let page: DescribeTasksPage = serde_json::from_value(json!({
        "TotalCount": "2", "Items": [null, {"JobId": "0101", "TaskStatus": "SUCCEED", "Progress": "150"}]
    }))
    .unwrap();
    let found = observe_in_page(&page, "101").unwrap();
    assert_eq!(found.progress, Some(100));
    let failed = map_task_item(&item(
        json!({"JobId": 2, "TaskStatus": "FAILED", "Code": null, "Message": " "}),
    ));
    assert_eq!(failed.message.as_deref(), Some("the task did not succeed"));
    assert_eq!(
        map_task_item(&item(json!({"Progress": -5, "Status": "1"}))).progress,
        Some(0)
    );
}

#[test]
fn async_request_every_status() {
    let cases: [(&str, JobPhase, Option<&str>, Option<u8>); 8] = [
        ("INITIAL", JobPhase::Pending, None, None),
        ("RUNNING", JobPhase::Running, None, None),
        ("SUCCESS", JobPhase::Succeeded, None, Some(100)),
        ("FAILED", JobPhase::Failed, Some("JobFailed"), None),
        ("KILLED", JobPhase::Failed, Some("Aborted"), None),
        ("REMOVED", JobPhase::Failed, Some("Deleted"), None),
        ("PAUSED", JobPhase::Running, Some("Paused"), None),
        (
            "UNDEFINED",
            JobPhase::Pending,
            Some("WaitingForMaintenanceWindow"),
            None,
        ),
    ];
    for (status, phase, reason, progress) in cases {
        let info: AsyncRequestInfo =
            serde_json::from_value(json!({"Status": status, "Info": format!("info {status}")}))
                .unwrap();
        let obs = map_async_request_info(&info);
        assert_eq!(obs.phase, Some(phase), "{status}");
        assert_eq!(obs.reason.as_deref(), reason, "{status}");
        assert_eq!(obs.progress, progress, "{status}");
        assert_eq!(obs.provider_status.as_deref(), Some(status));
        assert_eq!(obs.message, Some(format!("info {status}")));
        assert_eq!(obs.job_type, None);
    }
    assert!(!TaskState::Paused.phase_and_reason().0.is_terminal());
}

#[test]
fn async_request_tccli_example_and_nulls() {
    let body = r#"{"Response":{"Info":"删除库表成功","Status":"SUCCESS","RequestId":"faae8d6a-38fb-44de-988e-5a0e78aba4a7"}}"#;
    let info: AsyncRequestInfo =
        serde_json::from_value(parse_response(200, body.as_bytes(), None).unwrap()).unwrap();
    assert_eq!(
        info.request_id.as_deref(),
        Some("faae8d6a-38fb-44de-988e-5a0e78aba4a7")
    );
    let obs = map_async_request_info(&info);
    assert_eq!(obs.phase, Some(JobPhase::Succeeded));
    assert_eq!(obs.message.as_deref(), Some("删除库表成功"));

    let nulls: AsyncRequestInfo =
        serde_json::from_value(json!({"Status": null, "Info": null})).unwrap();
    let obs = map_async_request_info(&nulls);
    assert_eq!(obs.phase, Some(JobPhase::Pending));
    assert_eq!(obs.reason, None);
    assert!(obs.message.unwrap().contains("no status"));

    let odd: AsyncRequestInfo =
        serde_json::from_value(json!({"Status": "WEIRD", "Info": null})).unwrap();
    let obs = map_async_request_info(&odd);
    assert_eq!(obs.phase, Some(JobPhase::Pending));
    assert_eq!(obs.reason.as_deref(), Some("UnknownStatus"));
}
