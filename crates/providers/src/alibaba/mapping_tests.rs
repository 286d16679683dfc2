use super::*;
use serde_json::json;

fn item(v: serde_json::Value) -> TaskItem {
    serde_json::from_value(v).unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn rds_example_maps_field_by_field() {
    let body = include_bytes!("../../../../tests/fixtures/alibaba/rds-DescribeHistoryTasks.json");
    let (obs, page) = observation_from_body(body, "t-83br18hloy3faf****").unwrap();
    assert_eq!(page.total_count, Some(1));
    assert_eq!(
        page.request_id.as_deref(),
        Some("A45EE076-334D-5012-9746-A8F828D20FD4")
    );
    let expected = JobObservation {
        phase: Some(JobPhase::Running),
        reason: None,
        provider_status: Some("Running".into()),
        progress: Some(45),
        message: None,
        job_type: Some("upgrade".into()),
        provider_job_type: Some("MinorVersionUpgrade".into()),
        start_time: Some(ts("2022-02-03T12:06:17Z")),
        end_time: None,
        remaining: Some(Duration::from_secs(1200)),
        instance_ids: vec!["rm-uf62br2491p5l****".into()],
        detail: JobDetail {
            alibaba: Some(AlibabaDetail {
                reason_code: Some("user_api".into()),
                current_step_name: Some("exec_task".into()),
                instance_name: Some("test-instance".into()),
                db_type: Some("mysql".into()),
            }),
            ..Default::default()
        },
    };
    assert_eq!(obs, Some(expected));
}

#[test]
fn polardb_example_with_a_string_total_count() {
    let body =
        include_bytes!("../../../../tests/fixtures/alibaba/polardb-DescribeHistoryTasks.json");
    let (obs, page) = observation_from_body(body, "t-0mqfirqcdv8rn5****").unwrap();
    assert_eq!(page.total_count, Some(1));
    let obs = obs.unwrap();
    assert_eq!(obs.phase, Some(JobPhase::Succeeded));
    assert_eq!(obs.progress, Some(100));
    assert_eq!(obs.remaining, None);
    assert_eq!(obs.job_type.as_deref(), Some("upgrade"));
    assert_eq!(obs.end_time, Some(ts("2022-02-03T12:36:17Z")));
    assert_eq!(obs.instance_ids, vec!["pc-bp1s826a1up******"]);
    // Empty strings are absent, not empty values.
    let detail = obs.detail.alibaba.unwrap();
    assert_eq!(detail.db_type.as_deref(), Some("MySQL"));
    assert_eq!(
        (
            detail.reason_code,
            detail.current_step_name,
            detail.instance_name
        ),
        (None, None, None)
    );
    let (other, _) = observation_from_body(body, "t-other").unwrap();
    assert_eq!(other, None);
}

#[test]
fn every_documented_status() {
    let cases = [
        ("Scheduled", JobPhase::Pending, None),
        ("Waiting", JobPhase::Pending, None),
        ("Running", JobPhase::Running, None),
        ("Cancelling", JobPhase::Running, None),
        ("Succeed", JobPhase::Succeeded, None),
        ("Failed", JobPhase::Failed, Some("JobFailed")),
        ("Canceled", JobPhase::Failed, Some("Canceled")),
        ("running", JobPhase::Running, None),
        ("Cancelled", JobPhase::Failed, Some("Canceled")),
    ];
    for (status, phase, reason) in cases {
        let obs = map_task(&item(json!({"Status": status, "Progress": 30.0})));
        assert_eq!(obs.phase, Some(phase), "{status}");
        assert_eq!(obs.reason.as_deref(), reason, "{status}");
        assert_eq!(obs.provider_status.as_deref(), Some(status));
        let want_progress = if phase == JobPhase::Succeeded {
            100
        } else {
            30
        };
        assert_eq!(obs.progress, Some(want_progress), "{status}");
    }
}

#[test]
fn unknown_statuses_are_never_terminal() {
    for (raw, progress, phase) in [
        (json!("Exploded"), json!(0), JobPhase::Pending),
        (json!("Paused"), json!(40.5), JobPhase::Running),
        (json!(3), json!(null), JobPhase::Pending),
    ] {
        let obs = map_task(&item(json!({"Status": raw, "Progress": progress})));
        assert_eq!(obs.phase, Some(phase), "{raw}");
        assert_eq!(obs.reason.as_deref(), Some("UnknownStatus"));
        assert!(obs.message.unwrap().contains("unrecognized"), "{raw}");
    }
    let none = map_task(&item(json!({})));
    assert_eq!(none.phase, Some(JobPhase::Pending));
    assert_eq!(none.provider_status, None);
    assert_eq!(none.reason.as_deref(), Some("UnknownStatus"));
}

#[test]
fn failure_and_cancel_messages() {
    let failed = map_task(&item(
        json!({"Status": "Failed", "CurrentStepName": "switch_ha"}),
    ));
    assert_eq!(
        failed.message.as_deref(),
        Some("the task failed at step switch_ha")
    );
    let bare = map_task(&item(json!({"Status": "Failed"})));
    assert_eq!(bare.message.as_deref(), Some("the task failed"));
    let canceled = map_task(&item(json!({"Status": "Canceled"})));
    assert_eq!(canceled.message.as_deref(), Some("the task was canceled"));
    let running = map_task(&item(json!({"Status": "Running"})));
    assert_eq!(running.message, None);
}

#[test]
fn progress_is_floored_and_clamped() {
    let p = |v| map_task(&item(json!({"Status": "Running", "Progress": v}))).progress;
    assert_eq!(p(json!(99.9)), Some(99));
    assert_eq!(p(json!(150)), Some(100));
    assert_eq!(p(json!(-3)), Some(0));
    assert_eq!(p(json!("12.5")), Some(12));
    assert_eq!(p(json!("abc")), None);
    assert_eq!(p(json!(null)), None);
}

#[test]
fn remaining_time_only_while_not_ended() {
    let r = |status, v| map_task(&item(json!({"Status": status, "RemainTime": v}))).remaining;
    assert_eq!(r("Running", json!(90)), Some(Duration::from_secs(90)));
    assert_eq!(r("Scheduled", json!("600")), Some(Duration::from_secs(600)));
    assert_eq!(r("Running", json!(-1)), None);
    assert_eq!(r("Succeed", json!(90)), None);
    assert_eq!(r("Failed", json!(90)), None);
}

#[test]
fn times_with_and_without_a_zone_are_utc() {
    let obs = map_task(&item(json!({
        "StartTime": "2024-03-01T10:00:00Z", "EndTime": "2024-03-01T11:00:00"
    })));
    assert_eq!(obs.start_time, Some(ts("2024-03-01T10:00:00Z")));
    assert_eq!(obs.end_time, Some(ts("2024-03-01T11:00:00Z")));
    let bad = map_task(&item(json!({"StartTime": "yesterday"})));
    assert_eq!(bad.start_time, None);
}

#[test]
fn task_types_are_normalized() {
    let cases = [
        ("MinorVersionUpgrade", "upgrade"),
        ("UpgradeDBInstanceEngineVersion", "upgrade"),
        ("ModifyDBInstanceSpec", "upgrade"),
        ("ModifyDBClusterClass", "upgrade"),
        ("MigrateToOtherZone", "upgrade"),
        ("RestartDBInstance", "restart"),
        ("RebootNode", "restart"),
        ("ModifyParameter", "parameter"),
        ("ModifyDBInstanceConfig", "parameter"),
        ("CreateBackup", "backup"),
        ("DeleteBackup", "backup"),
        ("RestoreTable", "restore"),
        ("RecoveryDBInstance", "restore"),
        ("CloneDBInstance", "restore"),
        ("CreateDBInstance", "create"),
        ("DeleteDBInstance", "delete"),
        ("ReleaseInstancePublicConnection", "network"),
        ("ModifyDBInstanceNetworkType", "network"),
        ("switch_vpc", "network"),
        ("SwitchDBInstanceHA", "other"),
        ("autotest_dispatch_cases", "other"),
        ("", "other"),
    ];
    for (raw, want) in cases {
        assert_eq!(normalize_job_type(raw), want, "{raw:?}");
    }
    let obs = map_task(&item(json!({"TaskType": "RestartDBInstance"})));
    assert_eq!(obs.provider_job_type.as_deref(), Some("RestartDBInstance"));
    assert_eq!(obs.job_type.as_deref(), Some("restart"));
    let untyped = map_task(&item(json!({"TaskType": "  "})));
    assert_eq!((untyped.job_type, untyped.provider_job_type), (None, None));
}

#[test]
fn garbage_is_transient() {
    for body in [
        &b"{\"Items\": [{\"TaskId\""[..],
        b"<html>gateway</html>",
        b"",
        b"[1,2]",
    ] {
        let err = observation_from_body(body, "t-1").unwrap_err();
        assert_eq!(err.class, crate::ErrorClass::Transient);
        assert_eq!(err.code, "MalformedResponse");
    }
    let msg = not_found_yet("t-1").message.unwrap();
    assert!(msg.contains("t-1") && msg.contains("30 days"), "{msg}");
}
