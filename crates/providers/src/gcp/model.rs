//! Lenient serde types for the Cloud SQL Admin API v1 `Operation`, Google's JSON error
//! body, and the OAuth2 token endpoint's answers.
//!
//! Every field is optional and tolerant of type drift (a number where text was expected, a
//! `null`, an `errors` that is one object instead of a list): one odd field must not make a
//! whole operation unreadable.

use serde::Deserialize;

use crate::decode::{lenient_i64, lenient_object, lenient_string, one_or_many_lenient};

/// `sql#operation`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    #[serde(default, deserialize_with = "lenient_string")]
    pub kind: Option<String>,
    /// The operation ID (what `spec.jobId` names).
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    /// `SQL_OPERATION_STATUS_UNSPECIFIED`, `PENDING`, `RUNNING`, `DONE`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    /// `IMPORT`, `EXPORT`, `CREATE`, `UPDATE`, `RESTART`, `BACKUP_VOLUME`, ...
    #[serde(default, deserialize_with = "lenient_string")]
    pub operation_type: Option<String>,
    /// RFC 3339 (`2026-11-29T10:00:00.123Z`).
    #[serde(default, deserialize_with = "lenient_string")]
    pub insert_time: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub start_time: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub end_time: Option<String>,
    /// The instance the operation acts on.
    #[serde(default, deserialize_with = "lenient_string")]
    pub target_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub target_project: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub target_link: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub self_link: Option<String>,
    /// The email address of whoever started the operation.
    #[serde(default, deserialize_with = "lenient_string")]
    pub user: Option<String>,
    /// Present (with `errors[]`) on a failed `DONE` operation.
    #[serde(default, deserialize_with = "lenient_object")]
    pub error: Option<OperationErrors>,
    /// A warning about the operation (e.g. a deprecated flag), free-form.
    #[serde(default, deserialize_with = "lenient_object")]
    pub api_warning: Option<ApiWarning>,
}

/// `sql#operationErrors`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct OperationErrors {
    #[serde(default, deserialize_with = "lenient_string")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "one_or_many_lenient")]
    pub errors: Vec<OperationError>,
}

/// `sql#operationError`: codes can be as bare as `UNKNOWN`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct OperationError {
    #[serde(default, deserialize_with = "lenient_string")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub message: Option<String>,
}

/// `apiWarning`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ApiWarning {
    #[serde(default, deserialize_with = "lenient_string")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub message: Option<String>,
}

/// Google's error body: `{"error": {"code": 404, "message": "...", "status": "NOT_FOUND",
/// "errors": [{"reason": "...", "message": "..."}]}}`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct GoogleErrorBody {
    #[serde(default, deserialize_with = "lenient_object")]
    pub error: Option<GoogleError>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct GoogleError {
    #[serde(default, deserialize_with = "lenient_i64")]
    pub code: Option<i64>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub message: Option<String>,
    /// The canonical code: `UNAUTHENTICATED`, `PERMISSION_DENIED`, `NOT_FOUND`, ...
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "one_or_many_lenient")]
    pub errors: Vec<GoogleErrorItem>,
}

/// One entry of the legacy `errors[]` list (`reason`: `notAuthorized`, `rateLimitExceeded`, ...).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct GoogleErrorItem {
    #[serde(default, deserialize_with = "lenient_string")]
    pub reason: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub message: Option<String>,
}

/// The token endpoint's success answer.
#[derive(Clone, Default, Deserialize, PartialEq)]
pub struct TokenResponse {
    #[serde(default, deserialize_with = "lenient_string")]
    pub access_token: Option<String>,
    /// Seconds.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub expires_in: Option<i64>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub token_type: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("expires_in", &self.expires_in)
            .field("token_type", &self.token_type)
            .finish()
    }
}

/// The token endpoint's refusal (RFC 6749 §5.2): `{"error": "invalid_grant",
/// "error_description": "Invalid JWT Signature."}`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct OAuthError {
    #[serde(default, deserialize_with = "lenient_string")]
    pub error: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub error_description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_failed_operation_with_drifting_fields() {
        let op: Operation = serde_json::from_value(json!({
            "kind": "sql#operation", "name": 42, "status": "DONE", "operationType": "IMPORT",
            "targetId": "orders", "user": null,
            "error": {"kind": "sql#operationErrors",
                      "errors": {"kind": "sql#operationError", "code": "ERROR_RDBMS", "message": "bad"}},
            "apiWarning": "not an object"
        }))
        .unwrap();
        assert_eq!(op.name.as_deref(), Some("42"));
        assert_eq!(op.user, None);
        assert_eq!(op.api_warning, None);
        let errors = op.error.unwrap().errors;
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code.as_deref(), Some("ERROR_RDBMS"));
    }

    #[test]
    fn odd_error_lists_are_kept_where_they_fit() {
        let op: Operation = serde_json::from_value(json!({
            "error": {"errors": [{"code": "UNKNOWN"}, "text", null, {"message": 7}]}
        }))
        .unwrap();
        let errors = op.error.unwrap().errors;
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[1].message.as_deref(), Some("7"));
        let op: Operation = serde_json::from_value(json!({"error": {"errors": "x"}})).unwrap();
        assert!(op.error.unwrap().errors.is_empty());
    }

    #[test]
    fn the_token_response_hides_the_token_in_debug() {
        let t: TokenResponse = serde_json::from_value(
            json!({"access_token": "ya29.secret", "expires_in": "3599", "token_type": "Bearer"}),
        )
        .unwrap();
        assert_eq!(t.expires_in, Some(3599));
        assert!(!format!("{t:?}").contains("ya29"));
    }
}
