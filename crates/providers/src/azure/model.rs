//! Lenient serde types for the Azure-AsyncOperation status body, ARM error bodies and the
//! Microsoft Entra ID token endpoint's answers.
//!
//! Every field is optional and tolerant of type drift (`percentComplete` as a float, an
//! integer or text; `expires_in` as a number or a string, as different Entra endpoints send
//! it): one odd field must not make a whole answer unreadable.

use serde::Deserialize;

use crate::decode::{lenient_f64, lenient_i64, lenient_object, lenient_string};

/// `GET .../azureAsyncOperation/{id}`: the status of one long-running operation.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AsyncOperation {
    /// The operation's ARM path.
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    /// Usually the operation ID itself (a GUID), not an operation type.
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    /// `InProgress`, `Succeeded`, `Failed`, `Canceled`; resource providers add their own
    /// non-terminal values (`CancelInProgress`, `Accepted`, ...).
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub start_time: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub end_time: Option<String>,
    /// Optional, 0-100, may be a float.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub percent_complete: Option<f64>,
    #[serde(default, deserialize_with = "lenient_object")]
    pub error: Option<ErrorDetail>,
}

/// ARM's error detail: `{code, message, target?, details?[]}` (also the `error` of an ARM
/// error response body).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ErrorDetail {
    #[serde(default, deserialize_with = "lenient_string")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub message: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub target: Option<String>,
    /// Nested details; entries that are not objects are dropped.
    #[serde(default, deserialize_with = "lenient_details")]
    pub details: Vec<ErrorDetail>,
}

/// An ARM error response: `{"error": {...}}`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ArmErrorBody {
    #[serde(default, deserialize_with = "lenient_object")]
    pub error: Option<ErrorDetail>,
}

/// A successful token answer. `Debug` is derived on purpose only for the fields that are
/// not secret: the token itself is read straight into a `SecretString` by the caller.
#[derive(Clone, Default, Deserialize, PartialEq)]
pub struct TokenAnswer {
    #[serde(default, deserialize_with = "lenient_string")]
    pub token_type: Option<String>,
    /// Seconds; a number or a numeric string.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub expires_in: Option<i64>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub access_token: Option<String>,
}

impl std::fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

/// A token endpoint refusal (RFC 6749 section 5.2 plus Entra's extras).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct TokenError {
    /// `invalid_client`, `unauthorized_client`, `invalid_request`, `invalid_grant`, ...
    #[serde(default, deserialize_with = "lenient_string")]
    pub error: Option<String>,
    /// `AADSTS7000215: Invalid client secret provided. ...`
    #[serde(default, deserialize_with = "lenient_string")]
    pub error_description: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub trace_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub correlation_id: Option<String>,
}

fn lenient_details<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ErrorDetail>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Array(items)) => items
            .into_iter()
            .filter(serde_json::Value::is_object)
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect(),
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_drift_without_losing_the_operation() {
        let op: AsyncOperation = serde_json::from_value(json!({
            "name": 7, "status": "InProgress", "percentComplete": "42.5",
            "startTime": null, "error": "not an object"
        }))
        .unwrap();
        assert_eq!(op.name.as_deref(), Some("7"));
        assert_eq!(op.percent_complete, Some(42.5));
        assert_eq!(op.start_time, None);
        assert_eq!(op.error, None);
        let op: AsyncOperation = serde_json::from_value(json!({
            "status": "Failed",
            "error": {"code": "X", "details": [{"code": "Y", "message": "m"}, 5]}
        }))
        .unwrap();
        let error = op.error.unwrap();
        assert_eq!(error.details.len(), 1);
        assert_eq!(error.details[0].code.as_deref(), Some("Y"));
    }

    #[test]
    fn expires_in_is_a_number_or_a_string_and_debug_hides_the_token() {
        for raw in [json!(3599), json!("3599")] {
            let answer: TokenAnswer = serde_json::from_value(
                json!({"token_type": "Bearer", "expires_in": raw, "access_token": "sekrit"}),
            )
            .unwrap();
            assert_eq!(answer.expires_in, Some(3599));
            assert!(!format!("{answer:?}").contains("sekrit"));
        }
    }
}
