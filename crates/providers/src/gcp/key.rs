//! A Google Cloud service-account key file, as the token exchange reads it. Its own module so
//! that [`crate::credentials`] (which holds a key) and the token exchange
//! ([`super::token`], used by workload identity) do not depend on each other.

use crate::secret::SecretString;

/// The fields of a Google Cloud service-account key file (`"type": "service_account"`) that
/// the token exchange needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GcpServiceAccountKey {
    pub client_email: String,
    pub private_key_id: String,
    /// The PKCS#8 RSA private key (PEM).
    pub private_key: SecretString,
    pub token_uri: String,
}

/// The token endpoint a key without `token_uri` uses.
pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

impl GcpServiceAccountKey {
    /// Parses a key file. Errors name the problem, never a value from the file.
    pub fn from_json(text: &str) -> Result<Self, String> {
        #[derive(serde::Deserialize)]
        struct KeyFile {
            #[serde(rename = "type")]
            kind: Option<String>,
            client_email: Option<String>,
            private_key_id: Option<String>,
            private_key: Option<String>,
            token_uri: Option<String>,
        }
        let file: KeyFile = serde_json::from_str(text).map_err(|e| {
            // serde_json's message quotes no input text for these errors, but only the
            // position is kept, to be sure nothing of the key leaks.
            format!(
                "not a JSON service-account key (line {}, column {})",
                e.line(),
                e.column()
            )
        })?;
        match file.kind.as_deref() {
            Some("service_account") => {}
            Some(other @ ("authorized_user" | "external_account" | "impersonated_service_account")) => {
                return Err(format!(
                    "a {other:?} credential file is not supported; use a service-account key (\"type\": \"service_account\")"
                ))
            }
            _ => return Err("not a service-account key: \"type\" must be \"service_account\"".into()),
        }
        let required = |value: Option<String>, field: &str| {
            value
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("the service-account key has no {field:?}"))
        };
        let private_key = required(file.private_key, "private_key")?;
        if !private_key.contains("-----BEGIN PRIVATE KEY-----") {
            return Err("the service-account key's \"private_key\" is not a PEM PKCS#8 key".into());
        }
        Ok(GcpServiceAccountKey {
            client_email: required(file.client_email, "client_email")?,
            private_key_id: required(file.private_key_id, "private_key_id")?,
            private_key: SecretString::new(private_key),
            token_uri: file
                .token_uri
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| GOOGLE_TOKEN_URI.to_string()),
        })
    }
}
