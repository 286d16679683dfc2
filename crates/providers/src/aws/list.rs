//! Discovery for AWS RDS: what runs on one DB instance, through the client's one signing
//! and paging loop ([`AwsProvider::page_form`], `MaxRecords`/`Marker`):
//!
//! 1. `DescribeDBInstances` by `DBInstanceIdentifier`: the instance's ARN for the filters
//!    below, and `DBInstanceNotFound` (permanent, RDS's message) for a wrong identifier;
//! 2. `DescribeDBSnapshots` by `DBInstanceIdentifier` (manual and automated snapshots),
//!    tracked as `db-snapshot`;
//! 3. `DescribeBlueGreenDeployments` with the `source` filter (the instance's ARN), tracked
//!    as `blue-green`;
//! 4. `DescribePendingMaintenanceActions` with the `db-instance-id` filter → `upcoming`.
//!
//! Export tasks are not discovered: `DescribeExportTasks` filters by the exported snapshot's
//! ARN, not by instance. Aurora clusters (`cluster-snapshot`) are not listed either.

use async_trait::async_trait;
use jiff::Timestamp;

use super::client::AwsProvider;
use super::list_model::{DbInstancesResponse, PendingAction, PendingMaintenanceResponse};
use super::mapping::{map_blue_green, map_snapshot};
use super::model::{from_xml, text, BlueGreenResponse, DbSnapshotsResponse};
use crate::decode::parse_offset_time;
use crate::discovery::{DiscoveredJob, Discovery, InstanceTarget, JobLister, UpcomingMaintenance};
use crate::{Credentials, ErrorReason, ProviderError};
use clouddb_api::ProviderApi;

/// Pages read at most per describe call (10,000 records).
pub const MAX_LIST_PAGES: u32 = 100;

fn malformed(action: &str, e: String) -> ProviderError {
    ProviderError::transient(
        "MalformedResponse",
        format!("AWS RDS answered {action} with a response that is not the expected XML: {e}"),
    )
}

/// The ARN of the instance a `DescribeDBInstances` body lists.
pub fn instance_arn(body: &[u8], instance: &str) -> Result<String, ProviderError> {
    let r: DbInstancesResponse = from_xml(body).map_err(|e| malformed("DescribeDBInstances", e))?;
    let items = r.result.and_then(|r| r.list).map(|l| l.items);
    items
        .unwrap_or_default()
        .iter()
        .find(|i| text(&i.identifier).is_some_and(|id| id.eq_ignore_ascii_case(instance)))
        .and_then(|i| text(&i.arn).map(String::from))
        .ok_or_else(|| {
            ProviderError::permanent(
                ErrorReason::JobNotFound,
                "DBInstanceNotFound",
                format!("DescribeDBInstances does not list DB instance {instance}"),
            )
        })
}

/// The snapshots of a `DescribeDBSnapshots` page started at or after `since`, and the
/// next page's marker.
pub fn snapshots_page(
    body: &[u8],
    since: Timestamp,
) -> Result<(Vec<DiscoveredJob>, Option<String>), ProviderError> {
    let r: DbSnapshotsResponse = from_xml(body).map_err(|e| malformed("DescribeDBSnapshots", e))?;
    let result = r.result.unwrap_or_default();
    let api = ProviderApi::DbSnapshot;
    let jobs = result
        .list
        .map(|l| l.items)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| DiscoveredJob::listed(s.identifier(), api, map_snapshot(api, s), since))
        .collect();
    Ok((jobs, result.marker))
}

/// The blue/green deployments of a page created at or after `since`, and the marker.
pub fn blue_green_page(
    body: &[u8],
    since: Timestamp,
) -> Result<(Vec<DiscoveredJob>, Option<String>), ProviderError> {
    let r: BlueGreenResponse =
        from_xml(body).map_err(|e| malformed("DescribeBlueGreenDeployments", e))?;
    let result = r.result.unwrap_or_default();
    let api = ProviderApi::BlueGreen;
    let jobs = result
        .list
        .map(|l| l.items)
        .unwrap_or_default()
        .iter()
        .filter_map(|d| {
            let id = d.blue_green_deployment_identifier.as_deref();
            DiscoveredJob::listed(id, api, map_blue_green(api, d), since)
        })
        .collect();
    Ok((jobs, result.marker))
}

/// One pending action as announced maintenance: it starts at its apply date (or the
/// auto-apply date) and is forced at the forced-apply date.
pub fn upcoming(action: &PendingAction) -> Option<UpcomingMaintenance> {
    let date = |v: &Option<String>| text(v).and_then(parse_offset_time);
    Some(UpcomingMaintenance {
        action: text(&action.action)?.to_string(),
        description: text(&action.description).map(String::from),
        not_before: date(&action.current_apply_date).or(date(&action.auto_applied_after_date)),
        forced_after: date(&action.forced_apply_date),
    })
}

/// The pending actions of a `DescribePendingMaintenanceActions` page, and the marker.
pub fn maintenance_page(
    body: &[u8],
) -> Result<(Vec<UpcomingMaintenance>, Option<String>), ProviderError> {
    let r: PendingMaintenanceResponse =
        from_xml(body).map_err(|e| malformed("DescribePendingMaintenanceActions", e))?;
    let result = r.result.unwrap_or_default();
    let actions = result
        .list
        .map(|l| l.items)
        .unwrap_or_default()
        .iter()
        .flat_map(|r| r.details.clone().map(|d| d.items).unwrap_or_default())
        .filter_map(|a| upcoming(&a))
        .collect();
    Ok((actions, result.marker))
}

#[async_trait]
impl JobLister for AwsProvider {
    async fn list_jobs(
        &self,
        target: &InstanceTarget,
        credentials: &Credentials,
        since: Timestamp,
    ) -> Result<Discovery, ProviderError> {
        target.require_api(&[
            ProviderApi::ExportTask,
            ProviderApi::DbSnapshot,
            ProviderApi::BlueGreen,
            ProviderApi::BlueGreenSwitchover,
        ])?;
        let instance = target.require_instance_id()?;
        let at = (target.region.as_deref(), target.endpoint.as_ref());
        let mut arn = None;
        let describe = [
            ("Action", "DescribeDBInstances"),
            ("Version", super::client::VERSION),
            ("DBInstanceIdentifier", instance),
        ];
        self.page_form(at, &describe, credentials, 1, |body| {
            arn = Some(instance_arn(body, instance)?);
            Ok(None)
        })
        .await?;
        let arn = arn.unwrap_or_default();
        let mut found = Discovery::default();
        let mut ended = true;
        let snapshots = [
            ("Action", "DescribeDBSnapshots"),
            ("Version", super::client::VERSION),
            ("DBInstanceIdentifier", instance),
        ];
        ended &= self
            .page_form(at, &snapshots, credentials, MAX_LIST_PAGES, |body| {
                let (jobs, marker) = snapshots_page(body, since)?;
                found.jobs.extend(jobs);
                Ok(marker)
            })
            .await?;
        let blue_green = [
            ("Action", "DescribeBlueGreenDeployments"),
            ("Version", super::client::VERSION),
            ("Filters.Filter.1.Name", "source"),
            ("Filters.Filter.1.Values.Value.1", arn.as_str()),
        ];
        ended &= self
            .page_form(at, &blue_green, credentials, MAX_LIST_PAGES, |body| {
                let (jobs, marker) = blue_green_page(body, since)?;
                found.jobs.extend(jobs);
                Ok(marker)
            })
            .await?;
        let pending = [
            ("Action", "DescribePendingMaintenanceActions"),
            ("Version", super::client::VERSION),
            ("Filters.Filter.1.Name", "db-instance-id"),
            ("Filters.Filter.1.Values.Value.1", arn.as_str()),
        ];
        ended &= self
            .page_form(at, &pending, credentials, MAX_LIST_PAGES, |body| {
                let (actions, marker) = maintenance_page(body)?;
                found.upcoming.extend(actions);
                Ok(marker)
            })
            .await?;
        if !ended {
            found.clamped = Some(format!(
                "AWS RDS lists more than {MAX_LIST_PAGES} pages for DB instance {instance}: \
                 only the first pages were read"
            ));
        }
        Ok(found)
    }
}

#[cfg(test)]
#[path = "list_tests.rs"]
mod tests;
