//! Discovery for Tencent Cloud API 3.0: `DescribeTasks` with its `InstanceId` filter and the
//! documented window (`StartTimeBegin`/`StartTimeEnd`, UTC+08:00), every page read through
//! the client's one paging loop ([`TencentProvider::page_tasks`]) and signed by its one
//! [`TencentProvider::call`]. Each item is mapped by [`map_task_item`], the mapping a
//! `DescribeTasks` poll uses, so a discovered task and its CloudDbJob read the same.
//!
//! Tencent API 2.0 (`tencent-legacy`) has no lister (see its module): the same CDB tasks are
//! listed here, and admission refuses a CloudDbInstance for it.

use std::ops::ControlFlow;

use async_trait::async_trait;
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};

pub use super::client::DEFAULT_MAX_LIST_PAGES;
use super::client::{default_endpoint, TasksQuery, TencentProvider, PAGE_LIMIT};
use super::mapping::map_task_item;
use super::model::{DescribeTasksPage, TaskItem};
use crate::decode::CHINA_OFFSET_HOURS;
use crate::discovery::{DiscoveredJob, Discovery, InstanceTarget, JobLister};
use crate::{Credentials, ProviderError};
use clouddb_api::ProviderApi;

/// How far past "now" `StartTimeEnd` reaches: a task the provider stamped a little ahead of
/// our clock (clock skew) is still in the window.
pub const WINDOW_END_SLACK: SignedDuration = SignedDuration::from_mins(10);

/// A time in the `YYYY-MM-DD HH:MM:SS` (UTC+08:00) form `DescribeTasks` filters take.
pub fn tencent_time(t: Timestamp) -> String {
    let tz = TimeZone::fixed(Offset::constant(CHINA_OFFSET_HOURS));
    t.to_zoned(tz).strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// The first page of the discovery query for an instance, window `[since, now + slack]`.
pub fn list_query(
    target: &InstanceTarget,
    since: Timestamp,
    now: Timestamp,
) -> Result<TasksQuery, ProviderError> {
    target.require_api(&[ProviderApi::DescribeTasks])?;
    let instance = target.require_instance_id()?.to_string();
    let region = target.require_region()?.to_string();
    let end = now.checked_add(WINDOW_END_SLACK).unwrap_or(now);
    Ok(TasksQuery {
        endpoint: target
            .endpoint
            .clone()
            .unwrap_or_else(|| default_endpoint(&region)),
        region,
        instance_id: Some(instance),
        async_request_id: None,
        start_time_begin: Some(tencent_time(since)),
        start_time_end: Some(tencent_time(end)),
        offset: 0,
        limit: PAGE_LIMIT,
    })
}

/// One listed task as a discovered job; `None` for an item without a `JobId` (nothing could
/// track it) or one that started before `since` (a provider ignoring the window).
pub fn discovered_task(item: &TaskItem, since: Timestamp) -> Option<DiscoveredJob> {
    DiscoveredJob::listed(
        item.job_id.as_deref(),
        ProviderApi::DescribeTasks,
        map_task_item(item),
        since,
    )
}

/// The jobs of one page, in the provider's order, without duplicates of `seen` (a task that
/// moves between pages while they are read is listed once).
pub fn discovered_in_page(
    page: &DescribeTasksPage,
    since: Timestamp,
    jobs: &mut Vec<DiscoveredJob>,
) {
    for job in page.items.iter().filter_map(|i| discovered_task(i, since)) {
        if !jobs.iter().any(|j| j.job_id == job.job_id) {
            jobs.push(job);
        }
    }
}

#[async_trait]
impl JobLister for TencentProvider {
    async fn list_jobs(
        &self,
        target: &InstanceTarget,
        credentials: &Credentials,
        since: Timestamp,
    ) -> Result<Discovery, ProviderError> {
        let query = list_query(target, since, (self.clock)())?;
        let mut jobs = Vec::new();
        let paged = self
            .page_tasks(
                &query,
                credentials,
                self.max_list_pages,
                |_| Ok(()),
                |page| {
                    discovered_in_page(&page, since, &mut jobs);
                    ControlFlow::Continue(())
                },
            )
            .await?;
        let clamped = (!paged.ended).then(|| {
            format!(
                "only the first {} tasks DescribeTasks lists for instance {} in the window were \
                 read; older ones are not discovered",
                paged.offset, target.instance_id
            )
        });
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
    use clouddb_api::{JobPhase, ProviderKind};
    use serde_json::json;

    fn target(api: ProviderApi, instance: &str) -> InstanceTarget {
        InstanceTarget {
            provider: ProviderKind::Tencent,
            api,
            instance_id: instance.into(),
            region: Some("ap-shanghai-fsi".into()),
            project_id: None,
            subscription_id: None,
            endpoint: None,
        }
    }

    #[test]
    fn the_window_is_sent_in_china_time_with_the_instance_filter() {
        let since: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        let now: Timestamp = "2024-01-02T00:00:00Z".parse().unwrap();
        let q = list_query(&target(ProviderApi::DescribeTasks, " cdb-1 "), since, now).unwrap();
        let body = q.payload();
        assert_eq!(body["InstanceId"], "cdb-1");
        assert_eq!(body["StartTimeBegin"], "2024-01-01 08:00:00");
        assert_eq!(body["StartTimeEnd"], "2024-01-02 08:10:00");
        assert_eq!(body["Limit"], 100);
        assert_eq!(body["Offset"], 0);
        assert_eq!(
            q.endpoint.as_str(),
            "https://cdb.ap-shanghai-fsi.tencentcloudapi.com/"
        );
    }

    #[test]
    fn refuses_without_instance_or_with_another_api() {
        let t0 = Timestamp::UNIX_EPOCH;
        let e = list_query(&target(ProviderApi::DescribeTasks, " "), t0, t0).unwrap_err();
        assert_eq!(e.code, "MissingInstanceId");
        let e = list_query(
            &target(ProviderApi::DescribeAsyncRequestInfo, "cdb-1"),
            t0,
            t0,
        )
        .unwrap_err();
        assert_eq!(e.code, "UnsupportedApi");
        let mut no_region = target(ProviderApi::DescribeTasks, "cdb-1");
        no_region.region = None;
        assert_eq!(
            list_query(&no_region, t0, t0).unwrap_err().code,
            "MissingRegion"
        );
    }

    /// The seed document's example page (`DescribeTasks`, document shape), trimmed.
    fn seed_page() -> DescribeTasksPage {
        serde_json::from_value(json!({
            "RequestId": "6EF60BEC-0242-43AF-BB20-270359FB54A7",
            "TotalCount": 13,
            "Items": [
                {"Status": 2, "Code": 0, "JobId": 15964, "StartTime": "2017-06-27 15:05:33",
                 "Progress": 100, "Message": "初始化实例成功", "EndTime": "2017-06-27 15:06:36",
                 "Type": 6, "Data": [{"InstanceId": "cdb-gt70m8aa"}]},
                {"Status": 3, "Code": -5003, "JobId": 51788, "StartTime": "2017-07-21 17:19:30",
                 "Progress": 0, "Message": "", "EndTime": "2017-07-21 17:19:31", "Type": 2,
                 "Data": [{"Code": 3, "InstanceId": "cdb-atjl8gns",
                           "Databases": [{"Message": "dial tcp :0: connection refused",
                                          "Code": 3, "Database": "clear_test"}],
                           "Message": "dial tcp :0: connection refused"}]},
                {"Status": 1, "JobId": 15967, "StartTime": "2017-06-27 15:13:52",
                 "Progress": 40, "Type": 11, "Data": [{"InstanceId": "cdb-gt70m8aa",
                  "Before": {"Memory": 1000, "Volume": 50}, "After": {"Memory": 2000, "Volume": 100},
                  "DealName": "20170627160000060843141595228010"}]},
                {"Status": 2, "Type": 5}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn maps_the_seed_example_as_a_poll_would() {
        let since: Timestamp = "2017-06-01T00:00:00Z".parse().unwrap();
        let mut jobs = Vec::new();
        discovered_in_page(&seed_page(), since, &mut jobs);
        let ids: Vec<&str> = jobs.iter().map(|j| j.job_id.as_str()).collect();
        assert_eq!(
            ids,
            ["15964", "51788", "15967"],
            "the item without JobId is skipped"
        );
        assert!(jobs.iter().all(|j| j.api == ProviderApi::DescribeTasks));
        let init = &jobs[0].observation;
        assert_eq!(init.phase, Some(JobPhase::Succeeded));
        assert_eq!(init.job_type.as_deref(), Some("initialize"));
        assert_eq!(
            init.start_time,
            Some("2017-06-27T07:05:33Z".parse().unwrap())
        );
        let failed = &jobs[1].observation;
        assert_eq!(failed.phase, Some(JobPhase::Failed));
        assert!(failed
            .message
            .as_deref()
            .is_some_and(|m| m.contains("connection refused") && m.contains("-5003")));
        let upgrade = &jobs[2].observation;
        assert_eq!(
            (upgrade.phase, upgrade.progress),
            (Some(JobPhase::Running), Some(40))
        );
        assert_eq!(upgrade.instance_ids, ["cdb-gt70m8aa"]);
        let detail = upgrade.detail.upgrade.as_ref().unwrap();
        assert_eq!(detail.after.as_ref().unwrap().memory_mb, Some(2000));
        // Same mapping as a poll of the task.
        assert_eq!(
            Some(upgrade.clone()),
            crate::tencent::observe_in_page(&seed_page(), "15967")
        );
    }

    #[test]
    fn tasks_before_the_window_and_repeats_are_dropped() {
        let since: Timestamp = "2017-07-01T00:00:00Z".parse().unwrap();
        let mut jobs = Vec::new();
        discovered_in_page(&seed_page(), since, &mut jobs);
        discovered_in_page(&seed_page(), since, &mut jobs);
        let ids: Vec<&str> = jobs.iter().map(|j| j.job_id.as_str()).collect();
        assert_eq!(ids, ["51788"]);
    }
}
