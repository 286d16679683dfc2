//! Discovery for Huawei Cloud RDS: the task center's `ListTasks`
//! (`GET /v3/{project_id}/tasklist?instance_id=..&start_time=..&end_time=..&offset=..&limit=..`,
//! times as UTC millisecond timestamps, at most 50 per page), every page, signed by the
//! client's one signing ([`HuaweiProvider::get`]). Each task is mapped by [`map_job`], the
//! mapping a `/jobs?id=` poll uses (same statuses, `process`, `fail_reason`), and is tracked
//! with the `rds` API by its task ID.
//!
//! TaurusDB (GaussDB for MySQL) is not listed: its task lists (`ListImmediateJobs`,
//! `ListScheduleJobs`) take no instance filter, so listing one instance's jobs would list the
//! whole project's. RDS `ListJobInfoDetail` (per instance, by time) is not used: it has no
//! paging and its SDK types `jobs` as a single object.

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use super::client::HuaweiProvider;
use super::endpoints::default_endpoint;
use super::mapping::map_job;
use super::model::{Job, JobInstance};
use crate::decode::{lenient_i64, lenient_string, one_or_many_lenient};
use crate::discovery::{DiscoveredJob, Discovery, InstanceTarget, JobLister};
use crate::{Credentials, ProviderError};
use clouddb_api::ProviderApi;

/// `limit` per page (the most `ListTasks` takes).
pub const PAGE_LIMIT: u64 = 50;
/// Pages read at most (5,000 tasks).
pub const MAX_LIST_PAGES: u64 = 100;
/// How far past "now" `end_time` reaches (a server clock ahead of ours).
pub const WINDOW_END_SLACK: SignedDuration = SignedDuration::from_mins(10);

/// One page of `ListTasks`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct TasksPage {
    #[serde(default, deserialize_with = "lenient_i64")]
    pub total_count: Option<i64>,
    #[serde(default, deserialize_with = "one_or_many_lenient")]
    pub tasks: Vec<Task>,
}

/// One task-center task.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Task {
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub instance_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub instance_name: Option<String>,
    /// `Running`, `Completed` or `Failed`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    /// Percent, `""` once finished.
    #[serde(default, deserialize_with = "lenient_string")]
    pub process: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub fail_reason: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub create_time: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub end_time: Option<String>,
}

impl Task {
    /// The same task in the `/jobs?id=` shape, so the poll's mapping applies.
    pub fn as_job(&self) -> Job {
        Job {
            id: self.id.clone(),
            name: self.name.clone(),
            status: self.status.clone(),
            created: self.create_time.clone(),
            ended: self.end_time.clone(),
            process: self.process.clone(),
            instance: Some(JobInstance {
                id: self.instance_id.clone(),
                name: self.instance_name.clone(),
            }),
            fail_reason: self.fail_reason.clone(),
            ..Job::default()
        }
    }
}

/// The query of one page (canonical order is the signer's business).
pub fn list_query(
    instance: &str,
    since: Timestamp,
    now: Timestamp,
    offset: u64,
) -> Vec<(String, String)> {
    let end = now.checked_add(WINDOW_END_SLACK).unwrap_or(now);
    vec![
        ("instance_id".to_string(), instance.to_string()),
        ("start_time".to_string(), since.as_millisecond().to_string()),
        ("end_time".to_string(), end.as_millisecond().to_string()),
        ("offset".to_string(), offset.to_string()),
        ("limit".to_string(), PAGE_LIMIT.to_string()),
    ]
}

/// Adds the page's tasks (created at or after `since`, each once) to `jobs`.
pub fn discovered_in_page(page: &TasksPage, since: Timestamp, jobs: &mut Vec<DiscoveredJob>) {
    for task in &page.tasks {
        let Some(id) = task.id.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
            continue;
        };
        let observation = map_job(&task.as_job());
        if observation.start_time.is_some_and(|t| t < since) || jobs.iter().any(|j| j.job_id == id)
        {
            continue;
        }
        jobs.push(DiscoveredJob {
            job_id: id.to_string(),
            api: ProviderApi::Rds,
            observation,
        });
    }
}

#[async_trait]
impl JobLister for HuaweiProvider {
    async fn list_jobs(
        &self,
        target: &InstanceTarget,
        credentials: &Credentials,
        since: Timestamp,
    ) -> Result<Discovery, ProviderError> {
        target.require_api(&[ProviderApi::Rds])?;
        let instance = target.require_instance_id()?;
        let project =
            crate::target::require_project_id(target.project_id.as_deref(), target.provider)?;
        let base = match &target.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => default_endpoint("rds", target.require_region()?),
        };
        let mut url = base.clone();
        let prefix = base.path().trim_end_matches('/').to_string();
        let project_segment = crate::encoding::percent_encode(project);
        url.set_path(&format!("{prefix}/v3/{project_segment}/tasklist"));
        url.set_fragment(None);
        let mut found = Discovery::default();
        let mut offset = 0;
        for _ in 0..MAX_LIST_PAGES {
            let query = list_query(instance, since, self.now(), offset);
            url.set_query(Some(&super::sign::canonical_query(&query)));
            let body = self.get(url.clone(), &query, project, credentials).await?;
            let page: TasksPage = crate::decode::json_object(&body, "Huawei Cloud")?;
            let listed = page.tasks.len() as u64;
            discovered_in_page(&page, since, &mut found.jobs);
            offset += listed;
            let total = page.total_count.and_then(|t| u64::try_from(t).ok());
            if listed == 0 || total.is_none_or(|t| offset >= t) {
                return Ok(found);
            }
        }
        found.clamped = Some(format!(
            "ListTasks lists more than {offset} tasks for instance {instance}: only those were read"
        ));
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clouddb_api::JobPhase;
    use serde_json::json;

    /// A `ListTasks` answer in the API document's shape.
    fn page() -> TasksPage {
        serde_json::from_value(json!({
            "total_count": 2,
            "actions": ["RESTART"],
            "tasks": [
                {"id": "2b0b1e4c-5a1d-4d2e-9e3f-000000000001", "name": "RestartInstance",
                 "instance_id": "dsfae23fsfdsae3435in01", "instance_name": "rds-1",
                 "instance_status": "REBOOTING", "order_id": "", "process": "60",
                 "fail_reason": "", "create_time": "2024-05-01T10:00:00+0800",
                 "end_time": "", "status": "Running"},
                {"id": "2b0b1e4c-5a1d-4d2e-9e3f-000000000002", "name": "ResizeFlavor",
                 "instance_id": "dsfae23fsfdsae3435in01", "process": "",
                 "fail_reason": "Insufficient resources.", "create_time": "2024-05-01T09:00:00+0800",
                 "end_time": "2024-05-01T09:05:00+0800", "status": "Failed"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn the_query_names_the_instance_and_the_window_in_milliseconds() {
        let since: Timestamp = "2024-05-01T00:00:00Z".parse().unwrap();
        let now: Timestamp = "2024-05-02T00:00:00Z".parse().unwrap();
        let q = list_query("in01", since, now, 50);
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("instance_id"), Some("in01"));
        assert_eq!(get("start_time"), Some("1714521600000"));
        assert_eq!(get("end_time"), Some("1714608600000"));
        assert_eq!((get("offset"), get("limit")), (Some("50"), Some("50")));
    }

    #[test]
    fn maps_tasks_as_a_job_poll_would() {
        let since: Timestamp = "2024-05-01T00:00:00Z".parse().unwrap();
        let mut jobs = Vec::new();
        discovered_in_page(&page(), since, &mut jobs);
        assert_eq!(jobs.len(), 2);
        assert!(jobs.iter().all(|j| j.api == ProviderApi::Rds));
        let running = &jobs[0].observation;
        assert_eq!(running.phase, Some(JobPhase::Running));
        assert_eq!(
            running.start_time,
            Some("2024-05-01T02:00:00Z".parse().unwrap())
        );
        let failed = &jobs[1].observation;
        assert_eq!(failed.phase, Some(JobPhase::Failed));
        assert!(failed
            .message
            .as_deref()
            .is_some_and(|m| m.contains("Insufficient")));
        assert_eq!(jobs[1].observation, map_job(&page().tasks[1].as_job()));
        // A window starting between the two tasks: only the later one.
        let mut later = Vec::new();
        discovered_in_page(&page(), "2024-05-01T01:30:00Z".parse().unwrap(), &mut later);
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].job_id, "2b0b1e4c-5a1d-4d2e-9e3f-000000000001");
    }
}
