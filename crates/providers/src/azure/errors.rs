//! Classification of Azure Resource Manager and Microsoft Entra ID errors (pure: status,
//! body and headers in, [`Failure`] or [`ProviderError`] out).
//!
//! ARM answers `{"error": {"code", "message", "details"?}}` with an HTTP 4xx/5xx status:
//!
//! | what | class | reason |
//! |---|---|---|
//! | HTTP 429, `TooManyRequests`, `SubscriptionRequestsThrottled`, `TenantRequestsThrottled` | throttled (honours `Retry-After`) | `Throttled` |
//! | HTTP 5xx and 408, `InternalServerError`, `ServiceUnavailable`, `GatewayTimeout`, bodies that are not JSON with a 5xx | transient (honours `Retry-After`) | `ProviderError` |
//! | any other status (1xx, 3xx: redirects are not followed) | [`ProviderError::unknown_code`]: transient for [`crate::DEFAULT_RETRY_BOUND`] polls in a row, then permanent | `ProviderError` |
//! | HTTP 401 (`InvalidAuthenticationToken`, `ExpiredAuthenticationToken`, `AuthenticationFailed`, ...) | [`Failure::TokenRejected`]: the client drops the token and retries once; a second 401 is permanent | `AuthenticationFailed` |
//! | HTTP 403 (`AuthorizationFailed`, `LinkedAuthorizationFailed`, ...) | permanent | `AccessDenied` |
//! | HTTP 404 `ResourceNotFound`, `NotFound`, `OperationNotFound`, or without a code | [`Failure::NotFound`]: not found yet, the not-found grace | `NotFoundYet` |
//! | `SubscriptionNotFound`, `InvalidSubscriptionId`, `NoRegisteredProviderFound`, `InvalidResourceNamespace`, `InvalidApiVersionParameter`, `LocationNotAvailableForResourceType`, `MissingSubscriptionRegistration`, other 4xx | permanent | `InvalidRequest` |
//!
//! The token endpoint answers RFC 6749 errors (`{"error", "error_description", ...}`):
//! `invalid_client` (AADSTS7000215 wrong secret, AADSTS700016 unknown application),
//! `unauthorized_client`, `invalid_grant` and `invalid_request` for an unknown tenant
//! (AADSTS90002) reject the credentials (`AuthenticationFailed`, permanent: the job stalls
//! until the Secret is fixed); `invalid_scope` and other `invalid_request` are
//! `InvalidRequest`; `temporarily_unavailable`, 429 and 5xx are retried.

use std::time::Duration;

use super::model::{ArmErrorBody, TokenError};
use crate::{ErrorReason, ProviderError};

/// What a failed ARM status read means.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// The operation is not known (yet): the not-found grace.
    NotFound {
        code: String,
        message: String,
    },
    /// ARM refused the bearer token (401): worth one retry with a fresh token.
    TokenRejected(ProviderError),
    Error(ProviderError),
}

impl Failure {
    /// The error to report (a not-found becomes `JobNotFound`, for callers that need one).
    pub fn into_error(self) -> ProviderError {
        match self {
            Failure::NotFound { code, message } => {
                ProviderError::permanent(ErrorReason::JobNotFound, code, message)
            }
            Failure::TokenRejected(e) | Failure::Error(e) => e,
        }
    }
}

const THROTTLING_CODES: &[&str] = &[
    "TooManyRequests",
    "SubscriptionRequestsThrottled",
    "TenantRequestsThrottled",
    "ResourceRequestsThrottled",
];
const TRANSIENT_CODES: &[&str] = &[
    "InternalServerError",
    "ServiceUnavailable",
    "GatewayTimeout",
    "BadGateway",
    "RequestTimeout",
    "OperationTimedOut",
];
const NOT_FOUND_CODES: &[&str] = &["ResourceNotFound", "NotFound", "OperationNotFound"];

/// `x-ms-request-id`, or `x-ms-correlation-request-id` when that is absent.
pub fn request_id(response: &crate::http::HttpResponse) -> Option<String> {
    response
        .header("x-ms-request-id")
        .or_else(|| response.header("x-ms-correlation-request-id"))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// The `error.code` and `error.message` of an ARM error body, when it has them.
pub fn parse_arm_error(body: &[u8]) -> (Option<String>, Option<String>) {
    let parsed: Option<ArmErrorBody> = serde_json::from_slice(body).ok();
    let error = parsed.and_then(|b| b.error).unwrap_or_default();
    let trim = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    (trim(error.code), trim(error.message))
}

/// Classifies a failed ARM response.
pub fn classify(
    status: u16,
    body: &[u8],
    request_id: Option<String>,
    retry_after: Option<Duration>,
) -> Failure {
    let (code, message) = parse_arm_error(body);
    let message =
        message.unwrap_or_else(|| format!("Azure Resource Manager answered HTTP {status}"));
    let code_text = code.clone().unwrap_or_else(|| format!("HTTP {status}"));
    let is = |list: &[&str]| code.as_deref().is_some_and(|c| list.contains(&c));
    let finish = |e: ProviderError| e.with_request_id(request_id.clone());
    if status == 404 && (code.is_none() || is(NOT_FOUND_CODES)) {
        return Failure::NotFound {
            code: code_text,
            message,
        };
    }
    if status == 429 || is(THROTTLING_CODES) {
        return Failure::Error(finish(
            ProviderError::throttled(code_text, message).with_retry_after(retry_after),
        ));
    }
    if status >= 500 || status == 408 || is(TRANSIENT_CODES) {
        return Failure::Error(finish(
            ProviderError::transient(code_text, message).with_retry_after(retry_after),
        ));
    }
    let permanent = |reason| finish(ProviderError::permanent(reason, &code_text, &message));
    match status {
        401 => Failure::TokenRejected(permanent(ErrorReason::AuthenticationFailed)),
        403 => Failure::Error(permanent(ErrorReason::AccessDenied)),
        400..=499 => Failure::Error(permanent(ErrorReason::InvalidRequest)),
        // A 1xx/3xx (redirects are not followed) or another odd status: the one default for
        // what the client does not know, retried a bounded number of times, then stalled.
        _ => Failure::Error(finish(ProviderError::unknown_code(&code_text, message))),
    }
}

/// Classifies a refused token request.
pub fn classify_token_error(
    status: u16,
    body: &[u8],
    header_request_id: Option<String>,
    retry_after: Option<Duration>,
) -> ProviderError {
    let parsed: TokenError = serde_json::from_slice(body).unwrap_or_default();
    let request_id = header_request_id.or(parsed.trace_id.clone());
    let error = parsed
        .error
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let description = parsed
        .error_description
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let code = error.map_or_else(|| format!("HTTP {status}"), String::from);
    let message = format!(
        "Microsoft Entra ID refused the token request: {}",
        description.map_or_else(|| format!("HTTP {status}"), String::from)
    );
    let permanent = |reason| ProviderError::permanent(reason, &code, &message);
    let error = match error {
        _ if status == 429 => {
            ProviderError::throttled(&code, &message).with_retry_after(retry_after)
        }
        Some("temporarily_unavailable") => {
            ProviderError::transient(&code, &message).with_retry_after(retry_after)
        }
        _ if status >= 500 || status == 408 => {
            ProviderError::transient(&code, &message).with_retry_after(retry_after)
        }
        Some("invalid_client" | "unauthorized_client" | "invalid_grant") => {
            permanent(ErrorReason::AuthenticationFailed)
        }
        // AADSTS90002: the tenant in the Secret does not exist; AADSTS900023: malformed.
        Some("invalid_request")
            if description
                .is_some_and(|d| d.contains("AADSTS90002") || d.contains("AADSTS900023")) =>
        {
            permanent(ErrorReason::AuthenticationFailed)
        }
        Some(_) => permanent(ErrorReason::InvalidRequest),
        None if status == 401 => permanent(ErrorReason::AuthenticationFailed),
        None if status == 403 => permanent(ErrorReason::AccessDenied),
        None if (400..500).contains(&status) => permanent(ErrorReason::InvalidRequest),
        // No error code and an odd status (1xx/3xx): bounded, like every unknown answer.
        None => ProviderError::unknown_code(&code, &message),
    };
    error.with_request_id(request_id)
}

#[cfg(test)]
#[path = "errors_tests.rs"]
mod tests;
