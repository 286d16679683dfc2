//! The discovery mapping against the AWS CLI reference's examples (as XML) and the
//! `describe-pending-maintenance-actions` / `describe-db-instances` examples.

use super::*;
use clouddb_api::JobPhase;

// The same documented examples the mapping tests read (only test builds load it twice).
#[path = "examples.rs"]
#[allow(dead_code, clippy::duplicate_mod)]
mod examples;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn snapshots_of_the_instance_map_as_a_poll_would() {
    let body = examples::snapshot_example("creating", 40);
    let (jobs, marker) = snapshots_page(body.as_bytes(), ts("2018-01-01T00:00:00Z")).unwrap();
    assert_eq!(marker, None);
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].job_id, "mydbsnapshot");
    assert_eq!(jobs[0].api, ProviderApi::DbSnapshot);
    assert_eq!(jobs[0].observation.phase, Some(JobPhase::Running));
    assert_eq!(jobs[0].observation.progress, Some(40));
    let polled = super::super::mapping::observation_from_body(
        ProviderApi::DbSnapshot,
        body.as_bytes(),
        "mydbsnapshot",
    )
    .unwrap();
    assert_eq!(jobs[0].observation, polled);
    // Taken before the window: not discovered.
    let (old, _) = snapshots_page(body.as_bytes(), ts("2019-01-01T00:00:00Z")).unwrap();
    assert!(old.is_empty());
}

#[test]
fn the_marker_is_read_for_the_next_page() {
    let body = examples::snapshot_example("available", 100)
        .replace("</DBSnapshots>", "</DBSnapshots><Marker>page-2</Marker>");
    let (_, marker) = snapshots_page(body.as_bytes(), Timestamp::UNIX_EPOCH).unwrap();
    assert_eq!(marker.as_deref(), Some("page-2"));
}

#[test]
fn blue_green_deployments_are_tracked_to_green_ready() {
    let body = examples::blue_green_example(
        "PROVISIONING",
        "PROVISIONING",
        ["COMPLETED", "IN_PROGRESS", "PENDING", "PENDING"],
    );
    let (jobs, _) = blue_green_page(body.as_bytes(), ts("2022-01-01T00:00:00Z")).unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].job_id, "bgd-v53303651eexfake");
    assert_eq!(jobs[0].api, ProviderApi::BlueGreen);
    assert_eq!(jobs[0].observation.phase, Some(JobPhase::Running));
}

/// The `describe-pending-maintenance-actions` example of the AWS CLI reference, as XML.
const PENDING: &str = r#"<DescribePendingMaintenanceActionsResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <DescribePendingMaintenanceActionsResult>
    <PendingMaintenanceActions>
      <ResourcePendingMaintenanceActions>
        <ResourceIdentifier>arn:aws:rds:us-west-2:123456789012:cluster:global-db1-cl1</ResourceIdentifier>
        <PendingMaintenanceActionDetails>
          <PendingMaintenanceAction>
            <Action>system-update</Action>
            <Description>Upgrade to Aurora PostgreSQL 2.4.2</Description>
          </PendingMaintenanceAction>
          <PendingMaintenanceAction>
            <Action>db-upgrade</Action>
            <AutoAppliedAfterDate>2024-03-01T00:00:00Z</AutoAppliedAfterDate>
            <ForcedApplyDate>2024-04-01T00:00:00Z</ForcedApplyDate>
            <CurrentApplyDate>2024-03-02T05:00:00Z</CurrentApplyDate>
          </PendingMaintenanceAction>
        </PendingMaintenanceActionDetails>
      </ResourcePendingMaintenanceActions>
    </PendingMaintenanceActions>
  </DescribePendingMaintenanceActionsResult>
  <ResponseMetadata><RequestId>4</RequestId></ResponseMetadata>
</DescribePendingMaintenanceActionsResponse>"#;

#[test]
fn pending_maintenance_is_upcoming_with_its_dates() {
    let (actions, marker) = maintenance_page(PENDING.as_bytes()).unwrap();
    assert_eq!(marker, None);
    assert_eq!(
        actions,
        [
            UpcomingMaintenance {
                action: "system-update".into(),
                description: Some("Upgrade to Aurora PostgreSQL 2.4.2".into()),
                not_before: None,
                forced_after: None,
            },
            UpcomingMaintenance {
                action: "db-upgrade".into(),
                description: None,
                not_before: Some(ts("2024-03-02T05:00:00Z")),
                forced_after: Some(ts("2024-04-01T00:00:00Z")),
            },
        ]
    );
}

#[test]
fn the_instance_arn_or_not_found() {
    let body = r#"<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances>
        <DBInstance><DBInstanceIdentifier>mydb</DBInstanceIdentifier>
        <DBInstanceArn>arn:aws:rds:us-east-1:123456789012:db:mydb</DBInstanceArn></DBInstance>
        </DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>"#;
    assert_eq!(
        instance_arn(body.as_bytes(), "MyDB").unwrap(),
        "arn:aws:rds:us-east-1:123456789012:db:mydb"
    );
    let e = instance_arn(body.as_bytes(), "other").unwrap_err();
    assert_eq!(
        (e.reason, e.code.as_str()),
        (ErrorReason::JobNotFound, "DBInstanceNotFound")
    );
    assert_eq!(
        instance_arn(b"<html>", "mydb").unwrap_err().code,
        "MalformedResponse"
    );
}
