//! Alibaba Cloud V3 (`ACS3-HMAC-SHA256`) verification as the OpenAPI gateway does it, on the
//! independent arithmetic of [`crate::verify::acs3`]. Error codes and HTTP statuses are the
//! gateway's documented ones; messages never contain secrets.

use super::{find, NonceCache, SimCredentials};
use crate::verify::{acs3, same, sha256_hex};

/// `x-acs-date` must be within this of the server time.
pub const ALIBABA_WINDOW_SECS: i64 = 15 * 60;

/// An Alibaba Cloud gateway error (`{RequestId, HostId, Code, Message, Recommend}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlibabaError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

fn ali_err(status: u16, code: &'static str, message: impl Into<String>) -> AlibabaError {
    AlibabaError {
        status,
        code,
        message: message.into(),
    }
}

fn incomplete(what: &str) -> AlibabaError {
    ali_err(
        400,
        "IncompleteSignature",
        format!("The request signature does not conform to Aliyun standards: {what}."),
    )
}

/// The parts of a request the check reads.
#[derive(Clone, Copy, Debug)]
pub struct AlibabaInput<'a> {
    pub method: &'a str,
    /// The path as received (percent-encoded).
    pub path: &'a str,
    /// Decoded query pairs.
    pub query: &'a [(String, String)],
    pub headers: &'a http::HeaderMap,
    /// The Host header as sent (with the port).
    pub host: &'a str,
    pub body: &'a [u8],
}

/// Verifies an ACS3-HMAC-SHA256 request at server time `now` (seconds). The nonce is
/// recorded only for a correctly signed request.
pub fn verify_alibaba(
    creds: &SimCredentials,
    req: &AlibabaInput<'_>,
    now: i64,
    nonces: &mut NonceCache,
) -> Result<(), AlibabaError> {
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
    let auth = header("authorization").ok_or_else(|| incomplete("no Authorization header"))?;
    let parsed = acs3::parse_authorization(auth)
        .ok_or_else(|| incomplete("the Authorization header is not ACS3-HMAC-SHA256"))?;
    for name in [
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
    ] {
        if header(name).is_none_or(|v| v.trim().is_empty()) {
            return Err(incomplete(&format!("header {name} is missing")));
        }
    }
    let sent_acs = req
        .headers
        .keys()
        .map(|k| k.as_str())
        .filter(|k| k.starts_with("x-acs-"));
    for name in std::iter::once("host").chain(sent_acs) {
        if !parsed.signed_headers.iter().any(|h| h == name) {
            return Err(incomplete(&format!("header {name} is not signed")));
        }
    }
    let permanent = find(&creds.alibaba, &parsed.access_key_id);
    let temporary = creds
        .alibaba_temporary
        .iter()
        .find(|k| k.id == parsed.access_key_id);
    let secret = permanent
        .or(temporary.map(|k| k.secret.as_str()))
        .ok_or_else(|| {
            ali_err(
                404,
                "InvalidAccessKeyId.NotFound",
                "Specified access key is not found.",
            )
        })?;
    let date_text = header("x-acs-date").unwrap_or_default();
    let date = jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%SZ", date_text.trim())
        .and_then(|p| p.to_datetime())
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC))
        .map(|z| z.timestamp().as_second())
        .map_err(|_| {
            ali_err(
                400,
                "IllegalTimestamp",
                format!(
                    "The input parameter x-acs-date {date_text:?} is not yyyy-MM-ddTHH:mm:ssZ."
                ),
            )
        })?;
    if date.abs_diff(now) > ALIBABA_WINDOW_SECS.unsigned_abs() {
        return Err(ali_err(
            400,
            "IllegalTimestamp",
            format!(
                "The input parameter x-acs-date {date_text} is more than 15 minutes away from \
                 the server time."
            ),
        ));
    }
    let mut signed = Vec::with_capacity(parsed.signed_headers.len());
    for name in &parsed.signed_headers {
        let value = match name.as_str() {
            "host" => header("host").unwrap_or(req.host),
            other => header(other)
                .ok_or_else(|| incomplete(&format!("signed header {other} is missing")))?,
        };
        signed.push((name.clone(), value.to_string()));
    }
    let payload_hash = header("x-acs-content-sha256").unwrap_or_default();
    let expected = acs3::signature(
        secret,
        &acs3::Request {
            method: req.method,
            path: req.path,
            query: req.query,
            headers: &signed,
            payload_hash,
        },
    );
    if !same(&expected, &parsed.signature) {
        return Err(ali_err(
            400,
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation.",
        ));
    }
    if !same(
        &sha256_hex(req.body),
        &payload_hash.trim().to_ascii_lowercase(),
    ) {
        return Err(ali_err(
            400,
            "SignatureDoesNotMatch",
            "The x-acs-content-sha256 header does not match the request body.",
        ));
    }
    let token = header("x-acs-security-token");
    match (temporary, token) {
        (Some(_), None) => {
            return Err(ali_err(
                400,
                "MissingSecurityToken",
                "SecurityToken is mandatory for this AccessKey.",
            ))
        }
        (Some(key), Some(token)) if !same(&key.token, token) => {
            return Err(ali_err(
                400,
                "InvalidSecurityToken.MismatchWithAccessKey",
                "Specified SecurityToken mismatch with the AccessKey.",
            ))
        }
        (None, Some(_)) => {
            return Err(ali_err(
                400,
                "InvalidSecurityToken.MismatchWithAccessKey",
                "Specified SecurityToken mismatch with the AccessKey.",
            ))
        }
        _ => {}
    }
    let nonce = header("x-acs-signature-nonce").unwrap_or_default();
    if !nonces.insert(&format!("acs3:{}", parsed.access_key_id), nonce, now) {
        return Err(ali_err(
            400,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "auth_alibaba_tests.rs"]
mod tests;
