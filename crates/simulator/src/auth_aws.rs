//! AWS Signature Version 4 verification as the RDS endpoint does it, on the independent
//! arithmetic of [`crate::verify::sigv4`]. Error codes and HTTP statuses are AWS's; messages
//! never contain secrets.

use super::{find, SimCredentials};
use crate::verify::{same, sha256_hex, sigv4};

/// AWS `X-Amz-Date` must be within this of the server time.
pub const AWS_WINDOW_SECS: i64 = 5 * 60;

/// An AWS Query API error (`<ErrorResponse><Error><Code/><Message/>`, with its HTTP
/// status).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

fn aws_err(status: u16, code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError {
        status,
        code,
        message: message.into(),
    }
}

const AWS_BAD_SIGNATURE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const AWS_BAD_TOKEN: &str = "The security token included in the request is invalid.";

/// The parts of an AWS request the SigV4 check reads. `headers` are all request headers.
#[derive(Clone, Copy, Debug)]
pub struct AwsInput<'a> {
    pub method: &'a str,
    /// The path as received (percent-encoded).
    pub path: &'a str,
    /// The raw query string.
    pub query: &'a str,
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
    /// The region the endpoint serves, when the host names one (`rds.<region>.amazonaws.com`).
    pub region: Option<&'a str>,
}

/// Verifies a SigV4 request for service `rds` at server time `now` (seconds): see
/// [`verify_aws_service`].
pub fn verify_aws(creds: &SimCredentials, req: &AwsInput<'_>, now: i64) -> Result<(), AwsError> {
    verify_aws_service("rds", creds, req, now).map(|_| ())
}

/// Verifies a SigV4 request for `service` (`rds`, `sts`) at server time `now` (seconds), as
/// AWS does: a known key (an STS key only with its own `X-Amz-Security-Token`),
/// `X-Amz-Date` within 5 minutes, a credential scope of that date, a valid (or the
/// endpoint's) region and the service, `host` and `x-amz-date` signed, a matching
/// `x-amz-content-sha256` when one is sent, and the signature. Returns the access key ID.
pub fn verify_aws_service(
    service: &str,
    creds: &SimCredentials,
    req: &AwsInput<'_>,
    now: i64,
) -> Result<String, AwsError> {
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
    let auth = header("authorization").ok_or_else(|| {
        aws_err(
            403,
            "MissingAuthenticationToken",
            "Missing Authentication Token",
        )
    })?;
    let parsed = sigv4::parse_authorization(auth).ok_or_else(|| {
        aws_err(
            400,
            "IncompleteSignature",
            "The request signature does not conform to AWS standards.",
        )
    })?;
    let amz_date = header("x-amz-date").ok_or_else(|| {
        aws_err(
            400,
            "IncompleteSignature",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    })?;
    let date = sigv4::parse_amz_date(amz_date).ok_or_else(|| {
        aws_err(
            400,
            "IncompleteSignature",
            format!("X-Amz-Date {amz_date:?} is not YYYYMMDD'T'HHMMSS'Z'."),
        )
    })?;
    let token = header("x-amz-security-token");
    let secret = match (find(&creds.aws, &parsed.key_id), token) {
        (Some(secret), None) => secret,
        // A long-term key with a token, or a token that is not this STS key's.
        (Some(_), Some(_)) => return Err(aws_err(403, "InvalidClientTokenId", AWS_BAD_TOKEN)),
        (None, _) => {
            let temporary = creds
                .aws_temporary
                .iter()
                .find(|k| k.id == parsed.key_id)
                .ok_or_else(|| aws_err(403, "InvalidClientTokenId", AWS_BAD_TOKEN))?;
            if !token.is_some_and(|t| same(t, &temporary.token)) {
                return Err(aws_err(403, "InvalidClientTokenId", AWS_BAD_TOKEN));
            }
            temporary.secret.as_str()
        }
    };
    let window = AWS_WINDOW_SECS;
    if now - date > window {
        return Err(aws_err(
            403,
            "SignatureDoesNotMatch",
            format!(
                "Signature expired: {amz_date} is now earlier than {} ({} - 5 min.)",
                sigv4::format_amz_date(now - window),
                sigv4::format_amz_date(now)
            ),
        ));
    }
    if date - now > window {
        return Err(aws_err(
            403,
            "SignatureDoesNotMatch",
            format!(
                "Signature not yet current: {amz_date} is still later than {} ({} + 5 min.)",
                sigv4::format_amz_date(now + window),
                sigv4::format_amz_date(now)
            ),
        ));
    }
    if amz_date.get(..8) != Some(parsed.date.as_str()) {
        return Err(aws_err(
            403,
            "SignatureDoesNotMatch",
            format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
                parsed.date,
                amz_date.get(..8).unwrap_or_default()
            ),
        ));
    }
    if parsed.service != service {
        return Err(aws_err(
            403,
            "SignatureDoesNotMatch",
            format!("Credential should be scoped to correct service: '{service}'. "),
        ));
    }
    let region_ok = match req.region {
        Some(expected) => parsed.region == expected,
        None => sigv4::is_region(&parsed.region),
    };
    if !region_ok {
        return Err(aws_err(
            403,
            "SignatureDoesNotMatch",
            format!(
                "Credential should be scoped to a valid region, not '{}'. ",
                parsed.region
            ),
        ));
    }
    for required in ["host", "x-amz-date"] {
        if !parsed.signed_headers.iter().any(|h| h == required) {
            return Err(aws_err(
                403,
                "SignatureDoesNotMatch",
                format!("'{required}' must be a 'SignedHeader' in the AWS Authorization."),
            ));
        }
    }
    let body_hash = sha256_hex(req.body);
    let payload_hash = match header("x-amz-content-sha256") {
        Some(sent) if sent != body_hash => {
            return Err(aws_err(
                400,
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ))
        }
        _ => body_hash,
    };
    let mut signed = Vec::with_capacity(parsed.signed_headers.len());
    for name in &parsed.signed_headers {
        let values: Vec<String> = req
            .headers
            .get_all(name.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(String::from)
            .collect();
        if values.is_empty() {
            return Err(aws_err(403, "SignatureDoesNotMatch", AWS_BAD_SIGNATURE));
        }
        signed.push((name.clone(), values));
    }
    let request = sigv4::Request {
        method: req.method,
        path: req.path,
        query: req.query,
        headers: &signed,
        payload_hash: &payload_hash,
    };
    let scope = sigv4::Scope {
        date: &parsed.date,
        region: &parsed.region,
        service: &parsed.service,
    };
    let expected = sigv4::signature(secret, amz_date, &scope, &request);
    if !same(&expected, &parsed.signature) {
        return Err(aws_err(403, "SignatureDoesNotMatch", AWS_BAD_SIGNATURE));
    }
    Ok(parsed.key_id)
}
