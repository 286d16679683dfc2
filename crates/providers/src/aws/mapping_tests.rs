//! Mapping tests: every documented status per API, and documented example responses field
//! by field (the AWS CLI reference's examples, in the Query API's XML shape).

use super::*;
use examples::*;
use jiff::Timestamp;

#[path = "examples.rs"]
mod examples;

fn ts(s: &str) -> Option<Timestamp> {
    Some(s.parse().unwrap())
}

const ALL_DONE: [&str; 4] = ["COMPLETED"; 4];

#[test]
fn export_example_field_by_field() {
    let body = export_example();
    let o = observation_from_body(
        ProviderApi::ExportTask,
        body.as_bytes(),
        "test-snapshot-export",
    )
    .unwrap();
    assert_eq!(
        o,
        JobObservation {
            phase: Some(JobPhase::Succeeded),
            reason: None,
            provider_status: Some("COMPLETE".into()),
            progress: Some(100),
            message: None,
            job_type: Some("export".into()),
            provider_job_type: Some("ExportTask".into()),
            start_time: ts("2020-03-02T18:57:56.896Z"),
            end_time: ts("2020-03-02T19:10:31.985Z"),
            remaining: None,
            instance_ids: vec![],
            detail: JobDetail {
                aws: Some(AwsDetail {
                    source_arn: Some(
                        "arn:aws:rds:us-west-2:123456789012:snapshot:test-snapshot".into()
                    ),
                    s3_bucket: Some("mybucket".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
        }
    );
    // The other task of the same list, found by its identifier (case-insensitively).
    let starting =
        observation_from_body(ProviderApi::ExportTask, body.as_bytes(), "My-S3-Export").unwrap();
    assert_eq!(starting.phase, Some(JobPhase::Pending));
    assert_eq!(starting.progress, Some(0));
    assert_eq!(starting.start_time, None);
    let missing = observation_from_body(ProviderApi::ExportTask, body.as_bytes(), "other").unwrap();
    assert!(missing.is_not_found_yet());
}

#[test]
fn an_empty_export_list_is_not_found_yet() {
    for body in [
        format!("<DescribeExportTasksResponse xmlns=\"{NS}\"><DescribeExportTasksResult><ExportTasks/></DescribeExportTasksResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeExportTasksResponse>"),
        format!("<DescribeExportTasksResponse xmlns=\"{NS}\"><DescribeExportTasksResult/></DescribeExportTasksResponse>"),
    ] {
        let o = observation_from_body(ProviderApi::ExportTask, body.as_bytes(), "orders-export")
            .unwrap();
        assert!(o.is_not_found_yet(), "{body}");
        assert_eq!(o.phase, Some(JobPhase::Pending));
        assert!(o.message.unwrap().contains("orders-export"));
    }
}

#[test]
fn every_export_status() {
    let cases = [
        ("STARTING", JobPhase::Pending, None),
        ("IN_PROGRESS", JobPhase::Running, None),
        ("CANCELING", JobPhase::Running, None),
        ("COMPLETE", JobPhase::Succeeded, None),
        ("FAILED", JobPhase::Failed, Some("JobFailed")),
        ("CANCELED", JobPhase::Failed, Some("Canceled")),
        ("in_progress", JobPhase::Running, None),
    ];
    for (status, phase, reason) in cases {
        let task = ExportTask {
            status: Some(status.into()),
            percent_progress: Some("37".into()),
            failure_cause: (status == "FAILED").then(|| "S3 access denied".into()),
            ..Default::default()
        };
        let o = map_export(&task);
        assert_eq!(o.phase, Some(phase), "{status}");
        assert_eq!(o.reason.as_deref(), reason, "{status}");
        assert_eq!(o.provider_status.as_deref(), Some(status));
        let want = if phase == JobPhase::Succeeded {
            100
        } else {
            37
        };
        assert_eq!(o.progress, Some(want), "{status}");
    }
    let failed = map_export(&ExportTask {
        status: Some("FAILED".into()),
        failure_cause: Some("  The IAM role lacks s3:PutObject  ".into()),
        ..Default::default()
    });
    assert_eq!(
        failed.message.as_deref(),
        Some("The IAM role lacks s3:PutObject")
    );
    let canceled = map_export(&ExportTask {
        status: Some("CANCELED".into()),
        ..Default::default()
    });
    assert_eq!(
        canceled.message.as_deref(),
        Some("the export task was canceled")
    );
    let warned = map_export(&ExportTask {
        status: Some("IN_PROGRESS".into()),
        warning_message: Some("table x skipped".into()),
        ..Default::default()
    });
    assert_eq!(
        warned.detail.aws.unwrap().warning_message.as_deref(),
        Some("table x skipped")
    );
}

#[test]
fn unknown_statuses_are_never_terminal() {
    let export = map_export(&ExportTask {
        status: Some("PAUSED_FOR_REVIEW".into()),
        percent_progress: Some("20".into()),
        ..Default::default()
    });
    assert_eq!(
        (export.phase, export.reason.as_deref()),
        (Some(JobPhase::Running), Some(UNKNOWN_STATUS))
    );
    assert!(export.message.unwrap().contains("PAUSED_FOR_REVIEW"));
    let snapshot = map_snapshot(
        ProviderApi::DbSnapshot,
        &Snapshot {
            status: Some("archived".into()),
            ..Default::default()
        },
    );
    assert_eq!(
        (snapshot.phase, snapshot.reason.as_deref()),
        (Some(JobPhase::Pending), Some(UNKNOWN_STATUS))
    );
    for api in [ProviderApi::BlueGreen, ProviderApi::BlueGreenSwitchover] {
        let d = BlueGreenDeployment {
            status: Some("MISSING_TARGET".into()),
            ..Default::default()
        };
        let o = map_blue_green(api, &d);
        assert_eq!(o.reason.as_deref(), Some(UNKNOWN_STATUS), "{api}");
        assert_eq!(o.phase, Some(JobPhase::Pending), "{api}");
    }
    let empty = map_export(&ExportTask::default());
    assert_eq!(empty.phase, Some(JobPhase::Pending));
    assert_eq!(empty.provider_status, None);
    assert!(empty.message.unwrap().contains("no export task status"));
}

#[test]
fn snapshot_example_field_by_field() {
    let body = snapshot_example("available", 100);
    let o =
        observation_from_body(ProviderApi::DbSnapshot, body.as_bytes(), "mydbsnapshot").unwrap();
    assert_eq!(
        o,
        JobObservation {
            phase: Some(JobPhase::Succeeded),
            reason: None,
            provider_status: Some("available".into()),
            progress: Some(100),
            message: None,
            job_type: Some("backup".into()),
            provider_job_type: Some("DBSnapshot".into()),
            start_time: ts("2018-02-08T22:28:08.598Z"),
            end_time: None,
            remaining: None,
            instance_ids: vec!["mysqldb".into()],
            detail: JobDetail {
                aws: Some(AwsDetail {
                    snapshot_type: Some("manual".into()),
                    engine: Some("mysql".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
        }
    );
    let creating = snapshot_example("creating", 42);
    let o = observation_from_body(ProviderApi::DbSnapshot, creating.as_bytes(), "mydbsnapshot")
        .unwrap();
    assert_eq!((o.phase, o.progress), (Some(JobPhase::Running), Some(42)));
}

#[test]
fn cluster_snapshot_example_field_by_field() {
    let body = cluster_snapshot_example("creating");
    let o = observation_from_body(
        ProviderApi::ClusterSnapshot,
        body.as_bytes(),
        "myclustersnapshotcopy",
    )
    .unwrap();
    assert_eq!(o.phase, Some(JobPhase::Running));
    assert_eq!(o.progress, Some(45));
    assert_eq!(o.provider_job_type.as_deref(), Some("DBClusterSnapshot"));
    assert_eq!(o.start_time, ts("2019-06-04T09:16:42.649Z"));
    assert_eq!(o.instance_ids, vec!["myaurora".to_string()]);
    let aws = o.detail.aws.unwrap();
    assert_eq!(aws.engine.as_deref(), Some("aurora-mysql"));
    assert_eq!(aws.snapshot_type.as_deref(), Some("manual"));
    // A DB snapshot list never answers a cluster snapshot query.
    let wrong = observation_from_body(
        ProviderApi::DbSnapshot,
        body.as_bytes(),
        "myclustersnapshotcopy",
    )
    .unwrap();
    assert!(wrong.is_not_found_yet());
}

#[test]
fn every_snapshot_status() {
    let cases = [
        ("creating", JobPhase::Running, None),
        ("copying", JobPhase::Running, None),
        ("available", JobPhase::Succeeded, None),
        ("failed", JobPhase::Failed, Some("JobFailed")),
        ("deleting", JobPhase::Failed, Some("Deleted")),
        ("deleted", JobPhase::Failed, Some("Deleted")),
        (
            "incompatible-restore",
            JobPhase::Failed,
            Some("Incompatible"),
        ),
        (
            "incompatible-parameters",
            JobPhase::Failed,
            Some("Incompatible"),
        ),
        ("Available", JobPhase::Succeeded, None),
    ];
    for api in [ProviderApi::DbSnapshot, ProviderApi::ClusterSnapshot] {
        for (status, phase, reason) in cases {
            let o = map_snapshot(
                api,
                &Snapshot {
                    status: Some(status.into()),
                    percent_progress: Some("55".into()),
                    ..Default::default()
                },
            );
            assert_eq!(o.phase, Some(phase), "{api} {status}");
            assert_eq!(o.reason.as_deref(), reason, "{api} {status}");
            assert_eq!(o.job_type.as_deref(), Some("backup"));
            if phase == JobPhase::Failed {
                assert!(o.message.is_some(), "{status}");
            }
        }
    }
}

#[test]
fn every_documented_db_snapshot_status_is_known() {
    // botocore's `DBSnapshot.Status` lists these too; they read as `UnknownStatus` before
    // (found by tests/providers/sdk_responses.rs). `unavailable` cannot be recovered.
    let cases = [
        ("pending", JobPhase::Pending, None),
        ("upgrading", JobPhase::Running, None),
        ("sharing", JobPhase::Running, None),
        ("unavailable", JobPhase::Failed, Some("JobFailed")),
    ];
    for (status, phase, reason) in cases {
        let o = map_snapshot(
            ProviderApi::DbSnapshot,
            &Snapshot {
                status: Some(status.into()),
                percent_progress: Some("55".into()),
                ..Default::default()
            },
        );
        assert_eq!(o.phase, Some(phase), "{status}");
        assert_eq!(o.reason.as_deref(), reason, "{status}");
        assert_eq!(o.provider_status.as_deref(), Some(status));
        assert!(o.message.is_some(), "{status}");
    }
}

#[test]
fn blue_green_example_field_by_field() {
    let body = blue_green_example("AVAILABLE", "AVAILABLE", ALL_DONE);
    let o = observation_from_body(
        ProviderApi::BlueGreen,
        body.as_bytes(),
        "bgd-v53303651eexfake",
    )
    .unwrap();
    let task = |name: &str| AwsTask {
        name: name.into(),
        status: "COMPLETED".into(),
    };
    assert_eq!(
        o,
        JobObservation {
            phase: Some(JobPhase::Succeeded),
            reason: None,
            provider_status: Some("AVAILABLE".into()),
            progress: Some(100),
            message: None,
            job_type: Some("blue-green".into()),
            provider_job_type: Some("BlueGreenDeployment".into()),
            start_time: ts("2022-02-25T21:18:51.183Z"),
            end_time: None,
            remaining: None,
            instance_ids: vec![],
            detail: JobDetail {
                aws: Some(AwsDetail {
                    source_arn: Some("arn:aws:rds:us-east-1:123456789012:db:my-db-instance".into()),
                    target_arn: Some(
                        "arn:aws:rds:us-east-1:123456789012:db:my-db-instance-green-rkfbpe".into()
                    ),
                    tasks: vec![
                        task("CREATING_READ_REPLICA_OF_SOURCE"),
                        task("DB_ENGINE_VERSION_UPGRADE"),
                        task("CONFIGURE_BACKUPS"),
                        task("CREATING_TOPOLOGY_OF_SOURCE"),
                    ],
                    ..Default::default()
                }),
                ..Default::default()
            },
        }
    );
    // The same deployment, for a switchover job: ready, but the switchover has not started.
    let o = observation_from_body(
        ProviderApi::BlueGreenSwitchover,
        body.as_bytes(),
        "BGD-V53303651EEXFAKE",
    )
    .unwrap();
    assert_eq!(o.phase, Some(JobPhase::Pending));
    assert_eq!(o.progress, None);
    assert_eq!(o.job_type.as_deref(), Some("switchover"));
    assert!(o.message.unwrap().contains("switchover has not started"));
}

#[test]
fn blue_green_progress_is_the_completed_share_of_the_tasks() {
    let body = blue_green_example(
        "PROVISIONING",
        "PROVISIONING",
        ["COMPLETED", "IN_PROGRESS", "PENDING", "PENDING"],
    );
    let o = observation_from_body(
        ProviderApi::BlueGreen,
        body.as_bytes(),
        "bgd-v53303651eexfake",
    )
    .unwrap();
    assert_eq!((o.phase, o.progress), (Some(JobPhase::Running), Some(25)));
    let three = blue_green_example(
        "PROVISIONING",
        "PROVISIONING",
        ["COMPLETED", "COMPLETED", "COMPLETED", "FAILED"],
    );
    let o = observation_from_body(
        ProviderApi::BlueGreen,
        three.as_bytes(),
        "bgd-v53303651eexfake",
    )
    .unwrap();
    assert_eq!(o.progress, Some(75));
    assert_eq!(o.detail.aws.unwrap().tasks[3].status, "FAILED");
    let none = map_blue_green(
        ProviderApi::BlueGreen,
        &BlueGreenDeployment {
            status: Some("PROVISIONING".into()),
            ..Default::default()
        },
    );
    assert_eq!(none.progress, None);
}

#[test]
fn switchover_progress_follows_the_members() {
    let body = blue_green_example("SWITCHOVER_IN_PROGRESS", "SWITCHOVER_IN_PROGRESS", ALL_DONE);
    let mut d: super::super::model::BlueGreenResponse =
        super::super::model::from_xml(body.as_bytes()).unwrap();
    let mut deployment = d.result.take().unwrap().list.unwrap().items.remove(0);
    let o = map_blue_green(ProviderApi::BlueGreenSwitchover, &deployment);
    // Every task is COMPLETED, yet no member has switched over.
    assert_eq!((o.phase, o.progress), (Some(JobPhase::Running), Some(0)));
    if let Some(list) = deployment.switchover_details.as_mut() {
        list.items[0].status = Some("SWITCHOVER_COMPLETED".into());
    }
    let o = map_blue_green(ProviderApi::BlueGreenSwitchover, &deployment);
    assert_eq!(o.progress, Some(50));
}

#[test]
fn every_blue_green_status_for_both_apis() {
    use JobPhase::*;
    // (status, phase for blue-green, phase for blue-green-switchover, reason)
    let cases = [
        ("PROVISIONING", Running, Pending, None),
        ("AVAILABLE", Succeeded, Pending, None),
        ("SWITCHOVER_IN_PROGRESS", Succeeded, Running, None),
        ("SWITCHOVER_COMPLETED", Succeeded, Succeeded, None),
        ("INVALID_CONFIGURATION", Failed, Failed, Some("JobFailed")),
        ("SWITCHOVER_FAILED", Failed, Failed, Some("JobFailed")),
        ("DELETING", Failed, Failed, Some("Deleted")),
    ];
    for (status, creation, switchover, reason) in cases {
        for (api, phase) in [
            (ProviderApi::BlueGreen, creation),
            (ProviderApi::BlueGreenSwitchover, switchover),
        ] {
            let d = BlueGreenDeployment {
                status: Some(status.into()),
                status_details: (phase == Failed).then(|| "Source is not in sync".into()),
                ..Default::default()
            };
            let o = map_blue_green(api, &d);
            assert_eq!(o.phase, Some(phase), "{api} {status}");
            let want = if phase == Failed { reason } else { None };
            assert_eq!(o.reason.as_deref(), want, "{api} {status}");
            if phase == Failed {
                assert_eq!(o.message.as_deref(), Some("Source is not in sync"));
            }
        }
    }
    let pending = map_blue_green(
        ProviderApi::BlueGreenSwitchover,
        &BlueGreenDeployment {
            status: Some("PROVISIONING".into()),
            status_details: Some("Creating read replica".into()),
            ..Default::default()
        },
    );
    assert_eq!(
        pending.message.as_deref(),
        Some("the switchover has not started: the green environment is being provisioned (Creating read replica)")
    );
    let deleted = map_blue_green(
        ProviderApi::BlueGreen,
        &BlueGreenDeployment {
            status: Some("DELETING".into()),
            delete_time: Some("2022-02-26T01:00:00Z".into()),
            ..Default::default()
        },
    );
    assert_eq!(deleted.end_time, ts("2022-02-26T01:00:00Z"));
}

#[test]
fn not_found_faults_and_malformed_bodies() {
    let e = observation_from_body(ProviderApi::DbSnapshot, b"<html><body>502", "x").unwrap_err();
    assert_eq!(e.class, crate::ErrorClass::Transient);
    assert_eq!(e.code, "MalformedResponse");
    let half = &snapshot_example("creating", 10)[..300];
    assert!(
        observation_from_body(ProviderApi::DbSnapshot, half.as_bytes(), "mydbsnapshot").is_err()
    );
    assert!(observation_from_body(ProviderApi::ExportTask, &[0xff, 0xfe], "x").is_err());
}
