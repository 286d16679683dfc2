//! Classification of Huawei Cloud error responses (pure: status, body and headers in,
//! [`Failure`] out).
//!
//! Error bodies come in several shapes, all handled like the official SDK does:
//! `{"error_code", "error_msg"}` (RDS/TaurusDB service errors, e.g. `DBS.280234`, and API
//! gateway errors `APIGW.0301` / `APIG.0301`), `{"errorCode", "errorMsg"}`,
//! `{"code", "message"}` and any of those nested one level down (`{"error": {...}}`).
//!
//! | what | class | reason |
//! |---|---|---|
//! | HTTP 429, `APIGW.0308` (throttled) | throttled (honors `Retry-After`) | `Throttled` |
//! | HTTP 5xx, 408, bodies that are not JSON | transient | `ProviderError` |
//! | HTTP 401, `APIGW.0301/0303/0305/0307` | permanent | `AuthenticationFailed` |
//! | HTTP 403, `APIGW.0302/0304/0306` | permanent | `AccessDenied` |
//! | `APIGW.0101` (no such API at this host) | permanent | `InvalidRequest` |
//! | HTTP 404 with a service code or none; 400 whose message says the job/task does not exist | not found yet (`Pending`) | `NotFoundYet` |
//! | other 4xx (bad parameters, e.g. `DBS.200001`) | permanent | `InvalidRequest` |
//!
//! Gateway authentication errors that mention the signature or the date get a hint that the
//! local clock may be skewed (`X-Sdk-Date` must be within 15 minutes of the server's time).
//! No RDS/TaurusDB error code is documented for "job does not exist" (`DBS.200022`, seen in
//! the docs, means "DB instance name already exists"), hence the status/message rules.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::decode::value_to_string;
use crate::{ErrorReason, ProviderError};

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
    /// The task center does not list the job (yet): report `Pending`, not an error.
    NotFound { code: String, message: String },
    /// A failed call.
    Error(ProviderError),
}

const KEY_PAIRS: [(&str, &str); 3] = [
    ("error_code", "error_msg"),
    ("errorCode", "errorMsg"),
    ("code", "message"),
];

fn envelope_in(obj: &Map<String, Value>) -> Option<ErrorEnvelope> {
    KEY_PAIRS.iter().find_map(|(code_key, msg_key)| {
        let code = obj.get(*code_key).and_then(value_to_string)?;
        Some(ErrorEnvelope {
            code: Some(code),
            message: obj.get(*msg_key).and_then(value_to_string),
            request_id: obj.get("request_id").and_then(value_to_string),
        })
    })
}

/// Finds an error envelope at the top level of a JSON body or one level down. `None` when
/// the body is not a JSON object or carries no error code.
pub fn parse_error_envelope(body: &[u8]) -> Option<ErrorEnvelope> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let obj = value.as_object()?;
    envelope_in(obj).or_else(|| {
        obj.values().filter_map(Value::as_object).find_map(|inner| {
            envelope_in(inner).map(|mut e| {
                if e.request_id.is_none() {
                    e.request_id = obj.get("request_id").and_then(value_to_string);
                }
                e
            })
        })
    })
}

/// An error envelope at the top level of a 2xx body that has no `job`: some gateways answer
/// errors with HTTP 200.
pub fn error_in_success_body(body: &[u8]) -> Option<ErrorEnvelope> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let obj = value.as_object()?;
    if obj.contains_key("job") {
        return None;
    }
    envelope_in(obj).filter(|e| e.code.as_deref().is_some_and(|c| !c.is_empty()))
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
    let code = envelope
        .code
        .clone()
        .unwrap_or_else(|| format!("HTTP {status}"));
    let provider_msg = envelope.message.clone().unwrap_or_default();
    let message = if provider_msg.is_empty() {
        format!("Huawei Cloud answered HTTP {status}")
    } else {
        provider_msg.clone()
    };
    let request_id = request_id.filter(|r| !r.is_empty()).or(envelope.request_id);
    let gateway = gateway_suffix(&code);
    let error = |e: ProviderError| {
        Failure::Error(
            e.with_request_id(request_id.clone())
                .with_retry_after(retry_after),
        )
    };
    match gateway {
        Some("0308") => return error(ProviderError::throttled(&code, message)),
        Some("0301" | "0303" | "0305" | "0307") => {
            return error(ProviderError::permanent(
                ErrorReason::AuthenticationFailed,
                &code,
                with_clock_hint(message),
            ))
        }
        Some("0302" | "0304" | "0306") => {
            return error(ProviderError::permanent(
                ErrorReason::AccessDenied,
                &code,
                message,
            ))
        }
        Some("0101") => {
            return error(ProviderError::permanent(
                ErrorReason::InvalidRequest,
                &code,
                format!("{message} (check the api, region and endpoint)"),
            ))
        }
        _ => {}
    }
    match status {
        429 => error(ProviderError::throttled(&code, message)),
        408 | 500..=599 => error(ProviderError::transient(&code, message)),
        401 => error(ProviderError::permanent(
            ErrorReason::AuthenticationFailed,
            &code,
            with_clock_hint(message),
        )),
        403 => error(ProviderError::permanent(
            ErrorReason::AccessDenied,
            &code,
            message,
        )),
        404 if gateway.is_none() => Failure::NotFound { code, message },
        400 if says_job_missing(&provider_msg) => Failure::NotFound { code, message },
        _ => error(ProviderError::permanent(
            ErrorReason::InvalidRequest,
            &code,
            message,
        )),
    }
}

/// `0301` for `APIGW.0301` or `APIG.0301`.
fn gateway_suffix(code: &str) -> Option<&str> {
    code.strip_prefix("APIGW.")
        .or_else(|| code.strip_prefix("APIG."))
}

fn says_job_missing(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    (m.contains("job") || m.contains("task"))
        && (m.contains("not exist") || m.contains("not found") || m.contains("no such"))
}

fn with_clock_hint(message: String) -> String {
    let m = message.to_ascii_lowercase();
    if [
        "signature",
        "sdk-date",
        "date",
        "skew",
        "request expired",
        "timestamp",
    ]
    .iter()
    .any(|k| m.contains(k))
    {
        format!(
            "{message} (if the AK/SK are right, the local clock may be skewed: X-Sdk-Date must be within 15 minutes of Huawei Cloud's time)"
        )
    } else {
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorClass;

    fn err(f: Failure) -> ProviderError {
        match f {
            Failure::Error(e) => e,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn every_envelope_form() {
        let cases: [(&[u8], &str, &str); 6] = [
            (
                br#"{"error_code":"DBS.200001","error_msg":"Parameter error"}"#,
                "DBS.200001",
                "Parameter error",
            ),
            (
                br#"{"errorCode":"DBS.1","errorMsg":"camel"}"#,
                "DBS.1",
                "camel",
            ),
            (br#"{"code":"X.2","message":"plain"}"#, "X.2", "plain"),
            (
                br#"{"error":{"code":401,"message":"nested numeric"}}"#,
                "401",
                "nested numeric",
            ),
            (
                br#"{"error":{"error_code":"APIGW.0301","error_msg":"n"},"request_id":"r9"}"#,
                "APIGW.0301",
                "n",
            ),
            (
                br#"{"error_msg":"m","error_code":"APIG.0308","request_id":"r1"}"#,
                "APIG.0308",
                "m",
            ),
        ];
        for (body, code, msg) in cases {
            let e = parse_error_envelope(body).unwrap();
            assert_eq!(e.code.as_deref(), Some(code));
            assert_eq!(e.message.as_deref(), Some(msg));
        }
        assert_eq!(
            parse_error_envelope(br#"{"error":{"code":"A","message":"n"},"request_id":"r9"}"#)
                .unwrap()
                .request_id
                .as_deref(),
            Some("r9")
        );
        assert_eq!(parse_error_envelope(b"<html>"), None);
        assert_eq!(parse_error_envelope(br#"{"job":{"id":"x"}}"#), None);
        assert_eq!(parse_error_envelope(b"[1]"), None);
    }

    #[test]
    fn gateway_codes() {
        let body = br#"{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached","request_id":"rq"}"#;
        let e = err(classify(429, body, None, Some(Duration::from_secs(3))));
        assert_eq!(e.class, ErrorClass::Throttled);
        assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
        assert_eq!(e.request_id.as_deref(), Some("rq"));

        let body = br#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail"}"#;
        let e = err(classify(401, body, Some("hdr".into()), None));
        assert_eq!(e.class, ErrorClass::Permanent);
        assert_eq!(e.reason, "AuthenticationFailed");
        assert!(e.message.contains("clock may be skewed"), "{}", e.message);
        assert_eq!(e.request_id.as_deref(), Some("hdr"));

        let body = br#"{"error_code":"APIG.0301","error_msg":"Incorrect IAM authentication information: decrypt token fail"}"#;
        let e = err(classify(401, body, None, None));
        assert_eq!(e.reason, "AuthenticationFailed");
        assert!(!e.message.contains("clock"), "{}", e.message);

        let body = br#"{"error_code":"APIGW.0307","error_msg":"The token must be updated."}"#;
        assert_eq!(
            err(classify(401, body, None, None)).reason,
            "AuthenticationFailed"
        );
        let body = br#"{"error_code":"APIGW.0302","error_msg":"not authorized"}"#;
        assert_eq!(err(classify(403, body, None, None)).reason, "AccessDenied");
        let body = br#"{"error_code":"APIGW.0101","error_msg":"The API does not exist"}"#;
        let e = err(classify(404, body, None, None));
        assert_eq!(e.reason, "InvalidRequest");
        assert!(e.is_permanent());
        let body = br#"{"error_code":"APIGW.0609","error_msg":"backend timeout"}"#;
        assert_eq!(
            err(classify(504, body, None, None)).class,
            ErrorClass::Transient
        );
    }

    #[test]
    fn status_classes() {
        let e = err(classify(429, b"", None, Some(Duration::from_secs(9))));
        assert_eq!(
            (e.class, e.code.as_str()),
            (ErrorClass::Throttled, "HTTP 429")
        );
        assert_eq!(e.retry_after, Some(Duration::from_secs(9)));
        for s in [500, 502, 503, 408] {
            assert_eq!(
                err(classify(s, b"<html>bad gateway</html>", None, None)).class,
                ErrorClass::Transient
            );
        }
        assert_eq!(
            err(classify(401, b"", None, None)).reason,
            "AuthenticationFailed"
        );
        assert_eq!(err(classify(403, b"", None, None)).reason, "AccessDenied");
        let body = br#"{"error_code":"DBS.200001","error_msg":"Parameter error"}"#;
        let e = err(classify(400, body, None, None));
        assert_eq!(
            (e.class, e.reason),
            (ErrorClass::Permanent, ErrorReason::InvalidRequest)
        );
        assert_eq!(e.code, "DBS.200001");
        assert_eq!(err(classify(302, b"", None, None)).reason, "InvalidRequest");
    }

    #[test]
    fn job_not_found() {
        assert!(matches!(
            classify(404, b"", None, None),
            Failure::NotFound { .. }
        ));
        let body = br#"{"error_code":"DBS.280001","error_msg":"The job does not exist."}"#;
        assert!(matches!(
            classify(404, body, None, None),
            Failure::NotFound { .. }
        ));
        assert!(matches!(
            classify(400, body, None, None),
            Failure::NotFound { .. }
        ));
        let body =
            br#"{"error_code":"DBS.200022","error_msg":"The DB instance name already exists."}"#;
        assert!(matches!(classify(400, body, None, None), Failure::Error(_)));
    }

    #[test]
    fn error_with_http_200() {
        assert!(error_in_success_body(br#"{"error_code":"DBS.1","error_msg":"x"}"#).is_some());
        assert!(error_in_success_body(br#"{"job":{"id":"a"}}"#).is_none());
        assert!(error_in_success_body(b"{}").is_none());
    }
}
