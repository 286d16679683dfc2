//! Error envelope parsing and classification: one case per code family.

use std::time::Duration;

use crate::tencent::errors::{classify, parse_response};
use crate::ErrorClass;

fn envelope(code: &str) -> String {
    format!(
        r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"msg for {code}"}},"RequestId":"req-{code}"}}}}"#
    )
}

#[test]
fn every_code_family() {
    use ErrorClass::{Permanent, Throttled, Transient};
    let cases: &[(&str, ErrorClass, &str)] = &[
        ("RequestLimitExceeded", Throttled, "Throttled"),
        (
            "RequestLimitExceeded.UinLimitExceeded",
            Throttled,
            "Throttled",
        ),
        (
            "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
            Throttled,
            "Throttled",
        ),
        ("InternalError", Transient, "ProviderError"),
        (
            "InternalError.DatabaseAccessError",
            Transient,
            "ProviderError",
        ),
        (
            "InternalError.AsyncRequestError",
            Transient,
            "ProviderError",
        ),
        (
            "FailedOperation.AsyncTaskStatusError",
            Transient,
            "ProviderError",
        ),
        ("FailedOperation", Transient, "ProviderError"),
        ("ResourceUnavailable", Transient, "ProviderError"),
        (
            "ResourceUnavailable.InstanceStatusError",
            Transient,
            "ProviderError",
        ),
        ("CdbError", Transient, "ProviderError"),
        ("CdbError.TaskError", Transient, "ProviderError"),
        ("OperationDenied.WrongStatus", Transient, "ProviderError"),
        ("SomethingNew.NeverSeen", Transient, "ProviderError"),
        (
            "AuthFailure.SignatureFailure",
            Permanent,
            "AuthenticationFailed",
        ),
        (
            "AuthFailure.SecretIdNotFound",
            Permanent,
            "AuthenticationFailed",
        ),
        (
            "AuthFailure.InvalidSecretId",
            Permanent,
            "AuthenticationFailed",
        ),
        (
            "AuthFailure.TokenFailure",
            Permanent,
            "AuthenticationFailed",
        ),
        ("AuthFailure.MFAFailure", Permanent, "AuthenticationFailed"),
        (
            "AuthFailure.SignatureExpire",
            Permanent,
            "AuthenticationFailed",
        ),
        (
            "AuthFailure.UnauthorizedOperation",
            Permanent,
            "Unauthorized",
        ),
        ("UnauthorizedOperation", Permanent, "Unauthorized"),
        (
            "UnauthorizedOperation.NotEnoughPrivileges",
            Permanent,
            "Unauthorized",
        ),
        ("OperationDenied", Permanent, "Unauthorized"),
        ("InvalidParameter", Permanent, "InvalidRequest"),
        (
            "InvalidParameter.ControllerNotFoundError",
            Permanent,
            "InvalidRequest",
        ),
        (
            "InvalidParameterValue.InvalidParameterValueError",
            Permanent,
            "InvalidRequest",
        ),
        ("MissingParameter", Permanent, "InvalidRequest"),
        ("UnknownParameter", Permanent, "InvalidRequest"),
        ("InvalidAction", Permanent, "InvalidRequest"),
        ("NoSuchVersion", Permanent, "InvalidRequest"),
        ("UnsupportedRegion", Permanent, "InvalidRequest"),
        ("UnsupportedProtocol", Permanent, "InvalidRequest"),
        ("UnsupportedOperation", Permanent, "InvalidRequest"),
        (
            "InvalidParameter.InstanceNotFound",
            Permanent,
            "JobNotFound",
        ),
        ("ResourceNotFound", Permanent, "JobNotFound"),
        (
            "ResourceNotFound.InstanceNotFoundError",
            Permanent,
            "JobNotFound",
        ),
        (
            "InvalidParameter.InvalidAsyncRequestId",
            Permanent,
            "JobNotFound",
        ),
    ];
    for (code, class, reason) in cases {
        let err = parse_response(200, envelope(code).as_bytes(), None).unwrap_err();
        assert_eq!(err.class, *class, "{code}");
        assert_eq!(err.reason, *reason, "{code}");
        assert_eq!(err.code, *code);
        assert_eq!(err.request_id, Some(format!("req-{code}")));
        assert!(
            err.message.starts_with(&format!("msg for {code}")),
            "{code}: {}",
            err.message
        );
    }
}

#[test]
fn only_unknown_codes_are_bounded_then_stalled_with_the_message() {
    use crate::{ErrorReason, DEFAULT_RETRY_BOUND};
    use ErrorClass::{Permanent, Transient};
    let unknown = classify("SomethingNew.NeverSeen", Some("odd")).settle(DEFAULT_RETRY_BOUND);
    assert_eq!(
        (unknown.class, unknown.reason),
        (Permanent, ErrorReason::ProviderError)
    );
    assert!(unknown.message.starts_with("odd"), "{}", unknown.message);
    // Known server-side failures are retried without a bound (with backoff).
    for code in [
        "InternalError",
        "FailedOperation.AsyncTaskStatusError",
        "CdbError",
    ] {
        let e = classify(code, Some("x")).settle(1000);
        assert_eq!(e.class, Transient, "{code}");
    }
}

#[test]
fn signature_expire_mentions_the_clock() {
    let err = classify("AuthFailure.SignatureExpire", Some("Signature expired."));
    assert!(
        err.message.contains("clock may be skewed"),
        "{}",
        err.message
    );
    assert!(!classify("AuthFailure.SignatureFailure", None)
        .message
        .contains("clock"));
}

#[test]
fn throttling_keeps_retry_after() {
    let err = parse_response(
        200,
        envelope("RequestLimitExceeded").as_bytes(),
        Some(Duration::from_secs(3)),
    )
    .unwrap_err();
    assert_eq!(err.retry_after, Some(Duration::from_secs(3)));
    let http = parse_response(429, b"slow down", Some(Duration::from_secs(2))).unwrap_err();
    assert_eq!(
        (http.class, http.retry_after),
        (ErrorClass::Throttled, Some(Duration::from_secs(2)))
    );
}

#[test]
fn http_errors_and_broken_bodies_are_transient() {
    for (status, body) in [
        (502, &b"<html>Bad Gateway</html>"[..]),
        (503, b""),
        (500, br#"{"Response":{"RequestId":"r"}}"#),
        (200, br#"{"Response":{"TotalCount":1,"Ite"#),
        (200, b"not json"),
        (200, br#"{"Result":{}}"#),
        (200, br#"{"Response":"text"}"#),
        (404, br#"{}"#),
    ] {
        let err = parse_response(status, body, None).unwrap_err();
        assert_eq!(err.class, ErrorClass::Transient, "{status} {body:?}");
        if status >= 300 {
            assert_eq!(err.code, format!("HTTP {status}"));
        } else {
            assert_eq!(err.code, "MalformedResponse");
        }
    }
    let with_id = parse_response(500, br#"{"Response":{"RequestId":"r-5"}}"#, None).unwrap_err();
    assert_eq!(with_id.request_id.as_deref(), Some("r-5"));
}

#[test]
fn an_error_with_http_500_is_classified_by_code_and_success_passes_through() {
    let err = parse_response(500, envelope("InternalError").as_bytes(), None).unwrap_err();
    assert_eq!(
        (err.class, err.code.as_str()),
        (ErrorClass::Transient, "InternalError")
    );
    let ok = parse_response(
        200,
        br#"{"Response":{"TotalCount":0,"Items":[],"RequestId":"x"}}"#,
        None,
    )
    .unwrap();
    assert_eq!(ok["TotalCount"], 0);
    // `"Error": null` is no error: the whole Response object comes back, unchanged.
    let null_error = parse_response(
        200,
        br#"{"Response":{"Error":null,"Items":[{"JobId":7}]}}"#,
        None,
    );
    assert_eq!(
        null_error,
        Ok(serde_json::json!({"Error": null, "Items": [{"JobId": 7}]}))
    );
    let bare =
        parse_response(200, br#"{"Response":{"Error":{},"RequestId":"q"}}"#, None).unwrap_err();
    assert_eq!(bare.code, "HTTP 200");
}
