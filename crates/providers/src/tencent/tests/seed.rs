//! Every item of the API document's `DescribeTasks` example (document shape: `Status`/`Type`
//! integers, `Data[]`), checked field by field.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::fixture;
use crate::tencent::errors::parse_response;
use crate::tencent::mapping::{find_task, observe_in_page};
use crate::tencent::model::DescribeTasksPage;
use crate::{JobDetail, JobObservation};
use clouddb_api::{
    DatabaseRename, ImportDetail, InstanceSnapshot, JobPhase, ParameterChange, RollbackDetail,
    RollbackInstance, RollbackSubTask, TableRename, UpgradeDetail,
};

fn page() -> DescribeTasksPage {
    let body = fixture("describe_tasks_seed.json");
    serde_json::from_value(parse_response(200, body.as_bytes(), None).unwrap()).unwrap()
}

/// Beijing time written independently of the code under test.
fn bj(s: &str) -> Option<Timestamp> {
    Some(format!("{}+08:00", s.replace(' ', "T")).parse().unwrap())
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[allow(clippy::too_many_arguments)]
fn base(
    phase: JobPhase,
    reason: Option<&str>,
    status: &str,
    progress: u8,
    message: &str,
    job_type: &str,
    raw_type: &str,
    times: (&str, &str),
    instances: &[&str],
) -> JobObservation {
    JobObservation {
        remaining: None,
        phase: Some(phase),
        reason: reason.map(String::from),
        provider_status: s(status),
        progress: Some(progress),
        message: s(message),
        job_type: s(job_type),
        provider_job_type: s(raw_type),
        start_time: bj(times.0),
        end_time: bj(times.1),
        instance_ids: instances.iter().map(|i| i.to_string()).collect(),
        detail: JobDetail::default(),
    }
}

fn observe(job_id: &str) -> JobObservation {
    observe_in_page(&page(), job_id).unwrap_or_else(|| panic!("job {job_id} not found"))
}

#[test]
fn page_totals_and_every_item_is_findable() {
    let page = page();
    assert_eq!(page.total_count, Some(13));
    assert_eq!(page.items.len(), 10);
    assert_eq!(
        page.request_id.as_deref(),
        Some("6EF60BEC-0242-43AF-BB20-270359FB54A7")
    );
    for id in [
        "15964", "51788", "15967", "15969", "15970", "15971", "15972", "15974", "15976", "51695",
    ] {
        let item = find_task(&page, id).unwrap();
        assert_eq!(item.job_id.as_deref(), Some(id));
    }
    assert!(find_task(&page, "15965").is_none());
    assert!(find_task(&page, " 015964 ").is_some());
}

#[test]
fn initialization_succeeded() {
    for (id, instance, times) in [
        (
            "15964",
            "cdb-gt70m8aa",
            ("2017-06-27 15:05:33", "2017-06-27 15:06:36"),
        ),
        (
            "15976",
            "cdb-7262qp3q",
            ("2017-06-27 19:18:31", "2017-06-27 19:19:34"),
        ),
    ] {
        let expected = base(
            JobPhase::Succeeded,
            None,
            "2",
            100,
            "初始化实例成功",
            "initialize",
            "6",
            times,
            &[instance],
        );
        assert_eq!(observe(id), expected, "job {id}");
    }
}

#[test]
fn sql_failure_carries_code_and_database_errors() {
    let expected = base(
        JobPhase::Failed,
        Some("JobFailed"),
        "3",
        0,
        "dial tcp :0: connection refused (code -5003); database errors: clear_test: dial tcp :0: connection refused",
        "sql",
        "2",
        ("2017-07-21 17:19:30", "2017-07-21 17:19:31"),
        &["cdb-atjl8gns"],
    );
    assert_eq!(observe("51788"), expected);
}

fn snapshot(memory: i64, volume: i64) -> InstanceSnapshot {
    InstanceSnapshot {
        memory_mb: Some(memory),
        volume_gb: Some(volume),
        engine_version: s("5.6"),
        cdb_type: s("CUSTOM"),
        protect_mode: None,
        deploy_mode: None,
        master_zone: s("160002"),
        slave_zone_first: s("160002"),
        slave_zone_second: None,
    }
}

#[test]
fn master_upgrades_with_before_and_after() {
    let cases = [
        (
            "15967",
            "cdb-gt70m8aa",
            "20170627160000060843141595228010",
            ("2017-06-27 15:13:52", "2017-06-27 15:16:57"),
            snapshot(1000, 50),
            snapshot(2000, 100),
        ),
        (
            "15974",
            "cdb-o8cacfkg",
            "20170627160000060849699827143219",
            ("2017-06-27 18:04:19", "2017-06-27 18:08:25"),
            snapshot(8000, 50),
            snapshot(8000, 100),
        ),
    ];
    for (id, instance, deal, times, before, after) in cases {
        let mut expected = base(
            JobPhase::Succeeded,
            None,
            "2",
            100,
            "实例升级任务完成",
            "upgrade",
            "11",
            times,
            &[instance],
        );
        expected.detail.upgrade = Some(UpgradeDetail {
            instance_id: s(instance),
            deal_name: s(deal),
            before: Some(before),
            after: Some(after),
        });
        assert_eq!(observe(id), expected, "job {id}");
    }
}

#[test]
fn parameter_change() {
    let mut expected = base(
        JobPhase::Succeeded,
        None,
        "2",
        100,
        "设置参数成功",
        "parameter",
        "5",
        ("2017-06-27 16:33:40", "2017-06-27 16:34:25"),
        &[],
    );
    expected.detail.parameters = vec![ParameterChange {
        name: "back_log".into(),
        old_value: s("210"),
        new_value: s("2"),
        message: s("ok"),
    }];
    assert_eq!(observe("15969"), expected);
}

#[test]
fn imports_failed_and_succeeded() {
    let err1 = "Warning: Using a password on the command line interface can be insecure.?ERROR 1064 (42000) at line 1: You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near 'joell=skyler' at line 1?dumper err? (code 3)";
    let err2 = "Warning: Using a password on the command line interface can be insecure.?ERROR 2006 (HY000) at line 1: MySQL server has gone away?dumper err? (code 3)";
    let cases = [
        (
            "15970",
            JobPhase::Failed,
            Some("JobFailed"),
            "3",
            5,
            err1,
            ("2017-06-27 16:46:52", "2017-06-27 16:47:23"),
            "skyler.sql",
            12,
        ),
        (
            "15971",
            JobPhase::Failed,
            Some("JobFailed"),
            "3",
            5,
            err2,
            ("2017-06-27 16:49:13", "2017-06-27 16:49:44"),
            "joellwang_1_4.sql",
            5857113,
        ),
        (
            "15972",
            JobPhase::Succeeded,
            None,
            "2",
            100,
            "success",
            ("2017-06-27 17:02:29", "2017-06-27 17:03:00"),
            "LearningSQLExample.sql",
            28384,
        ),
    ];
    for (id, phase, reason, status, progress, message, times, file, size) in cases {
        let mut expected = base(
            phase,
            reason,
            status,
            progress,
            message,
            "import",
            "3",
            times,
            &[],
        );
        expected.detail.import = Some(ImportDetail {
            database: s("test"),
            file_name: s(file),
            file_size_bytes: Some(size),
        });
        assert_eq!(observe(id), expected, "job {id}");
    }
}

#[test]
fn batch_rollback_with_databases_tables_and_sub_task() {
    let mut expected = base(
        JobPhase::Succeeded,
        None,
        "2",
        100,
        "所有实例回档成功",
        "rollback",
        "10",
        ("2017-04-06 20:42:59", "2017-04-06 20:45:03"),
        &["cdb-ewgjla5w"],
    );
    expected.detail.rollback = Some(RollbackDetail {
        instances: vec![RollbackInstance {
            instance_id: "cdb-ewgjla5w".into(),
            instance_name: None,
            rollback_time: s("2017-04-06 16:00:00"),
            strategy: None,
            databases: vec![DatabaseRename {
                name: "test".into(),
                new_name: s("test_bak"),
            }],
            tables: vec![TableRename {
                database: "monitor_master".into(),
                name: "monitor_alarm".into(),
                new_name: s("monitor_alarm_bak_1"),
            }],
        }],
        tasks: vec![RollbackSubTask {
            instance_id: s("cdb-ewgjla5w"),
            task_id: None,
            phase: Some(JobPhase::Succeeded),
            provider_status: s("2"),
            progress: Some(100),
            message: s("回档成功"),
            start_time: None,
            end_time: None,
        }],
    });
    assert_eq!(observe("51695"), expected);
}

#[test]
fn sub_task_times_are_beijing_time() {
    let mut page = page();
    let item = page
        .items
        .iter_mut()
        .find(|i| i.job_id.as_deref() == Some("51695"))
        .unwrap();
    item.data[0].start_time = s("2017-04-06 20:43:00");
    let obs = crate::tencent::mapping::map_task_item(item);
    let task = &obs.detail.rollback.unwrap().tasks[0];
    assert_eq!(task.start_time, bj("2017-04-06 20:43:00").map(Time));
    assert_eq!(
        task.start_time.as_ref().unwrap().0.to_string(),
        "2017-04-06T12:43:00Z"
    );
}
