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

/// A failed provider call. `message` must never contain credentials.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ProviderError {
    pub class: ErrorClass,
    /// CamelCase reason written to `status.reason` for permanent errors, e.g.
    /// `AuthenticationFailed`, `InvalidRequest`, `JobNotFound`, `ProviderError`.
    pub reason: &'static str,
    /// The provider's error code (e.g. `AuthFailure.SignatureFailure`, `4100`, `DBS.200022`,
    /// `HTTP 503`, `Timeout`).
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// Provider request ID, for support cases.
    pub request_id: Option<String>,
    /// Server-advised delay before retrying (throttling).
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    pub fn transient(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Transient, "ProviderError", code, message)
    }

    pub fn throttled(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Throttled, "Throttled", code, message)
    }

    pub fn permanent(
        reason: &'static str,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(ErrorClass::Permanent, reason, code, message)
    }

    fn new(
        class: ErrorClass,
        reason: &'static str,
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
        self.is_permanent()
            && matches!(
                self.reason,
                "AuthenticationFailed" | "Unauthorized" | "AccessDenied"
            )
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
    fn describe_includes_request_id() {
        let e = ProviderError::permanent(
            "AuthenticationFailed",
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
