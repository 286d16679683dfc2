//! Classification of RDS Query API error responses (pure: status, body and headers in,
//! [`Failure`] out).
//!
//! Errors are `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>` XML. The
//! HTTP statuses are AWS's "Common Errors" ones (`InvalidClientTokenId` and
//! `MissingAuthenticationToken` 403, `ThrottlingException`, `IncompleteSignature` and
//! `AccessDeniedException` 400, `InternalFailure` 500, `ServiceUnavailable` 503) and the RDS
//! service model's (`DBSnapshotNotFound` and the other not-found faults 404); the codes
//! decide, the status only when there is no code.
//!
//! | what | class | reason |
//! |---|---|---|
//! | `Throttling`, `ThrottlingException`, `RequestLimitExceeded`, `TooManyRequestsException`, HTTP 429 | throttled (honors `Retry-After`) | `Throttled` |
//! | HTTP 5xx (`InternalFailure`, `ServiceUnavailable`, ...), 408, a body that is not XML | transient | `ProviderError` |
//! | `SignatureDoesNotMatch`, `InvalidClientTokenId`, `ExpiredToken`, `IncompleteSignature`, `MissingAuthenticationToken`, `UnrecognizedClientException`, ... ; HTTP 401/403 without a code | permanent | `AuthenticationFailed` |
//! | `AccessDenied`, `AccessDeniedException`, `NotAuthorized`, `OptInRequired` | permanent | `AccessDenied` |
//! | `DBSnapshotNotFound`, `DBClusterSnapshotNotFoundFault`, `BlueGreenDeploymentNotFoundFault`, `ExportTaskNotFound` | not found yet (`Pending`) | `NotFoundYet` |
//! | `InvalidParameterValue`, `InvalidParameterCombination`, any other 4xx | permanent | `InvalidRequest` |
//!
//! A signature refused as expired or not yet current gets a hint that the local clock may
//! be skewed (`X-Amz-Date` must be within 5 minutes of AWS's time).

use std::time::Duration;

use crate::{ErrorReason, ProviderError};

use super::model::{from_xml, text, ErrorResponse};

/// The fields of an error body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorEnvelope {
    pub code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
}

/// What a non-success response means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// RDS does not know the job (yet): report `Pending`, not an error.
    NotFound { code: String, message: String },
    /// A failed call.
    Error(ProviderError),
}

/// Codes that ask the caller to slow down.
pub const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
];

/// Codes that refuse the key, the token or the signature.
pub const AUTHENTICATION: &[&str] = &[
    "SignatureDoesNotMatch",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "AuthFailure",
    "RequestExpired",
];

/// Codes that refuse the identity's permission.
pub const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "NotAuthorized",
    "UnauthorizedOperation",
    "OptInRequired",
];

/// The faults that mean "no such export, snapshot or deployment": the codes the RDS
/// service model gives them (its shapes' `error.code`, checked in `crate::sdk_codes`).
pub const NOT_FOUND: &[&str] = &[
    "DBSnapshotNotFound",
    "DBClusterSnapshotNotFoundFault",
    "BlueGreenDeploymentNotFoundFault",
    "ExportTaskNotFound",
];

/// Decodes an `ErrorResponse` body; `None` when it is not one.
pub fn parse_error_envelope(body: &[u8]) -> Option<ErrorEnvelope> {
    let response: ErrorResponse = from_xml(body).ok()?;
    let error = response.error?;
    let code = text(&error.code)?.to_string();
    Some(ErrorEnvelope {
        code: Some(code),
        message: text(&error.message).map(String::from),
        request_id: text(&response.request_id).map(String::from),
    })
}

/// Classifies a non-2xx response.
pub fn classify(
    status: u16,
    body: &[u8],
    request_id: Option<String>,
    retry_after: Option<Duration>,
) -> Failure {
    let envelope = parse_error_envelope(body).unwrap_or_default();
    classify_envelope(status, envelope, request_id, retry_after)
}

/// Classifies a response from its status and decoded error envelope.
pub fn classify_envelope(
    status: u16,
    envelope: ErrorEnvelope,
    request_id: Option<String>,
    retry_after: Option<Duration>,
) -> Failure {
    let known = envelope.code.clone();
    let code = known.clone().unwrap_or_else(|| format!("HTTP {status}"));
    let message = envelope
        .message
        .clone()
        .unwrap_or_else(|| format!("AWS RDS answered HTTP {status}"));
    let request_id = request_id.filter(|r| !r.is_empty()).or(envelope.request_id);
    let error = |e: ProviderError| {
        Failure::Error(
            e.with_request_id(request_id.clone())
                .with_retry_after(retry_after),
        )
    };
    let is = |list: &[&str]| known.as_deref().is_some_and(|c| list.contains(&c));
    if is(THROTTLING) || status == 429 {
        return error(ProviderError::throttled(&code, message));
    }
    // A server-side failure never says anything about the job or the credentials.
    if matches!(status, 408 | 500..=599) {
        return error(ProviderError::transient(&code, message));
    }
    if is(NOT_FOUND) {
        return Failure::NotFound { code, message };
    }
    if is(AUTHENTICATION) || (known.is_none() && matches!(status, 401 | 403)) {
        return error(ProviderError::permanent(
            ErrorReason::AuthenticationFailed,
            &code,
            with_clock_hint(message),
        ));
    }
    if is(ACCESS_DENIED) {
        return error(ProviderError::permanent(
            ErrorReason::AccessDenied,
            &code,
            message,
        ));
    }
    error(ProviderError::permanent(
        ErrorReason::InvalidRequest,
        &code,
        message,
    ))
}

fn with_clock_hint(message: String) -> String {
    let m = message.to_ascii_lowercase();
    if m.contains("signature expired")
        || m.contains("not yet current")
        || m.contains("request has expired")
        || m.contains("15 minutes")
    {
        format!(
            "{message} (if the keys are right, the local clock may be skewed: X-Amz-Date must be within 5 minutes of AWS's time)"
        )
    } else {
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorClass;

    fn body(code: &str, message: &str) -> Vec<u8> {
        format!(
            "<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>{code}</Code>\n    <Message>{message}</Message>\n  </Error>\n  <RequestId>5d3f1c9e-0000-4a1b-9c2d-3e4f5a6b7c8d</RequestId>\n</ErrorResponse>\n"
        )
        .into_bytes()
    }

    fn err(f: Failure) -> ProviderError {
        match f {
            Failure::Error(e) => e,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_documented_envelope() {
        let e =
            parse_error_envelope(&body("DBSnapshotNotFound", "DBSnapshot x not found.")).unwrap();
        assert_eq!(e.code.as_deref(), Some("DBSnapshotNotFound"));
        assert_eq!(e.message.as_deref(), Some("DBSnapshot x not found."));
        assert_eq!(
            e.request_id.as_deref(),
            Some("5d3f1c9e-0000-4a1b-9c2d-3e4f5a6b7c8d")
        );
        assert_eq!(parse_error_envelope(b"<html>bad gateway</html>"), None);
        assert_eq!(parse_error_envelope(b"not xml at all <"), None);
        assert_eq!(
            parse_error_envelope(b"<ErrorResponse><Error><Code> </Code></Error></ErrorResponse>"),
            None,
            "an empty code is no code"
        );
    }

    #[test]
    fn every_throttling_code_is_throttled() {
        for code in THROTTLING {
            let e = err(classify(
                400,
                &body(code, "Rate exceeded"),
                None,
                Some(Duration::from_secs(2)),
            ));
            assert_eq!(e.class, ErrorClass::Throttled, "{code}");
            assert_eq!(e.reason, ErrorReason::Throttled, "{code}");
            assert_eq!(e.retry_after, Some(Duration::from_secs(2)), "{code}");
            assert_eq!(e.code, *code);
        }
        assert_eq!(
            err(classify(429, b"", None, None)).class,
            ErrorClass::Throttled
        );
    }

    #[test]
    fn server_errors_are_transient() {
        for (status, code) in [
            (500, "InternalFailure"),
            (503, "ServiceUnavailable"),
            (500, "InternalError"),
            (502, ""),
            (504, ""),
            (408, ""),
        ] {
            let e = err(classify(status, &body(code, "try later"), None, None));
            assert_eq!(e.class, ErrorClass::Transient, "{status} {code}");
        }
        let e = err(classify(503, b"<html>oops</html>", None, None));
        assert_eq!(
            (e.class, e.code.as_str()),
            (ErrorClass::Transient, "HTTP 503")
        );
        // Even a code that would be permanent on a 4xx: the server failed, not the request.
        assert_eq!(
            err(classify(
                500,
                &body("InvalidClientTokenId", "x"),
                None,
                None
            ))
            .class,
            ErrorClass::Transient
        );
    }

    #[test]
    fn every_credential_code_rejects_the_credentials() {
        for code in AUTHENTICATION {
            let e = err(classify(403, &body(code, "no"), None, None));
            assert!(e.rejects_credentials(), "{code}");
            assert_eq!(e.reason, ErrorReason::AuthenticationFailed, "{code}");
        }
        for code in ACCESS_DENIED {
            let e = err(classify(403, &body(code, "no"), None, None));
            assert!(e.rejects_credentials(), "{code}");
            assert_eq!(e.reason, ErrorReason::AccessDenied, "{code}");
        }
        // IncompleteSignature and AccessDeniedException are HTTP 400 in the common errors.
        for code in ["IncompleteSignature", "AccessDeniedException"] {
            assert!(err(classify(400, &body(code, "no"), None, None)).rejects_credentials());
        }
        for status in [401, 403] {
            let e = err(classify(status, b"", None, None));
            assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
        }
    }

    #[test]
    fn an_expired_signature_hints_at_the_clock() {
        let msg = "Signature expired: 20260101T000000Z is now earlier than 20260101T000500Z (20260101T001000Z - 5 min.)";
        let e = err(classify(
            403,
            &body("SignatureDoesNotMatch", msg),
            None,
            None,
        ));
        assert!(e.message.contains("clock may be skewed"), "{}", e.message);
        let e = err(classify(
            403,
            &body(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match",
            ),
            None,
            None,
        ));
        assert!(!e.message.contains("clock"), "{}", e.message);
    }

    #[test]
    fn bad_parameters_are_invalid_requests() {
        for code in [
            "InvalidParameterValue",
            "InvalidParameterCombination",
            "MissingParameter",
            "InvalidAction",
            "SomethingNew",
        ] {
            let e = err(classify(400, &body(code, "bad"), None, None));
            assert_eq!(
                (e.class, e.reason),
                (ErrorClass::Permanent, ErrorReason::InvalidRequest),
                "{code}"
            );
            assert_eq!(e.code, code);
            assert_eq!(e.message, "bad");
        }
        let e = err(classify(404, b"", None, None));
        assert_eq!(
            (e.reason, e.code.as_str()),
            (ErrorReason::InvalidRequest, "HTTP 404")
        );
    }

    #[test]
    fn not_found_faults_are_not_found() {
        for code in NOT_FOUND {
            assert!(
                matches!(
                    classify(404, &body(code, "not found"), None, None),
                    Failure::NotFound { .. }
                ),
                "{code}"
            );
        }
        // The code decides, whatever the status.
        assert!(matches!(
            classify(
                400,
                &body("DBClusterSnapshotNotFoundFault", "x"),
                None,
                None
            ),
            Failure::NotFound { .. }
        ));
    }

    #[test]
    fn the_request_id_comes_from_the_header_or_the_body() {
        let b = body("InvalidParameterValue", "bad");
        let from_body = err(classify(400, &b, None, None));
        assert_eq!(
            from_body.request_id.as_deref(),
            Some("5d3f1c9e-0000-4a1b-9c2d-3e4f5a6b7c8d")
        );
        let from_header = err(classify(400, &b, Some("hdr-1".into()), None));
        assert_eq!(from_header.request_id.as_deref(), Some("hdr-1"));
        let none = err(classify(400, b"", Some(String::new()), None));
        assert_eq!(none.request_id, None);
    }
}
