use super::*;
use crate::ErrorClass;

fn arm(code: &str) -> Vec<u8> {
    format!(r#"{{"error":{{"code":"{code}","message":"m {code}"}}}}"#).into_bytes()
}

fn error_of(f: Failure) -> ProviderError {
    match f {
        Failure::Error(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn arm_codes_and_statuses() {
    let secs = Some(Duration::from_secs(7));
    let e = error_of(classify(
        429,
        &arm("TooManyRequests"),
        Some("r".into()),
        secs,
    ));
    assert_eq!((e.class, e.retry_after), (ErrorClass::Throttled, secs));
    assert_eq!(e.request_id.as_deref(), Some("r"));
    let e = error_of(classify(429, b"", None, None));
    assert_eq!(
        (e.class, e.code.as_str()),
        (ErrorClass::Throttled, "HTTP 429")
    );
    for status in [500, 502, 503, 504, 408] {
        let e = error_of(classify(status, b"<html>", None, secs));
        assert_eq!(e.class, ErrorClass::Transient, "{status}");
        assert_eq!(e.retry_after, secs);
    }
    let e = error_of(classify(403, &arm("AuthorizationFailed"), None, None));
    assert_eq!(
        (e.class, e.reason),
        (ErrorClass::Permanent, ErrorReason::AccessDenied)
    );
    assert_eq!(e.message, "m AuthorizationFailed");
    for code in [
        "SubscriptionNotFound",
        "InvalidApiVersionParameter",
        "NoRegisteredProviderFound",
    ] {
        let status = if code == "SubscriptionNotFound" {
            404
        } else {
            400
        };
        let e = error_of(classify(status, &arm(code), None, None));
        assert_eq!(e.reason, ErrorReason::InvalidRequest, "{code}");
        assert!(e.is_permanent());
    }
}

#[test]
fn a_401_is_a_rejected_token_and_a_404_the_grace() {
    for code in ["InvalidAuthenticationToken", "ExpiredAuthenticationToken"] {
        match classify(401, &arm(code), None, None) {
            Failure::TokenRejected(e) => {
                assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
                assert_eq!(e.code, code);
            }
            other => panic!("{other:?}"),
        }
    }
    for body in [arm("ResourceNotFound"), arm("NotFound"), b"".to_vec()] {
        assert!(matches!(
            classify(404, &body, None, None),
            Failure::NotFound { .. }
        ));
    }
    let e = classify(404, &arm("ResourceNotFound"), None, None).into_error();
    assert_eq!(e.reason, ErrorReason::JobNotFound);
}

fn token_body(error: &str, description: &str) -> Vec<u8> {
    format!(
        r#"{{"error":"{error}","error_description":"{description}","error_codes":[1],"trace_id":"trace","correlation_id":"corr"}}"#
    )
    .into_bytes()
}

#[test]
fn token_refusals() {
    use ErrorReason::*;
    let cases = [
        (
            401,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
            AuthenticationFailed,
        ),
        (
            400,
            "unauthorized_client",
            "AADSTS700016: Application not found.",
            AuthenticationFailed,
        ),
        (
            400,
            "invalid_grant",
            "AADSTS50173: grant expired.",
            AuthenticationFailed,
        ),
        (
            400,
            "invalid_request",
            "AADSTS90002: Tenant 'x' not found.",
            AuthenticationFailed,
        ),
        (
            400,
            "invalid_scope",
            "AADSTS70011: bad scope.",
            InvalidRequest,
        ),
        (
            400,
            "invalid_request",
            "AADSTS900144: missing parameter.",
            InvalidRequest,
        ),
    ];
    for (status, error, description, reason) in cases {
        let e = classify_token_error(status, &token_body(error, description), None, None);
        assert_eq!(e.reason, reason, "{error} {description}");
        assert!(e.is_permanent());
        assert_eq!(e.code, error);
        assert!(e.message.contains(description), "{}", e.message);
        assert_eq!(e.request_id.as_deref(), Some("trace"));
    }
    let delay = Some(Duration::from_secs(3));
    let e = classify_token_error(429, b"", Some("h".into()), delay);
    assert_eq!((e.class, e.retry_after), (ErrorClass::Throttled, delay));
    assert_eq!(e.request_id.as_deref(), Some("h"));
    let e = classify_token_error(503, b"oops", None, None);
    assert_eq!(e.class, ErrorClass::Transient);
    let e = classify_token_error(
        400,
        &token_body("temporarily_unavailable", "busy"),
        None,
        None,
    );
    assert_eq!(e.class, ErrorClass::Transient);
    assert_eq!(
        classify_token_error(401, b"", None, None).reason,
        AuthenticationFailed
    );
    assert_eq!(
        classify_token_error(404, b"", None, None).reason,
        InvalidRequest
    );
}

/// What the client cannot place (a 1xx/3xx answer: redirects are not followed) is retried
/// for the default bound of polls in a row, then stalls with the message: never forever.
#[test]
fn odd_statuses_are_retried_a_bounded_number_of_times() {
    let bound = crate::DEFAULT_RETRY_BOUND;
    for status in [302, 307, 199] {
        let e = error_of(classify(status, &arm("Moved"), None, None));
        assert_eq!(e.class, ErrorClass::Transient, "{status}");
        assert_eq!(e.clone().settle(bound - 1).class, ErrorClass::Transient);
        let settled = e.settle(bound);
        assert_eq!(settled.class, ErrorClass::Permanent, "{status}");
        assert_eq!(settled.reason, ErrorReason::ProviderError);
        assert!(settled.message.contains("m Moved"), "{}", settled.message);

        let e = classify_token_error(status, b"", None, None);
        assert_eq!(e.class, ErrorClass::Transient, "token {status}");
        assert_eq!(
            e.settle(bound).class,
            ErrorClass::Permanent,
            "token {status}"
        );
    }
    // A 503 is transient whatever the count: only unknown answers are bounded.
    let e = error_of(classify(503, b"", None, None)).settle(100);
    assert_eq!(e.class, ErrorClass::Transient);
}
