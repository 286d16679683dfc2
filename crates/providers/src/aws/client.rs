//! The AWS RDS provider: builds, signs (SigV4, service `rds`) and sends the describe call
//! and hands the response to the pure mapping and error classification.
//!
//! Every call is `POST /` with a form body `Action=...&Version=2014-10-31&<Identifier>=...`
//! to `https://rds.<region>.amazonaws.com/` (`.amazonaws.com.cn` in the China regions), or
//! to `spec.endpoint`; the signing region is always `spec.region`.

use async_trait::async_trait;
use jiff::Timestamp;
use url::Url;

use clouddb_api::ProviderApi;

use crate::clock::Clock;
use crate::http::{HttpClient, HttpResponse};
use crate::redact::{redacted_headers, sanitize_error};
use crate::{Credentials, ErrorReason, JobObservation, JobTarget, Provider, ProviderError};

use super::errors::{classify, Failure};
use super::mapping::{not_found_yet, observation_from_body};
use super::sign::{self, Request};

/// The Query API version every call names.
pub const VERSION: &str = "2014-10-31";
/// The SigV4 service name.
pub const SERVICE: &str = "rds";
/// `MaxRecords` of every paged call (the most the describe calls take).
pub const MAX_RECORDS: u32 = 100;
/// The body's content type, as the official SDKs send it.
pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// Polls AWS RDS exports, snapshots and blue/green deployments (`api` `export-task`,
/// `db-snapshot`, `cluster-snapshot`, `blue-green`, `blue-green-switchover`). Holds no
/// per-job state.
#[derive(Clone)]
pub struct AwsProvider {
    http: HttpClient,
    clock: Clock,
}

impl std::fmt::Debug for AwsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsProvider").finish_non_exhaustive()
    }
}

/// A request ready to send: URL, headers (names as sent) and form body. `Debug` redacts
/// `Authorization` and `X-Amz-Security-Token`.
#[derive(Clone, PartialEq, Eq)]
pub struct PreparedRequest {
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The bare signature, to scrub from errors.
    pub signature: String,
}

impl std::fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers = redacted_headers(&self.headers, &["authorization", "x-amz-security-token"]);
        f.debug_struct("PreparedRequest")
            .field("url", &self.url.as_str())
            .field("headers", &headers)
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

impl PreparedRequest {
    /// The value of one header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The action and the parameter naming the job, per API.
pub fn action(api: ProviderApi) -> (&'static str, &'static str) {
    match api {
        ProviderApi::DbSnapshot => ("DescribeDBSnapshots", "DBSnapshotIdentifier"),
        ProviderApi::ClusterSnapshot => {
            ("DescribeDBClusterSnapshots", "DBClusterSnapshotIdentifier")
        }
        ProviderApi::BlueGreen | ProviderApi::BlueGreenSwitchover => (
            "DescribeBlueGreenDeployments",
            "BlueGreenDeploymentIdentifier",
        ),
        _ => ("DescribeExportTasks", "ExportTaskIdentifier"),
    }
}

/// The form body of the describe call for `job_id`.
pub fn form_body(api: ProviderApi, job_id: &str) -> String {
    let (action, parameter) = action(api);
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("Action", action)
        .append_pair("Version", VERSION)
        .append_pair(parameter, job_id)
        .finish()
}

/// The regional RDS endpoint: `https://rds.<region>.<dnsSuffix>/`, the suffix of the region's
/// partition in botocore's data (`amazonaws.com`, `amazonaws.com.cn` in China, `c2s.ic.gov`
/// in `us-iso-*`, `amazonaws.eu` in the European Sovereign Cloud, ...).
pub fn default_endpoint(region: &str) -> Result<Url, ProviderError> {
    service_endpoint("rds", region)
}

/// The regional endpoint of an AWS service (`rds`, `sts`) in `region`:
/// `{service}.{region}.{dnsSuffix}`, as botocore resolves both in every region it lists
/// (`crate::endpoints_sdk` compares them).
pub fn service_endpoint(service: &str, region: &str) -> Result<Url, ProviderError> {
    let region = region.trim().to_ascii_lowercase();
    let valid = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return Err(ProviderError::permanent(
            ErrorReason::InvalidRequest,
            "InvalidRegion",
            format!("{region:?} is not an AWS region name"),
        ));
    }
    let suffix = super::partition::partition_of(&region).dns_suffix;
    Url::parse(&format!("https://{service}.{region}.{suffix}/")).map_err(|e| {
        ProviderError::permanent(
            ErrorReason::InvalidRequest,
            "InvalidRegion",
            format!("no endpoint for region {region:?}: {e}"),
        )
    })
}

impl AwsProvider {
    /// A provider using the shared HTTP client and the system clock.
    pub fn new(http: HttpClient) -> Self {
        AwsProvider {
            http,
            clock: crate::clock::system_clock(),
        }
    }

    /// Replaces the clock used for `X-Amz-Date` (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the signed describe call for `target` at `now`.
    pub fn prepare(
        target: &JobTarget,
        credentials: &Credentials,
        now: Timestamp,
    ) -> Result<PreparedRequest, ProviderError> {
        let body = form_body(target.api, &target.job_id);
        Self::prepare_form(
            target.region.as_deref(),
            target.endpoint.as_ref(),
            body,
            credentials,
            now,
        )
    }

    /// The one signing: `POST /` of the form `body` to the region's endpoint (or
    /// `endpoint`), SigV4 for service `rds` in `region` at `now`.
    pub fn prepare_form(
        region: Option<&str>,
        endpoint: Option<&Url>,
        body: String,
        credentials: &Credentials,
        now: Timestamp,
    ) -> Result<PreparedRequest, ProviderError> {
        let Credentials::Aws {
            access_key_id,
            secret_access_key,
            session_token,
        } = credentials
        else {
            return Err(ProviderError::permanent(
                ErrorReason::InvalidRequest,
                "WrongCredentials",
                "provider aws needs an AWS access key ID and secret access key",
            ));
        };
        let region = region
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                ProviderError::permanent(
                    ErrorReason::InvalidRequest,
                    "MissingRegion",
                    "region is required for provider aws (it is also the signing region)",
                )
            })?;
        let url = match endpoint {
            Some(endpoint) => endpoint.clone(),
            None => default_endpoint(region)?,
        };
        let host = crate::http::host_header(&url).ok_or_else(|| {
            ProviderError::permanent(
                ErrorReason::InvalidRequest,
                "InvalidEndpoint",
                "the endpoint has no host",
            )
        })?;
        let signed = sign::sign(
            &Request {
                method: "POST",
                uri: url.as_str(),
                headers: &[("content-type", CONTENT_TYPE), ("host", &host)],
                body: body.as_bytes(),
                region,
                service: SERVICE,
                time: now,
                content_sha256: false,
            },
            access_key_id,
            secret_access_key.expose(),
            session_token.as_ref().map(|t| t.expose()),
        )?;
        // Host is set by the HTTP client from the URL (the same value).
        let mut headers = vec![("Content-Type".to_string(), CONTENT_TYPE.to_string())];
        headers.extend(
            signed
                .headers
                .into_iter()
                .map(|(k, v)| (header_case(&k), v)),
        );
        Ok(PreparedRequest {
            url,
            headers,
            body,
            signature: signed.signature,
        })
    }

    /// Signs, sends and sanitizes one call; a non-2xx answer is classified (a `*NotFound`
    /// fault as a permanent `JobNotFound`: a listed resource does not exist). Returns the
    /// 2xx body.
    pub async fn call_form(
        &self,
        region: Option<&str>,
        endpoint: Option<&Url>,
        body: String,
        credentials: &Credentials,
    ) -> Result<Vec<u8>, ProviderError> {
        let prepared = Self::prepare_form(region, endpoint, body, credentials, (self.clock)())
            .map_err(|e| sanitize(e, credentials, &[]))?;
        let signed: Vec<&str> = std::iter::once(prepared.signature.as_str())
            .chain(prepared.header("authorization"))
            .collect();
        let sanitize = |e| sanitize(e, credentials, &signed);
        let response = self.send(&prepared).await.map_err(sanitize)?;
        if (200..300).contains(&response.status) {
            return Ok(response.body);
        }
        let request_id = response
            .header("x-amzn-requestid")
            .or_else(|| response.header("x-amz-request-id"))
            .map(str::to_string);
        let error = match classify(
            response.status,
            &response.body,
            request_id.clone(),
            response.retry_after(),
        ) {
            Failure::NotFound { code, message } => {
                ProviderError::permanent(ErrorReason::JobNotFound, &code, message)
                    .with_request_id(request_id)
            }
            Failure::Error(e) => e,
        };
        Err(sanitize(error))
    }

    /// The one paging loop over a describe call: `params` plus `MaxRecords` and the
    /// `Marker` that `visit` returns from each page's body, until no marker is returned,
    /// `visit` fails, or `max_pages` pages were read. Returns whether the list ended.
    pub async fn page_form(
        &self,
        at: (Option<&str>, Option<&Url>),
        params: &[(&str, &str)],
        credentials: &Credentials,
        max_pages: u32,
        visit: impl FnMut(&[u8]) -> Result<Option<String>, ProviderError> + Send,
    ) -> Result<bool, ProviderError> {
        self.page_form_with(at, params, credentials, max_pages, || Ok(()), visit)
            .await
    }

    /// [`Self::page_form`] with `before_page` asked before each call; its error (a local
    /// rate limit) ends the loop without sending that call.
    pub async fn page_form_with(
        &self,
        (region, endpoint): (Option<&str>, Option<&Url>),
        params: &[(&str, &str)],
        credentials: &Credentials,
        max_pages: u32,
        mut before_page: impl FnMut() -> Result<(), ProviderError> + Send,
        mut visit: impl FnMut(&[u8]) -> Result<Option<String>, ProviderError> + Send,
    ) -> Result<bool, ProviderError> {
        let mut marker: Option<String> = None;
        for _ in 0..max_pages {
            before_page()?;
            let form = {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in params {
                    form.append_pair(k, v);
                }
                form.append_pair("MaxRecords", &MAX_RECORDS.to_string());
                if let Some(m) = &marker {
                    form.append_pair("Marker", m);
                }
                form.finish()
            };
            let body = self.call_form(region, endpoint, form, credentials).await?;
            marker = visit(&body)?.filter(|m| !m.trim().is_empty());
            if marker.is_none() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn send(&self, prepared: &PreparedRequest) -> Result<HttpResponse, ProviderError> {
        let mut builder = self
            .http
            .reqwest()
            .post(prepared.url.clone())
            .body(prepared.body.clone());
        for (name, value) in &prepared.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        self.http.send(builder).await
    }
}

/// `X-Amz-Date` for `x-amz-date`: the spelling the SDKs send (HTTP names are
/// case-insensitive; this only makes logs and captures read like AWS's documents).
fn header_case(name: &str) -> String {
    match name {
        "authorization" => "Authorization".into(),
        "x-amz-date" => "X-Amz-Date".into(),
        "x-amz-security-token" => "X-Amz-Security-Token".into(),
        "x-amz-content-sha256" => "X-Amz-Content-Sha256".into(),
        other => other.to_string(),
    }
}

/// Interprets a response: the job, a job not listed yet, or a classified error.
pub fn interpret(
    api: ProviderApi,
    response: &HttpResponse,
    job_id: &str,
) -> Result<JobObservation, ProviderError> {
    let request_id = response
        .header("x-amzn-requestid")
        .or_else(|| response.header("x-amz-request-id"))
        .map(str::to_string);
    if (200..300).contains(&response.status) {
        return observation_from_body(api, &response.body, job_id)
            .map_err(|e| e.with_request_id(request_id));
    }
    match classify(
        response.status,
        &response.body,
        request_id,
        response.retry_after(),
    ) {
        Failure::NotFound { .. } => Ok(not_found_yet(api, job_id)),
        Failure::Error(e) => Err(e),
    }
}

/// The one sanitizing step ([`sanitize_error`]) with this API's `Authorization` prefix.
fn sanitize(error: ProviderError, credentials: &Credentials, signed: &[&str]) -> ProviderError {
    sanitize_error(error, credentials, signed, "AWS4-HMAC-SHA256 Credential=")
}

#[async_trait]
impl Provider for AwsProvider {
    async fn observe(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        let prepared = Self::prepare(target, credentials, (self.clock)())
            .map_err(|e| sanitize(e, credentials, &[]))?;
        let signed: Vec<&str> = std::iter::once(prepared.signature.as_str())
            .chain(prepared.header("authorization"))
            .collect();
        let sanitize = |e| sanitize(e, credentials, &signed);
        let response = self.send(&prepared).await.map_err(sanitize)?;
        interpret(target.api, &response, &target.job_id).map_err(sanitize)
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
