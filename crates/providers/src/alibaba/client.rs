//! The Alibaba Cloud provider: builds and signs the `DescribeHistoryTasks` request, sends it
//! and hands the answer to the pure mapping and error classification.
//!
//! The request is the form the V3 signature documents use for RPC APIs: `POST /` with the
//! parameters in the query string and an empty body, signed over `host` and every
//! `x-acs-*` header (the security token too, when there is one).

use std::ops::ControlFlow;

use async_trait::async_trait;
use clouddb_api::ProviderApi;
use jiff::{SignedDuration, Timestamp};
use url::Url;

use crate::clock::Clock;
use crate::http::{HttpClient, HttpResponse};
use crate::redact::{redacted_headers, sanitize_error};
use crate::{Credentials, ErrorReason, JobObservation, JobTarget, Provider, ProviderError};

use super::endpoints::{self, default_endpoint, request_url, ACTION};
use super::errors::{classify, classify_envelope, error_in_success_body, parse_retry_after_ms};
use super::mapping::{find_task, map_task, not_found_yet, LOOKBACK_DAYS};
use super::model::HistoryTasksPage;
use super::sign::{self, SignableRequest};

/// Tasks per page: one `TaskId` lists at most one task, so the documented minimum is plenty.
pub const PAGE_SIZE: u32 = 10;
/// Pages read at most when a server lists more tasks than asked for.
pub const MAX_PAGES: u32 = 5;
/// `ToStartTime` is this far ahead of the local clock, so a server clock that runs ahead of
/// ours still lists a task that has just started (the API sets no upper bound).
pub const TO_START_MARGIN: SignedDuration = SignedDuration::from_hours(1);

/// Polls Alibaba Cloud RDS and PolarDB tasks (`api` `rds`, `polardb`). Holds no per-job state.
#[derive(Clone)]
pub struct AlibabaProvider {
    http: HttpClient,
    clock: Clock,
}

impl std::fmt::Debug for AlibabaProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlibabaProvider").finish_non_exhaustive()
    }
}

/// A signed request ready to send. `Debug` redacts `Authorization` and the security token.
#[derive(Clone, PartialEq, Eq)]
pub struct PreparedRequest {
    pub url: Url,
    /// Headers as sent (lower-case names); `host` is set by the HTTP client from the URL.
    pub headers: Vec<(String, String)>,
}

impl PreparedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers = redacted_headers(&self.headers, &["authorization", "x-acs-security-token"]);
        f.debug_struct("PreparedRequest")
            .field("url", &self.url.as_str())
            .field("headers", &headers)
            .finish()
    }
}

/// What one page says about the task.
#[derive(Clone, Debug, PartialEq)]
pub enum PageOutcome {
    /// Boxed: an observation is much larger than the other variant.
    Found(Box<JobObservation>),
    /// Not on this page; `more` when `TotalCount` says later pages hold more tasks.
    NotListed { more: bool },
}

/// Where one `DescribeHistoryTasks` call goes: the API (RDS or PolarDB, which picks the
/// version and default host), the region and the endpoint override. Poll and discovery
/// build their queries differently and share this, the one signing.
#[derive(Clone, Copy, Debug)]
pub struct HistoryCall<'a> {
    pub api: ProviderApi,
    pub region: Option<&'a str>,
    pub endpoint: Option<&'a Url>,
}

impl HistoryCall<'_> {
    /// Signs `query` (`RegionId` and the filters) as `POST /` at `now` with `nonce`.
    pub fn prepare(
        &self,
        query: &[(String, String)],
        credentials: &Credentials,
        now: Timestamp,
        nonce: &str,
    ) -> Result<PreparedRequest, ProviderError> {
        let Credentials::Alibaba {
            access_key_id,
            access_key_secret,
            security_token,
        } = credentials
        else {
            return Err(ProviderError::permanent(
                ErrorReason::AuthenticationFailed,
                "WrongCredentials",
                "provider alibaba needs an AccessKey pair (accessKeyId, accessKeySecret)",
            ));
        };
        let version = endpoints::version(self.api).ok_or_else(|| {
            ProviderError::permanent(
                ErrorReason::InvalidRequest,
                "UnsupportedApi",
                format!(
                    "api {:?} is not an Alibaba Cloud API: expected rds or polardb",
                    self.api.as_str()
                ),
            )
        })?;
        let region = self.region.ok_or_else(|| {
            ProviderError::permanent(
                ErrorReason::InvalidRequest,
                "MissingRegion",
                "region is required for provider alibaba",
            )
        })?;
        let base = match self.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => default_endpoint(self.api, region),
        };
        let url = request_url(&base, &sign::canonical_query(query));
        let mut headers = vec![
            (
                "host".to_string(),
                crate::http::host_header(&url).unwrap_or_default(),
            ),
            ("x-acs-action".to_string(), ACTION.to_string()),
            ("x-acs-version".to_string(), version.to_string()),
            (
                "x-acs-date".to_string(),
                now.strftime(sign::DATE_FORMAT).to_string(),
            ),
            ("x-acs-signature-nonce".to_string(), nonce.to_string()),
            ("x-acs-content-sha256".to_string(), sign::sha256_hex(b"")),
        ];
        if let Some(token) = security_token {
            headers.push((
                "x-acs-security-token".to_string(),
                token.expose().to_string(),
            ));
        }
        let authorization = sign::authorization(
            access_key_id,
            access_key_secret.expose(),
            &SignableRequest {
                method: "POST",
                path: url.path(),
                query,
                headers: &headers,
                body: b"",
            },
        );
        // The HTTP client sends Host from the URL (the same value as signed).
        headers.retain(|(k, _)| k != "host");
        headers.push(("authorization".to_string(), authorization));
        Ok(PreparedRequest { url, headers })
    }
}

/// `ToStartTime` for a query at `now` (see [`TO_START_MARGIN`]).
pub fn window_end(now: Timestamp) -> Timestamp {
    now.checked_add(TO_START_MARGIN).unwrap_or(now)
}

/// The parameters every query carries: region, start-time window, page size and number.
pub fn history_query(
    region: &str,
    (from, to): (Timestamp, Timestamp),
    (page_size, page): (u32, u32),
) -> Vec<(String, String)> {
    let format = |t: Timestamp| t.strftime(sign::DATE_FORMAT).to_string();
    vec![
        ("RegionId".to_string(), region.to_string()),
        ("FromStartTime".to_string(), format(from)),
        ("ToStartTime".to_string(), format(to)),
        ("PageSize".to_string(), page_size.to_string()),
        ("PageNumber".to_string(), page.to_string()),
    ]
}

impl AlibabaProvider {
    /// A provider using the shared HTTP client and the system clock.
    pub fn new(http: HttpClient) -> Self {
        AlibabaProvider {
            http,
            clock: crate::clock::system_clock(),
        }
    }

    /// The provider's clock now (discovery clamps its window by it).
    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// Replaces the clock used for `x-acs-date` and the query window (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The query parameters of page `page` at time `now`: the task, the region, the
    /// optional instance, and a start-time window of the 30 days the API looks back.
    pub fn query(target: &JobTarget, now: Timestamp, page: u32) -> Vec<(String, String)> {
        let from = now
            .checked_sub(SignedDuration::from_hours(24 * LOOKBACK_DAYS))
            .unwrap_or(now);
        let mut query = history_query(
            target.region.as_deref().unwrap_or_default(),
            (from, window_end(now)),
            (PAGE_SIZE, page),
        );
        query.insert(0, ("TaskId".to_string(), target.job_id.clone()));
        if let Some(instance) = &target.instance_id {
            query.push(("InstanceId".to_string(), instance.clone()));
        }
        query
    }

    /// Builds and signs the request for page `page` at `now` with signature nonce `nonce`.
    pub fn prepare(
        target: &JobTarget,
        credentials: &Credentials,
        now: Timestamp,
        page: u32,
        nonce: &str,
    ) -> Result<PreparedRequest, ProviderError> {
        let call = HistoryCall {
            api: target.api,
            region: target.region.as_deref(),
            endpoint: target.endpoint.as_ref(),
        };
        call.prepare(&Self::query(target, now, page), credentials, now, nonce)
    }

    /// The one paging loop over `DescribeHistoryTasks`: pages `1..=max_pages` of
    /// `query_for(now, page)`, each signed afresh, handed to `visit` until it breaks or
    /// `TotalCount` says no page is left. Returns whether the list ended.
    pub async fn page_history(
        &self,
        call: &HistoryCall<'_>,
        credentials: &Credentials,
        max_pages: u32,
        query_for: impl Fn(Timestamp, u32) -> Vec<(String, String)> + Send + Sync,
        mut visit: impl FnMut(HistoryTasksPage) -> ControlFlow<()> + Send,
    ) -> Result<bool, ProviderError> {
        for page in 1..=max_pages {
            let now = (self.clock)();
            let prepared = call.prepare(&query_for(now, page), credentials, now, &new_nonce())?;
            let authorization = prepared.header("authorization").unwrap_or_default();
            let signed: Vec<&str> = [authorization]
                .into_iter()
                .chain(sign::signature_of(authorization))
                .collect();
            let sanitize = |e| sanitize(e, credentials, &signed);
            let response = self.send(&prepared).await.map_err(sanitize)?;
            let tasks = decode_response(&response).map_err(sanitize)?;
            let more = has_more(&tasks);
            if visit(tasks).is_break() {
                return Ok(false);
            }
            if !more {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn send(&self, prepared: &PreparedRequest) -> Result<HttpResponse, ProviderError> {
        let mut builder = self.http.reqwest().post(prepared.url.clone());
        for (name, value) in &prepared.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        self.http.send(builder).await
    }
}

/// A fresh signature nonce: 128 random bits in hex, unique per request.
pub fn new_nonce() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// One page's response as a page, or the classified error.
pub fn decode_response(response: &HttpResponse) -> Result<HistoryTasksPage, ProviderError> {
    let header_request_id = response.header("x-acs-request-id").map(str::to_string);
    let retry_after = response
        .header("x-acs-retry-after")
        .and_then(parse_retry_after_ms);
    if !(200..300).contains(&response.status) {
        return Err(classify(
            response.status,
            &response.body,
            header_request_id,
            retry_after,
        ));
    }
    if let Some(envelope) = error_in_success_body(&response.body) {
        return Err(classify_envelope(
            400,
            envelope,
            header_request_id,
            retry_after,
        ));
    }
    super::mapping::decode_page(&response.body).map_err(|e| e.with_request_id(header_request_id))
}

/// Whether `TotalCount` says pages after this one hold more tasks.
pub fn has_more(page: &HistoryTasksPage) -> bool {
    let number = page.page_number.unwrap_or(1).clamp(1, 1_000_000);
    let size = page.page_size.unwrap_or(i64::from(PAGE_SIZE)).clamp(1, 100);
    let seen = number.saturating_mul(size);
    !page.items.is_empty() && page.total_count.is_some_and(|t| t > seen)
}

/// Interprets one page's response: the task, not on this page, or a classified error.
pub fn interpret(response: &HttpResponse, job_id: &str) -> Result<PageOutcome, ProviderError> {
    let page = decode_response(response)?;
    Ok(match find_task(&page, job_id) {
        Some(item) => PageOutcome::Found(Box::new(map_task(item))),
        None => PageOutcome::NotListed {
            more: has_more(&page),
        },
    })
}

/// The one sanitizing step ([`sanitize_error`]) with this API's `Authorization` prefix.
fn sanitize(error: ProviderError, credentials: &Credentials, signed: &[&str]) -> ProviderError {
    sanitize_error(error, credentials, signed, "ACS3-HMAC-SHA256 Credential=")
}

#[async_trait]
impl Provider for AlibabaProvider {
    async fn observe(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        let call = HistoryCall {
            api: target.api,
            region: target.region.as_deref(),
            endpoint: target.endpoint.as_ref(),
        };
        let mut found = None;
        self.page_history(
            &call,
            credentials,
            MAX_PAGES,
            |now, page| Self::query(target, now, page),
            |tasks| match find_task(&tasks, &target.job_id) {
                Some(item) => {
                    found = Some(map_task(item));
                    ControlFlow::Break(())
                }
                None => ControlFlow::Continue(()),
            },
        )
        .await?;
        if let Some(observation) = found {
            return Ok(observation);
        }
        Ok(not_found_yet(&target.job_id))
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
