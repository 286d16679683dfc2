//! Classification of API 2.0 error codes (the `code` of the `{code, message, codeDesc}`
//! envelope) into retry classes, so the controller knows whether to back off or stall.
//!
//! Public codes follow Tencent's API 2.0 error-code page (4000-6200); per-action codes are
//! the ones the seed documents list for the three job queries (9000-9593). Decisions that
//! are judgement calls:
//! * 4400 (quota exceeded: "the number of requests exceeded the quota") is **throttled**: a
//!   read-only job query can only exceed a request quota, which recovers by waiting.
//! * 4200 (request expired) and 4500 (replayed Nonce, or Timestamp more than 2 h off) are
//!   **permanent** `AuthenticationFailed` (as `AuthFailure.SignatureExpire` in API 3.0) with
//!   a clock-skew hint: every request carries a fresh Nonce and the current time, so a
//!   repeat means the node's clock is wrong, which needs a human.
//! * 5000 (resource does not exist) and 9544/9572 (instance does not exist) are
//!   **permanent** `JobNotFound` (as `ResourceNotFound*` in API 3.0): API 2.0 job IDs are
//!   returned synchronously by the call that creates the job, so an unknown ID is a wrong ID.
//!   An empty `data` on success is mapped to `Pending`/`NotFoundYet` instead.
//! * 9576/9593 (instance not running / in an abnormal state) are **transient**: the instance
//!   is usually busy with the very job being tracked, and its status will change.
//! * 5200/5300 (purchase failed) cannot come from a query; if they do, a human should look:
//!   permanent `ProviderError`.
//! * 6100 (not supported in this version) is permanent `InvalidRequest`, 6200 (temporarily
//!   unavailable) transient; both hint that API 2.0 is retired on most accounts.
//! * Unknown codes go to the one default of every provider, [`ProviderError::unknown_code`]
//!   (as in the API 3.0 provider): transient for [`crate::DEFAULT_RETRY_BOUND`] polls in a
//!   row, then permanent `ProviderError` with the provider's message; never retried without
//!   bound. Unknown 4xxx codes, which API 2.0 reserves for request and authorization
//!   errors, are permanent `ProviderError` at once.
//!
//! Reasons are the same vocabulary as the API 3.0 provider (`AuthenticationFailed`,
//! `Unauthorized`, `InvalidRequest`, `JobNotFound`, `Throttled`, `ProviderError`).

use crate::{ErrorClass, ErrorReason, ProviderError};

/// How one error code is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeClass {
    pub class: ErrorClass,
    /// `ProviderError` for transient, `Throttled` for throttled.
    pub reason: ErrorReason,
    /// What the code means, in English.
    pub meaning: &'static str,
    /// Advice appended to the message, if any.
    pub hint: Option<&'static str>,
    /// A code this table does not know: retried only a bounded number of times.
    pub unknown: bool,
}

const CLOCK_HINT: &str =
    "the local clock may be skewed: check that the node's time is synchronized (NTP)";
const RETIRED_HINT: &str = "Tencent Cloud has retired CDB API 2.0 on most accounts; if this \
     persists, track the job with provider tencent (API 3.0) instead";
const CAM_HINT: &str = "grant the sub-account access to this CDB API and its resources in CAM";

const fn permanent(reason: ErrorReason, meaning: &'static str) -> CodeClass {
    CodeClass {
        class: ErrorClass::Permanent,
        reason,
        meaning,
        hint: None,
        unknown: false,
    }
}

const fn transient(meaning: &'static str) -> CodeClass {
    CodeClass {
        class: ErrorClass::Transient,
        reason: ErrorReason::ProviderError,
        meaning,
        hint: None,
        unknown: false,
    }
}

/// A code the table does not list (see the module's doc).
const fn unknown() -> CodeClass {
    CodeClass {
        unknown: true,
        ..transient("unknown provider error code")
    }
}

const fn with_hint(mut c: CodeClass, hint: &'static str) -> CodeClass {
    c.hint = Some(hint);
    c
}

/// The class, reason and meaning of an API 2.0 error code.
pub fn classify_code(code: i64) -> CodeClass {
    match code {
        4000 => permanent(ErrorReason::InvalidRequest, "invalid request parameter"),
        4100 => permanent(
            ErrorReason::AuthenticationFailed,
            "authentication failed (wrong SecretKey or signature)",
        ),
        4101 => with_hint(
            permanent(
                ErrorReason::Unauthorized,
                "sub-account not authorized for this API",
            ),
            CAM_HINT,
        ),
        4102 => with_hint(
            permanent(
                ErrorReason::Unauthorized,
                "sub-account not authorized for this resource",
            ),
            CAM_HINT,
        ),
        4103 => with_hint(
            permanent(
                ErrorReason::Unauthorized,
                "sub-account not authorized for the resource this API operates on",
            ),
            CAM_HINT,
        ),
        4104 => permanent(
            ErrorReason::AuthenticationFailed,
            "the SecretId does not exist",
        ),
        4105 => permanent(
            ErrorReason::AuthenticationFailed,
            "invalid temporary-credential token",
        ),
        4106 => permanent(ErrorReason::AuthenticationFailed, "MFA verification failed"),
        4110 => permanent(ErrorReason::Unauthorized, "CAM authorization failed"),
        4200 => with_hint(
            permanent(
                ErrorReason::AuthenticationFailed,
                "request expired (Timestamp rejected)",
            ),
            CLOCK_HINT,
        ),
        4300 => permanent(
            ErrorReason::Unauthorized,
            "access denied (account blocked or not eligible for this API)",
        ),
        4400 => CodeClass {
            class: ErrorClass::Throttled,
            reason: ErrorReason::Throttled,
            meaning: "request quota exceeded",
            hint: Some("if this persists, ask Tencent Cloud support to raise the quota"),
            unknown: false,
        },
        4500 => with_hint(
            permanent(
                ErrorReason::AuthenticationFailed,
                "request rejected as a replay (Nonce reused or Timestamp too far off)",
            ),
            CLOCK_HINT,
        ),
        4600 => permanent(
            ErrorReason::InvalidRequest,
            "protocol not supported (use HTTPS)",
        ),
        5000 => permanent(
            ErrorReason::JobNotFound,
            "the job or resource does not exist",
        ),
        5100 => transient("resource operation failed"),
        5200 => permanent(ErrorReason::ProviderError, "resource purchase failed"),
        5300 => permanent(
            ErrorReason::ProviderError,
            "resource purchase failed: insufficient balance",
        ),
        5400 => transient("partially successful"),
        5500 => permanent(
            ErrorReason::Unauthorized,
            "account identity verification not passed",
        ),
        6000 => transient("provider internal error"),
        6100 => with_hint(
            permanent(
                ErrorReason::InvalidRequest,
                "API not supported in this version",
            ),
            RETIRED_HINT,
        ),
        6200 => with_hint(transient("API temporarily unavailable"), RETIRED_HINT),
        9000 => transient("system error"),
        9003 => permanent(ErrorReason::InvalidRequest, "invalid parameter"),
        9006 => transient("database internal error"),
        9013 | 9016 => transient("system internal error"),
        9544 | 9572 => permanent(ErrorReason::JobNotFound, "the instance does not exist"),
        9576 => transient("instance is not running; operation refused"),
        9590 => transient("task database access error"),
        9593 => transient("instance status is abnormal"),
        c if (4000..5000).contains(&c) => permanent(ErrorReason::ProviderError, "provider error"),
        _ => unknown(),
    }
}

/// Builds the error for a non-zero envelope `code`. `message` may carry a module error as
/// `(100004) incorrect projectId`, which is rewritten to name the module code.
pub fn envelope_error(code: &str, message: Option<&str>, code_desc: Option<&str>) -> ProviderError {
    let class = crate::decode::parse_i64(code)
        .map(classify_code)
        .unwrap_or_else(|| permanent(ErrorReason::ProviderError, "provider error"));
    let mut text = class.meaning.to_string();
    if let Some(desc) = code_desc.map(str::trim).filter(|d| !d.is_empty()) {
        text.push_str(&format!(" ({desc})"));
    }
    if let Some(detail) = message.map(module_message).filter(|m| !m.is_empty()) {
        text.push_str(": ");
        text.push_str(&detail);
    }
    if let Some(hint) = class.hint {
        text.push_str("; ");
        text.push_str(hint);
    }
    let code = code.trim().to_string();
    match class.class {
        ErrorClass::Transient if class.unknown => ProviderError::unknown_code(&code, text),
        ErrorClass::Transient => ProviderError::transient(code, text),
        ErrorClass::Throttled => ProviderError::throttled(code, text),
        ErrorClass::Permanent => ProviderError::permanent(class.reason, code, text),
    }
}

/// `(100004) incorrect projectId` → `incorrect projectId (module error 100004)`; other
/// messages are trimmed and returned as they are.
pub fn module_message(message: &str) -> String {
    let m = message.trim();
    if let Some(rest) = m.strip_prefix('(') {
        if let Some((code, text)) = rest.split_once(')') {
            let code = code.trim();
            if !code.is_empty() && code.chars().all(|c| c.is_ascii_digit()) {
                let text = text.trim();
                return if text.is_empty() {
                    format!("module error {code}")
                } else {
                    format!("{text} (module error {code})")
                };
            }
        }
    }
    m.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ErrorClass::{Permanent, Throttled, Transient};

    /// Every documented code with its expected class and reason.
    const TABLE: &[(i64, ErrorClass, &str)] = &[
        (4000, Permanent, "InvalidRequest"),
        (4100, Permanent, "AuthenticationFailed"),
        (4101, Permanent, "Unauthorized"),
        (4102, Permanent, "Unauthorized"),
        (4103, Permanent, "Unauthorized"),
        (4104, Permanent, "AuthenticationFailed"),
        (4105, Permanent, "AuthenticationFailed"),
        (4106, Permanent, "AuthenticationFailed"),
        (4110, Permanent, "Unauthorized"),
        (4200, Permanent, "AuthenticationFailed"),
        (4300, Permanent, "Unauthorized"),
        (4400, Throttled, "Throttled"),
        (4500, Permanent, "AuthenticationFailed"),
        (4600, Permanent, "InvalidRequest"),
        (5000, Permanent, "JobNotFound"),
        (5100, Transient, "ProviderError"),
        (5200, Permanent, "ProviderError"),
        (5300, Permanent, "ProviderError"),
        (5400, Transient, "ProviderError"),
        (5500, Permanent, "Unauthorized"),
        (6000, Transient, "ProviderError"),
        (6100, Permanent, "InvalidRequest"),
        (6200, Transient, "ProviderError"),
        (9000, Transient, "ProviderError"),
        (9003, Permanent, "InvalidRequest"),
        (9006, Transient, "ProviderError"),
        (9013, Transient, "ProviderError"),
        (9016, Transient, "ProviderError"),
        (9544, Permanent, "JobNotFound"),
        (9572, Permanent, "JobNotFound"),
        (9576, Transient, "ProviderError"),
        (9590, Transient, "ProviderError"),
        (9593, Transient, "ProviderError"),
    ];

    #[test]
    fn every_documented_code_is_classified() {
        for &(code, class, reason) in TABLE {
            let c = classify_code(code);
            assert_eq!((c.class, c.reason.as_str()), (class, reason), "code {code}");
            assert!(!c.unknown, "code {code} fell through");
            assert!(!c.meaning.is_empty());
            let err = envelope_error(&code.to_string(), Some("m"), None);
            assert_eq!(err.class, class, "code {code}");
            assert_eq!(err.code, code.to_string());
            let want_reason = match class {
                Transient => "ProviderError",
                Throttled => "Throttled",
                Permanent => reason,
            };
            assert_eq!(err.reason, want_reason, "code {code}");
        }
    }

    #[test]
    fn unknown_codes() {
        for code in [6999, 9999, 12345] {
            let c = classify_code(code);
            assert!(c.unknown && c.class == Transient, "code {code}: {c:?}");
            // Bounded: retried up to the default bound, then permanent with the message.
            let e = envelope_error(&code.to_string(), Some("new failure"), None);
            let bound = crate::DEFAULT_RETRY_BOUND;
            assert_eq!(e.clone().settle(bound - 1).class, Transient, "code {code}");
            let settled = e.settle(bound);
            assert_eq!(settled.class, Permanent, "code {code}");
            assert_eq!(settled.reason, "ProviderError");
            assert!(
                settled.message.contains("new failure"),
                "{}",
                settled.message
            );
        }
        // Documented transient codes stay transient, whatever the count.
        let known = envelope_error("9000", Some("x"), None).settle(100);
        assert_eq!(known.class, Transient);
        assert_eq!(classify_code(4999).class, Permanent);
        assert_eq!(classify_code(4999).reason, "ProviderError");
        let e = envelope_error("NotANumber", Some("x"), None);
        assert_eq!((e.class, e.code.as_str()), (Permanent, "NotANumber"));
    }

    #[test]
    fn clock_codes_mention_skew() {
        for code in ["4200", "4500"] {
            let e = envelope_error(code, Some("request expired"), Some("RequestExpired"));
            assert!(e.message.contains("clock may be skewed"), "{}", e.message);
        }
        assert!(!envelope_error("4100", None, None).message.contains("clock"));
    }

    #[test]
    fn module_errors_name_their_code() {
        assert_eq!(
            module_message("(100004) incorrect projectId"),
            "incorrect projectId (module error 100004)"
        );
        assert_eq!(module_message(" (42) "), "module error 42");
        assert_eq!(module_message("(abc) x"), "(abc) x");
        assert_eq!(module_message("plain"), "plain");
        let e = envelope_error(
            "4000",
            Some("(100004) incorrect projectId"),
            Some("InvalidParameter"),
        );
        assert_eq!(
            e.message,
            "invalid request parameter (InvalidParameter): incorrect projectId (module error 100004)"
        );
    }

    #[test]
    fn retired_api_hint_on_6100_and_6200() {
        assert!(envelope_error("6100", None, None)
            .message
            .contains("retired"));
        assert!(envelope_error("6200", None, None)
            .message
            .contains("retired"));
    }
}
