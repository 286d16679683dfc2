//! The API 2.0 client: builds and signs `GET /v2/index.php` requests and turns responses
//! (or failures) into observations and classified errors.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use rand::Rng;
use url::Url;

use super::errors::envelope_error;
use super::mapping::{map_rollback_job, map_task_info, map_upgrade_job};
use super::model::{first_record, Envelope, RollbackData, TaskInfoData, UpgradeJobData};
use super::sign::{sign, source_string, SignatureMethod};
use crate::clock::Clock;
use crate::http::{HttpClient, HttpResponse};
use crate::redact::redact;
use crate::{Credentials, ErrorReason, JobObservation, JobTarget, Provider, ProviderError};

/// Path of every API 2.0 call, after the endpoint's own path prefix.
pub const API_PATH: &str = "/v2/index.php";

/// The three job queries this provider supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// Generic asynchronous task (`functionName`, status 0/1/2).
    TaskInfo,
    /// Instance upgrade job (status 0/2/3/4/5/6, before/after specs).
    UpgradeJob,
    /// Rollback job with per-instance sub-tasks.
    RollbackJob,
}

impl Api {
    /// Parses the spec's `api` name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "GetCdbTaskInfo" => Some(Api::TaskInfo),
            "GetCdbUpgradeJobInfo" => Some(Api::UpgradeJob),
            "GetCdbRollbackJobTask" => Some(Api::RollbackJob),
            _ => None,
        }
    }

    /// The `Action` parameter.
    pub fn action(self) -> &'static str {
        match self {
            Api::TaskInfo => "GetCdbTaskInfo",
            Api::UpgradeJob => "GetCdbUpgradeJobInfo",
            Api::RollbackJob => "GetCdbRollbackJobTask",
        }
    }
}

/// Everything that goes into one signed request.
#[derive(Clone, Copy, Debug)]
pub struct RequestInput<'a> {
    pub endpoint: &'a Url,
    pub api: Api,
    pub region: &'a str,
    pub job_id: &'a str,
    pub secret_id: &'a str,
    pub secret_key: &'a str,
    /// Temporary-credential session token, sent (and signed) as `Token`.
    pub token: Option<&'a str>,
    /// Unix seconds.
    pub timestamp: i64,
    pub nonce: u32,
}

/// A signed request URL. `Debug` is not derived: the URL carries the signature.
pub struct SignedRequest {
    /// Full URL, every value percent-encoded.
    pub url: String,
    /// The raw (not URL-encoded) signature, kept to scrub it from error messages.
    pub signature: String,
}

/// Unreserved characters (RFC 3986) stay; everything else is percent-encoded.
fn encode(s: &str) -> String {
    crate::encoding::percent_encode(s)
}

/// Builds and signs the request (pure). The signed host is the one sent, including a
/// non-default port; the signed path includes the endpoint's path prefix, since that is
/// the path sent.
pub fn build_request(input: &RequestInput<'_>) -> Result<SignedRequest, ProviderError> {
    let endpoint = input.endpoint;
    let host = crate::http::host_header(endpoint).ok_or_else(|| {
        ProviderError::permanent(
            ErrorReason::InvalidRequest,
            "InvalidEndpoint",
            "endpoint has no host",
        )
    })?;
    let path = format!("{}{API_PATH}", endpoint.path().trim_end_matches('/'));
    let mut params: BTreeMap<String, String> = [
        ("Action", input.api.action()),
        ("Region", input.region),
        ("SecretId", input.secret_id),
        ("SignatureMethod", SignatureMethod::HmacSha256.as_str()),
        ("jobId", input.job_id),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    params.insert("Timestamp".into(), input.timestamp.to_string());
    params.insert("Nonce".into(), input.nonce.to_string());
    if let Some(token) = input.token {
        params.insert("Token".into(), token.to_string());
    }
    let source = source_string("GET", &host, &path, &params);
    let signature = sign(input.secret_key, SignatureMethod::HmacSha256, &source);
    let mut query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    query.push(format!("Signature={}", encode(&signature)));
    Ok(SignedRequest {
        url: format!("{}://{host}{path}?{}", endpoint.scheme(), query.join("&")),
        signature,
    })
}

/// Turns an HTTP response into an observation or a classified error (pure).
///
/// 5xx, non-JSON or truncated bodies and envelopes without `code` are transient; 429 is
/// throttled; a non-zero `code` is classified by [`super::errors`].
pub fn decode_response(api: Api, response: &HttpResponse) -> Result<JobObservation, ProviderError> {
    let status = response.status;
    if status == 429 {
        return Err(
            ProviderError::throttled("HTTP 429", "the provider is rate limiting requests")
                .with_retry_after(response.retry_after()),
        );
    }
    let envelope: Result<Envelope, _> = serde_json::from_slice(&response.body);
    if status >= 500 {
        let detail = envelope
            .ok()
            .and_then(|e| e.message)
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        return Err(ProviderError::transient(
            format!("HTTP {status}"),
            format!("provider server error (HTTP {status}){detail}"),
        ));
    }
    let envelope = envelope.map_err(|e| {
        ProviderError::transient(
            "InvalidResponse",
            format!(
                "the provider returned a truncated or non-JSON body (HTTP {status}, {} bytes): {e}",
                response.body.len()
            ),
        )
    })?;
    let Some(code) = envelope.code.as_deref() else {
        return Err(ProviderError::transient(
            "InvalidResponse",
            format!("the provider's response has no code field (HTTP {status})"),
        ));
    };
    if crate::decode::parse_i64(code) != Some(0) {
        return Err(envelope_error(
            code,
            envelope.message.as_deref(),
            envelope.code_desc.as_deref(),
        ));
    }
    if !(200..300).contains(&status) {
        return Err(ProviderError::transient(
            format!("HTTP {status}"),
            format!("unexpected HTTP status {status} with a success envelope"),
        ));
    }
    let bad_data = |e: String| {
        ProviderError::transient("InvalidResponse", format!("{} returned {e}", api.action()))
    };
    let not_found = || {
        JobObservation::not_found_yet(format!("{} returned no data for the job yet", api.action()))
    };
    Ok(match api {
        Api::TaskInfo => match first_record::<TaskInfoData>(envelope.data).map_err(bad_data)? {
            Some(d) => map_task_info(&d, envelope.message.as_deref()),
            None => not_found(),
        },
        Api::UpgradeJob => match first_record::<UpgradeJobData>(envelope.data).map_err(bad_data)? {
            Some(d) => map_upgrade_job(&d),
            None => not_found(),
        },
        Api::RollbackJob => match first_record::<RollbackData>(envelope.data).map_err(bad_data)? {
            Some(d) => map_rollback_job(&d),
            None => not_found(),
        },
    })
}

/// Redacts secrets (in any of the forms [`redact`] knows) from every server-controlled part
/// of an error: message, code (a non-numeric envelope `code` is kept as the error code) and
/// request ID.
fn scrub(mut error: ProviderError, secrets: &[&str]) -> ProviderError {
    error.message = redact(&error.message, secrets);
    error.code = redact(&error.code, secrets);
    error.request_id = error.request_id.map(|id| redact(&id, secrets));
    error
}

/// Tencent Cloud CDB API 2.0 (`cdb.api.qcloud.com/v2/index.php`) job queries:
/// `GetCdbTaskInfo`, `GetCdbUpgradeJobInfo` and `GetCdbRollbackJobTask`, signed with
/// HmacSHA256. API 2.0 is retired on most accounts but still served to older accounts and
/// private deployments.
#[derive(Clone)]
pub struct TencentLegacyProvider {
    http: HttpClient,
    clock: Clock,
}

impl TencentLegacyProvider {
    /// A provider using the shared HTTP client and the system clock.
    pub fn new(http: HttpClient) -> Self {
        TencentLegacyProvider {
            http,
            clock: crate::clock::system_clock(),
        }
    }

    /// Replaces the clock that stamps requests (tests).
    pub fn with_clock(mut self, clock: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }
}

#[async_trait]
impl Provider for TencentLegacyProvider {
    async fn observe(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        let api = Api::from_name(target.api.as_str()).ok_or_else(|| {
            ProviderError::permanent(
                ErrorReason::InvalidRequest,
                "UnsupportedApi",
                format!(
                    "api {:?} is not a tencent-legacy API (expected GetCdbTaskInfo, \
                     GetCdbUpgradeJobInfo or GetCdbRollbackJobTask)",
                    target.api
                ),
            )
        })?;
        let (secret_id, secret_key, token) = credentials.tencent_keys("tencent-legacy")?;
        let region = target.region.as_deref().ok_or_else(|| {
            ProviderError::permanent(
                ErrorReason::InvalidRequest,
                "MissingRegion",
                "region is required for provider tencent-legacy",
            )
        })?;
        let endpoint = target
            .endpoint
            .clone()
            .unwrap_or_else(super::default_endpoint);
        let nonce: u32 = rand::rng().random_range(1..=u32::MAX);
        let request = build_request(&RequestInput {
            endpoint: &endpoint,
            api,
            region,
            job_id: &target.job_id,
            secret_id,
            secret_key: secret_key.expose(),
            token: token.as_ref().map(|t| t.expose()),
            timestamp: (self.clock)().as_second(),
            nonce,
        })?;
        // The URL carries the token and signature percent-encoded: those are what a server
        // could echo (or encode once more), so they are secrets in their own right.
        let token = token.as_ref().map_or("", |t| t.expose());
        let (encoded_token, encoded_signature) = (encode(token), encode(&request.signature));
        let secrets = [
            secret_key.expose(),
            token,
            request.signature.as_str(),
            encoded_token.as_str(),
            encoded_signature.as_str(),
        ];
        let scrub = |e: ProviderError| scrub(e, &secrets);
        let response = self
            .http
            .send(self.http.reqwest().get(&request.url))
            .await
            .map_err(scrub)?;
        decode_response(api, &response).map_err(scrub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA";

    fn input<'a>(endpoint: &'a Url, token: Option<&'a str>) -> RequestInput<'a> {
        RequestInput {
            endpoint,
            api: Api::UpgradeJob,
            region: "gz",
            job_id: "12944",
            secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA",
            secret_key: KEY,
            token,
            timestamp: 1465185768,
            nonce: 11886,
        }
    }

    #[test]
    fn request_is_signed_over_sorted_raw_params() {
        let endpoint = super::super::default_endpoint();
        let req = build_request(&input(&endpoint, None)).unwrap();
        let src = "GETcdb.api.qcloud.com/v2/index.php?Action=GetCdbUpgradeJobInfo&Nonce=11886\
                   &Region=gz&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA\
                   &SignatureMethod=HmacSHA256&Timestamp=1465185768&jobId=12944";
        assert_eq!(req.signature, sign(KEY, SignatureMethod::HmacSha256, src));
        assert!(req
            .url
            .starts_with("https://cdb.api.qcloud.com/v2/index.php?Action=GetCdbUpgradeJobInfo&"));
        let encoded_sig = encode(&req.signature);
        assert!(req.url.ends_with(&format!("&Signature={encoded_sig}")));
        assert!(
            !encoded_sig.contains('/') && !encoded_sig.contains('+') && !encoded_sig.contains('=')
        );
    }

    #[test]
    fn port_prefix_and_token_are_signed_and_values_encoded() {
        let endpoint = Url::parse("http://127.0.0.1:8080/gw/").unwrap();
        let req = build_request(&input(&endpoint, Some("tok/en+="))).unwrap();
        assert!(req
            .url
            .starts_with("http://127.0.0.1:8080/gw/v2/index.php?"));
        assert!(req.url.contains("&Token=tok%2Fen%2B%3D&"), "{}", req.url);
        let mut params: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in [
            ("Action", "GetCdbUpgradeJobInfo"),
            ("Nonce", "11886"),
            ("Region", "gz"),
            ("SecretId", "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA"),
            ("SignatureMethod", "HmacSHA256"),
            ("Timestamp", "1465185768"),
            ("Token", "tok/en+="),
            ("jobId", "12944"),
        ] {
            params.insert(k.into(), v.into());
        }
        let src = source_string("GET", "127.0.0.1:8080", "/gw/v2/index.php", &params);
        assert_eq!(req.signature, sign(KEY, SignatureMethod::HmacSha256, &src));
    }

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: http::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn transport_level_failures() {
        let e = decode_response(Api::TaskInfo, &response(503, "<html>busy</html>")).unwrap_err();
        assert_eq!(
            (e.class, e.code.as_str()),
            (crate::ErrorClass::Transient, "HTTP 503")
        );
        let e = decode_response(Api::TaskInfo, &response(200, "{\"code\":0,\"data\":{\"sta"))
            .unwrap_err();
        assert_eq!(
            (e.class, e.code.as_str()),
            (crate::ErrorClass::Transient, "InvalidResponse")
        );
        let e = decode_response(Api::TaskInfo, &response(200, "not json")).unwrap_err();
        assert_eq!(e.code, "InvalidResponse");
        let e = decode_response(Api::TaskInfo, &response(200, "{\"message\":\"x\"}")).unwrap_err();
        assert_eq!(e.code, "InvalidResponse");
        let mut throttled = response(429, "");
        throttled
            .headers
            .insert("retry-after", http::HeaderValue::from_static("7"));
        let e = decode_response(Api::TaskInfo, &throttled).unwrap_err();
        assert_eq!(e.class, crate::ErrorClass::Throttled);
        assert_eq!(e.retry_after, Some(std::time::Duration::from_secs(7)));
        let e = decode_response(Api::TaskInfo, &response(404, "{\"code\":0}")).unwrap_err();
        assert_eq!(e.code, "HTTP 404");
    }

    #[test]
    fn error_envelope_is_classified_even_with_http_4xx() {
        let body =
            r#"{"code":"4100","message":"(100004) incorrect projectId","codeDesc":"AuthFailure"}"#;
        for status in [200, 400, 403] {
            let e = decode_response(Api::UpgradeJob, &response(status, body)).unwrap_err();
            assert_eq!(e.reason, "AuthenticationFailed");
            assert!(e.message.contains("module error 100004"), "{}", e.message);
        }
    }

    #[test]
    fn empty_or_missing_data_is_not_found_yet() {
        for (api, body) in [
            (Api::TaskInfo, r#"{"code":0,"data":[]}"#),
            (Api::UpgradeJob, r#"{"code":"0"}"#),
            (Api::RollbackJob, r#"{"code":0,"data":null}"#),
            (Api::RollbackJob, r#"{"code":0,"data":{"taskDetail":[]}}"#),
        ] {
            let obs = decode_response(api, &response(200, body)).unwrap();
            assert_eq!(obs.reason.as_deref(), Some("NotFoundYet"), "{body}");
            assert_eq!(obs.phase, Some(clouddb_api::JobPhase::Pending));
        }
        let e =
            decode_response(Api::TaskInfo, &response(200, r#"{"code":0,"data":[1]}"#)).unwrap_err();
        assert_eq!(e.code, "InvalidResponse");
    }

    #[test]
    fn secrets_are_scrubbed_from_the_code_too() {
        // Regression: an envelope `code` echoing the token became the error code unredacted.
        let body = r#"{"code":"xTOKENx","message":"bad xTOKENx","codeDesc":"x"}"#;
        let e = decode_response(Api::TaskInfo, &response(200, body)).unwrap_err();
        assert!(e.code.contains("TOKEN"), "the raw code is the echo: {e:?}");
        let clean = scrub(e.with_request_id(Some("TOKEN".into())), &["TOKEN", ""]);
        assert!(!clean.describe().contains("TOKEN"), "{}", clean.describe());
    }

    #[test]
    fn api_names() {
        for api in [Api::TaskInfo, Api::UpgradeJob, Api::RollbackJob] {
            assert_eq!(Api::from_name(api.action()), Some(api));
        }
        assert_eq!(Api::from_name("DescribeTasks"), None);
    }
}
