//! Discovery for Alibaba Cloud RDS and PolarDB: `DescribeHistoryTasks` by `InstanceId`
//! with `FromStartTime`/`ToStartTime`, every page (`PageSize` 100), through the client's
//! one paging loop and signing ([`AlibabaProvider::page_history`]). Each task is mapped by
//! [`map_task`], the mapping a poll uses.
//!
//! The API looks back [`LOOKBACK_DAYS`] days at most: a window starting earlier is clamped
//! to that and [`Discovery::clamped`] says so.

use std::ops::ControlFlow;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};

use super::client::{history_query, window_end, AlibabaProvider, HistoryCall};
use super::mapping::{map_task, LOOKBACK_DAYS};
use super::model::{HistoryTasksPage, TaskItem};
use crate::discovery::{DiscoveredJob, Discovery, InstanceTarget, JobLister};
use crate::{Credentials, ProviderError};
use clouddb_api::ProviderApi;

/// The largest `PageSize` the API takes.
pub const LIST_PAGE_SIZE: u32 = 100;
/// Pages one discovery reads at most (5,000 tasks in the window).
pub const MAX_LIST_PAGES: u32 = 50;

/// The window start actually asked for: `since`, or the oldest time the API still lists,
/// with the note for `Discovery::clamped` when that is later than `since`.
pub fn clamp_window(since: Timestamp, now: Timestamp) -> (Timestamp, Option<String>) {
    let oldest = now
        .checked_sub(SignedDuration::from_hours(24 * LOOKBACK_DAYS))
        .unwrap_or(now);
    if since >= oldest {
        return (since, None);
    }
    let note = format!(
        "DescribeHistoryTasks lists only the last {LOOKBACK_DAYS} days: jobs are discovered \
         from {oldest} on, not from {since}"
    );
    (oldest, Some(note))
}

/// The query of page `page` for the instance, window `[from, now + margin]`.
pub fn list_query(
    region: &str,
    instance: &str,
    from: Timestamp,
    now: Timestamp,
    page: u32,
) -> Vec<(String, String)> {
    let mut query = history_query(region, (from, window_end(now)), (LIST_PAGE_SIZE, page));
    query.push(("InstanceId".to_string(), instance.to_string()));
    query
}

/// One listed task as a discovered job (tracked with the same `api`); `None` without a
/// `TaskId` or when it started before `since` (a server ignoring the window).
pub fn discovered_task(
    item: &TaskItem,
    api: ProviderApi,
    since: Timestamp,
) -> Option<DiscoveredJob> {
    DiscoveredJob::listed(item.task_id.as_deref(), api, map_task(item), since)
}

/// Adds the page's tasks to `jobs`, each once.
pub fn discovered_in_page(
    page: &HistoryTasksPage,
    api: ProviderApi,
    since: Timestamp,
    jobs: &mut Vec<DiscoveredJob>,
) {
    for job in page
        .items
        .iter()
        .filter_map(|i| discovered_task(i, api, since))
    {
        if !jobs.iter().any(|j| j.job_id == job.job_id) {
            jobs.push(job);
        }
    }
}

#[async_trait]
impl JobLister for AlibabaProvider {
    async fn list_jobs(
        &self,
        target: &InstanceTarget,
        credentials: &Credentials,
        since: Timestamp,
    ) -> Result<Discovery, ProviderError> {
        let api = target.require_api(&[ProviderApi::AlibabaRds, ProviderApi::PolarDb])?;
        let instance = target.require_instance_id()?;
        let region = target.require_region()?;
        let (from, mut clamped) = clamp_window(since, self.now());
        let call = HistoryCall {
            api,
            region: Some(region),
            endpoint: target.endpoint.as_ref(),
        };
        let mut jobs = Vec::new();
        let ended = self
            .page_history(
                &call,
                credentials,
                MAX_LIST_PAGES,
                |now, page| list_query(region, instance, from, now, page),
                |page| {
                    discovered_in_page(&page, api, from, &mut jobs);
                    ControlFlow::Continue(())
                },
            )
            .await?;
        if !ended {
            clamped = Some(format!(
                "only the first {} tasks DescribeHistoryTasks lists for instance {instance} were \
                 read; later pages are not discovered",
                jobs.len()
            ));
        }
        Ok(Discovery {
            jobs,
            upcoming: Vec::new(),
            clamped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clouddb_api::JobPhase;

    const RDS: &str =
        include_str!("../../../../tests/fixtures/alibaba/rds-DescribeHistoryTasks.json");
    const POLARDB: &str =
        include_str!("../../../../tests/fixtures/alibaba/polardb-DescribeHistoryTasks.json");

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_window_beyond_thirty_days_is_clamped_and_said() {
        let now = ts("2024-03-31T00:00:00Z");
        let (from, note) = clamp_window(ts("2024-01-01T00:00:00Z"), now);
        assert_eq!(from, ts("2024-03-01T00:00:00Z"));
        let note = note.unwrap();
        assert!(
            note.contains("30 days") && note.contains("2024-03-01T00:00:00Z"),
            "{note}"
        );
        let (from, note) = clamp_window(ts("2024-03-30T00:00:00Z"), now);
        assert_eq!((from, note), (ts("2024-03-30T00:00:00Z"), None));
    }

    #[test]
    fn the_query_filters_by_instance_and_window() {
        let q = list_query(
            "cn-hangzhou",
            "rm-1",
            ts("2024-03-30T00:00:00Z"),
            ts("2024-03-31T00:00:00Z"),
            2,
        );
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("InstanceId"), Some("rm-1"));
        assert_eq!(get("RegionId"), Some("cn-hangzhou"));
        assert_eq!(get("FromStartTime"), Some("2024-03-30T00:00:00Z"));
        assert_eq!(get("ToStartTime"), Some("2024-03-31T01:00:00Z"));
        assert_eq!(get("PageSize"), Some("100"));
        assert_eq!(get("PageNumber"), Some("2"));
        assert_eq!(get("TaskId"), None);
    }

    #[test]
    fn maps_the_documented_examples_as_a_poll_would() {
        let page: HistoryTasksPage = serde_json::from_str(RDS).unwrap();
        let mut jobs = Vec::new();
        discovered_in_page(
            &page,
            ProviderApi::AlibabaRds,
            ts("2022-02-01T00:00:00Z"),
            &mut jobs,
        );
        assert_eq!(jobs.len(), 1);
        let job = &jobs[0];
        assert_eq!(job.job_id, "t-83br18hloy3faf****");
        assert_eq!(job.api, ProviderApi::AlibabaRds);
        assert_eq!(job.observation.phase, Some(JobPhase::Running));
        assert_eq!(job.observation.progress, Some(45));
        assert_eq!(job.observation, map_task(&page.items[0]));
        let polardb: HistoryTasksPage = serde_json::from_str(POLARDB).unwrap();
        let mut jobs = Vec::new();
        discovered_in_page(
            &polardb,
            ProviderApi::PolarDb,
            Timestamp::UNIX_EPOCH,
            &mut jobs,
        );
        assert!(!jobs.is_empty());
        assert!(jobs.iter().all(|j| j.api == ProviderApi::PolarDb));
    }

    #[test]
    fn tasks_before_the_window_are_dropped() {
        let page: HistoryTasksPage = serde_json::from_str(RDS).unwrap();
        let mut jobs = Vec::new();
        discovered_in_page(
            &page,
            ProviderApi::AlibabaRds,
            ts("2022-02-04T00:00:00Z"),
            &mut jobs,
        );
        assert!(jobs.is_empty());
    }
}
