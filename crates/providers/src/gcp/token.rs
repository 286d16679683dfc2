//! The OAuth2 JWT-bearer exchange (RFC 7523) of a Google service-account key for an access
//! token: an RS256 JWT signed with the key, POSTed to the key's `token_uri` as
//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<jwt>`.
//!
//! Hand-written on purpose: the official `google-cloud-auth` crate's service-account
//! credentials do not do this exchange (they self-sign a JWT and send it as the access
//! token, ignoring `token_uri`), so the token endpoint could not be pointed at the simulator
//! or the token cache be tested; with its default features it also brings a second crypto
//! stack (aws-lc-rs). Here the signature is `ring`'s RSASSA-PKCS1-v1_5 with SHA-256 (ring is
//! rustls's crypto already), the PEM is read by `rustls::pki_types`, and the request goes
//! through our [`HttpClient`] (verified TLS, no redirects, size cap).
//!
//! Scope: `https://www.googleapis.com/auth/sqlservice.admin`, the narrowest scope that
//! allows `operations.get`; `cloud-platform` would let a leaked token reach every Google
//! API the service account's roles allow.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jiff::{SignedDuration, Timestamp};
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivatePkcs8KeyDer;
use url::Url;

use super::errors::{classify_token_refusal, TokenGrant};
use super::key::GcpServiceAccountKey;
use super::model::TokenResponse;
use crate::http::{HttpClient, HttpResponse};
use crate::secret::SecretString;
use crate::token_cache::Expiring;
use crate::{ErrorReason, ProviderError};

/// The OAuth2 scope asked for (see the module doc for why not `cloud-platform`).
pub const SCOPE: &str = "https://www.googleapis.com/auth/sqlservice.admin";
/// RFC 7523's grant type.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The JWT's lifetime: Google accepts at most one hour.
pub const ASSERTION_LIFETIME: SignedDuration = SignedDuration::from_hours(1);
/// A token whose answer has no `expires_in` is taken to last this long (Google's default).
pub const DEFAULT_TOKEN_LIFETIME_SECS: i64 = 3600;
/// Longest lifetime believed from `expires_in` (a day), so a wild value cannot pin a token.
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 24 * 3600;

/// The key's `token_uri`, checked like an endpoint override: `https://`, or `http://` on a
/// loopback host only (the simulator).
pub fn token_url(key: &GcpServiceAccountKey) -> Result<Url, ProviderError> {
    crate::target::parse_endpoint(&key.token_uri).map_err(|e| {
        ProviderError::permanent(
            ErrorReason::InvalidRequest,
            "InvalidTokenUri",
            format!("the service-account key's token_uri is not usable: {e}"),
        )
    })
}

/// The JWT header and claims, as JSON.
pub fn header_and_claims(
    key: &GcpServiceAccountKey,
    token_url: &str,
    scope: &str,
    now: Timestamp,
) -> (serde_json::Value, serde_json::Value) {
    let iat = now.as_second();
    let exp = now
        .checked_add(ASSERTION_LIFETIME)
        .map_or(iat, Timestamp::as_second);
    (
        serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": key.private_key_id}),
        serde_json::json!({
            "iss": key.client_email,
            "scope": scope,
            "aud": token_url,
            "iat": iat,
            "exp": exp,
        }),
    )
}

fn unreadable_key(why: &str) -> ProviderError {
    ProviderError::permanent(
        ErrorReason::AuthenticationFailed,
        "InvalidPrivateKey",
        format!("the service-account key's private_key cannot be used: {why}"),
    )
}

/// The signed JWT (`header.claims.signature`, base64url without padding). Errors never
/// quote the key.
pub fn assertion(
    key: &GcpServiceAccountKey,
    token_url: &str,
    scope: &str,
    now: Timestamp,
) -> Result<SecretString, ProviderError> {
    let der = PrivatePkcs8KeyDer::from_pem_slice(key.private_key.expose().as_bytes())
        .map_err(|_| unreadable_key("it is not a PEM PKCS#8 private key"))?;
    let pair = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der())
        .map_err(|e| unreadable_key(&format!("not an RSA key ring accepts ({e})")))?;
    let (header, claims) = header_and_claims(key, token_url, scope, now);
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0u8; pair.public().modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| unreadable_key("signing failed"))?;
    Ok(SecretString::new(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    )))
}

/// The form body of the token request.
pub fn form_body(assertion: &SecretString) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", GRANT_TYPE)
        .append_pair("assertion", assertion.expose())
        .finish()
}

/// Reads the token endpoint's answer received at `now`.
pub fn interpret_token_response(
    response: &HttpResponse,
    now: Timestamp,
) -> Result<Expiring<SecretString>, ProviderError> {
    interpret_token_answer(response, now, TokenGrant::ServiceAccountKey)
}

/// Reads the answer to `grant` received at `now` (refusals worded for that grant).
pub fn interpret_token_answer(
    response: &HttpResponse,
    now: Timestamp,
    grant: TokenGrant,
) -> Result<Expiring<SecretString>, ProviderError> {
    if !(200..300).contains(&response.status) {
        return Err(classify_token_refusal(
            response.status,
            &response.body,
            response.retry_after(),
            grant,
        ));
    }
    let parsed: TokenResponse = serde_json::from_slice(&response.body).map_err(|e| {
        ProviderError::transient(
            "MalformedTokenResponse",
            format!(
                "the token endpoint answered with something that is not the expected JSON: {e}"
            ),
        )
    })?;
    if let Some(kind) = parsed.token_type.as_deref() {
        if !kind.eq_ignore_ascii_case("bearer") {
            return Err(ProviderError::permanent(
                ErrorReason::AuthenticationFailed,
                "UnsupportedTokenType",
                format!("the token endpoint issued a {kind:?} token; only Bearer is supported"),
            ));
        }
    }
    let token = parsed
        .access_token
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            ProviderError::transient(
                "MalformedTokenResponse",
                "the token endpoint's answer has no access_token",
            )
        })?;
    let lifetime = parsed
        .expires_in
        .unwrap_or(DEFAULT_TOKEN_LIFETIME_SECS)
        .clamp(1, MAX_TOKEN_LIFETIME_SECS);
    Ok(Expiring {
        value: SecretString::new(token),
        expires_at: now
            .checked_add(SignedDuration::from_secs(lifetime))
            .unwrap_or(now),
    })
}

/// Exchanges `key` for an access token with `scope` at the key's `token_uri`. Errors are
/// sanitized of the private key and the assertion.
pub async fn fetch_token(
    http: &HttpClient,
    key: &GcpServiceAccountKey,
    scope: &str,
    now: Timestamp,
) -> Result<Expiring<SecretString>, ProviderError> {
    let url = token_url(key)?;
    // `aud` is the token_uri exactly as the key file gives it (what Google compares).
    let assertion = assertion(key, key.token_uri.trim(), scope, now)?;
    let request = http
        .reqwest()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(form_body(&assertion));
    let credentials = crate::Credentials::Gcp(key.clone());
    // The assertion, and the whole form that carried it (a server may echo either).
    let form = form_body(&assertion);
    let sanitize =
        |e| crate::redact::sanitize_error(e, &credentials, &[assertion.expose(), &form], "Bearer ");
    let response = http.send(request).await.map_err(sanitize)?;
    interpret_token_response(&response, now).map_err(sanitize)
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;
