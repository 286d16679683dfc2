//! Provider call failures, classified so the controller knows whether to retry.

use std::time::Duration;

/// How the controller treats a failed provider call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Network failures, 5xx, internal errors: retry with exponential backoff. Never
    /// changes the job's phase.
    Transient,
    /// The provider asked us to slow down: retry after `retry_after` or with backoff.
    Throttled,
    /// Needs a human (bad credentials, bad parameters, unknown job): `Stalled` with a
    /// reason, retried rarely in case it was fixed.
    Permanent,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Transient => "transient",
            ErrorClass::Throttled => "throttled",
            ErrorClass::Permanent => "permanent",
        }
    }
}

/// Why a provider call failed: written to `status.reason` (as its name) and what the
/// controller branches on. Strings only at the edges ([`ErrorReason::as_str`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorReason {
    /// The provider refused the signature or the key.
    AuthenticationFailed,
    /// The token or key is not valid for this call (Huawei 401).
    Unauthorized,
    /// The identity lacks permission for the call.
    AccessDenied,
    /// The request itself is wrong (parameters, region, endpoint).
    InvalidRequest,
    /// The provider does not know the job ID.
    JobNotFound,
    /// Anything else the provider answered (transient failures included).
    ProviderError,
    /// No client for the job's provider in this build.
    UnsupportedProvider,
    /// The provider asked us to slow down.
    Throttled,
    /// Refused by the operator's own per-credential rate limit: no request was sent.
    LocalRateLimit,
    /// The workload identity's ServiceAccount does not exist in the job's namespace.
    ServiceAccountNotFound,
}

impl ErrorReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorReason::AuthenticationFailed => "AuthenticationFailed",
            ErrorReason::Unauthorized => "Unauthorized",
            ErrorReason::AccessDenied => "AccessDenied",
            ErrorReason::InvalidRequest => "InvalidRequest",
            ErrorReason::JobNotFound => "JobNotFound",
            ErrorReason::ProviderError => "ProviderError",
            ErrorReason::UnsupportedProvider => "UnsupportedProvider",
            ErrorReason::Throttled => "Throttled",
            ErrorReason::LocalRateLimit => "LocalRateLimit",
            ErrorReason::ServiceAccountNotFound => "ServiceAccountNotFound",
        }
    }

    /// Whether the provider refused the credential itself rather than the request.
    pub fn rejects_credentials(self) -> bool {
        matches!(
            self,
            ErrorReason::AuthenticationFailed
                | ErrorReason::Unauthorized
                | ErrorReason::AccessDenied
        )
    }
}

impl std::fmt::Display for ErrorReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Tests and callers at the edges compare with the serialized name.
impl PartialEq<&str> for ErrorReason {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A failed provider call. `message` must never contain credentials.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ProviderError {
    pub class: ErrorClass,
    /// Written to `status.reason` for permanent errors.
    pub reason: ErrorReason,
    /// The provider's error code (e.g. `AuthFailure.SignatureFailure`, `4100`, `DBS.200022`,
    /// `HTTP 503`, `Timeout`).
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// Provider request ID, for support cases.
    pub request_id: Option<String>,
    /// Server-advised delay before retrying (throttling).
    pub retry_after: Option<Duration>,
    /// For a transient error the provider may also mean for good (an unknown code, a
    /// refusal the official SDK retries): how many consecutive failures are retried before
    /// the job is stalled, and with which reason. See [`ProviderError::bounded`].
    pub retry_bound: Option<RetryBound>,
}

/// "Retried with the transient backoff `attempts` times in a row, then handled as
/// permanent with `reason`": the one mechanism for errors that must not be retried without
/// bound but must not stall a job on the first occurrence either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryBound {
    /// Consecutive failed polls (this one included) after which the error is permanent.
    pub attempts: u32,
    /// The reason the job is stalled with then.
    pub reason: ErrorReason,
}

/// The bound used for unknown codes and for refusals an official SDK retries: five polls
/// (about 30 s of the 2 s doubling transient backoff), then `Stalled` with the provider's
/// message, which a stalled job still re-polls rarely (30 s doubling to 10 min).
pub const DEFAULT_RETRY_BOUND: u32 = 5;

impl ProviderError {
    pub fn transient(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(
            ErrorClass::Transient,
            ErrorReason::ProviderError,
            code,
            message,
        )
    }

    pub fn throttled(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Throttled, ErrorReason::Throttled, code, message)
    }

    /// The one default for an error code a client does not know (a code added after it was
    /// written, an open-ended family): retried like a transient error for
    /// [`DEFAULT_RETRY_BOUND`] polls in a row, then permanent (`Stalled`, reason
    /// `ProviderError`) with the provider's message, which is re-polled only rarely. Never
    /// retried without bound, never a failed job.
    pub fn unknown_code(code: &str, message: impl Into<String>) -> Self {
        Self::bounded(
            ErrorReason::ProviderError,
            DEFAULT_RETRY_BOUND,
            code,
            message,
        )
    }

    /// A transient error retried at most `attempts` consecutive polls, then permanent with
    /// `reason` (see [`ProviderError::settle`], which the controller applies).
    pub fn bounded(
        reason: ErrorReason,
        attempts: u32,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let mut e = Self::transient(code, message);
        e.retry_bound = Some(RetryBound { attempts, reason });
        e
    }

    /// The error as the controller must handle it after `consecutive_failures` failed polls
    /// in a row (this one included): a bounded transient error past its bound becomes
    /// permanent with its bound's reason; everything else is unchanged.
    pub fn settle(mut self, consecutive_failures: u32) -> Self {
        match self.retry_bound {
            Some(bound)
                if self.class == ErrorClass::Transient
                    && consecutive_failures >= bound.attempts.max(1) =>
            {
                self.class = ErrorClass::Permanent;
                self.reason = bound.reason;
                self.retry_bound = None;
                self.message = format!(
                    "{} (still failing after {consecutive_failures} attempts in a row)",
                    self.message
                );
                self
            }
            _ => self,
        }
    }

    pub fn permanent(
        reason: ErrorReason,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(ErrorClass::Permanent, reason, code, message)
    }

    fn new(
        class: ErrorClass,
        reason: ErrorReason,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ProviderError {
            class,
            reason,
            code: code.into(),
            message: message.into(),
            request_id: None,
            retry_after: None,
            retry_bound: None,
        }
    }

    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id.filter(|r| !r.is_empty());
        self
    }

    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    pub fn is_permanent(&self) -> bool {
        self.class == ErrorClass::Permanent
    }

    /// Whether the provider refused the credential itself (unknown or wrong key,
    /// signature, permission), as opposed to the request.
    pub fn rejects_credentials(&self) -> bool {
        self.is_permanent() && self.reason.rejects_credentials()
    }

    /// One line for status messages and events: code, message and request ID.
    pub fn describe(&self) -> String {
        match &self.request_id {
            Some(id) => format!("{}: {} (request ID {id})", self.code, self.message),
            None => format!("{}: {}", self.code, self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounded_error_is_transient_until_its_bound_then_permanent() {
        let e = || ProviderError::bounded(ErrorReason::ProviderError, 3, "Odd.Code", "odd");
        for n in [0, 1, 2] {
            let s = e().settle(n);
            assert_eq!(s.class, ErrorClass::Transient, "{n}");
            assert_eq!(s, e(), "{n}");
        }
        let stalled = e().settle(3);
        assert_eq!(stalled.class, ErrorClass::Permanent);
        assert_eq!(stalled.reason, ErrorReason::ProviderError);
        assert_eq!(stalled.code, "Odd.Code");
        assert!(stalled.message.starts_with("odd"), "{}", stalled.message);
        let auth = ProviderError::bounded(ErrorReason::AuthenticationFailed, 2, "C", "m").settle(9);
        assert!(auth.rejects_credentials());
        // Unbounded errors are never changed.
        let plain = ProviderError::transient("HTTP 503", "x");
        assert_eq!(plain.clone().settle(1000), plain);
    }

    #[test]
    fn describe_includes_request_id() {
        let e = ProviderError::permanent(
            ErrorReason::AuthenticationFailed,
            "AuthFailure.SignatureFailure",
            "bad sig",
        )
        .with_request_id(Some("req-1".into()));
        assert_eq!(
            e.describe(),
            "AuthFailure.SignatureFailure: bad sig (request ID req-1)"
        );
        assert!(e.is_permanent());
        assert!(!ProviderError::transient("HTTP 503", "x").is_permanent());
        assert_eq!(
            ProviderError::throttled("T", "x").class,
            ErrorClass::Throttled
        );
    }
}
