//! Signature verification as each provider's gateway does it: TC3-HMAC-SHA256 (Tencent
//! API 3.0), HmacSHA1/HmacSHA256 with nonce replay protection (API 2.0), SDK-HMAC-SHA256 or
//! `X-Auth-Token` (Huawei), ACS3-HMAC-SHA256 with nonce replay protection (Alibaba Cloud, in
//! `auth_alibaba.rs`), SigV4 with STS tokens (AWS, in `auth_aws.rs`), OAuth2 client
//! credentials and bearer tokens (Azure, in `auth_azure.rs`). The signatures are
//! recomputed by [`super::verify`], written from the published algorithms independently of
//! the clients' signing code.
//! Errors carry each provider's own codes; messages never contain secret keys.

use std::collections::{BTreeMap, HashSet, VecDeque};

use super::verify::{huawei as hw, same, tc3, v2};

/// TC3 requests older or newer than this are `AuthFailure.SignatureExpire`.
pub const TC3_WINDOW_SECS: i64 = 5 * 60;
/// API 2.0 requests outside this window are rejected with code 4500.
pub const V2_WINDOW_SECS: i64 = 2 * 3600;
/// Huawei `X-Sdk-Date` must be within this of the server time.
pub const HUAWEI_WINDOW_SECS: i64 = 15 * 60;
/// At most this many API 2.0 nonces are remembered (oldest forgotten first).
pub const NONCE_CAPACITY: usize = 100_000;

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

#[path = "auth_credentials.rs"]
mod credentials;
pub use credentials::{
    default_gcp_key_json, AzureApp, GcpServiceAccount, KeyPair, SimCredentials, TemporaryKey,
    DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET, DEFAULT_AWS_ACCESS_KEY_ID,
    DEFAULT_AWS_SECRET_ACCESS_KEY, DEFAULT_AZURE_CLIENT_ID, DEFAULT_AZURE_CLIENT_SECRET,
    DEFAULT_AZURE_SUBSCRIPTION_ID, DEFAULT_AZURE_TENANT_ID, DEFAULT_GCP_CLIENT_EMAIL,
    DEFAULT_GCP_PRIVATE_KEY, DEFAULT_GCP_PRIVATE_KEY_ID, DEFAULT_GCP_PUBLIC_KEY, DEFAULT_HUAWEI_AK,
    DEFAULT_HUAWEI_SK, DEFAULT_HUAWEI_TOKEN, DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY,
};

#[path = "auth_alibaba.rs"]
mod alibaba;
pub use alibaba::{verify_alibaba, AlibabaError, AlibabaInput, ALIBABA_WINDOW_SECS};

#[path = "auth_aws.rs"]
mod aws;
pub use aws::{verify_aws, verify_aws_service, AwsError, AwsInput, AWS_WINDOW_SECS};

#[path = "auth_azure.rs"]
mod azure;
pub use azure::{
    verify_bearer, verify_token_request, ArmAuthError, AzureTokens, EntraError, TokenRequestInput,
    ARM_SCOPE, DEFAULT_AZURE_TOKEN_LIFETIME,
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
