//! Provider credentials. `Debug` never prints secret material.

use std::collections::BTreeMap;
use std::fmt;

use clouddb_api::{CredentialsSecretRef, ProviderKind};

use crate::ErrorReason;

/// A secret string whose `Debug` and `Display` are redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        SecretString(value.into())
    }
    /// The secret itself: only for signing or an auth header, never for logs or messages.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// Credentials for one provider call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// Tencent Cloud SecretId/SecretKey, with a session token for temporary credentials.
    Tencent {
        /// The SecretId is an identifier, not a secret, but it is still kept out of status.
        secret_id: String,
        secret_key: SecretString,
        token: Option<SecretString>,
    },
    /// Huawei Cloud AK/SK (SDK-HMAC-SHA256 signing).
    HuaweiAkSk { ak: String, sk: SecretString },
    /// Huawei Cloud IAM token (`X-Auth-Token`).
    HuaweiToken { token: SecretString },
}

/// Why credentials could not be read from a Secret. Messages name keys, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    #[error("Secret {name:?} has no key {key:?} (expected {expected})")]
    MissingKey {
        name: String,
        key: String,
        expected: &'static str,
    },
    #[error("Secret {name:?} key {key:?} is not valid UTF-8 text")]
    NotUtf8 { name: String, key: String },
}

impl Credentials {
    /// A process-local digest of the whole credential, secrets included, to tell whether a
    /// Secret changed without keeping a copy of it. Never logged or written anywhere.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        match self {
            Credentials::Tencent {
                secret_id,
                secret_key,
                token,
            } => {
                ("tencent", secret_id, secret_key.expose()).hash(&mut h);
                token.as_ref().map(SecretString::expose).hash(&mut h);
            }
            Credentials::HuaweiAkSk { ak, sk } => ("huawei-aksk", ak, sk.expose()).hash(&mut h),
            Credentials::HuaweiToken { token } => ("huawei-token", token.expose()).hash(&mut h),
        }
        h.finish()
    }

    /// Reads credentials for `provider` from a Secret's decoded `data`.
    pub fn from_secret_data(
        provider: ProviderKind,
        secret_ref: &CredentialsSecretRef,
        data: &BTreeMap<String, Vec<u8>>,
    ) -> Result<Self, CredentialsError> {
        let name = &secret_ref.name;
        let get = |key: &str| -> Result<Option<String>, CredentialsError> {
            match data.get(key) {
                None => Ok(None),
                Some(bytes) => String::from_utf8(bytes.clone())
                    .map(|s| Some(s.trim().to_string()).filter(|s| !s.is_empty()))
                    .map_err(|_| CredentialsError::NotUtf8 {
                        name: name.clone(),
                        key: key.to_string(),
                    }),
            }
        };
        let require = |key: &str, expected: &'static str| -> Result<String, CredentialsError> {
            get(key)?.ok_or_else(|| CredentialsError::MissingKey {
                name: name.clone(),
                key: key.to_string(),
                expected,
            })
        };
        match provider {
            ProviderKind::Tencent | ProviderKind::TencentLegacy => {
                const EXPECTED: &str = "Tencent Cloud SecretId and SecretKey";
                let id_key = secret_ref.secret_id_key.as_deref().unwrap_or("secretId");
                let key_key = secret_ref.secret_key_key.as_deref().unwrap_or("secretKey");
                let token_key = secret_ref.session_token_key.as_deref().unwrap_or("token");
                Ok(Credentials::Tencent {
                    secret_id: require(id_key, EXPECTED)?,
                    secret_key: SecretString::new(require(key_key, EXPECTED)?),
                    token: get(token_key)?.map(SecretString::new),
                })
            }
            ProviderKind::Huawei => {
                const EXPECTED: &str = "Huawei Cloud ak and sk, or an IAM token";
                let token_key = secret_ref.token_key.as_deref().unwrap_or("token");
                let ak_key = secret_ref.ak_key.as_deref().unwrap_or("ak");
                let sk_key = secret_ref.sk_key.as_deref().unwrap_or("sk");
                if let Some(token) = get(token_key)? {
                    return Ok(Credentials::HuaweiToken {
                        token: SecretString::new(token),
                    });
                }
                Ok(Credentials::HuaweiAkSk {
                    ak: require(ak_key, EXPECTED)?,
                    sk: SecretString::new(require(sk_key, EXPECTED)?),
                })
            }
        }
    }

    /// The Tencent SecretId, SecretKey and optional session token, or a permanent error
    /// naming `provider` when these are another provider's credentials.
    pub fn tencent_keys(
        &self,
        provider: &str,
    ) -> Result<(&str, &SecretString, Option<&SecretString>), super::ProviderError> {
        match self {
            Credentials::Tencent {
                secret_id,
                secret_key,
                token,
            } => Ok((secret_id, secret_key, token.as_ref())),
            _ => Err(super::ProviderError::permanent(
                ErrorReason::InvalidRequest,
                "WrongCredentials",
                format!("provider {provider} needs Tencent Cloud SecretId/SecretKey credentials"),
            )),
        }
    }

    /// Reads credentials from the official SDK environment variables (for `track`).
    pub fn from_env(
        provider: ProviderKind,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let get = |k: &str| {
            var(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        match provider {
            ProviderKind::Tencent | ProviderKind::TencentLegacy => {
                match (
                    get("TENCENTCLOUD_SECRET_ID"),
                    get("TENCENTCLOUD_SECRET_KEY"),
                ) {
                    (Some(id), Some(key)) => Ok(Credentials::Tencent {
                        secret_id: id,
                        secret_key: SecretString::new(key),
                        token: get("TENCENTCLOUD_SESSION_TOKEN").map(SecretString::new),
                    }),
                    _ => Err("set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY".into()),
                }
            }
            ProviderKind::Huawei => {
                if let Some(token) = get("HUAWEICLOUD_SDK_TOKEN") {
                    return Ok(Credentials::HuaweiToken {
                        token: SecretString::new(token),
                    });
                }
                match (get("HUAWEICLOUD_SDK_AK"), get("HUAWEICLOUD_SDK_SK")) {
                    (Some(ak), Some(sk)) => Ok(Credentials::HuaweiAkSk {
                        ak,
                        sk: SecretString::new(sk),
                    }),
                    _ => Err(
                        "set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, or HUAWEICLOUD_SDK_TOKEN"
                            .into(),
                    ),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret_ref() -> CredentialsSecretRef {
        CredentialsSecretRef {
            name: "creds".into(),
            secret_id_key: None,
            secret_key_key: None,
            session_token_key: None,
            ak_key: None,
            sk_key: None,
            token_key: None,
        }
    }

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn debug_is_redacted() {
        let creds = Credentials::Tencent {
            secret_id: "AKIDexample".into(),
            secret_key: SecretString::new("super-secret-value"),
            token: Some(SecretString::new("session-secret")),
        };
        let shown = format!("{creds:?}");
        assert!(!shown.contains("super-secret-value"), "{shown}");
        assert!(!shown.contains("session-secret"), "{shown}");
        assert!(shown.contains("[REDACTED]"));
    }

    #[test]
    fn reads_tencent_keys_with_overrides() {
        let mut r = secret_ref();
        r.secret_id_key = Some("id".into());
        let c = Credentials::from_secret_data(
            ProviderKind::Tencent,
            &r,
            &data(&[("id", "AKID1"), ("secretKey", "k\n")]),
        )
        .unwrap();
        assert_eq!(
            c,
            Credentials::Tencent {
                secret_id: "AKID1".into(),
                secret_key: SecretString::new("k"),
                token: None
            }
        );
    }

    #[test]
    fn missing_key_names_the_key_not_the_values() {
        let err = Credentials::from_secret_data(
            ProviderKind::TencentLegacy,
            &secret_ref(),
            &data(&[("secretId", "AKID1")]),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("\"secretKey\""), "{msg}");
        assert!(!msg.contains("AKID1"), "{msg}");
    }

    #[test]
    fn huawei_prefers_token_then_aksk() {
        let token = Credentials::from_secret_data(
            ProviderKind::Huawei,
            &secret_ref(),
            &data(&[("token", "tok"), ("ak", "a"), ("sk", "s")]),
        )
        .unwrap();
        assert!(matches!(token, Credentials::HuaweiToken { .. }));
        let aksk = Credentials::from_secret_data(
            ProviderKind::Huawei,
            &secret_ref(),
            &data(&[("ak", "a"), ("sk", "s")]),
        )
        .unwrap();
        assert!(matches!(aksk, Credentials::HuaweiAkSk { .. }));
        assert!(
            Credentials::from_secret_data(ProviderKind::Huawei, &secret_ref(), &data(&[])).is_err()
        );
    }

    #[test]
    fn env_credentials() {
        let env = |k: &str| match k {
            "HUAWEICLOUD_SDK_AK" => Some("ak".to_string()),
            "HUAWEICLOUD_SDK_SK" => Some("sk".to_string()),
            _ => None,
        };
        assert!(matches!(
            Credentials::from_env(ProviderKind::Huawei, env),
            Ok(Credentials::HuaweiAkSk { .. })
        ));
        assert!(Credentials::from_env(ProviderKind::Tencent, env).is_err());
    }
}
