use super::*;
use serde_json::json;

fn op(v: serde_json::Value) -> Operation {
    serde_json::from_value(v).unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn running_import_maps_field_by_field() {
    let body = include_bytes!("../../../../tests/fixtures/gcp/operation-import-running.json");
    let expected = JobObservation {
        phase: Some(JobPhase::Running),
        reason: None,
        provider_status: Some("RUNNING".into()),
        progress: None,
        message: None,
        job_type: Some("import".into()),
        provider_job_type: Some("IMPORT".into()),
        start_time: Some(ts("2026-11-29T10:00:01.456Z")),
        end_time: None,
        remaining: None,
        instance_ids: vec!["orders-db".into()],
        detail: JobDetail {
            gcp: Some(GcpDetail {
                operation_type: Some("IMPORT".into()),
                target_id: Some("orders-db".into()),
                target_project: Some("my-project".into()),
                user: Some("dba@my-project.iam.gserviceaccount.com".into()),
                error_codes: Vec::new(),
            }),
            ..Default::default()
        },
    };
    assert_eq!(observation_from_body(body).unwrap(), expected);
}

#[test]
fn failed_export_carries_every_code_and_message() {
    let body = include_bytes!("../../../../tests/fixtures/gcp/operation-export-failed.json");
    let obs = observation_from_body(body).unwrap();
    assert_eq!(obs.phase, Some(JobPhase::Failed));
    assert_eq!(obs.reason.as_deref(), Some("JobFailed"));
    assert_eq!(obs.progress, None);
    assert_eq!(
        obs.message.as_deref(),
        Some(
            "ERROR_RDBMS: GRANT stored procedure failed: permission denied for bucket \
             orders-exports; UNKNOWN"
        )
    );
    assert_eq!(obs.job_type.as_deref(), Some("export"));
    assert_eq!(obs.end_time, Some(ts("2026-11-29T11:04:10.500Z")));
    assert_eq!(
        obs.detail.gcp.unwrap().error_codes,
        vec!["ERROR_RDBMS".to_string(), "UNKNOWN".to_string()]
    );
}

#[test]
fn done_without_error_succeeds_with_full_progress() {
    let obs = map_operation(&op(json!({
        "status": "DONE", "operationType": "RESTART",
        "insertTime": "2026-11-29T10:00:00Z", "endTime": "2026-11-29T10:01:00Z"
    })));
    assert_eq!(obs.phase, Some(JobPhase::Succeeded));
    assert_eq!(obs.progress, Some(100));
    assert_eq!(obs.reason, None);
    assert_eq!(obs.message, None);
    // No startTime: the insert time stands in.
    assert_eq!(obs.start_time, Some(ts("2026-11-29T10:00:00Z")));
    assert_eq!(obs.job_type.as_deref(), Some("restart"));
}

#[test]
fn a_warning_on_success_is_the_message() {
    let obs = map_operation(&op(json!({
        "status": "DONE", "apiWarning": {"code": "REGION_UNREACHABLE", "message": " eu down "}
    })));
    assert_eq!(obs.phase, Some(JobPhase::Succeeded));
    assert_eq!(obs.message.as_deref(), Some("warning: eu down"));
}

#[test]
fn done_with_an_empty_error_still_fails() {
    let obs = map_operation(&op(json!({"status": "DONE", "error": {"errors": []}})));
    assert_eq!(obs.phase, Some(JobPhase::Failed));
    assert_eq!(
        obs.message.as_deref(),
        Some("the operation failed without error detail")
    );
    assert_eq!(obs.detail.gcp, None);
}

#[test]
fn pending_and_running_have_no_progress() {
    for (status, phase) in [
        ("PENDING", JobPhase::Pending),
        ("running", JobPhase::Running),
    ] {
        let obs = map_operation(&op(json!({"status": status})));
        assert_eq!(obs.phase, Some(phase), "{status}");
        assert_eq!(obs.progress, None, "{status}");
        assert_eq!(obs.reason, None, "{status}");
    }
}

#[test]
fn unknown_statuses_are_never_terminal() {
    for v in [
        json!({"status": "SQL_OPERATION_STATUS_UNSPECIFIED"}),
        json!({"status": "CANCELLED", "error": {"errors": [{"code": "X"}]}}),
        json!({"status": 3}),
        json!({}),
    ] {
        let obs = map_operation(&op(v.clone()));
        assert_eq!(obs.phase, Some(JobPhase::Pending), "{v}");
        assert_eq!(obs.reason.as_deref(), Some("UnknownStatus"), "{v}");
        assert_eq!(obs.progress, None, "{v}");
    }
    let started = map_operation(&op(
        json!({"status": "PAUSED", "startTime": "2026-11-29T10:00:00Z"}),
    ));
    assert_eq!(started.phase, Some(JobPhase::Running));
    assert_eq!(
        started.message.as_deref(),
        Some("unrecognized operation status \"PAUSED\"")
    );
}

#[test]
fn operation_types_normalize_by_exact_name() {
    for (raw, expected) in [
        ("IMPORT", "import"),
        ("EXPORT", "export"),
        ("RESTART", "restart"),
        ("MAJOR_VERSION_UPGRADE", "upgrade"),
        ("UPDATE", "update"),
        ("BACKUP_VOLUME", "backup"),
        ("RESTORE_VOLUME", "restore"),
        ("CLONE", "restore"),
        ("FAILOVER", "switchover"),
        ("SWITCHOVER", "switchover"),
        ("CREATE", "create"),
        ("DELETE", "delete"),
        ("MAINTENANCE", "maintenance"),
        ("CREATE_USER", "other"),
        ("DELETE_DATABASE", "other"),
        ("REENCRYPT", "other"),
        (" import ", "import"),
        ("", "other"),
    ] {
        assert_eq!(normalize_job_type(raw), expected, "{raw}");
    }
}

#[test]
fn bodies_that_are_not_an_operation_are_transient() {
    for body in [&b"<html>"[..], b"[1,2]", b"\"DONE\"", b"{\"status\": "] {
        let e = decode_operation(body).unwrap_err();
        assert!(!e.is_permanent(), "{}", String::from_utf8_lossy(body));
        assert_eq!(e.code, "MalformedResponse");
    }
}

#[test]
fn not_found_yet_is_pending_grace() {
    let obs = not_found_yet("op-1", "my-project");
    assert!(obs.is_not_found_yet());
    assert_eq!(obs.phase, Some(JobPhase::Pending));
    assert!(obs.message.unwrap().contains("op-1"));
}
