//! Reading the API 3.0 response envelope and classifying its errors.
//!
//! Every answer is `{"Response": {...}}`; a failed call carries
//! `Response.Error{Code, Message}` and `Response.RequestId`, usually with HTTP 200.
//!
//! Decisions (the API does not say which errors are lasting):
//! - `RequestLimitExceeded*` → throttled (the official SDK retries only these and network
//!   errors).
//! - `InternalError*`, `ResourceUnavailable*`, `CdbError*`, `FailedOperation*` (including
//!   `FailedOperation.AsyncTaskStatusError`, a server-side state read failure),
//!   `OperationDenied.WrongStatus`, HTTP 5xx, non-JSON or truncated bodies → transient:
//!   retried with backoff, never changing the job's phase.
//! - Any other code → [`ProviderError::unknown_code`]: transient for [`crate::DEFAULT_RETRY_BOUND`] polls in a
//!   row, then permanent `ProviderError` with the provider's message.
//! - `AuthFailure.*` → permanent `AuthenticationFailed` (`AuthFailure.UnauthorizedOperation`,
//!   a CAM permission refusal, → `Unauthorized`). `SignatureExpire` says the clock may be
//!   skewed.
//! - `UnauthorizedOperation*`, other `OperationDenied*` → permanent `Unauthorized`.
//! - `InvalidParameter.InstanceNotFound`, `ResourceNotFound*` → permanent `JobNotFound`: the
//!   instance named in the spec does not exist in the region, so its tasks cannot be listed.
//!   (`InvalidParameter.InvalidAsyncRequestId` is classified `JobNotFound` here too; the
//!   client turns it into not-found-yet for `DescribeAsyncRequestInfo`, see `client`.)
//! - `InvalidParameter*`, `InvalidParameterValue*`, `MissingParameter*`, `UnknownParameter*`,
//!   `InvalidAction`, `NoSuchVersion`, `Unsupported*` → permanent `InvalidRequest`.

use std::time::Duration;

use serde_json::Value;

use super::model::ApiError;
use crate::decode::value_to_string;
use crate::{ErrorReason, ProviderError};

/// The `AsyncRequestId` is unknown (or not yet registered).
pub const INVALID_ASYNC_REQUEST_ID: &str = "InvalidParameter.InvalidAsyncRequestId";

/// Code families that ask the caller to slow down.
pub const THROTTLING: &[&str] = &["RequestLimitExceeded"];
/// Code families of server-side failures or states (retried without bound).
pub const TRANSIENT: &[&str] = &[
    "InternalError",
    "ResourceUnavailable",
    "CdbError",
    "FailedOperation",
];
/// Codes retried although their family is permanent: the instance is busy.
pub const TRANSIENT_CODES: &[&str] = &["OperationDenied.WrongStatus"];
/// The signature's timestamp is too far from Tencent Cloud's time.
pub const CLOCK: &[&str] = &["AuthFailure.SignatureExpire"];
/// A CAM permission refusal inside the `AuthFailure` family.
pub const UNAUTHORIZED_CODES: &[&str] = &["AuthFailure.UnauthorizedOperation"];
/// Code families that refuse the key or the signature.
pub const AUTHENTICATION: &[&str] = &["AuthFailure"];
/// Code families that refuse the identity's permission.
pub const UNAUTHORIZED: &[&str] = &["UnauthorizedOperation", "OperationDenied"];
/// Codes for an instance (or async request) the region does not have.
pub const NOT_FOUND_CODES: &[&str] = &[
    "InvalidParameter.InstanceNotFound",
    INVALID_ASYNC_REQUEST_ID,
];
/// Code families for a missing resource.
pub const NOT_FOUND: &[&str] = &["ResourceNotFound"];
/// Code families of a wrong request.
pub const INVALID_REQUEST: &[&str] = &[
    "InvalidParameter",
    "InvalidParameterValue",
    "MissingParameter",
    "UnknownParameter",
    "InvalidAction",
    "NoSuchVersion",
    "UnsupportedRegion",
    "UnsupportedProtocol",
    "UnsupportedOperation",
];

/// Classifies an API error code. `message` is the provider's text (no secrets are ever in it).
pub fn classify(code: &str, message: Option<&str>) -> ProviderError {
    let msg = message
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .unwrap_or("no message")
        .to_string();
    let family = code.split('.').next().unwrap_or(code);
    let permanent = |reason| ProviderError::permanent(reason, code, msg.clone());
    if THROTTLING.contains(&family) {
        ProviderError::throttled(code, msg)
    } else if CLOCK.contains(&code) {
        ProviderError::permanent(
            ErrorReason::AuthenticationFailed,
            code,
            format!(
                "{msg} (the request timestamp is more than 5 minutes away from Tencent Cloud's \
                 time: the local clock may be skewed; check NTP on the operator's node)"
            ),
        )
    } else if UNAUTHORIZED_CODES.contains(&code) {
        permanent(ErrorReason::Unauthorized)
    } else if AUTHENTICATION.contains(&family) {
        permanent(ErrorReason::AuthenticationFailed)
    } else if TRANSIENT_CODES.contains(&code) || TRANSIENT.contains(&family) {
        ProviderError::transient(code, msg)
    } else if UNAUTHORIZED.contains(&family) {
        permanent(ErrorReason::Unauthorized)
    } else if NOT_FOUND_CODES.contains(&code) || NOT_FOUND.contains(&family) {
        permanent(ErrorReason::JobNotFound)
    } else if INVALID_REQUEST.contains(&family) {
        permanent(ErrorReason::InvalidRequest)
    } else {
        ProviderError::unknown_code(code, msg)
    }
}

/// Reads a response: the `Response` object of a successful call, or the classified error
/// (with the provider's request ID).
pub fn parse_response(
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
) -> Result<Value, ProviderError> {
    let http_error = || -> ProviderError {
        let code = format!("HTTP {status}");
        if status == 429 {
            ProviderError::throttled(code, "the provider asked to slow down")
                .with_retry_after(retry_after)
        } else {
            ProviderError::transient(code, "the provider answered with an HTTP error")
        }
    };
    let parsed: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) if (200..300).contains(&status) => {
            return Err(ProviderError::transient(
                "MalformedResponse",
                format!("the provider's answer is not valid JSON ({e}); it may be truncated"),
            ))
        }
        Err(_) => return Err(http_error()),
    };
    let Some(response) = parsed.get("Response").filter(|r| r.is_object()) else {
        return Err(if (200..300).contains(&status) {
            ProviderError::transient(
                "MalformedResponse",
                "the provider's answer has no Response object",
            )
        } else {
            http_error()
        });
    };
    let request_id = response.get("RequestId").and_then(value_to_string);
    if let Some(error) = response.get("Error").filter(|e| !e.is_null()) {
        let error: ApiError = serde_json::from_value(error.clone()).unwrap_or_default();
        let code = error.code.unwrap_or_else(|| format!("HTTP {status}"));
        let mut err = classify(&code, error.message.as_deref()).with_request_id(request_id);
        if err.class == crate::ErrorClass::Throttled {
            err = err.with_retry_after(retry_after);
        }
        return Err(err);
    }
    if !(200..300).contains(&status) {
        return Err(http_error().with_request_id(request_id));
    }
    Ok(response.clone())
}
