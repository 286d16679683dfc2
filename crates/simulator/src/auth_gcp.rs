//! Google's OAuth2 token endpoint for service accounts (RFC 7523 JWT-bearer grant) and the
//! bearer-token check of the Cloud SQL Admin API, as Google documents and answers them.
//!
//! The JWT is verified here with code independent of the client's signer: the header and
//! claims are decoded and checked field by field (`alg`, `kid`, `iss`, `aud`, `scope`,
//! `iat`, `exp`), and the RS256 signature is checked with `ring`'s
//! `RSA_PKCS1_2048_8192_SHA256` verifier against the account's public key (the client signs
//! with the private key through a different `ring` API). Refusals carry Google's error
//! codes and descriptions; none quotes the assertion.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use serde_json::Value;

use super::{GcpServiceAccount, SimCredentials};

/// The grant type the token endpoint serves.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Google accepts an assertion valid for at most an hour.
pub const GCP_MAX_JWT_LIFETIME_SECS: i64 = 3600;
/// Clock difference tolerated on `iat` and `exp`.
pub const GCP_JWT_LEEWAY_SECS: i64 = 300;
/// Scopes that allow the Cloud SQL Admin API.
pub const GCP_ACCEPTED_SCOPES: &[&str] = &[
    "https://www.googleapis.com/auth/sqlservice.admin",
    "https://www.googleapis.com/auth/cloud-platform",
];
/// Most live tokens remembered (expired ones are swept first).
const MAX_TOKENS: usize = 100_000;

/// A token-endpoint refusal: `{"error", "error_description"}` with an HTTP status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GcpTokenError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

fn refuse(status: u16, error: &'static str, description: impl Into<String>) -> GcpTokenError {
    GcpTokenError {
        status,
        error,
        description: description.into(),
    }
}

fn invalid_grant(description: impl Into<String>) -> GcpTokenError {
    refuse(400, "invalid_grant", description)
}

const SHORT_LIVED: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a \
                           reasonable timeframe. Check your iat and exp values in the JWT claim.";

/// What a verified assertion grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedGrant {
    pub client_email: String,
    pub scopes: Vec<String>,
}

fn decode_part(part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .filter(Value::is_object)
}

/// The RSA public key (PKCS#1 DER) of a PEM `RSA PUBLIC KEY` block.
pub fn public_key_der(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

/// Verifies a token request's form body at server time `now` (Unix seconds) for a server
/// reached as `host` (the `aud` must be `<scheme>://<host>/token`).
pub fn verify_jwt_bearer(
    creds: &SimCredentials,
    form: &[(String, String)],
    host: &str,
    now: i64,
) -> Result<VerifiedGrant, GcpTokenError> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match field("grant_type") {
        Some(JWT_BEARER) => {}
        Some(other) => {
            return Err(refuse(
                400,
                "unsupported_grant_type",
                format!("Invalid grant_type: {other}"),
            ))
        }
        None => {
            return Err(refuse(
                400,
                "invalid_request",
                "Missing required parameter: grant_type",
            ))
        }
    }
    let assertion = field("assertion")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            refuse(
                400,
                "invalid_request",
                "Missing required parameter: assertion",
            )
        })?;
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header_b64, claims_b64, signature_b64] = parts.as_slice() else {
        return Err(invalid_grant(
            "Invalid JWT: malformed (expected three parts)",
        ));
    };
    let (Some(header), Some(claims)) = (decode_part(header_b64), decode_part(claims_b64)) else {
        return Err(invalid_grant("Invalid JWT: malformed header or claims"));
    };
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(invalid_grant(
            "Invalid JWT: unsupported algorithm (expected RS256)",
        ));
    }
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let account: &GcpServiceAccount = creds
        .gcp
        .iter()
        .find(|a| a.client_email == iss)
        .ok_or_else(|| invalid_grant("Invalid grant: account not found"))?;
    // Google picks the public key by `kid`; a key ID of another (or a deleted) key cannot
    // verify the signature.
    if let Some(kid) = header.get("kid") {
        if kid.as_str() != Some(account.private_key_id.as_str()) {
            return Err(invalid_grant("Invalid JWT Signature."));
        }
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| invalid_grant("Invalid JWT Signature."))?;
    let public = public_key_der(&account.public_key_pem).ok_or_else(|| {
        refuse(
            500,
            "internal_failure",
            "the simulator's public key is unreadable",
        )
    })?;
    let signed = format!("{header_b64}.{claims_b64}");
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &public)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| invalid_grant("Invalid JWT Signature."))?;
    let expected_aud_suffix = format!("://{host}/token");
    let aud = claims
        .get("aud")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !(aud.starts_with("http") && aud.ends_with(&expected_aud_suffix)) {
        return Err(invalid_grant(format!(
            "Invalid JWT: Failed audience check. The expected value was http(s){expected_aud_suffix}"
        )));
    }
    let (Some(iat), Some(exp)) = (
        claims.get("iat").and_then(Value::as_i64),
        claims.get("exp").and_then(Value::as_i64),
    ) else {
        return Err(invalid_grant(SHORT_LIVED));
    };
    let lifetime = exp.saturating_sub(iat);
    if lifetime <= 0
        || lifetime > GCP_MAX_JWT_LIFETIME_SECS
        || iat > now.saturating_add(GCP_JWT_LEEWAY_SECS)
        || exp < now.saturating_sub(GCP_JWT_LEEWAY_SECS)
    {
        return Err(invalid_grant(SHORT_LIVED));
    }
    let scopes: Vec<String> = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect();
    if scopes.is_empty() {
        return Err(refuse(
            400,
            "invalid_scope",
            "Invalid oauth scope or ID token audience provided.",
        ));
    }
    Ok(VerifiedGrant {
        client_email: account.client_email.clone(),
        scopes,
    })
}

/// A token the endpoint issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedToken {
    pub client_email: String,
    pub scopes: Vec<String>,
    /// Unix seconds.
    pub expires_at: i64,
}

/// What the API's bearer check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenCheck {
    Valid,
    /// No `Authorization: Bearer` header.
    Missing,
    /// Unknown, revoked or expired.
    Invalid,
    /// Valid, but for no scope the API accepts.
    InsufficientScope,
}

/// The tokens issued so far, revocable, with counters for tests.
#[derive(Debug, Default)]
pub struct GcpTokenStore {
    tokens: HashMap<String, IssuedToken>,
    /// Token requests answered (issued or refused).
    pub requests: u64,
    /// Tokens issued.
    pub issued: u64,
}

impl GcpTokenStore {
    /// Remembers `token` (sweeping expired ones when full).
    pub fn insert(&mut self, token: String, issued: IssuedToken, now: i64) {
        if self.tokens.len() >= MAX_TOKENS {
            self.tokens.retain(|_, t| t.expires_at > now);
        }
        if self.tokens.len() < MAX_TOKENS {
            self.tokens.insert(token, issued);
            self.issued += 1;
        }
    }

    /// Revokes every token issued so far (the next API call with one is a 401).
    pub fn revoke_all(&mut self) -> usize {
        let n = self.tokens.len();
        self.tokens.clear();
        n
    }

    /// The holder of a valid bearer token (`Authorization` header value) at `now`.
    pub fn holder(&self, authorization: Option<&str>, now: i64) -> Option<&IssuedToken> {
        let token = authorization?.trim().strip_prefix("Bearer ")?.trim();
        self.tokens.get(token).filter(|t| t.expires_at > now)
    }

    /// Checks an `Authorization` header value at `now` (Unix seconds).
    pub fn check(&self, authorization: Option<&str>, now: i64) -> TokenCheck {
        let Some(token) = authorization
            .map(str::trim)
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            return TokenCheck::Missing;
        };
        match self.tokens.get(token) {
            Some(t) if t.expires_at <= now => TokenCheck::Invalid,
            Some(t)
                if !t
                    .scopes
                    .iter()
                    .any(|s| GCP_ACCEPTED_SCOPES.contains(&s.as_str())) =>
            {
                TokenCheck::InsufficientScope
            }
            Some(_) => TokenCheck::Valid,
            None => TokenCheck::Invalid,
        }
    }
}

#[cfg(test)]
#[path = "auth_gcp_tests.rs"]
mod tests;
