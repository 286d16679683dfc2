//! The credentials the simulator accepts ([`SimCredentials`]) and its documented built-in
//! ones (public on purpose: they only open the simulator). A file of its own: the verifiers
//! of every provider (`auth.rs`, `auth_azure.rs`, ...) read these records, and the records
//! include an Azure application and a Google service account.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Default Tencent SecretId accepted by the simulator (used by `demo`).
pub const DEFAULT_TENCENT_SECRET_ID: &str = "AKIDSIMULATOR0000000000000000000000";
/// Default Tencent SecretKey (public: it only opens the simulator).
pub const DEFAULT_TENCENT_SECRET_KEY: &str = "SimulatorSecretKey00000000000000";
/// Default Huawei access key.
pub const DEFAULT_HUAWEI_AK: &str = "SIMULATORAK000000000";
/// Default Huawei secret key (public: it only opens the simulator).
pub const DEFAULT_HUAWEI_SK: &str = "SimulatorSecretAccessKey0000000000000000";
/// Default Huawei IAM token.
pub const DEFAULT_HUAWEI_TOKEN: &str = "simulator-iam-token";
/// Default Alibaba Cloud AccessKey ID.
pub const DEFAULT_ALIBABA_ACCESS_KEY_ID: &str = "LTAISIMULATOR00000000000";
/// Default Alibaba Cloud AccessKey secret (public: it only opens the simulator).
pub const DEFAULT_ALIBABA_ACCESS_KEY_SECRET: &str = "SimulatorAccessKeySecret000000";
/// Default AWS access key ID.
pub const DEFAULT_AWS_ACCESS_KEY_ID: &str = "AKIASIMULATOR0000000";
/// Default AWS secret access key (public: it only opens the simulator).
pub const DEFAULT_AWS_SECRET_ACCESS_KEY: &str = "SimulatorSecretAccessKey/0000000000000000";

/// Default Azure (Microsoft Entra ID) tenant the simulator's token endpoint serves.
pub const DEFAULT_AZURE_TENANT_ID: &str = "5a1e0000-0000-4000-8000-00000000a2e0";
/// Default Azure application (client) ID.
pub const DEFAULT_AZURE_CLIENT_ID: &str = "5a1e0000-0000-4000-8000-00000000c11e";
/// Default Azure client secret (public: it only opens the simulator).
pub const DEFAULT_AZURE_CLIENT_SECRET: &str = "Sim~AzureClientSecret.0000000000000000";
/// A subscription for demos and examples (the simulator serves any well-formed one).
pub const DEFAULT_AZURE_SUBSCRIPTION_ID: &str = "5a1e0000-0000-4000-8000-000000005ab0";
/// Default Google service account of the simulator (`client_email`).
pub const DEFAULT_GCP_CLIENT_EMAIL: &str =
    "clouddb-simulator@simulator-project.iam.gserviceaccount.com";
/// Default Google service-account key ID (`private_key_id`, the JWT's `kid`).
pub const DEFAULT_GCP_PRIVATE_KEY_ID: &str = "clouddb-simulator-key-0001";
/// The default service account's RSA private key, PKCS#8 PEM (public on purpose: it only
/// opens the simulator; see `keys/README.md`).
pub const DEFAULT_GCP_PRIVATE_KEY: &str = include_str!("keys/gcp-simulator-key.pem");
/// Its public half (PKCS#1 `RSA PUBLIC KEY` PEM), what the simulator verifies JWTs with.
pub const DEFAULT_GCP_PUBLIC_KEY: &str = include_str!("keys/gcp-simulator-public-key.pem");

/// The default service-account key file for a simulator at `base_url` (its `token_uri`
/// points at the simulator's `/token`), as `demo`, `track` and the tests hand it out.
pub fn default_gcp_key_json(base_url: &str) -> String {
    serde_json::json!({
        "type": "service_account",
        "project_id": "simulator-project",
        "private_key_id": DEFAULT_GCP_PRIVATE_KEY_ID,
        "private_key": DEFAULT_GCP_PRIVATE_KEY,
        "client_email": DEFAULT_GCP_CLIENT_EMAIL,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": format!("{}/token", base_url.trim_end_matches('/')),
    })
    .to_string()
}

/// An id/secret pair. `Debug` hides the secret.
#[derive(Deserialize, Serialize, Clone, PartialEq, Eq)]
pub struct KeyPair {
    pub id: String,
    pub secret: String,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("id", &self.id)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

/// A temporary (STS) credential: requests signed with its key must carry its token.
#[derive(Deserialize, Serialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemporaryKey {
    pub id: String,
    pub secret: String,
    pub token: String,
}

impl fmt::Debug for TemporaryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemporaryKey")
            .field("id", &self.id)
            .field("secret", &"[REDACTED]")
            .field("token", &"[REDACTED]")
            .finish()
    }
}

/// The credentials the simulator accepts.
#[derive(Deserialize, Serialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimCredentials {
    /// Tencent SecretId/SecretKey pairs (both API 3.0 and 2.0).
    #[serde(default)]
    pub tencent: Vec<KeyPair>,
    /// Huawei AK/SK pairs.
    #[serde(default)]
    pub huawei: Vec<KeyPair>,
    /// Huawei IAM tokens accepted in `X-Auth-Token`.
    #[serde(default)]
    pub huawei_tokens: Vec<String>,
    /// Alibaba Cloud AccessKey pairs (ACS3-HMAC-SHA256).
    #[serde(default)]
    pub alibaba: Vec<KeyPair>,
    /// Alibaba Cloud STS credentials (`x-acs-security-token`).
    #[serde(default)]
    pub alibaba_temporary: Vec<TemporaryKey>,
    /// AWS access key pairs (SigV4).
    #[serde(default)]
    pub aws: Vec<KeyPair>,
    /// AWS STS credentials (`X-Amz-Security-Token`).
    #[serde(default)]
    pub aws_temporary: Vec<TemporaryKey>,
    /// Azure applications (client credentials) the token endpoint accepts.
    #[serde(default)]
    pub azure: Vec<AzureApp>,
    /// Google service accounts whose signed JWTs the token endpoint accepts.
    #[serde(default)]
    pub gcp: Vec<GcpServiceAccount>,
}

/// A Google service account as the token endpoint knows it: its public key only.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GcpServiceAccount {
    pub client_email: String,
    pub private_key_id: String,
    /// PKCS#1 `RSA PUBLIC KEY` PEM.
    pub public_key_pem: String,
}

impl fmt::Debug for SimCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimCredentials")
            .field("tencent", &self.tencent)
            .field("huawei", &self.huawei)
            .field(
                "huawei_tokens",
                &format!("[{} REDACTED]", self.huawei_tokens.len()),
            )
            .field("alibaba", &self.alibaba)
            .field("alibaba_temporary", &self.alibaba_temporary)
            .field("aws", &self.aws)
            .field("aws_temporary", &self.aws_temporary)
            .field("azure", &self.azure)
            .field("gcp", &self.gcp)
            .finish()
    }
}

impl Default for SimCredentials {
    /// The documented built-in credentials.
    fn default() -> Self {
        SimCredentials {
            tencent: vec![KeyPair {
                id: DEFAULT_TENCENT_SECRET_ID.into(),
                secret: DEFAULT_TENCENT_SECRET_KEY.into(),
            }],
            huawei: vec![KeyPair {
                id: DEFAULT_HUAWEI_AK.into(),
                secret: DEFAULT_HUAWEI_SK.into(),
            }],
            huawei_tokens: vec![DEFAULT_HUAWEI_TOKEN.into()],
            alibaba: vec![KeyPair {
                id: DEFAULT_ALIBABA_ACCESS_KEY_ID.into(),
                secret: DEFAULT_ALIBABA_ACCESS_KEY_SECRET.into(),
            }],
            alibaba_temporary: Vec::new(),
            aws: vec![KeyPair {
                id: DEFAULT_AWS_ACCESS_KEY_ID.into(),
                secret: DEFAULT_AWS_SECRET_ACCESS_KEY.into(),
            }],
            aws_temporary: Vec::new(),
            azure: vec![AzureApp {
                tenant_id: DEFAULT_AZURE_TENANT_ID.into(),
                client_id: DEFAULT_AZURE_CLIENT_ID.into(),
                client_secret: DEFAULT_AZURE_CLIENT_SECRET.into(),
            }],
            gcp: vec![GcpServiceAccount {
                client_email: DEFAULT_GCP_CLIENT_EMAIL.into(),
                private_key_id: DEFAULT_GCP_PRIVATE_KEY_ID.into(),
                public_key_pem: DEFAULT_GCP_PUBLIC_KEY.into(),
            }],
        }
    }
}

/// An application's client credentials. `Debug` hides the secret.
#[derive(Deserialize, Serialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AzureApp {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
}

impl fmt::Debug for AzureApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureApp")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .finish()
    }
}
