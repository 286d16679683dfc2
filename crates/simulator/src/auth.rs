//! Signature verification as each provider's gateway does it: TC3-HMAC-SHA256 (Tencent
//! API 3.0), HmacSHA1/HmacSHA256 with nonce replay protection (API 2.0), SDK-HMAC-SHA256 or
//! `X-Auth-Token` (Huawei), ACS3-HMAC-SHA256 with nonce replay protection (Alibaba Cloud, in
//! `auth_alibaba.rs`), SigV4 with STS tokens (AWS, in `auth_aws.rs`), OAuth2 client
//! credentials and bearer tokens (Azure, in `auth_azure.rs`). The signatures are
//! recomputed by [`super::verify`], written from the published algorithms independently of
//! the clients' signing code.
//! Errors carry each provider's own codes; messages never contain secret keys.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::verify::{huawei as hw, same, tc3, v2};

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

/// TC3 requests older or newer than this are `AuthFailure.SignatureExpire`.
pub const TC3_WINDOW_SECS: i64 = 5 * 60;
/// API 2.0 requests outside this window are rejected with code 4500.
pub const V2_WINDOW_SECS: i64 = 2 * 3600;
/// Huawei `X-Sdk-Date` must be within this of the server time.
pub const HUAWEI_WINDOW_SECS: i64 = 15 * 60;
/// At most this many API 2.0 nonces are remembered (oldest forgotten first).
pub const NONCE_CAPACITY: usize = 100_000;

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

fn find<'a>(pairs: &'a [KeyPair], id: &str) -> Option<&'a str> {
    pairs.iter().find(|p| p.id == id).map(|p| p.secret.as_str())
}

/// A Tencent API 3.0 error (`Response.Error.Code/Message`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TencentError {
    pub code: &'static str,
    pub message: String,
}

fn tc_err(code: &'static str, message: impl Into<String>) -> TencentError {
    TencentError {
        code,
        message: message.into(),
    }
}

/// The parts of an API 3.0 request the TC3 check reads.
#[derive(Clone, Copy, Debug)]
pub struct Tc3Input<'a> {
    pub authorization: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    /// The Host header as sent (with the port).
    pub host: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// Verifies a TC3-HMAC-SHA256 request for service `cdb` at server time `now` (seconds).
pub fn verify_tc3(
    creds: &SimCredentials,
    req: &Tc3Input<'_>,
    now: i64,
) -> Result<(), TencentError> {
    let header = req.authorization.ok_or_else(|| {
        tc_err(
            "AuthFailure.InvalidAuthorization",
            "Authorization header is missing",
        )
    })?;
    let parsed = tc3::parse_authorization(header).ok_or_else(|| {
        tc_err(
            "AuthFailure.InvalidAuthorization",
            "Authorization header is not a TC3-HMAC-SHA256 authorization",
        )
    })?;
    let ts_text = req
        .timestamp
        .ok_or_else(|| tc_err("MissingParameter", "The request is missing X-TC-Timestamp"))?;
    let timestamp: i64 = ts_text.trim().parse().map_err(|_| {
        tc_err(
            "InvalidParameterValue",
            format!("X-TC-Timestamp {ts_text:?} is not a Unix timestamp"),
        )
    })?;
    let secret = find(&creds.tencent, &parsed.secret_id).ok_or_else(|| {
        tc_err(
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found, please ensure that your SecretId is correct.",
        )
    })?;
    if timestamp.abs_diff(now) > TC3_WINDOW_SECS.unsigned_abs() {
        return Err(tc_err(
            "AuthFailure.SignatureExpire",
            format!("Signature expired. Timestamp {timestamp}; server time {now}; the allowed skew is 5 minutes."),
        ));
    }
    if parsed.service != "cdb" || Some(parsed.date.as_str()) != tc3::utc_date(timestamp).as_deref()
    {
        return Err(tc_err(
            "AuthFailure.SignatureFailure",
            "The credential scope (date/service) does not match the request.",
        ));
    }
    if parsed.signed_headers != ["content-type", "host"] {
        return Err(tc_err(
            "AuthFailure.SignatureFailure",
            "The simulator verifies SignedHeaders=content-type;host only.",
        ));
    }
    let headers = [
        ("content-type", req.content_type.unwrap_or("")),
        ("host", req.host.unwrap_or("")),
    ];
    let expected = tc3::signature(
        secret,
        &tc3::Request {
            method: "POST",
            query: "",
            headers: &headers,
            payload: req.body,
            service: "cdb",
            timestamp,
        },
    );
    if !expected.is_some_and(|expected| same(&expected, &parsed.signature)) {
        return Err(tc_err(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
        ));
    }
    Ok(())
}

/// An API 2.0 error (`{code, message, codeDesc}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyError {
    pub code: i64,
    pub code_desc: &'static str,
    pub message: String,
}

fn v2_err(code: i64, code_desc: &'static str, message: impl Into<String>) -> LegacyError {
    LegacyError {
        code,
        code_desc,
        message: message.into(),
    }
}

/// Remembers API 2.0 nonces inside the replay window, with bounded memory.
#[derive(Debug, Default)]
pub struct NonceCache {
    seen: HashSet<(String, String)>,
    order: VecDeque<(i64, (String, String))>,
}

impl NonceCache {
    /// Records a nonce; `false` when it was already used inside the window.
    pub fn insert(&mut self, secret_id: &str, nonce: &str, now: i64) -> bool {
        while let Some((at, _)) = self.order.front() {
            if now - at <= V2_WINDOW_SECS && self.order.len() < NONCE_CAPACITY {
                break;
            }
            if let Some((_, key)) = self.order.pop_front() {
                self.seen.remove(&key);
            }
        }
        let key = (secret_id.to_string(), nonce.to_string());
        if !self.seen.insert(key.clone()) {
            return false;
        }
        self.order.push_back((now, key));
        true
    }

    /// Forgets every nonce.
    pub fn clear(&mut self) {
        self.seen.clear();
        self.order.clear();
    }
}

/// Verifies an API 2.0 request: `params` are the decoded query pairs, `host` the Host
/// header as sent. The nonce is recorded only for a correctly signed request.
pub fn verify_v2(
    creds: &SimCredentials,
    method: &str,
    host: &str,
    path: &str,
    params: &[(String, String)],
    now: i64,
    nonces: &mut NonceCache,
) -> Result<(), LegacyError> {
    let map: BTreeMap<String, String> = params.iter().cloned().collect();
    for name in [
        "Action",
        "Region",
        "Timestamp",
        "Nonce",
        "SecretId",
        "Signature",
    ] {
        if map.get(name).is_none_or(|v| v.is_empty()) {
            return Err(v2_err(
                4000,
                "MissingParameter",
                format!("(4000) missing parameter {name}"),
            ));
        }
    }
    let get = |k: &str| map.get(k).map(String::as_str).unwrap_or("");
    let secret = find(&creds.tencent, get("SecretId"))
        .ok_or_else(|| v2_err(4104, "AuthFailure", "(4104) SecretId not found"))?;
    let timestamp: i64 = get("Timestamp").parse().map_err(|_| {
        v2_err(
            4000,
            "InvalidParameter",
            "(4000) Timestamp is not an integer",
        )
    })?;
    if timestamp.abs_diff(now) > V2_WINDOW_SECS.unsigned_abs() {
        return Err(v2_err(
            4500,
            "RequestReplay",
            "(4500) Timestamp is more than 2 hours from server time",
        ));
    }
    let hash = v2::hash_for(map.get("SignatureMethod").map(String::as_str));
    let pairs: Vec<(String, String)> = map.clone().into_iter().collect();
    let expected = v2::signature(secret, hash, &v2::source(method, host, path, &pairs));
    if !same(&expected, get("Signature")) {
        return Err(v2_err(
            4100,
            "AuthFailure",
            "(4100) signature verification failed",
        ));
    }
    if !nonces.insert(get("SecretId"), get("Nonce"), now) {
        return Err(v2_err(
            4500,
            "RequestReplay",
            "(4500) Nonce was already used",
        ));
    }
    Ok(())
}

/// A Huawei gateway error (`{error_code, error_msg}` with an HTTP status).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HuaweiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

fn hw_err(message: impl Into<String>) -> HuaweiError {
    HuaweiError {
        status: 401,
        code: "APIGW.0301",
        message: format!(
            "Incorrect IAM authentication information: {}",
            message.into()
        ),
    }
}

/// The parts of a Huawei request the check reads. `headers` are all request headers.
#[derive(Clone, Copy, Debug)]
pub struct HuaweiInput<'a> {
    pub method: &'a str,
    /// Decoded path.
    pub path: &'a str,
    /// Decoded query pairs.
    pub query: &'a [(String, String)],
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
}

/// Verifies `X-Auth-Token` or an SDK-HMAC-SHA256 signature at server time `now`.
pub fn verify_huawei(
    creds: &SimCredentials,
    req: &HuaweiInput<'_>,
    now: i64,
) -> Result<(), HuaweiError> {
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(token) = header("x-auth-token") {
        return if creds.huawei_tokens.iter().any(|t| same(t, token)) {
            Ok(())
        } else {
            Err(hw_err("verify token failed"))
        };
    }
    let auth = header("authorization").ok_or_else(|| hw_err("Authorization not found"))?;
    let parsed =
        hw::parse_authorization(auth).ok_or_else(|| hw_err("unsupported Authorization"))?;
    let secret =
        find(&creds.huawei, &parsed.access).ok_or_else(|| hw_err("access key not found"))?;
    let date_text = header("x-sdk-date").ok_or_else(|| hw_err("X-Sdk-Date not found"))?;
    let date = hw::parse_sdk_date(date_text)
        .ok_or_else(|| hw_err("X-Sdk-Date is not YYYYMMDDTHHMMSSZ"))?;
    if date.abs_diff(now) > HUAWEI_WINDOW_SECS.unsigned_abs() {
        return Err(hw_err("verify aksk signature fail, X-Sdk-Date expired"));
    }
    if !parsed.signed_headers.iter().any(|h| h == "x-sdk-date") {
        return Err(hw_err("x-sdk-date must be signed"));
    }
    let mut signed = Vec::with_capacity(parsed.signed_headers.len());
    for name in &parsed.signed_headers {
        let value =
            header(name).ok_or_else(|| hw_err(format!("signed header {name} not found")))?;
        signed.push((name.clone(), value.to_string()));
    }
    let request = hw::Request {
        method: req.method,
        path: req.path,
        query: req.query,
        headers: &signed,
        body: req.body,
    };
    let expected = hw::signature(secret, &request, date_text);
    if !same(&expected, &parsed.signature) {
        return Err(hw_err("verify aksk signature fail"));
    }
    Ok(())
}

#[path = "auth_alibaba.rs"]
mod alibaba;
pub use alibaba::{verify_alibaba, AlibabaError, AlibabaInput, ALIBABA_WINDOW_SECS};

#[path = "auth_aws.rs"]
mod aws;
pub use aws::{verify_aws, AwsError, AwsInput, AWS_WINDOW_SECS};

#[path = "auth_azure.rs"]
mod azure;
pub use azure::{
    verify_bearer, verify_token_request, ArmAuthError, AzureApp, AzureTokens, EntraError,
    TokenRequestInput, ARM_SCOPE, DEFAULT_AZURE_TOKEN_LIFETIME,
};

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "auth_aws_tests.rs"]
mod aws_tests;

#[path = "auth_gcp.rs"]
mod gcp;
pub use gcp::{
    verify_jwt_bearer, GcpTokenError, GcpTokenStore, IssuedToken, TokenCheck, GCP_ACCEPTED_SCOPES,
    GCP_JWT_LEEWAY_SECS, GCP_MAX_JWT_LIFETIME_SECS,
};
