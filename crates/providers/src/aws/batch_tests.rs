//! Chunking, the filter form and the per-item mapping of batched describes, without I/O.

use super::*;
use crate::aws::mapping::observation_from_body;
use clouddb_api::JobPhase;

#[test]
fn every_batchable_api_has_its_service_model_filter() {
    assert_eq!(
        id_filter(ProviderApi::DbSnapshot),
        Some(("DescribeDBSnapshots", "db-snapshot-id"))
    );
    assert_eq!(
        id_filter(ProviderApi::ClusterSnapshot),
        Some(("DescribeDBClusterSnapshots", "db-cluster-snapshot-id"))
    );
    assert_eq!(
        id_filter(ProviderApi::ExportTask),
        Some(("DescribeExportTasks", "export-task-identifier"))
    );
    for api in [ProviderApi::BlueGreen, ProviderApi::BlueGreenSwitchover] {
        assert_eq!(
            id_filter(api),
            Some((
                "DescribeBlueGreenDeployments",
                "blue-green-deployment-identifier"
            ))
        );
    }
    assert_eq!(id_filter(ProviderApi::CloudSql), None);
    assert!(batchable(ProviderApi::DbSnapshot, "orders-2026"));
    assert!(batchable(
        ProviderApi::DbSnapshot,
        "rds:orders-2026-01-01-00-00"
    ));
    assert!(!batchable(
        ProviderApi::DbSnapshot,
        "arn:aws:rds:us-east-1:123456789012:snapshot:shared"
    ));
    assert!(!batchable(ProviderApi::DbSnapshot, "  "));
    assert!(!batchable(ProviderApi::DescribeTasks, "1"));
}

#[test]
fn chunks_hold_at_most_one_hundred_unique_identifiers() {
    let ids: Vec<String> = (0..250).map(|i| format!("snap-{i:03}")).collect();
    let mut with_duplicates: Vec<&str> = ids.iter().map(String::as_str).collect();
    with_duplicates.push("SNAP-000");
    with_duplicates.push(" snap-001 ");
    let chunked = chunks(with_duplicates);
    assert_eq!(
        chunked.iter().map(Vec::len).collect::<Vec<_>>(),
        [100, 100, 50]
    );
    let all: Vec<String> = chunked.concat();
    assert_eq!(all.len(), 250, "duplicates (any case, any spacing) once");
    assert!(chunks(std::iter::empty()).is_empty());
}

#[test]
fn the_filter_form_names_every_value() {
    let ids = vec!["a".to_string(), "b".to_string()];
    let params = filter_params(ProviderApi::ClusterSnapshot, &ids);
    let form: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        form,
        [
            ("Action", "DescribeDBClusterSnapshots"),
            ("Version", "2014-10-31"),
            ("Filters.Filter.1.Name", "db-cluster-snapshot-id"),
            ("Filters.Filter.1.Values.Value.1", "a"),
            ("Filters.Filter.1.Values.Value.2", "b"),
        ]
    );
}

const SNAPSHOTS: &str = r#"<DescribeDBSnapshotsResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
<DescribeDBSnapshotsResult><DBSnapshots>
<DBSnapshot><DBSnapshotIdentifier>snap-a</DBSnapshotIdentifier><DBInstanceIdentifier>db1</DBInstanceIdentifier><Status>creating</Status><PercentProgress>40</PercentProgress><SnapshotCreateTime>2026-11-29T10:00:00Z</SnapshotCreateTime></DBSnapshot>
<DBSnapshot><DBSnapshotIdentifier>snap-b</DBSnapshotIdentifier><DBInstanceIdentifier>db1</DBInstanceIdentifier><Status>available</Status></DBSnapshot>
</DBSnapshots><Marker>next</Marker></DescribeDBSnapshotsResult></DescribeDBSnapshotsResponse>"#;

/// The batched answer for one job equals what the single poll's mapping makes of the same
/// item: one mapping, two callers.
#[test]
fn a_batched_item_is_mapped_as_a_single_poll_maps_it() {
    let (items, marker) = page_items(ProviderApi::DbSnapshot, SNAPSHOTS.as_bytes()).unwrap();
    assert_eq!(marker.as_deref(), Some("next"));
    let mut d = Described::new(ProviderApi::DbSnapshot);
    d.add_chunk(
        &["SNAP-A".into(), "snap-b".into(), "snap-c".into()],
        items,
        true,
    );
    for id in ["snap-a", "snap-b"] {
        let single =
            observation_from_body(ProviderApi::DbSnapshot, SNAPSHOTS.as_bytes(), id).unwrap();
        assert_eq!(d.observe(id), Some(single), "{id}");
    }
    assert_eq!(d.observe("snap-a").unwrap().phase, Some(JobPhase::Running));
    // Asked for and not listed: exactly the single poll's not-found-yet.
    let missing = d.observe("snap-c").unwrap();
    assert_eq!(missing, not_found_yet(ProviderApi::DbSnapshot, "snap-c"));
    assert!(missing.is_not_found_yet());
    // Not asked for: not answered (a call of its own).
    assert_eq!(d.observe("snap-d"), None);
    assert!(!d.covers("snap-d"));
}

#[test]
fn a_chunk_cut_short_answers_only_for_what_it_listed() {
    let (items, _) = page_items(ProviderApi::DbSnapshot, SNAPSHOTS.as_bytes()).unwrap();
    let mut d = Described::new(ProviderApi::DbSnapshot);
    d.add_chunk(&["snap-a".into(), "snap-z".into()], items, false);
    assert!(d.covers("snap-a"));
    assert!(!d.covers("snap-z"), "maybe on a page not read");
}

#[test]
fn every_list_shape_is_read_with_its_marker() {
    let exports = r#"<DescribeExportTasksResponse><DescribeExportTasksResult><ExportTasks>
<ExportTask><ExportTaskIdentifier>exp-1</ExportTaskIdentifier><Status>IN_PROGRESS</Status><PercentProgress>5</PercentProgress></ExportTask>
</ExportTasks><Marker>m2</Marker></DescribeExportTasksResult></DescribeExportTasksResponse>"#;
    let (items, marker) = page_items(ProviderApi::ExportTask, exports.as_bytes()).unwrap();
    assert_eq!((items.len(), marker.as_deref()), (1, Some("m2")));
    let clusters = r#"<DescribeDBClusterSnapshotsResponse><DescribeDBClusterSnapshotsResult><DBClusterSnapshots>
<DBClusterSnapshot><DBClusterSnapshotIdentifier>Cs-1</DBClusterSnapshotIdentifier><Status>available</Status></DBClusterSnapshot>
</DBClusterSnapshots><Marker>m3</Marker></DescribeDBClusterSnapshotsResult></DescribeDBClusterSnapshotsResponse>"#;
    let (items, marker) = page_items(ProviderApi::ClusterSnapshot, clusters.as_bytes()).unwrap();
    assert_eq!(items[0].0, "cs-1");
    assert_eq!(marker.as_deref(), Some("m3"));
    let bg = r#"<DescribeBlueGreenDeploymentsResponse><DescribeBlueGreenDeploymentsResult><BlueGreenDeployments>
<member><BlueGreenDeploymentIdentifier>bgd-1</BlueGreenDeploymentIdentifier><Status>SWITCHOVER_IN_PROGRESS</Status></member>
</BlueGreenDeployments></DescribeBlueGreenDeploymentsResult></DescribeBlueGreenDeploymentsResponse>"#;
    let (items, marker) = page_items(ProviderApi::BlueGreenSwitchover, bg.as_bytes()).unwrap();
    assert_eq!(items[0].1.phase, Some(JobPhase::Running));
    assert_eq!(marker, None);
    let bad = page_items(ProviderApi::DbSnapshot, b"<html>oops").unwrap_err();
    assert_eq!(bad.class, crate::ErrorClass::Transient);
}
