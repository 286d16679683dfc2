//! Provider credentials. `Debug` never prints secret material.

use std::collections::BTreeMap;

use clouddb_api::{CredentialsSecretRef, ProviderKind};

use crate::digest::{digest_of, CredentialDigest};
use crate::ErrorReason;

// Defined where the token readers and identity exchanges can use them without depending on
// this module (which names them all in `Credentials`).
pub use crate::gcp::key::{GcpServiceAccountKey, GOOGLE_TOKEN_URI};
pub use crate::secret::SecretString;

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
    /// Alibaba Cloud AccessKey pair, with an STS security token for temporary credentials.
    Alibaba {
        access_key_id: String,
        access_key_secret: SecretString,
        security_token: Option<SecretString>,
    },
    /// AWS access key pair, with an STS session token for temporary credentials.
    Aws {
        access_key_id: String,
        secret_access_key: SecretString,
        session_token: Option<SecretString>,
    },
    /// A Google Cloud service-account key, exchanged for OAuth2 access tokens with a signed
    /// JWT (RFC 7523) at `token_uri`.
    Gcp(GcpServiceAccountKey),
    /// An Azure (Microsoft Entra ID) application's client credentials, exchanged for OAuth2
    /// access tokens at `{authority_host}/{tenant_id}/oauth2/v2.0/token`.
    Azure {
        tenant_id: String,
        client_id: String,
        client_secret: SecretString,
        /// The token host, e.g. `https://login.microsoftonline.com`; `None` for the public
        /// cloud's.
        authority_host: Option<String>,
    },
    /// An OAuth2 access token obtained for the job by workload identity (Azure, Google
    /// Cloud): sent as `Authorization: Bearer`, never exchanged again by the provider.
    Bearer(SecretString),
    /// Workload identity, not yet exchanged: [`crate::identity::FederatedProvider`] turns
    /// it into temporary credentials of the cloud before any provider sees it.
    Federated(crate::identity::workload::FederatedIdentity),
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
    #[error("Secret {name:?} key {key:?}: {reason}")]
    Invalid {
        name: String,
        key: String,
        reason: String,
    },
}

impl Credentials {
    /// The keyed digest of the whole credential, secrets included
    /// ([`crate::digest`]): what anything shared between jobs is keyed by, and how a
    /// changed Secret is told from the one the provider refused, without keeping a copy.
    /// Two credentials that share a key ID but differ in anything else never share a
    /// digest. Never logged or written anywhere.
    pub fn digest(&self) -> CredentialDigest {
        // Tagged tuples of every field; each variant's tag keeps clouds apart.
        match self {
            Credentials::Tencent {
                secret_id,
                secret_key,
                token,
            } => digest_of(&(
                "tencent",
                secret_id,
                secret_key.expose(),
                token.as_ref().map(SecretString::expose),
            )),
            Credentials::HuaweiAkSk { ak, sk } => digest_of(&("huawei-aksk", ak, sk.expose())),
            Credentials::HuaweiToken { token } => digest_of(&("huawei-token", token.expose())),
            Credentials::Alibaba {
                access_key_id,
                access_key_secret,
                security_token,
            } => digest_of(&(
                "alibaba",
                access_key_id,
                access_key_secret.expose(),
                security_token.as_ref().map(SecretString::expose),
            )),
            Credentials::Aws {
                access_key_id,
                secret_access_key,
                session_token,
            } => digest_of(&(
                "aws",
                access_key_id,
                secret_access_key.expose(),
                session_token.as_ref().map(SecretString::expose),
            )),
            Credentials::Gcp(key) => digest_of(&(
                "gcp",
                &key.client_email,
                &key.private_key_id,
                key.private_key.expose(),
                &key.token_uri,
            )),
            Credentials::Azure {
                tenant_id,
                client_id,
                client_secret,
                authority_host,
            } => digest_of(&(
                "azure",
                tenant_id,
                client_id,
                client_secret.expose(),
                authority_host,
            )),
            // The whole identity, namespace and ServiceAccount included.
            Credentials::Federated(identity) => digest_of(&("federated", identity)),
            Credentials::Bearer(token) => digest_of(&("bearer", token.expose())),
        }
    }

    /// Every secret value of these credentials, for [`crate::redact::redact`] to scrub from
    /// anything a server sent back. Key IDs are identifiers, not secrets.
    pub fn secrets(&self) -> Vec<&str> {
        let (secret, token) = match self {
            Credentials::Tencent {
                secret_key, token, ..
            } => (secret_key, token.as_ref()),
            Credentials::HuaweiAkSk { sk, .. } => (sk, None),
            Credentials::HuaweiToken { token } => (token, None),
            Credentials::Alibaba {
                access_key_secret,
                security_token,
                ..
            } => (access_key_secret, security_token.as_ref()),
            Credentials::Aws {
                secret_access_key,
                session_token,
                ..
            } => (secret_access_key, session_token.as_ref()),
            Credentials::Gcp(key) => (&key.private_key, None),
            Credentials::Azure { client_secret, .. } => (client_secret, None),
            // Holds no secret: the token and what it is exchanged for live elsewhere.
            Credentials::Federated(_) => return Vec::new(),
            Credentials::Bearer(token) => (token, None),
        };
        std::iter::once(secret.expose())
            .chain(token.map(SecretString::expose))
            .collect()
    }

    /// The public identifier of these credentials (access key ID, or a digest of a bare
    /// token), e.g. to key client-side rate limits. Never a secret.
    pub fn identity(&self) -> String {
        match self {
            Credentials::Tencent { secret_id: id, .. }
            | Credentials::HuaweiAkSk { ak: id, .. }
            | Credentials::Alibaba {
                access_key_id: id, ..
            }
            | Credentials::Aws {
                access_key_id: id, ..
            } => id.clone(),
            Credentials::Gcp(key) => format!("{}#{}", key.client_email, key.private_key_id),
            Credentials::Azure {
                tenant_id,
                client_id,
                ..
            } => format!("{tenant_id}/{client_id}"),
            Credentials::Federated(identity) => identity.identity(),
            Credentials::HuaweiToken { token } | Credentials::Bearer(token) => {
                use sha2::Digest;
                let digest = sha2::Sha256::digest(token.expose().as_bytes());
                format!("token-sha256:{}", hex::encode(&digest[..8]))
            }
        }
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
            ProviderKind::Alibaba => {
                const EXPECTED: &str = "Alibaba Cloud accessKeyId and accessKeySecret";
                let id_key = secret_ref.secret_id_key.as_deref().unwrap_or("accessKeyId");
                let key_key = secret_ref
                    .secret_key_key
                    .as_deref()
                    .unwrap_or("accessKeySecret");
                let token_key = secret_ref
                    .session_token_key
                    .as_deref()
                    .unwrap_or("securityToken");
                Ok(Credentials::Alibaba {
                    access_key_id: require(id_key, EXPECTED)?,
                    access_key_secret: SecretString::new(require(key_key, EXPECTED)?),
                    security_token: get(token_key)?.map(SecretString::new),
                })
            }
            ProviderKind::Aws => {
                const EXPECTED: &str = "AWS accessKeyId and secretAccessKey";
                let id_key = secret_ref.secret_id_key.as_deref().unwrap_or("accessKeyId");
                let key_key = secret_ref
                    .secret_key_key
                    .as_deref()
                    .unwrap_or("secretAccessKey");
                let token_key = secret_ref
                    .session_token_key
                    .as_deref()
                    .unwrap_or("sessionToken");
                Ok(Credentials::Aws {
                    access_key_id: require(id_key, EXPECTED)?,
                    secret_access_key: SecretString::new(require(key_key, EXPECTED)?),
                    session_token: get(token_key)?.map(SecretString::new),
                })
            }
            ProviderKind::Gcp => {
                const EXPECTED: &str = "a Google Cloud service-account key JSON";
                let key = secret_ref
                    .credentials_json_key
                    .as_deref()
                    .unwrap_or("credentials.json");
                GcpServiceAccountKey::from_json(&require(key, EXPECTED)?)
                    .map(Credentials::Gcp)
                    .map_err(|reason| CredentialsError::Invalid {
                        name: name.clone(),
                        key: key.to_string(),
                        reason,
                    })
            }
            ProviderKind::Azure => {
                const EXPECTED: &str = "Azure tenantId, clientId and clientSecret";
                let id_key = secret_ref.secret_id_key.as_deref().unwrap_or("clientId");
                let key_key = secret_ref
                    .secret_key_key
                    .as_deref()
                    .unwrap_or("clientSecret");
                Ok(Credentials::Azure {
                    tenant_id: require("tenantId", EXPECTED)?,
                    client_id: require(id_key, EXPECTED)?,
                    client_secret: SecretString::new(require(key_key, EXPECTED)?),
                    authority_host: get("authorityHost")?,
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
            ProviderKind::Alibaba => match (
                get("ALIBABA_CLOUD_ACCESS_KEY_ID"),
                get("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
            ) {
                (Some(id), Some(secret)) => Ok(Credentials::Alibaba {
                    access_key_id: id,
                    access_key_secret: SecretString::new(secret),
                    security_token: get("ALIBABA_CLOUD_SECURITY_TOKEN").map(SecretString::new),
                }),
                _ => Err(
                    "set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET".into(),
                ),
            },
            ProviderKind::Aws => match (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) {
                (Some(id), Some(secret)) => Ok(Credentials::Aws {
                    access_key_id: id,
                    secret_access_key: SecretString::new(secret),
                    session_token: get("AWS_SESSION_TOKEN").map(SecretString::new),
                }),
                _ => Err("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into()),
            },
            ProviderKind::Gcp => {
                // The one file read here: the variable names a key file, as for every Google tool.
                let path = get("GOOGLE_APPLICATION_CREDENTIALS")
                    .ok_or("set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file")?;
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    format!("GOOGLE_APPLICATION_CREDENTIALS: cannot read {path:?}: {e}")
                })?;
                GcpServiceAccountKey::from_json(&text)
                    .map(Credentials::Gcp)
                    .map_err(|e| format!("GOOGLE_APPLICATION_CREDENTIALS {path:?}: {e}"))
            }
            ProviderKind::Azure => match (
                get("AZURE_TENANT_ID"),
                get("AZURE_CLIENT_ID"),
                get("AZURE_CLIENT_SECRET"),
            ) {
                (Some(tenant_id), Some(client_id), Some(secret)) => Ok(Credentials::Azure {
                    tenant_id,
                    client_id,
                    client_secret: SecretString::new(secret),
                    authority_host: get("AZURE_AUTHORITY_HOST"),
                }),
                _ => Err("set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET".into()),
            },
        }
    }
}

#[cfg(test)]
#[path = "credentials_tests.rs"]
mod tests;
