//! The Huawei Cloud provider: builds, authenticates and sends the task-center request and
//! hands the response to the pure mapping and error classification.
//!
//! Authentication:
//! * AK/SK (`Credentials::HuaweiAkSk`): `SDK-HMAC-SHA256` over `content-type`, `host`,
//!   `x-project-id` and `x-sdk-date`. `X-Project-Id` is sent (and signed) because APIG needs
//!   it to resolve AK/SK calls in accounts with several projects, as the official SDK does.
//! * IAM token (`Credentials::HuaweiToken`): `X-Auth-Token`, unsigned. The token is already
//!   scoped to a project, so no `X-Project-Id` is sent.

use async_trait::async_trait;
use jiff::Timestamp;
use percent_encoding::percent_decode_str;
use url::Url;

use crate::clock::Clock;
use crate::http::{HttpClient, HttpResponse};
use crate::redact::{redacted_headers, sanitize_error};
use crate::{Credentials, ErrorReason, JobObservation, JobTarget, Provider, ProviderError};

use super::endpoints::{default_endpoint, request_url};
use super::errors::{classify, classify_envelope, error_in_success_body, Failure};
use super::mapping::{not_found_yet, observation_from_body};
use super::sign::{self, SignableRequest};

/// Polls Huawei Cloud RDS and TaurusDB jobs (`api` `rds`, `taurusdb`, `taurusdb-legacy`).
/// Holds no per-job state.
#[derive(Clone)]
pub struct HuaweiProvider {
    http: HttpClient,
    clock: Clock,
}

impl std::fmt::Debug for HuaweiProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HuaweiProvider").finish_non_exhaustive()
    }
}

/// A request ready to send: URL and headers (names as sent). `Debug` redacts the
/// `Authorization` and `X-Auth-Token` values.
#[derive(Clone, PartialEq, Eq)]
pub struct PreparedRequest {
    pub url: Url,
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers = redacted_headers(&self.headers, &["authorization", "x-auth-token"]);
        f.debug_struct("PreparedRequest")
            .field("url", &self.url.as_str())
            .field("headers", &headers)
            .finish()
    }
}

impl HuaweiProvider {
    /// A provider using the shared HTTP client and the system clock.
    pub fn new(http: HttpClient) -> Self {
        HuaweiProvider {
            http,
            clock: crate::clock::system_clock(),
        }
    }

    /// The provider's clock now (discovery's window ends by it).
    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// Replaces the clock used for `X-Sdk-Date` (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the URL and headers of the poll for `target`, signed at `now`.
    pub fn prepare(
        target: &JobTarget,
        credentials: &Credentials,
        now: Timestamp,
    ) -> Result<PreparedRequest, ProviderError> {
        let project_id =
            crate::target::require_project_id(target.project_id.as_deref(), target.provider)?;
        let base = match (&target.endpoint, &target.region) {
            (Some(endpoint), _) => endpoint.clone(),
            (None, Some(region)) => default_endpoint(target.api.as_str(), region),
            (None, None) => {
                return Err(ProviderError::permanent(
                    ErrorReason::InvalidRequest,
                    "MissingRegion",
                    "region is required for provider huawei unless endpoint is set",
                ))
            }
        };
        let url = request_url(&base, target.api.as_str(), project_id, &target.job_id)?;
        let query = vec![("id".to_string(), target.job_id.clone())];
        Self::prepare_get(url, &query, project_id, credentials, now)
    }

    /// The one signing: the GET of `url`, whose query is `query` (already set on `url` in
    /// its canonical form), for `project_id` at `now`.
    pub fn prepare_get(
        url: Url,
        query: &[(String, String)],
        project_id: &str,
        credentials: &Credentials,
        now: Timestamp,
    ) -> Result<PreparedRequest, ProviderError> {
        let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
        match credentials {
            Credentials::HuaweiAkSk { ak, sk } => {
                let date = now.strftime(sign::DATE_FORMAT).to_string();
                let mut signed = vec![
                    ("Content-Type".to_string(), "application/json".to_string()),
                    ("Host".to_string(), host_header(&url)),
                    ("X-Project-Id".to_string(), project_id.to_string()),
                    ("X-Sdk-Date".to_string(), date.clone()),
                ];
                let path = percent_decode_str(url.path()).decode_utf8_lossy();
                let request = SignableRequest {
                    method: "GET",
                    path: &path,
                    query,
                    headers: &signed,
                    body: b"",
                };
                let authorization = sign::authorization(ak, sk.expose(), &request, &date);
                // Host is set by the HTTP client from the URL (same value).
                signed.retain(|(k, _)| k != "Host" && k != "Content-Type");
                headers.extend(signed);
                headers.push(("Authorization".to_string(), authorization));
            }
            Credentials::HuaweiToken { token } => {
                headers.push(("X-Auth-Token".to_string(), token.expose().to_string()));
            }
            _ => {
                return Err(ProviderError::permanent(
                    ErrorReason::AuthenticationFailed,
                    "WrongCredentials",
                    "provider huawei needs an AK/SK pair or an IAM token",
                ))
            }
        }
        Ok(PreparedRequest { url, headers })
    }

    /// Signs and sends a GET of `url` with `query`; a 2xx body is returned, anything else
    /// classified (a not-found as a permanent `JobNotFound`: a listed resource does not
    /// exist), secrets scrubbed.
    pub async fn get(
        &self,
        url: Url,
        query: &[(String, String)],
        project_id: &str,
        credentials: &Credentials,
    ) -> Result<Vec<u8>, ProviderError> {
        let prepared = Self::prepare_get(url, query, project_id, credentials, (self.clock)())?;
        let signature = signature_of(&prepared);
        let signed: Vec<&str> = signature
            .as_deref()
            .into_iter()
            .chain(authorization_of(&prepared))
            .collect();
        let sanitize = |e| sanitize(e, credentials, &signed);
        let response = self.send(&prepared).await.map_err(sanitize)?;
        let request_id = response.header("x-request-id").map(str::to_string);
        let failure = if (200..300).contains(&response.status) {
            match error_in_success_body(&response.body) {
                None => return Ok(response.body),
                Some(envelope) => {
                    classify_envelope(400, envelope, request_id.clone(), response.retry_after())
                }
            }
        } else {
            classify(
                response.status,
                &response.body,
                request_id.clone(),
                response.retry_after(),
            )
        };
        Err(sanitize(match failure {
            Failure::NotFound { code, message } => {
                ProviderError::permanent(ErrorReason::JobNotFound, &code, message)
                    .with_request_id(request_id)
            }
            Failure::Error(e) => e,
        }))
    }

    async fn send(&self, prepared: &PreparedRequest) -> Result<HttpResponse, ProviderError> {
        let mut builder = self.http.reqwest().get(prepared.url.clone());
        for (name, value) in &prepared.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        self.http.send(builder).await
    }
}

/// The `Host` header value for `url`: the host, plus the port when it is not the scheme's
/// default (what the HTTP client sends, and so what must be signed).
pub fn host_header(url: &Url) -> String {
    crate::http::host_header(url).unwrap_or_default()
}

/// Interprets a response: success body, job not listed yet, or a classified error.
pub fn interpret(response: &HttpResponse, job_id: &str) -> Result<JobObservation, ProviderError> {
    let request_id = response.header("x-request-id").map(str::to_string);
    let failure = if (200..300).contains(&response.status) {
        match error_in_success_body(&response.body) {
            None => {
                return observation_from_body(&response.body, job_id)
                    .map_err(|e| e.with_request_id(request_id))
            }
            Some(envelope) => classify_envelope(400, envelope, request_id, response.retry_after()),
        }
    } else {
        classify(
            response.status,
            &response.body,
            request_id,
            response.retry_after(),
        )
    };
    match failure {
        Failure::NotFound { .. } => Ok(not_found_yet(job_id)),
        Failure::Error(e) => Err(e),
    }
}

/// The one sanitizing step ([`sanitize_error`]) with this API's `Authorization` prefix.
fn sanitize(error: ProviderError, credentials: &Credentials, signed: &[&str]) -> ProviderError {
    sanitize_error(error, credentials, signed, "SDK-HMAC-SHA256 Access=")
}

/// The `Authorization` header of a prepared AK/SK request, to scrub it from errors.
fn authorization_of(prepared: &PreparedRequest) -> Option<&str> {
    prepared
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.as_str())
}

/// The signature of a prepared AK/SK request, to scrub it from errors.
fn signature_of(prepared: &PreparedRequest) -> Option<String> {
    authorization_of(prepared)
        .and_then(sign::parse_authorization)
        .map(|a| a.signature)
}

#[async_trait]
impl Provider for HuaweiProvider {
    async fn observe(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        let prepared = Self::prepare(target, credentials, (self.clock)())?;
        let signature = signature_of(&prepared);
        let signed: Vec<&str> = signature
            .as_deref()
            .into_iter()
            .chain(authorization_of(&prepared))
            .collect();
        let sanitize = |e| sanitize(e, credentials, &signed);
        let response = self.send(&prepared).await.map_err(sanitize)?;
        interpret(&response, &target.job_id).map_err(sanitize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::SecretString;
    use crate::redact::MAX_MESSAGE_CHARS;
    use clouddb_api::ProviderKind;

    fn target(api: &str, endpoint: Option<&str>) -> JobTarget {
        JobTarget::new(
            ProviderKind::Huawei,
            Some(api),
            "a9767ede-fe0f-4888-9003-e843a4c90514",
            Some("cn-north-4"),
            None,
            Some("0483b6b16e954cb88930a360d2c4e663"),
            endpoint,
        )
        .unwrap()
    }

    fn header<'a>(p: &'a PreparedRequest, name: &str) -> Option<&'a str> {
        p.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn aksk_request_is_signed_with_the_sent_host() {
        let creds = Credentials::HuaweiAkSk {
            ak: "AK".into(),
            sk: SecretString::new("SK-secret"),
        };
        let now: Timestamp = "2019-11-15T03:36:55Z".parse().unwrap();
        let p = HuaweiProvider::prepare(&target("taurusdb-legacy", None), &creds, now).unwrap();
        assert_eq!(
            p.url.as_str(),
            "https://gaussdb.cn-north-4.myhuaweicloud.com/mysql/v3/0483b6b16e954cb88930a360d2c4e663/jobs?id=a9767ede-fe0f-4888-9003-e843a4c90514"
        );
        assert_eq!(header(&p, "x-sdk-date"), Some("20191115T033655Z"));
        assert_eq!(
            header(&p, "x-project-id"),
            Some("0483b6b16e954cb88930a360d2c4e663")
        );
        assert_eq!(header(&p, "content-type"), Some("application/json"));
        let auth = sign::parse_authorization(header(&p, "authorization").unwrap()).unwrap();
        assert_eq!(auth.access, "AK");
        assert_eq!(
            auth.signed_headers,
            vec!["content-type", "host", "x-project-id", "x-sdk-date"]
        );
        let shown = format!("{p:?}");
        assert!(!shown.contains("Signature="), "{shown}");

        let local = HuaweiProvider::prepare(
            &target("rds", Some("http://127.0.0.1:8443/prefix")),
            &creds,
            now,
        )
        .unwrap();
        assert_eq!(host_header(&local.url), "127.0.0.1:8443");
        assert_eq!(
            local.url.path(),
            "/prefix/v3/0483b6b16e954cb88930a360d2c4e663/jobs"
        );
        let default_port = Url::parse("https://x.example.com:443/").unwrap();
        assert_eq!(host_header(&default_port), "x.example.com");
    }

    #[test]
    fn token_request_is_not_signed() {
        let creds = Credentials::HuaweiToken {
            token: SecretString::new("tok"),
        };
        let p = HuaweiProvider::prepare(&target("rds", None), &creds, Timestamp::now()).unwrap();
        assert_eq!(p.url.host_str(), Some("rds.cn-north-4.myhuaweicloud.com"));
        assert_eq!(header(&p, "x-auth-token"), Some("tok"));
        assert_eq!(header(&p, "authorization"), None);
        assert_eq!(header(&p, "x-sdk-date"), None);
        let shown = format!("{p:?}");
        assert!(!shown.contains("tok\""), "{shown}");
        assert!(shown.contains("[REDACTED]"), "{shown}");
    }

    #[test]
    fn tencent_credentials_are_rejected() {
        let creds = Credentials::Tencent {
            secret_id: "id".into(),
            secret_key: SecretString::new("k"),
            token: None,
        };
        let e =
            HuaweiProvider::prepare(&target("rds", None), &creds, Timestamp::now()).unwrap_err();
        assert_eq!(e.reason, "AuthenticationFailed");
    }

    #[test]
    fn secrets_never_reach_error_messages() {
        let creds = Credentials::HuaweiAkSk {
            ak: "AK".into(),
            sk: SecretString::new("SK-secret"),
        };
        let e = ProviderError::permanent(
            ErrorReason::AuthenticationFailed,
            "APIGW.0301",
            "bad SK-secret; SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=abc",
        );
        let clean = sanitize(e, &creds, &[]);
        assert!(!clean.message.contains("SK-secret"), "{}", clean.message);
        assert!(
            !clean.message.contains("Signature=abc"),
            "{}",
            clean.message
        );
        let long = sanitize(ProviderError::transient("X", "y".repeat(5000)), &creds, &[]);
        assert!(long.message.chars().count() <= MAX_MESSAGE_CHARS + 1);
    }

    #[test]
    fn secrets_are_scrubbed_from_code_and_request_id() {
        // Regression: an echoed Authorization header or signature in `error_code`,
        // `request_id` or `X-Request-Id` was kept verbatim.
        let creds = Credentials::HuaweiAkSk {
            ak: "AK".into(),
            sk: SecretString::new("SK-secret"),
        };
        let e = ProviderError::permanent(
            ErrorReason::InvalidRequest,
            "c-SK-secret",
            "sig-123456 here",
        )
        .with_request_id(Some(
            "SDK-HMAC-SHA256 Access=AK, Signature=sig-123456".into(),
        ));
        let clean = sanitize(e, &creds, &["sig-123456"]);
        let shown = clean.describe();
        assert!(
            !shown.contains("SK-secret") && !shown.contains("sig-123456"),
            "{shown}"
        );
        assert_eq!(clean.code, "c-[REDACTED]");
        let p = HuaweiProvider::prepare(&target("rds", None), &creds, Timestamp::now()).unwrap();
        assert_eq!(signature_of(&p).map(|s| s.len()), Some(64));
    }
}
