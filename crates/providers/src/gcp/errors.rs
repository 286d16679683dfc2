//! Classification of Cloud SQL Admin API and OAuth2 token-endpoint error responses (pure:
//! status and body in, [`Failure`] or [`ProviderError`] out).
//!
//! API errors are Google's JSON `{"error": {"code", "message", "status", "errors": [{"reason"}]}}`;
//! the canonical `status` decides, the HTTP status when there is none.
//!
//! | what | class | reason |
//! |---|---|---|
//! | `RESOURCE_EXHAUSTED`, HTTP 429, a 403 whose reason is `rateLimitExceeded`, `userRateLimitExceeded` or `quotaExceeded` | throttled (honors `Retry-After`) | `Throttled` |
//! | HTTP 5xx (`UNAVAILABLE`, `INTERNAL`, `DEADLINE_EXCEEDED`), 408 | transient | `ProviderError` |
//! | `UNAUTHENTICATED`, HTTP 401 | permanent (the client first refreshes its token once) | `AuthenticationFailed` |
//! | `PERMISSION_DENIED`, HTTP 403 | permanent | `AccessDenied` |
//! | `NOT_FOUND`, HTTP 404 | not found yet (`Pending`: an operation just created may 404 briefly) | `NotFoundYet` |
//! | any other 4xx (`INVALID_ARGUMENT`, ...) | permanent | `InvalidRequest` |
//!
//! Token endpoint (RFC 6749 §5.2 `{"error", "error_description"}`): `invalid_grant`,
//! `invalid_client`, `unauthorized_client`, `access_denied` → `AuthenticationFailed`;
//! `invalid_scope` → `AccessDenied`; 429 and 5xx transient; other refusals `InvalidRequest`.
//! A JWT refused for its times gets a hint that the local clock may be skewed.

use std::time::Duration;

use super::model::{GoogleError, GoogleErrorBody, OAuthError};
use crate::{ErrorReason, ProviderError};

/// What a non-success API response means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Cloud SQL does not know the operation (yet): report `Pending`, not an error.
    NotFound { message: String },
    /// A failed call.
    Error(ProviderError),
}

/// Legacy `errors[].reason` values that mean "slow down" on a 403.
pub const RATE_LIMIT_REASONS: &[&str] = &[
    "rateLimitExceeded",
    "userRateLimitExceeded",
    "quotaExceeded",
];

/// Token-endpoint error codes that refuse the key or its assertion.
pub const TOKEN_AUTHENTICATION: &[&str] = &[
    "invalid_grant",
    "invalid_client",
    "unauthorized_client",
    "access_denied",
];

/// Decodes Google's error body; `None` when it is not one.
pub fn parse_google_error(body: &[u8]) -> Option<GoogleError> {
    serde_json::from_slice::<GoogleErrorBody>(body).ok()?.error
}

/// Canonical statuses (`google.rpc.Code`) of server-side failures, retried with backoff.
pub const TRANSIENT_STATUSES: &[&str] = &[
    "UNAVAILABLE",
    "INTERNAL",
    "DEADLINE_EXCEEDED",
    "ABORTED",
    "UNKNOWN",
];

/// Classifies a non-2xx API response.
pub fn classify(status: u16, body: &[u8], retry_after: Option<Duration>) -> Failure {
    let error = parse_google_error(body).unwrap_or_default();
    let canonical = error.status.clone().unwrap_or_default();
    let message = error
        .message
        .clone()
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| format!("Cloud SQL answered HTTP {status}"));
    let code = if canonical.is_empty() {
        format!("HTTP {status}")
    } else {
        canonical.clone()
    };
    let rate_limited = error.errors.iter().any(|e| {
        e.reason
            .as_deref()
            .is_some_and(|r| RATE_LIMIT_REASONS.contains(&r))
    });
    let permanent = |reason| Failure::Error(ProviderError::permanent(reason, &code, &message));
    match (canonical.as_str(), status) {
        ("NOT_FOUND", _) | ("", 404) => Failure::NotFound { message },
        ("RESOURCE_EXHAUSTED", _) | (_, 429) => {
            Failure::Error(ProviderError::throttled(&code, &message).with_retry_after(retry_after))
        }
        (_, 403) if rate_limited => {
            Failure::Error(ProviderError::throttled(&code, &message).with_retry_after(retry_after))
        }
        ("UNAUTHENTICATED", _) | ("", 401) => permanent(ErrorReason::AuthenticationFailed),
        ("PERMISSION_DENIED", _) | ("", 403) => permanent(ErrorReason::AccessDenied),
        (c, _) if TRANSIENT_STATUSES.contains(&c) => {
            Failure::Error(ProviderError::transient(&code, &message).with_retry_after(retry_after))
        }
        (_, 408 | 500..=599) => {
            Failure::Error(ProviderError::transient(&code, &message).with_retry_after(retry_after))
        }
        _ => permanent(ErrorReason::InvalidRequest),
    }
}

/// Which grant a token endpoint refused: what its refusals are worded as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenGrant {
    /// The JWT-bearer exchange of a service-account key (its own signed assertion).
    ServiceAccountKey,
    /// The STS token exchange of a Kubernetes ServiceAccount token (workload identity
    /// federation): no key is involved.
    Federation,
}

impl TokenGrant {
    fn refused(self) -> &'static str {
        match self {
            TokenGrant::ServiceAccountKey => "the token endpoint refused the service-account key",
            TokenGrant::Federation => {
                "Google STS refused the ServiceAccount token (workload identity federation)"
            }
        }
    }

    fn clock_hint(self) -> &'static str {
        match self {
            TokenGrant::ServiceAccountKey => {
                " (the JWT's iat/exp come from the local clock: check that it is in sync)"
            }
            TokenGrant::Federation => {
                " (the ServiceAccount token's iat/exp come from the Kubernetes API server's clock: check that it is in sync)"
            }
        }
    }
}

/// Classifies a token-endpoint answer that is not a token (the service-account key path).
pub fn classify_token_error(
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
) -> ProviderError {
    classify_token_refusal(status, body, retry_after, TokenGrant::ServiceAccountKey)
}

/// Classifies a token-endpoint answer that is not a token, worded for `grant`.
pub fn classify_token_refusal(
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
    grant: TokenGrant,
) -> ProviderError {
    let parsed: OAuthError = serde_json::from_slice(body).unwrap_or_default();
    let code = parsed
        .error
        .clone()
        .unwrap_or_else(|| format!("HTTP {status}"));
    let description = parsed
        .error_description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .unwrap_or("no description");
    let mut message = format!("{}: {description}", grant.refused());
    let lower = description.to_ascii_lowercase();
    if lower.contains("short-lived") || lower.contains("iat") || lower.contains("exp ") {
        message.push_str(grant.clock_hint());
    }
    if status == 429 || (500..=599).contains(&status) || status == 408 {
        let e = if status == 429 {
            ProviderError::throttled(&code, message)
        } else {
            ProviderError::transient(&code, message)
        };
        return e.with_retry_after(retry_after);
    }
    let reason = match code.as_str() {
        c if TOKEN_AUTHENTICATION.contains(&c) => ErrorReason::AuthenticationFailed,
        "invalid_scope" => ErrorReason::AccessDenied,
        _ if status == 401 => ErrorReason::AuthenticationFailed,
        _ if status == 403 => ErrorReason::AccessDenied,
        _ => ErrorReason::InvalidRequest,
    };
    ProviderError::permanent(reason, code, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorClass;
    use serde_json::json;

    fn body(code: u16, status: &str, message: &str) -> Vec<u8> {
        json!({"error": {"code": code, "message": message, "status": status}})
            .to_string()
            .into_bytes()
    }

    fn error(f: Failure) -> ProviderError {
        match f {
            Failure::Error(e) => e,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn google_statuses_classify() {
        let e = error(classify(
            401,
            &body(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials.",
            ),
            None,
        ));
        assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
        assert!(e.is_permanent());
        assert_eq!(e.code, "UNAUTHENTICATED");
        let e = error(classify(
            403,
            &body(403, "PERMISSION_DENIED", "The client is not authorized."),
            None,
        ));
        assert_eq!(e.reason, ErrorReason::AccessDenied);
        let e = error(classify(
            429,
            &body(429, "RESOURCE_EXHAUSTED", "Quota exceeded"),
            Some(Duration::from_secs(7)),
        ));
        assert_eq!(e.class, ErrorClass::Throttled);
        assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
        let e = error(classify(503, &body(503, "UNAVAILABLE", "try later"), None));
        assert_eq!(e.class, ErrorClass::Transient);
        let e = error(classify(400, &body(400, "INVALID_ARGUMENT", "bad"), None));
        assert_eq!(e.reason, ErrorReason::InvalidRequest);
        assert!(e.is_permanent());
    }

    #[test]
    fn not_found_is_grace() {
        assert!(matches!(
            classify(
                404,
                &body(404, "NOT_FOUND", "The Cloud SQL operation does not exist."),
                None
            ),
            Failure::NotFound { .. }
        ));
        assert!(matches!(
            classify(404, b"<html>", None),
            Failure::NotFound { .. }
        ));
    }

    #[test]
    fn bodies_without_a_status_fall_back_to_http() {
        let e = error(classify(502, b"<html>bad gateway</html>", None));
        assert_eq!(e.class, ErrorClass::Transient);
        assert_eq!(e.code, "HTTP 502");
        assert_eq!(
            error(classify(401, b"", None)).reason,
            ErrorReason::AuthenticationFailed
        );
        assert_eq!(
            error(classify(403, b"", None)).reason,
            ErrorReason::AccessDenied
        );
        assert_eq!(error(classify(408, b"", None)).class, ErrorClass::Transient);
        assert_eq!(
            error(classify(418, b"", None)).reason,
            ErrorReason::InvalidRequest
        );
    }

    #[test]
    fn a_403_rate_limit_is_throttling() {
        let b = json!({"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "slow",
            "errors": [{"reason": "rateLimitExceeded"}]}});
        let e = error(classify(403, b.to_string().as_bytes(), None));
        assert_eq!(e.class, ErrorClass::Throttled);
    }

    #[test]
    fn token_refusals_reject_the_credentials() {
        for code in TOKEN_AUTHENTICATION {
            let b = json!({"error": code, "error_description": "Invalid JWT Signature."});
            let e = classify_token_error(400, b.to_string().as_bytes(), None);
            assert_eq!(e.reason, ErrorReason::AuthenticationFailed, "{code}");
            assert!(e.rejects_credentials());
            assert_eq!(e.code, *code);
            assert!(e.message.contains("Invalid JWT Signature."));
        }
        let b = json!({"error": "invalid_scope", "error_description": "bad scope"});
        assert_eq!(
            classify_token_error(400, b.to_string().as_bytes(), None).reason,
            ErrorReason::AccessDenied
        );
    }

    #[test]
    fn clock_skew_gets_a_hint() {
        let b = json!({"error": "invalid_grant", "error_description":
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."});
        let e = classify_token_error(400, b.to_string().as_bytes(), None);
        assert!(e.message.contains("local clock"), "{}", e.message);
    }

    #[test]
    fn token_endpoint_outages_are_transient() {
        let e = classify_token_error(503, b"oops", Some(Duration::from_secs(3)));
        assert_eq!(e.class, ErrorClass::Transient);
        assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
        assert_eq!(
            classify_token_error(429, b"", None).class,
            ErrorClass::Throttled
        );
        assert_eq!(
            classify_token_error(400, b"{}", None).reason,
            ErrorReason::InvalidRequest
        );
    }
}
