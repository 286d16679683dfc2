//! The CDB API 3.0 client: signs (TC3-HMAC-SHA256), posts JSON, pages through
//! `DescribeTasks` and reads `DescribeAsyncRequestInfo`.

use std::ops::ControlFlow;

use async_trait::async_trait;
use clouddb_api::ProviderApi;
use serde_json::{json, Map, Value};
use url::Url;

use super::errors::{parse_response, INVALID_ASYNC_REQUEST_ID};
use super::mapping::{map_async_request_info, observe_in_page};
use super::model::{AsyncRequestInfo, DescribeTasksPage};
use super::sign::{authorization, Tc3Request};
use crate::clock::Clock;
use crate::http::HttpClient;
use crate::redact::redact;
use crate::{Credentials, ErrorReason, JobObservation, JobTarget, Provider, ProviderError};

/// Signing service name.
pub const SERVICE: &str = "cdb";
/// API version of every call.
pub const VERSION: &str = "2017-03-20";
/// The largest page `DescribeTasks` returns.
pub const PAGE_LIMIT: u64 = 100;
/// Default cap on `DescribeTasks` pages read per poll (2,000 tasks).
pub const DEFAULT_MAX_PAGES: u32 = 20;
const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// Default cap on the pages one discovery reads (5,000 tasks in the window).
pub const DEFAULT_MAX_LIST_PAGES: u32 = 50;

/// The public endpoint for a region: `cdb.tencentcloudapi.com`, or the region's own host for
/// the isolated financial regions (`*-fsi`), which the global host cannot reach.
pub fn default_endpoint(region: &str) -> Url {
    let region = region.trim();
    let safe = !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let host = if safe && region.ends_with("-fsi") {
        format!("https://cdb.{region}.tencentcloudapi.com/")
    } else {
        "https://cdb.tencentcloudapi.com/".to_string()
    };
    Url::parse(&host).unwrap_or_else(|_| unreachable!("static endpoint URL is valid"))
}

pub use crate::http::host_header;

/// One `DescribeTasks` query. Also the unit of batching: jobs that share credentials,
/// region and instance can be answered from the same pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TasksQuery {
    pub endpoint: Url,
    pub region: String,
    /// `InstanceId` filter (recommended: without it the whole region's tasks are listed).
    pub instance_id: Option<String>,
    /// `AsyncRequestId` filter, when the request that created the task is known.
    pub async_request_id: Option<String>,
    /// `StartTimeBegin` (`YYYY-MM-DD HH:MM:SS`, UTC+08:00), to skip older tasks.
    pub start_time_begin: Option<String>,
    /// `StartTimeEnd` (same format): the latest start time listed (discovery's window).
    pub start_time_end: Option<String>,
    pub offset: u64,
    /// Page size, at most [`PAGE_LIMIT`].
    pub limit: u64,
}

impl TasksQuery {
    /// The first page of the query for a target (endpoint, region and instance filter).
    pub fn for_target(target: &JobTarget) -> Result<Self, ProviderError> {
        let region = target_region(target)?;
        Ok(TasksQuery {
            endpoint: target
                .endpoint
                .clone()
                .unwrap_or_else(|| default_endpoint(&region)),
            region,
            instance_id: target.instance_id.clone(),
            async_request_id: None,
            start_time_begin: None,
            start_time_end: None,
            offset: 0,
            limit: PAGE_LIMIT,
        })
    }

    /// The JSON request body.
    pub fn payload(&self) -> Value {
        let mut body = Map::new();
        if let Some(id) = &self.instance_id {
            body.insert("InstanceId".into(), json!(id));
        }
        if let Some(id) = &self.async_request_id {
            body.insert("AsyncRequestId".into(), json!(id));
        }
        if let Some(t) = &self.start_time_begin {
            body.insert("StartTimeBegin".into(), json!(t));
        }
        if let Some(t) = &self.start_time_end {
            body.insert("StartTimeEnd".into(), json!(t));
        }
        body.insert("Offset".into(), json!(self.offset));
        body.insert("Limit".into(), json!(self.limit.clamp(1, PAGE_LIMIT)));
        Value::Object(body)
    }
}

fn target_region(target: &JobTarget) -> Result<String, ProviderError> {
    target.region.clone().ok_or_else(|| {
        ProviderError::permanent(
            ErrorReason::InvalidRequest,
            "MissingRegion",
            "region is required for provider tencent",
        )
    })
}

/// Where a walk over `DescribeTasks` pages stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paged {
    /// The list ended (not cut short by the visitor or the page cap).
    pub ended: bool,
    /// The offset after the last page read.
    pub offset: u64,
}

/// The Tencent Cloud API 3.0 provider (`DescribeTasks`, `DescribeAsyncRequestInfo`).
#[derive(Clone)]
pub struct TencentProvider {
    http: HttpClient,
    pub(super) clock: Clock,
    max_pages: u32,
    /// Cap on the pages one discovery reads (see [`super::list`]).
    pub(super) max_list_pages: u32,
}

impl TencentProvider {
    /// A provider using the shared HTTP client and the system clock.
    pub fn new(http: HttpClient) -> Self {
        TencentProvider {
            http,
            clock: crate::clock::system_clock(),
            max_pages: DEFAULT_MAX_PAGES,
            max_list_pages: DEFAULT_MAX_LIST_PAGES,
        }
    }

    /// Replaces the clock (tests sign at fixed or skewed times).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Caps the `DescribeTasks` pages read per poll (at least 1).
    pub fn with_max_pages(mut self, max_pages: u32) -> Self {
        self.max_pages = max_pages.max(1);
        self
    }

    /// Caps the `DescribeTasks` pages one discovery reads (at least 1).
    pub fn with_max_list_pages(mut self, max_pages: u32) -> Self {
        self.max_list_pages = max_pages.max(1);
        self
    }

    /// Signs and sends one API call; returns the `Response` object or the classified error.
    /// Error messages never contain the secret key, token or signature.
    pub async fn call(
        &self,
        endpoint: &Url,
        region: &str,
        action: &str,
        payload: &Value,
        credentials: &Credentials,
    ) -> Result<Value, ProviderError> {
        let (secret_id, secret_key, token) = credentials.tencent_keys("tencent")?;
        let host = host_header(endpoint).ok_or_else(|| {
            ProviderError::permanent(
                ErrorReason::InvalidRequest,
                "InvalidEndpoint",
                "endpoint has no host",
            )
        })?;
        let body = serde_json::to_vec(payload).map_err(|e| {
            ProviderError::permanent(ErrorReason::InvalidRequest, "InvalidPayload", e.to_string())
        })?;
        let timestamp = (self.clock)().as_second();
        let signed = Tc3Request {
            method: "POST",
            host: &host,
            query: "",
            content_type: CONTENT_TYPE,
            payload: &body,
            service: SERVICE,
            timestamp,
        };
        let auth = authorization(secret_id, secret_key.expose(), &signed);
        let mut request = self
            .http
            .reqwest()
            .post(endpoint.clone())
            .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
            .header(http::header::HOST, &host)
            .header("X-TC-Action", action)
            .header("X-TC-Version", VERSION)
            .header("X-TC-Timestamp", timestamp.to_string())
            .header("X-TC-Region", region)
            .header("X-TC-Language", "en-US")
            .header(http::header::AUTHORIZATION, &auth);
        if let Some(token) = token {
            request = request.header("X-TC-Token", token.expose());
        }
        let secrets = [
            Some(secret_key.expose()),
            token.as_ref().map(|t| t.expose()),
            Some(auth.as_str()),
            auth.rsplit("Signature=").next(),
        ];
        let scrub = |e: ProviderError| scrub(e, &secrets);
        let response = self.http.send(request.body(body)).await.map_err(scrub)?;
        parse_response(response.status, &response.body, response.retry_after()).map_err(scrub)
    }

    /// One `DescribeTasks` page (all its items), for polling many jobs with one call.
    pub async fn describe_tasks_page(
        &self,
        query: &TasksQuery,
        credentials: &Credentials,
    ) -> Result<DescribeTasksPage, ProviderError> {
        let response = self
            .call(
                &query.endpoint,
                &query.region,
                "DescribeTasks",
                &query.payload(),
                credentials,
            )
            .await?;
        serde_json::from_value(response).map_err(|e| {
            ProviderError::transient(
                "MalformedResponse",
                format!("unreadable DescribeTasks answer: {e}"),
            )
        })
    }

    /// The one paging loop over `DescribeTasks`: from `query.offset`, hands each page to
    /// `visit` until it breaks, the list ends, or `max_pages` pages were read.
    /// `before_page` (given the page's offset) may refuse a page, e.g. the local rate
    /// limit, which fails the walk.
    pub async fn page_tasks(
        &self,
        query: &TasksQuery,
        credentials: &Credentials,
        max_pages: u32,
        mut before_page: impl FnMut(u64) -> Result<(), ProviderError> + Send,
        mut visit: impl FnMut(DescribeTasksPage) -> ControlFlow<()> + Send,
    ) -> Result<Paged, ProviderError> {
        let mut query = query.clone();
        query.limit = query.limit.clamp(1, PAGE_LIMIT);
        for _ in 0..max_pages {
            before_page(query.offset)?;
            let page = self.describe_tasks_page(&query, credentials).await?;
            let listed = page.items.len() as u64;
            query.offset = query.offset.saturating_add(listed);
            let ended = listed == 0
                || match page.total_count {
                    Some(total) => query.offset >= u64::try_from(total).unwrap_or(0),
                    None => listed < query.limit,
                };
            if visit(page).is_break() {
                break;
            }
            if ended {
                return Ok(Paged {
                    ended,
                    offset: query.offset,
                });
            }
        }
        Ok(Paged {
            ended: false,
            offset: query.offset,
        })
    }

    /// Pages through `DescribeTasks` from `query.offset` until the task is found, the list
    /// ends, or the page cap is reached; an unlisted task is not-found-yet (`Pending`).
    pub async fn find_task(
        &self,
        query: &TasksQuery,
        job_id: &str,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        let scope = match &query.instance_id {
            Some(id) => format!(" for instance {id}"),
            None => String::new(),
        };
        let mut found = None;
        let paged = self
            .page_tasks(
                query,
                credentials,
                self.max_pages,
                |_| Ok(()),
                |page| {
                    found = observe_in_page(&page, job_id);
                    match found {
                        Some(_) => ControlFlow::Break(()),
                        None => ControlFlow::Continue(()),
                    }
                },
            )
            .await?;
        match found {
            Some(observation) => Ok(observation),
            None if paged.ended => Ok(JobObservation::not_found_yet(format!(
                "task {job_id} is not listed by DescribeTasks{scope} yet"
            ))),
            None => Ok(JobObservation::not_found_yet(format!(
                "task {job_id} is not among the first {} tasks DescribeTasks lists{scope}; \
                 set instanceId to narrow the search",
                paged.offset
            ))),
        }
    }

    /// `DescribeAsyncRequestInfo` for one `AsyncRequestId`.
    pub async fn describe_async_request(
        &self,
        endpoint: &Url,
        region: &str,
        async_request_id: &str,
        credentials: &Credentials,
    ) -> Result<AsyncRequestInfo, ProviderError> {
        let payload = json!({ "AsyncRequestId": async_request_id });
        let response = self
            .call(
                endpoint,
                region,
                "DescribeAsyncRequestInfo",
                &payload,
                credentials,
            )
            .await?;
        serde_json::from_value(response).map_err(|e| {
            ProviderError::transient(
                "MalformedResponse",
                format!("unreadable DescribeAsyncRequestInfo answer: {e}"),
            )
        })
    }

    /// Observes an async request. An unknown `AsyncRequestId` is not-found-yet rather than an
    /// error: the ID is returned before the request is registered everywhere, and the
    /// provider keeps no per-job state to tell "new" from "wrong". A wrong ID therefore stays
    /// `Pending` (with a message saying so) until the spec's tracking timeout.
    async fn observe_async_request(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        let region = target_region(target)?;
        let endpoint = target
            .endpoint
            .clone()
            .unwrap_or_else(|| default_endpoint(&region));
        match self
            .describe_async_request(&endpoint, &region, &target.job_id, credentials)
            .await
        {
            Ok(info) => Ok(map_async_request_info(&info)),
            Err(e) if e.code == INVALID_ASYNC_REQUEST_ID => {
                Ok(JobObservation::not_found_yet(format!(
                    "async request {} is not known to Tencent Cloud yet ({}); if this persists, \
                     check the jobId",
                    target.job_id,
                    e.describe()
                )))
            }
            Err(e) => Err(e),
        }
    }
}

impl std::fmt::Debug for TencentProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TencentProvider")
            .field("max_pages", &self.max_pages)
            .field("max_list_pages", &self.max_list_pages)
            .finish_non_exhaustive()
    }
}

/// Replaces any secret that a server or transport message might echo (in the message, the
/// code or the request ID: a hostile or broken server controls all three), in any of the
/// forms [`redact`] knows.
fn scrub(mut error: ProviderError, secrets: &[Option<&str>]) -> ProviderError {
    let secrets: Vec<&str> = secrets.iter().flatten().copied().collect();
    error.message = redact(&error.message, &secrets);
    error.code = redact(&error.code, &secrets);
    error.request_id = error.request_id.map(|id| redact(&id, &secrets));
    error
}

#[async_trait]
impl Provider for TencentProvider {
    async fn observe(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        match target.api {
            ProviderApi::DescribeTasks => {
                let query = TasksQuery::for_target(target)?;
                self.find_task(&query, &target.job_id, credentials).await
            }
            ProviderApi::DescribeAsyncRequestInfo => {
                self.observe_async_request(target, credentials).await
            }
            other => Err(ProviderError::permanent(
                ErrorReason::InvalidRequest,
                "UnsupportedApi",
                format!("api {other:?} is not a provider tencent API"),
            )),
        }
    }
}

#[cfg(test)]
mod scrub_tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed_from_code_message_and_request_id() {
        // Regression: an echoed token in `RequestId` reached status through `describe()`.
        let e = ProviderError::permanent(ErrorReason::AuthenticationFailed, "C-tok-1", "m tok-1 m")
            .with_request_id(Some("id tok-1 sig-2".into()));
        let clean = scrub(e, &[Some("tok-1"), None, Some("sig-2"), Some("")]);
        let shown = clean.describe();
        assert!(
            !shown.contains("tok-1") && !shown.contains("sig-2"),
            "{shown}"
        );
        assert_eq!(
            clean.request_id.as_deref(),
            Some("id [REDACTED] [REDACTED]")
        );
    }
}
