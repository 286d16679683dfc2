use super::*;
use serde_json::json;

const PG: ProviderApi = ProviderApi::PostgresqlFlexible;

fn op(value: serde_json::Value) -> AsyncOperation {
    decode_operation(value.to_string().as_bytes()).unwrap()
}

#[test]
fn the_documented_in_progress_body() {
    let o = map_operation(
        &op(json!({
            "id": "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.DBforPostgreSQL/locations/westeurope/azureAsyncOperation/0ec0de9b-4a56-4b3c-8a9b-6f7e2c1d0e11",
            "name": "0ec0de9b-4a56-4b3c-8a9b-6f7e2c1d0e11",
            "status": "InProgress",
            "startTime": "2024-11-30T08:15:02.933Z",
            "percentComplete": 42.7
        })),
        PG,
    );
    assert_eq!(o.phase, Some(JobPhase::Running));
    assert_eq!(o.reason, None);
    assert_eq!(o.progress, Some(42));
    assert_eq!(o.provider_status.as_deref(), Some("InProgress"));
    assert_eq!(
        o.start_time,
        Some("2024-11-30T08:15:02.933Z".parse().unwrap())
    );
    assert_eq!(o.end_time, None);
    assert_eq!((o.job_type, o.provider_job_type), (None, None));
    let azure = o.detail.azure.unwrap();
    assert_eq!(
        azure.operation_name.as_deref(),
        Some("0ec0de9b-4a56-4b3c-8a9b-6f7e2c1d0e11")
    );
    assert_eq!(
        azure.resource_provider.as_deref(),
        Some("Microsoft.DBforPostgreSQL")
    );
    assert!(azure
        .operation_id
        .unwrap()
        .ends_with("/0ec0de9b-4a56-4b3c-8a9b-6f7e2c1d0e11"));
    assert_eq!(azure.error_code, None);
}

#[test]
fn succeeded_is_complete_whatever_the_progress_said() {
    let o = map_operation(
        &op(json!({"status": "Succeeded", "percentComplete": 80,
                   "startTime": "2024-11-30T08:15:02.9331234+00:00",
                   "endTime": "2024-11-30T08:20:00"})),
        ProviderApi::MysqlFlexible,
    );
    assert_eq!(o.phase, Some(JobPhase::Succeeded));
    assert_eq!(o.progress, Some(100));
    assert_eq!(o.message, None);
    assert!(o.start_time.is_some());
    assert_eq!(o.end_time, Some("2024-11-30T08:20:00Z".parse().unwrap()));
    assert_eq!(
        o.detail.azure.unwrap().resource_provider.as_deref(),
        Some("Microsoft.DBforMySQL")
    );
}

#[test]
fn failed_carries_the_error_and_its_details() {
    let o = map_operation(
        &op(json!({"status": "Failed", "percentComplete": 30,
            "error": {"code": "InternalServerError", "message": "An unexpected error occured while processing the request.",
                      "details": [{"code": "StorageFull", "message": "The server ran out of storage."}, {"message": ""}]}})),
        PG,
    );
    assert_eq!(o.phase, Some(JobPhase::Failed));
    assert_eq!(o.reason.as_deref(), Some("JobFailed"));
    assert_eq!(o.progress, Some(30));
    assert_eq!(
        o.message.as_deref(),
        Some("InternalServerError: An unexpected error occured while processing the request.; StorageFull: The server ran out of storage.")
    );
    assert_eq!(
        o.detail.azure.unwrap().error_code.as_deref(),
        Some("InternalServerError")
    );
    let bare = map_operation(&op(json!({"status": "failed"})), PG);
    assert_eq!(bare.phase, Some(JobPhase::Failed));
    assert_eq!(bare.message.as_deref(), Some("the operation failed"));
}

#[test]
fn details_are_bounded() {
    let details: Vec<_> = (0..20).map(|i| json!({"code": format!("D{i}")})).collect();
    let o = map_operation(
        &op(json!({"status": "Failed", "error": {"code": "X", "details": details}})),
        PG,
    );
    let message = o.message.unwrap();
    assert!(
        message.contains(&format!("D{}", MAX_DETAILS - 1)),
        "{message}"
    );
    assert!(!message.contains(&format!("D{MAX_DETAILS}")), "{message}");
}

#[test]
fn canceled_in_both_spellings_is_failed_canceled() {
    for status in ["Canceled", "Cancelled", "CANCELED"] {
        let o = map_operation(&op(json!({"status": status})), PG);
        assert_eq!(o.phase, Some(JobPhase::Failed), "{status}");
        assert_eq!(o.reason.as_deref(), Some("Canceled"));
        assert_eq!(o.message.as_deref(), Some("the operation was canceled"));
    }
    let o = map_operation(
        &op(
            json!({"status": "Canceled", "error": {"code": "OperationCanceled", "message": "by user"}}),
        ),
        PG,
    );
    assert_eq!(
        o.message.as_deref(),
        Some("the operation was canceled: OperationCanceled: by user")
    );
}

#[test]
fn every_documented_in_progress_status_is_running_without_a_reason() {
    // Each documented non-terminal value, in its documented spelling and in another case:
    // Running with no reason (an unknown value would say `UnknownStatus`).
    let in_progress = [
        "InProgress",
        "Accepted",
        "Running",
        "Creating",
        "Updating",
        "Deleting",
        "Provisioning",
        "NotStarted",
    ];
    let canceling = ["CancelInProgress", "Canceling", "Cancelling"];
    for status in in_progress.into_iter().chain(canceling) {
        for spelled in [status.to_string(), status.to_ascii_uppercase()] {
            let o = map_operation(&op(json!({"status": spelled, "percentComplete": "12"})), PG);
            assert_eq!(o.phase, Some(JobPhase::Running), "{spelled}");
            assert_eq!(o.reason, None, "{spelled}");
            assert_eq!(o.progress, Some(12), "{spelled}");
            assert_eq!(o.provider_status.as_deref(), Some(spelled.as_str()));
            let message = canceling
                .contains(&status)
                .then_some("the operation is being canceled");
            assert_eq!(o.message.as_deref(), message, "{spelled}");
        }
    }
}

#[test]
fn every_other_status_is_running_never_terminal() {
    for status in [
        "CancelInProgress",
        "Accepted",
        "Updating",
        "Provisioning",
        "Weird",
    ] {
        let o = map_operation(&op(json!({"status": status, "percentComplete": "12"})), PG);
        assert_eq!(o.phase, Some(JobPhase::Running), "{status}");
        assert_eq!(o.progress, Some(12));
    }
    let o = map_operation(&op(json!({"status": "CancelInProgress"})), PG);
    assert_eq!(
        o.message.as_deref(),
        Some("the operation is being canceled")
    );
    let o = map_operation(&op(json!({"status": "Weird"})), PG);
    assert_eq!(o.reason.as_deref(), Some("UnknownStatus"));
    let o = map_operation(&op(json!({})), PG);
    assert_eq!(o.phase, Some(JobPhase::Running));
    assert_eq!(o.reason.as_deref(), Some("UnknownStatus"));
    assert_eq!(o.provider_status, None);
}

#[test]
fn progress_is_floored_and_clamped() {
    let p = |v: serde_json::Value| {
        map_operation(
            &op(json!({"status": "InProgress", "percentComplete": v})),
            PG,
        )
        .progress
    };
    assert_eq!(p(json!(99.9)), Some(99));
    assert_eq!(p(json!(150)), Some(100));
    assert_eq!(p(json!(-3)), Some(0));
    assert_eq!(p(json!("n/a")), None);
    assert_eq!(p(json!(null)), None);
}

#[test]
fn bodies_that_are_not_an_object_are_transient() {
    for body in [&b"<html>"[..], b"[]", b"\"x\"", b""] {
        let e = decode_operation(body).unwrap_err();
        assert_eq!(e.class, crate::ErrorClass::Transient);
        assert_eq!(e.code, "MalformedResponse");
    }
    let o = not_found_yet(PG, "abc");
    assert!(o.is_not_found_yet());
    assert!(o.message.unwrap().contains("Microsoft.DBforPostgreSQL"));
}
