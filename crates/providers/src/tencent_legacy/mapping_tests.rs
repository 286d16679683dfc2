//! Tests of the API 2.0 mapping: the seed examples end to end (body → observation), every
//! status value of each API, and the lenient shapes the examples show.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::*;
use crate::http::HttpResponse;
use crate::tencent_legacy::client::{decode_response, Api};
use clouddb_api::{InstanceSnapshot, TableRename};

fn fixture(name: &str) -> &'static str {
    match name {
        "GetCdbTaskInfo" => {
            include_str!("../../../../tests/fixtures/tencent_legacy/GetCdbTaskInfo.json")
        }
        "GetCdbUpgradeJobInfo" => {
            include_str!("../../../../tests/fixtures/tencent_legacy/GetCdbUpgradeJobInfo.json")
        }
        _ => include_str!("../../../../tests/fixtures/tencent_legacy/GetCdbRollbackJobTask.json"),
    }
}

fn decode(api: Api, body: &str) -> JobObservation {
    let response = HttpResponse {
        status: 200,
        headers: http::HeaderMap::new(),
        body: body.as_bytes().to_vec(),
    };
    decode_response(api, &response).unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn seed_get_cdb_task_info() {
    let obs = decode(Api::TaskInfo, fixture("GetCdbTaskInfo"));
    let want = JobObservation {
        remaining: None,
        phase: Some(JobPhase::Succeeded),
        reason: None,
        provider_status: Some("0".into()),
        progress: Some(100),
        message: None,
        job_type: Some("create".into()),
        provider_job_type: Some("qcloud_apply".into()),
        start_time: None,
        end_time: None,
        instance_ids: vec!["cdb-d1rqa7bj".into()],
        detail: JobDetail::default(),
    };
    assert_eq!(obs, want);
}

fn seed_snapshot(volume: i64, slave_zone_second: Option<&str>) -> InstanceSnapshot {
    InstanceSnapshot {
        memory_mb: Some(1000),
        volume_gb: Some(volume),
        engine_version: Some("5.5".into()),
        cdb_type: None,
        protect_mode: None,
        deploy_mode: None,
        master_zone: Some("100003".into()),
        slave_zone_first: Some("100003".into()),
        slave_zone_second: slave_zone_second.map(String::from),
    }
}

#[test]
fn seed_get_cdb_upgrade_job_info() {
    let obs = decode(Api::UpgradeJob, fixture("GetCdbUpgradeJobInfo"));
    let want = JobObservation {
        remaining: None,
        phase: Some(JobPhase::Succeeded),
        reason: None,
        provider_status: Some("2".into()),
        progress: Some(100),
        message: Some("success".into()),
        job_type: Some("upgrade".into()),
        provider_job_type: Some("11".into()),
        start_time: Some(ts("2017-02-13T07:14:31Z")),
        end_time: Some(ts("2017-02-13T07:18:32Z")),
        instance_ids: vec!["cdb-pdn63pw5".into()],
        detail: JobDetail {
            upgrade: Some(UpgradeDetail {
                instance_id: Some("cdb-pdn63pw5".into()),
                deal_name: None,
                before: Some(seed_snapshot(35, None)),
                after: Some(seed_snapshot(40, Some("100003"))),
            }),
            ..Default::default()
        },
    };
    assert_eq!(obs, want);
}

#[test]
fn seed_get_cdb_rollback_job_task() {
    let obs = decode(Api::RollbackJob, fixture("GetCdbRollbackJobTask"));
    let instance = "2629265e-11ec-11e6-abea-0819a6d0fc09";
    let want = JobObservation {
        remaining: None,
        phase: Some(JobPhase::Succeeded),
        reason: None,
        provider_status: Some("2".into()),
        progress: Some(100),
        message: Some("所有实例回档成功".into()),
        job_type: Some("rollback".into()),
        provider_job_type: Some("10".into()),
        start_time: Some(ts("2016-05-11T09:58:29Z")),
        end_time: Some(ts("2016-05-11T10:00:02Z")),
        instance_ids: vec![instance.into()],
        detail: JobDetail {
            rollback: Some(RollbackDetail {
                instances: vec![RollbackInstance {
                    instance_id: instance.into(),
                    instance_name: Some("cdb154047".into()),
                    rollback_time: Some("2016-05-10 17:57:56".into()),
                    strategy: Some("full".into()),
                    databases: vec![DatabaseRename {
                        name: "test".into(),
                        new_name: Some("test_bak".into()),
                    }],
                    tables: Vec::<TableRename>::new(),
                }],
                tasks: vec![RollbackSubTask {
                    instance_id: Some(instance.into()),
                    task_id: Some("105".into()),
                    phase: Some(JobPhase::Succeeded),
                    provider_status: Some("2".into()),
                    progress: Some(100),
                    message: Some("回档成功".into()),
                    start_time: Some(Time(ts("2016-05-11T09:59:01Z"))),
                    end_time: Some(Time(ts("2016-05-11T10:00:02Z"))),
                }],
            }),
            ..Default::default()
        },
    };
    assert_eq!(obs, want);
}

fn task_info(status: Value) -> JobObservation {
    decode(
        Api::TaskInfo,
        &json!({"code": 0, "data": {"status": status, "functionName": "upgrade"}}).to_string(),
    )
}

#[test]
fn task_info_every_status_as_string_or_int() {
    let cases: [(Value, JobPhase, Option<&str>, Option<u8>); 4] = [
        (json!(0), JobPhase::Succeeded, None, Some(100)),
        (json!(1), JobPhase::Failed, Some("JobFailed"), None),
        (json!(2), JobPhase::Running, None, None),
        (json!(7), JobPhase::Running, Some("UnknownStatus"), None),
    ];
    for (status, phase, reason, progress) in cases {
        let as_text = Value::String(status.to_string());
        for s in [status.clone(), as_text] {
            let obs = task_info(s.clone());
            assert_eq!(obs.phase, Some(phase), "{s}");
            assert_eq!(obs.reason.as_deref(), reason, "{s}");
            assert_eq!(obs.progress, progress, "{s}");
            assert_eq!(obs.provider_status, Some(status.to_string()));
        }
    }
    let missing = decode(
        Api::TaskInfo,
        r#"{"code":0,"data":{"functionName":"offline"}}"#,
    );
    assert_eq!(missing.phase, Some(JobPhase::Pending));
    assert_eq!(missing.reason.as_deref(), Some("NotFoundYet"));
    assert_eq!(missing.job_type.as_deref(), Some("delete"));
}

#[test]
fn every_function_name_is_mapped() {
    let table = [
        ("import_instance", "import"),
        ("qcloud_apply", "create"),
        ("offline", "delete"),
        ("rename_instance", "rename"),
        ("modify_param", "parameter"),
        ("renewal", "renew"),
        ("upgrade", "upgrade"),
        ("ro_apply", "create-replica"),
        ("delete_ro_group", "delete"),
        ("wwan_services", "network"),
        ("initial_set", "initialize"),
        ("slave_access", "network"),
        ("offline_ros", "delete"),
        ("imgriate", "migrate"),
        ("upgrade_ro_group", "upgrade"),
        ("dr_apply", "create-replica"),
        ("dr_to_master", "switch-to-master"),
        ("something_new", "other"),
    ];
    for (raw, normalized) in table {
        let body = json!({"code": 0, "data": [{"status": "2", "functionName": raw}]});
        let obs = decode(Api::TaskInfo, &body.to_string());
        assert_eq!(obs.job_type.as_deref(), Some(normalized), "{raw}");
        assert_eq!(obs.provider_job_type.as_deref(), Some(raw));
    }
}

#[test]
fn task_info_instance_ids_and_envelope_message() {
    let body = json!({"code": "0", "message": " queued ", "data": [{"status": 2, "uInstanceIds": "cdb-1"}]});
    let obs = decode(Api::TaskInfo, &body.to_string());
    assert_eq!(obs.instance_ids, vec!["cdb-1"]);
    assert_eq!(obs.message.as_deref(), Some("queued"));
}

#[test]
fn job_status_table_covers_every_documented_value() {
    let cases = [
        ("0", JobPhase::Running, None),
        ("1", JobPhase::Running, None),
        ("2", JobPhase::Succeeded, None),
        ("3", JobPhase::Failed, Some("JobFailed")),
        ("4", JobPhase::Failed, Some("Aborted")),
        ("5", JobPhase::Failed, Some("Deleted")),
        ("6", JobPhase::Running, Some("Aborting")),
        ("42", JobPhase::Running, Some("UnknownStatus")),
        ("x", JobPhase::Running, Some("UnknownStatus")),
    ];
    for (status, phase, reason) in cases {
        for api in [Api::UpgradeJob, Api::RollbackJob] {
            let body = match api {
                Api::UpgradeJob => json!({"code": 0, "data": {"status": status, "progress": "40"}}),
                _ => json!({"code": 0, "data": {"jobInfo": {"status": status, "progress": 40}}}),
            };
            let obs = decode(api, &body.to_string());
            assert_eq!(obs.phase, Some(phase), "{api:?} {status}");
            assert_eq!(obs.reason.as_deref(), reason, "{api:?} {status}");
            assert_eq!(obs.provider_status.as_deref(), Some(status));
            let want_progress = if phase == JobPhase::Succeeded {
                100
            } else {
                40
            };
            assert_eq!(obs.progress, Some(want_progress), "{api:?} {status}");
        }
    }
    // Integer statuses decode the same way.
    let obs = decode(Api::UpgradeJob, r#"{"code":0,"data":{"status":4}}"#);
    assert_eq!(obs.reason.as_deref(), Some("Aborted"));
}

#[test]
fn upgrade_lenient_shapes() {
    // data as an array, numbers as numbers, detail as an object, zones "" or numbers.
    let body = json!({
        "code": "0",
        "data": [{
            "code": 9590, "message": "task db error", "jobId": 1, "type": 9,
            "status": 3, "progress": 150,
            "startTime": "2017-02-05 18:19:08", "endTime": "0000-00-00 00:00:00",
            "detail": {"cdbInstanceId": "cdb-ro1", "dealName": "20170205",
                       "before": {"memory": "2000", "volume": "100", "masterZone": "",
                                  "slaveZoneFirst": 200001, "slaveZoneSecond": ""},
                       "after": ""}
        }]
    });
    let obs = decode(Api::UpgradeJob, &body.to_string());
    assert_eq!(obs.phase, Some(JobPhase::Failed));
    assert_eq!(obs.progress, Some(100));
    assert_eq!(
        obs.message.as_deref(),
        Some("task db error (error code 9590)")
    );
    assert_eq!(obs.provider_job_type.as_deref(), Some("9"));
    assert_eq!(obs.start_time, Some(ts("2017-02-05T10:19:08Z")));
    assert_eq!(obs.end_time, None);
    let up = obs.detail.upgrade.unwrap();
    assert_eq!(up.deal_name.as_deref(), Some("20170205"));
    let before = up.before.unwrap();
    assert_eq!(
        (before.memory_mb, before.volume_gb),
        (Some(2000), Some(100))
    );
    assert_eq!(before.master_zone, None);
    assert_eq!(before.slave_zone_first.as_deref(), Some("200001"));
    assert_eq!(before.slave_zone_second, None);
    assert_eq!(up.after, None);
}

#[test]
fn rollback_sub_task_failures_reach_the_message() {
    let body = json!({"code": 0, "data": {
        "jobInfo": {"status": "3", "progress": "66", "message": "rollback failed", "type": 10,
                    "startTime": "2016-05-11 17:58:29",
                    "detail": [{"cdbInstanceId": "cdb-a", "dbs": [{"dbname": "d1", "newname": "d1_bak"}]}]},
        "taskDetail": [
            {"taskInfo": {"instanceid": "cdb-a"}, "taskid": 1, "status": 2, "progress": 100},
            {"taskInfo": [{"instanceid": "cdb-x"}], "taskid": 2, "status": "3", "progress": "30",
             "code": "-1", "message": "binlog missing", "startTime": "2016-05-11 17:59:01"},
            {"taskInfo": {"instanceid": "cdb-y"}, "taskid": 3, "status": "0", "progress": "10"}
        ]
    }});
    let obs = decode(Api::RollbackJob, &body.to_string());
    assert_eq!(obs.phase, Some(JobPhase::Failed));
    assert_eq!(obs.reason.as_deref(), Some("JobFailed"));
    assert_eq!(
        obs.message.as_deref(),
        Some("rollback failed; 1 of 3 instance sub-tasks failed: cdb-x: binlog missing (error code -1)")
    );
    assert_eq!(obs.start_time, Some(ts("2016-05-11T09:58:29Z")));
    assert_eq!(obs.instance_ids, vec!["cdb-a", "cdb-x", "cdb-y"]);
    let rb = obs.detail.rollback.unwrap();
    assert_eq!(
        rb.instances[0].databases[0].new_name.as_deref(),
        Some("d1_bak")
    );
    let phases: Vec<_> = rb.tasks.iter().map(|t| t.phase).collect();
    assert_eq!(
        phases,
        vec![
            Some(JobPhase::Succeeded),
            Some(JobPhase::Failed),
            Some(JobPhase::Running)
        ]
    );
    assert_eq!(rb.tasks[1].progress, Some(30));
    assert_eq!(
        rb.tasks[1].start_time,
        Some(Time(ts("2016-05-11T09:59:01Z")))
    );
    assert_eq!(rb.tasks[1].task_id.as_deref(), Some("2"));
}

#[test]
fn rollback_phase_follows_job_info_not_sub_tasks() {
    let body = json!({"code": 0, "data": {
        "jobInfo": {"status": "0", "progress": "50"},
        "taskDetail": [{"taskid": "9", "status": "3"}]
    }});
    let obs = decode(Api::RollbackJob, &body.to_string());
    assert_eq!(obs.phase, Some(JobPhase::Running));
    assert_eq!(
        obs.message.as_deref(),
        Some("1 of 1 instance sub-tasks failed: 9: no message")
    );
}
