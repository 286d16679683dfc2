//! Classification of Alibaba Cloud OpenAPI errors (pure: status, body and headers in,
//! [`ProviderError`] out). Error bodies are `{"RequestId", "HostId", "Code", "Message",
//! "Recommend"}` with an HTTP 4xx/5xx status; throttling is HTTP 400 `Throttling.User`.
//!
//! | what | class | reason |
//! |---|---|---|
//! | `Throttling*`, HTTP 429, any answer with `x-acs-retry-after` (milliseconds, as the official SDK reads it) | throttled (honours the delay) | `Throttled` |
//! | `ServiceUnavailable*`, `InternalError*`, `SignatureNonceUsed` (the nonce is random per request, so a repeat is a fluke), HTTP 5xx and 408, bodies that are not JSON | transient | `ProviderError` |
//! | `InvalidAccessKeyId.*`, `SignatureDoesNotMatch`, `IncompleteSignature`, `InvalidSecurityToken.*`, `MissingSecurityToken`, HTTP 401 | permanent | `AuthenticationFailed` |
//! | `IllegalTimestamp`, `InvalidTimeStamp.*` | permanent, with a clock-skew hint | `AuthenticationFailed` |
//! | `Forbidden*`, `NoPermission*`, HTTP 403 | permanent | `AccessDenied` |
//! | `Invalid{DBInstance,DBCluster,Instance}Id.NotFound` | permanent | `JobNotFound` |
//! | `Missing*`, other `Invalid*`, `UnsupportedHTTPMethod`, other 4xx without a code | permanent | `InvalidRequest` |
//! | any other code (`EntityNotExist.*`, codes added later): [`ProviderError::unknown_code`] | transient for [`crate::DEFAULT_RETRY_BOUND`] polls in a row, then permanent | `ProviderError` |
//!
//! A stale `x-acs-date` is classified permanent, like the other providers' clock errors: it
//! only comes from a skewed clock, which retrying does not fix, so the job is `Stalled` with
//! a message that says to check the node's clock (it is still retried now and then).

use std::time::Duration;

use serde_json::Value;

use crate::decode::value_to_string;
use crate::{ErrorReason, ProviderError};

/// Longest server-advised delay honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The fields of an error body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorEnvelope {
    pub code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
}

/// The error envelope of a body, when it is a JSON object with a `Code`.
pub fn parse_error_envelope(body: &[u8]) -> Option<ErrorEnvelope> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let obj = value.as_object()?;
    let code = obj.get("Code").and_then(value_to_string)?;
    Some(ErrorEnvelope {
        code: Some(code),
        message: obj.get("Message").and_then(value_to_string),
        request_id: obj.get("RequestId").and_then(value_to_string),
    })
}

/// An error envelope in a 2xx body that lists no tasks (a gateway answering an error with
/// HTTP 200).
pub fn error_in_success_body(body: &[u8]) -> Option<ErrorEnvelope> {
    let value: Value = serde_json::from_slice(body).ok()?;
    if value.get("Items").is_some() {
        return None;
    }
    parse_error_envelope(body)
}

/// `x-acs-retry-after`: a positive number of milliseconds, capped at [`MAX_RETRY_AFTER`].
pub fn parse_retry_after_ms(value: &str) -> Option<Duration> {
    let ms: u64 = value.trim().parse().ok().filter(|ms| *ms > 0)?;
    Some(Duration::from_millis(ms).min(MAX_RETRY_AFTER))
}

fn with_clock_hint(message: &str) -> String {
    format!(
        "{message} (x-acs-date must be within 15 minutes of Alibaba Cloud's time: the local \
         clock may be skewed; check NTP on the operator's node)"
    )
}

/// Code families (the part before the first `.`) that ask the caller to slow down.
pub const THROTTLING: &[&str] = &["Throttling"];
/// Code families of server-side failures.
pub const TRANSIENT: &[&str] = &[
    "ServiceUnavailable",
    "InternalError",
    "UnknownError",
    "ServiceTimeout",
];
/// Codes retried although their family is not transient: the nonce is random per request,
/// so a repeat is a fluke.
pub const TRANSIENT_CODES: &[&str] = &["SignatureNonceUsed"];
/// Code families of a stale or skewed request time.
pub const CLOCK: &[&str] = &["IllegalTimestamp", "InvalidTimeStamp"];
/// Code families that refuse the key, the token or the signature.
pub const AUTHENTICATION: &[&str] = &[
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidSecurityToken",
    "MissingSecurityToken",
];
/// Code families that refuse the identity's permission.
pub const ACCESS_DENIED: &[&str] = &["Forbidden", "NoPermission"];
/// Codes for an instance or cluster the region does not have.
pub const NOT_FOUND: &[&str] = &[
    "InvalidDBInstanceId.NotFound",
    "InvalidDBClusterId.NotFound",
    "InvalidInstanceId.NotFound",
];
/// Code prefixes (not families) of a wrong request.
pub const INVALID_REQUEST_PREFIXES: &[&str] = &["Missing", "Invalid"];
/// Codes of a wrong request.
pub const INVALID_REQUEST: &[&str] = &["UnsupportedHTTPMethod"];

/// Classifies an error code with the HTTP status it came with.
pub fn classify_code(code: &str, message: Option<&str>, status: u16) -> ProviderError {
    let msg = message
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(String::from)
        .unwrap_or_else(|| format!("Alibaba Cloud answered HTTP {status}"));
    let family = code.split('.').next().unwrap_or(code);
    let permanent = |reason, text: String| ProviderError::permanent(reason, code, text);
    let in_family = |list: &[&str]| list.contains(&family);
    if in_family(THROTTLING) {
        ProviderError::throttled(code, msg)
    } else if in_family(TRANSIENT) || TRANSIENT_CODES.contains(&code) {
        ProviderError::transient(code, msg)
    } else if in_family(CLOCK) {
        permanent(ErrorReason::AuthenticationFailed, with_clock_hint(&msg))
    } else if in_family(AUTHENTICATION) {
        permanent(ErrorReason::AuthenticationFailed, msg)
    } else if in_family(ACCESS_DENIED) {
        permanent(ErrorReason::AccessDenied, msg)
    } else if NOT_FOUND.contains(&code) {
        permanent(
            ErrorReason::JobNotFound,
            format!("{msg} (the instance does not exist in this region)"),
        )
    } else if INVALID_REQUEST_PREFIXES.iter().any(|p| code.starts_with(p))
        || INVALID_REQUEST.contains(&code)
    {
        permanent(ErrorReason::InvalidRequest, msg)
    } else {
        ProviderError::unknown_code(code, msg)
    }
}

/// Classifies a failed response. `request_id` is the `x-acs-request-id` header (the body's
/// `RequestId` is used when it is absent); `retry_after` the parsed `x-acs-retry-after`.
pub fn classify(
    status: u16,
    body: &[u8],
    request_id: Option<String>,
    retry_after: Option<Duration>,
) -> ProviderError {
    let envelope = parse_error_envelope(body).unwrap_or_default();
    classify_envelope(status, envelope, request_id, retry_after)
}

/// Classifies a response from its status and decoded envelope.
pub fn classify_envelope(
    status: u16,
    envelope: ErrorEnvelope,
    request_id: Option<String>,
    retry_after: Option<Duration>,
) -> ProviderError {
    let request_id = request_id.filter(|r| !r.is_empty()).or(envelope.request_id);
    let code = envelope
        .code
        .clone()
        .unwrap_or_else(|| format!("HTTP {status}"));
    let mut error = match &envelope.code {
        Some(code) => classify_code(code, envelope.message.as_deref(), status),
        None => {
            let msg = format!("Alibaba Cloud answered HTTP {status}");
            match status {
                429 => ProviderError::throttled(&code, msg),
                401 => ProviderError::permanent(ErrorReason::AuthenticationFailed, &code, msg),
                403 => ProviderError::permanent(ErrorReason::AccessDenied, &code, msg),
                400..=499 if status != 408 => {
                    ProviderError::permanent(ErrorReason::InvalidRequest, &code, msg)
                }
                _ => ProviderError::transient(&code, msg),
            }
        }
    };
    // The official SDK treats any answer carrying x-acs-retry-after as throttling.
    if retry_after.is_some() && error.class != crate::ErrorClass::Throttled {
        error = ProviderError::throttled(error.code, error.message);
    }
    error
        .with_request_id(request_id)
        .with_retry_after(retry_after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorClass;

    fn body(code: &str) -> Vec<u8> {
        format!(
            r#"{{"RequestId":"R1","HostId":"rds.aliyuncs.com","Code":"{code}","Message":"m","Recommend":"https://api.aliyun.com/troubleshoot?q={code}"}}"#
        )
        .into_bytes()
    }

    #[test]
    fn every_documented_code() {
        use ErrorReason::*;
        let cases: [(&str, u16, ErrorClass, ErrorReason); 22] = [
            ("Throttling", 400, ErrorClass::Throttled, Throttled),
            ("Throttling.User", 400, ErrorClass::Throttled, Throttled),
            ("Throttling.Api", 400, ErrorClass::Throttled, Throttled),
            (
                "ServiceUnavailable",
                503,
                ErrorClass::Transient,
                ProviderError,
            ),
            ("InternalError", 500, ErrorClass::Transient, ProviderError),
            (
                "SignatureNonceUsed",
                400,
                ErrorClass::Transient,
                ProviderError,
            ),
            (
                "InvalidAccessKeyId.NotFound",
                404,
                ErrorClass::Permanent,
                AuthenticationFailed,
            ),
            (
                "InvalidAccessKeyId.Inactive",
                400,
                ErrorClass::Permanent,
                AuthenticationFailed,
            ),
            (
                "SignatureDoesNotMatch",
                400,
                ErrorClass::Permanent,
                AuthenticationFailed,
            ),
            (
                "IncompleteSignature",
                400,
                ErrorClass::Permanent,
                AuthenticationFailed,
            ),
            (
                "InvalidSecurityToken.Expired",
                400,
                ErrorClass::Permanent,
                AuthenticationFailed,
            ),
            (
                "InvalidSecurityToken.MismatchWithAccessKey",
                400,
                ErrorClass::Permanent,
                AuthenticationFailed,
            ),
            (
                "InvalidSecurityToken.Malformed",
                400,
                ErrorClass::Permanent,
                AuthenticationFailed,
            ),
            (
                "MissingSecurityToken",
                400,
                ErrorClass::Permanent,
                AuthenticationFailed,
            ),
            (
                "IllegalTimestamp",
                400,
                ErrorClass::Permanent,
                AuthenticationFailed,
            ),
            (
                "InvalidTimeStamp.Expired",
                400,
                ErrorClass::Permanent,
                AuthenticationFailed,
            ),
            ("Forbidden.RAM", 403, ErrorClass::Permanent, AccessDenied),
            ("NoPermission", 403, ErrorClass::Permanent, AccessDenied),
            (
                "InvalidDBInstanceId.NotFound",
                404,
                ErrorClass::Permanent,
                JobNotFound,
            ),
            (
                "MissingFromStartTime",
                400,
                ErrorClass::Permanent,
                InvalidRequest,
            ),
            (
                "InvalidParameter",
                400,
                ErrorClass::Permanent,
                InvalidRequest,
            ),
            (
                "SomethingNew.Odd",
                400,
                ErrorClass::Transient,
                ProviderError,
            ),
        ];
        // Unknown codes are retried a bounded number of polls, then stall with the
        // provider's message.
        for code in [
            "SomethingNew.Odd",
            "EntityNotExist.Role",
            "EntityNotExist.OIDCProvider",
        ] {
            let e = classify(404, &body(code), None, None);
            assert_eq!(e.class, ErrorClass::Transient, "{code}");
            let stalled = e.settle(crate::DEFAULT_RETRY_BOUND);
            assert_eq!(
                (stalled.class, stalled.reason),
                (ErrorClass::Permanent, ErrorReason::ProviderError),
                "{code}"
            );
            assert!(stalled.message.starts_with('m'), "{}", stalled.message);
        }
        for (code, status, class, reason) in cases {
            let e = classify(status, &body(code), None, None);
            assert_eq!((e.class, e.reason), (class, reason), "{code}");
            assert_eq!(e.code, code);
            assert_eq!(e.request_id.as_deref(), Some("R1"), "{code}");
        }
        let e = classify(400, &body("IllegalTimestamp"), None, None);
        assert!(e.message.contains("clock may be skewed"), "{}", e.message);
        let e = classify(400, &body("SignatureDoesNotMatch"), None, None);
        assert!(!e.message.contains("clock"), "{}", e.message);
    }

    #[test]
    fn retry_after_header_means_throttled() {
        assert_eq!(parse_retry_after_ms(" 2000 "), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after_ms("0"), None);
        assert_eq!(parse_retry_after_ms("x"), None);
        assert_eq!(parse_retry_after_ms("99999999999"), Some(MAX_RETRY_AFTER));
        let delay = Some(Duration::from_millis(1500));
        let e = classify(400, &body("Throttling.User"), Some("hdr".into()), delay);
        assert_eq!(e.class, ErrorClass::Throttled);
        assert_eq!(e.retry_after, delay);
        assert_eq!(e.request_id.as_deref(), Some("hdr"));
        let e = classify(503, &body("ServiceUnavailable"), None, delay);
        assert_eq!((e.class, e.retry_after), (ErrorClass::Throttled, delay));
        let e = classify(503, b"", None, delay);
        assert_eq!(e.class, ErrorClass::Throttled);
    }

    #[test]
    fn statuses_without_a_code() {
        let class = |status| classify(status, b"<html>oops</html>", None, None);
        assert_eq!(class(429).class, ErrorClass::Throttled);
        for s in [500, 502, 503, 504, 408] {
            assert_eq!(class(s).class, ErrorClass::Transient, "{s}");
        }
        assert_eq!(class(401).reason, ErrorReason::AuthenticationFailed);
        assert_eq!(class(403).reason, ErrorReason::AccessDenied);
        assert_eq!(class(404).reason, ErrorReason::InvalidRequest);
        assert_eq!(class(404).code, "HTTP 404");
        assert!(class(400).is_permanent());
    }

    #[test]
    fn errors_in_success_bodies() {
        assert!(error_in_success_body(&body("Throttling")).is_some());
        assert!(error_in_success_body(br#"{"Items":[],"Code":"x"}"#).is_none());
        assert!(error_in_success_body(b"{}").is_none());
        assert!(error_in_success_body(b"<html>").is_none());
        assert_eq!(
            parse_error_envelope(br#"{"Code": 5}"#)
                .unwrap()
                .code
                .as_deref(),
            Some("5")
        );
    }
}
