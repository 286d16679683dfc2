//! Discovery for Google Cloud SQL: `operations.list` with the `instance` filter
//! (`GET /v1/projects/{project}/operations?instance=..&maxResults=..`), every page by
//! `pageToken`, through the client's one authorized GET ([`GcpProvider::authorized_get`],
//! token cache and 401 retry included). Each operation is mapped by [`map_operation`], the
//! mapping `operations.get` uses; the operation `name` is the job ID.
//!
//! First `instances.get` (`GET /v1/projects/{project}/instances/{instance}`): its
//! `scheduledMaintenance` (start time, reschedule deadline) is the announced maintenance
//! (`upcoming`), and its 404 for an instance that does not exist a permanent `JobNotFound`
//! with Google's message.

use async_trait::async_trait;
use jiff::Timestamp;
use serde::Deserialize;
use url::Url;

use super::client::{GcpProvider, DEFAULT_ENDPOINT};
use super::errors::{classify, Failure};
use super::mapping::map_operation;
use super::model::Operation;
use crate::decode::one_or_many_lenient;
use crate::discovery::{DiscoveredJob, Discovery, InstanceTarget, JobLister, UpcomingMaintenance};
use crate::redact::sanitize_error;
use crate::{Credentials, ErrorReason, ProviderError};
use clouddb_api::ProviderApi;

/// `maxResults` per page.
pub const PAGE_SIZE: u32 = 100;
/// Pages read at most (10,000 operations).
pub const MAX_LIST_PAGES: u32 = 100;

/// One page of `operations.list`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OperationsPage {
    #[serde(default, deserialize_with = "one_or_many_lenient")]
    pub items: Vec<Operation>,
    #[serde(default)]
    pub next_page_token: Option<String>,
}

/// The URL of one page: the endpoint (or the default host) with
/// `/v1/projects/{project}/operations` after any path prefix, segments percent-encoded.
pub fn list_url(
    endpoint: Option<&Url>,
    project: &str,
    instance: &str,
    page_token: Option<&str>,
) -> Result<Url, ProviderError> {
    let invalid =
        |m: String| ProviderError::permanent(ErrorReason::InvalidRequest, "InvalidEndpoint", m);
    let mut url = match endpoint {
        Some(e) => e.clone(),
        None => Url::parse(DEFAULT_ENDPOINT).map_err(|e| invalid(e.to_string()))?,
    };
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| invalid("the endpoint cannot carry a path".into()))?
        .pop_if_empty()
        .extend(["v1", "projects", project, "operations"]);
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("instance", instance);
        q.append_pair("maxResults", &PAGE_SIZE.to_string());
        if let Some(token) = page_token {
            q.append_pair("pageToken", token);
        }
    }
    Ok(url)
}

/// The fields of `instances.get` discovery reads.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Instance {
    #[serde(default)]
    pub scheduled_maintenance: Option<ScheduledMaintenance>,
}

/// `scheduledMaintenance`: maintenance Cloud SQL has scheduled for the instance.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledMaintenance {
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub can_defer: Option<bool>,
    #[serde(default)]
    pub can_reschedule: Option<bool>,
    /// The latest it can be rescheduled to.
    #[serde(default)]
    pub schedule_deadline_time: Option<String>,
}

/// The URL of `instances.get` for the instance.
pub fn instance_url(
    endpoint: Option<&Url>,
    project: &str,
    instance: &str,
) -> Result<Url, ProviderError> {
    let mut url = list_url(endpoint, project, instance, None)?;
    url.set_query(None);
    url.path_segments_mut()
        .map_err(|()| {
            ProviderError::permanent(
                ErrorReason::InvalidRequest,
                "InvalidEndpoint",
                "the endpoint cannot carry a path",
            )
        })?
        .pop()
        .extend(["instances", instance]);
    Ok(url)
}

/// The announced maintenance of an `instances.get` body, if any.
pub fn scheduled_maintenance(body: &[u8]) -> Result<Option<UpcomingMaintenance>, ProviderError> {
    let instance: Instance = crate::decode::json_object(body, "Cloud SQL")?;
    let time = |t: &Option<String>| t.as_deref().and_then(super::mapping::parse_time);
    Ok(instance.scheduled_maintenance.map(|m| UpcomingMaintenance {
        action: "scheduled-maintenance".into(),
        description: Some(
            match (m.can_defer, m.can_reschedule) {
                (Some(true), _) | (_, Some(true)) => {
                    "Cloud SQL scheduled maintenance (can be deferred or rescheduled)"
                }
                _ => "Cloud SQL scheduled maintenance",
            }
            .into(),
        ),
        not_before: time(&m.start_time),
        forced_after: time(&m.schedule_deadline_time),
    }))
}

/// Classifies a non-2xx answer: a 404 is a permanent `JobNotFound` (the instance does not
/// exist), anything else as a poll classifies it.
fn failed(response: &crate::http::HttpResponse) -> ProviderError {
    match classify(response.status, &response.body, response.retry_after()) {
        Failure::NotFound { message } => {
            ProviderError::permanent(ErrorReason::JobNotFound, "NOT_FOUND", message)
        }
        Failure::Error(e) => e,
    }
}

/// One authorized GET whose 2xx body is returned; anything else is classified by
/// [`failed`], with the token scrubbed from the error.
async fn get_ok(
    provider: &GcpProvider,
    url: &Url,
    credentials: &Credentials,
) -> Result<Vec<u8>, ProviderError> {
    let (response, sent) = provider.authorized_get(url, credentials).await?;
    if (200..300).contains(&response.status) {
        return Ok(response.body);
    }
    let sent: Vec<&str> = sent.iter().map(String::as_str).collect();
    Err(sanitize_error(
        failed(&response),
        credentials,
        &sent,
        "Bearer ",
    ))
}

/// Decodes a page; a body that is not a JSON object is a transient error.
pub fn decode_page(body: &[u8]) -> Result<OperationsPage, ProviderError> {
    crate::decode::json_object(body, "Cloud SQL")
}

/// The page's operations started (inserted) at or after `since`, each once.
pub fn discovered_in_page(page: &OperationsPage, since: Timestamp, jobs: &mut Vec<DiscoveredJob>) {
    for op in &page.items {
        let Some(name) = op.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) else {
            continue;
        };
        let observation = map_operation(op);
        let started = super::mapping::parse_time(op.insert_time.as_deref().unwrap_or_default())
            .or(observation.start_time);
        if started.is_some_and(|t| t < since) || jobs.iter().any(|j| j.job_id == name) {
            continue;
        }
        jobs.push(DiscoveredJob {
            job_id: name.to_string(),
            api: ProviderApi::CloudSql,
            observation,
        });
    }
}

#[async_trait]
impl JobLister for GcpProvider {
    async fn list_jobs(
        &self,
        target: &InstanceTarget,
        credentials: &Credentials,
        since: Timestamp,
    ) -> Result<Discovery, ProviderError> {
        target.require_api(&[ProviderApi::CloudSql])?;
        let instance = target.require_instance_id()?;
        let project =
            crate::target::require_project_id(target.project_id.as_deref(), target.provider)?;
        let mut found = Discovery::default();
        let url = instance_url(target.endpoint.as_ref(), project, instance)?;
        let body = get_ok(self, &url, credentials).await?;
        found.upcoming.extend(scheduled_maintenance(&body)?);
        let mut token: Option<String> = None;
        for _ in 0..MAX_LIST_PAGES {
            let url = list_url(
                target.endpoint.as_ref(),
                project,
                instance,
                token.as_deref(),
            )?;
            let body = get_ok(self, &url, credentials).await?;
            let page = decode_page(&body)?;
            discovered_in_page(&page, since, &mut found.jobs);
            token = page.next_page_token.filter(|t| !t.trim().is_empty());
            if token.is_none() {
                return Ok(found);
            }
        }
        found.clamped = Some(format!(
            "Cloud SQL lists more than {} operations for instance {instance}: only the newest \
             were read",
            PAGE_SIZE * MAX_LIST_PAGES
        ));
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clouddb_api::JobPhase;

    const RUNNING: &str =
        include_str!("../../../../tests/fixtures/gcp/operation-import-running.json");
    const FAILED: &str =
        include_str!("../../../../tests/fixtures/gcp/operation-export-failed.json");

    fn page() -> OperationsPage {
        let items: Vec<serde_json::Value> = [RUNNING, FAILED]
            .iter()
            .map(|t| serde_json::from_str(t).unwrap())
            .collect();
        serde_json::from_value(serde_json::json!({
            "kind": "sql#operationsList", "items": items, "nextPageToken": "tok-2"
        }))
        .unwrap()
    }

    #[test]
    fn the_url_filters_by_instance_and_pages_by_token() {
        let base: Url = "https://proxy.example/prefix/".parse().unwrap();
        let url = list_url(Some(&base), "my project", "orders-db", Some("t/2")).unwrap();
        assert_eq!(
            url.as_str(),
            "https://proxy.example/prefix/v1/projects/my%20project/operations?instance=orders-db&maxResults=100&pageToken=t%2F2"
        );
        let url = list_url(None, "p", "i", None).unwrap();
        assert_eq!(
            url.as_str(),
            "https://sqladmin.googleapis.com/v1/projects/p/operations?instance=i&maxResults=100"
        );
    }

    #[test]
    fn scheduled_maintenance_is_upcoming() {
        let body = serde_json::json!({"kind": "sql#instance", "name": "orders-db",
            "scheduledMaintenance": {"startTime": "2026-12-10T02:00:00Z", "canDefer": true,
                                     "canReschedule": true,
                                     "scheduleDeadlineTime": "2026-12-24T02:00:00Z"}});
        let m = scheduled_maintenance(body.to_string().as_bytes())
            .unwrap()
            .unwrap();
        assert_eq!(m.not_before, Some("2026-12-10T02:00:00Z".parse().unwrap()));
        assert_eq!(
            m.forced_after,
            Some("2026-12-24T02:00:00Z".parse().unwrap())
        );
        assert!(m.description.unwrap().contains("deferred"));
        let none = scheduled_maintenance(br#"{"kind": "sql#instance"}"#).unwrap();
        assert_eq!(none, None);
        let url = instance_url(None, "p", "orders-db").unwrap();
        assert_eq!(
            url.as_str(),
            "https://sqladmin.googleapis.com/v1/projects/p/instances/orders-db"
        );
    }

    #[test]
    fn maps_the_documented_operations_as_a_get_would() {
        let page = page();
        assert_eq!(page.next_page_token.as_deref(), Some("tok-2"));
        let mut jobs = Vec::new();
        discovered_in_page(&page, Timestamp::UNIX_EPOCH, &mut jobs);
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0].job_id, "6b9f4b5e-2a1d-4c7e-9f0a-1d2c3b4a5f60");
        assert_eq!(jobs[0].api, ProviderApi::CloudSql);
        assert_eq!(jobs[0].observation.phase, Some(JobPhase::Running));
        assert_eq!(
            jobs[0].observation,
            super::super::mapping::observation_from_body(RUNNING.as_bytes()).unwrap()
        );
        assert_eq!(jobs[1].observation.phase, Some(JobPhase::Failed));
        // Again: no duplicates; and a window after both: nothing.
        discovered_in_page(&page, Timestamp::UNIX_EPOCH, &mut jobs);
        assert_eq!(jobs.len(), 2);
        let mut later = Vec::new();
        discovered_in_page(&page, "2030-01-01T00:00:00Z".parse().unwrap(), &mut later);
        assert!(later.is_empty());
    }
}
