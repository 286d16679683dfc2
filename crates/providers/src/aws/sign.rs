//! AWS Signature Version 4 through the official `aws-sigv4` crate: this module only adapts
//! the operator's types to it (and back), so the arithmetic is AWS's own. The simulator's
//! verifier (`clouddb_simulator::verify::sigv4`) is an independent implementation written
//! from the specification; the two meet in the HTTP tests.

use std::time::SystemTime;

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{
    sign as sigv4_sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings,
};
use aws_sigv4::sign::v4::SigningParams;
use jiff::Timestamp;

use crate::{ErrorReason, ProviderError};

/// The signing algorithm named in `Authorization`.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// What to sign: the request as it will be sent.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The request URI as sent (already percent-encoded), absolute or path-only.
    pub uri: &'a str,
    /// Headers to sign besides the ones the signer adds (`x-amz-date`, and
    /// `x-amz-security-token` for temporary credentials). `host` must be among them.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    pub region: &'a str,
    pub service: &'a str,
    pub time: Timestamp,
    /// Also send (and sign) `x-amz-content-sha256`, as the test suite's body cases do.
    pub content_sha256: bool,
}

/// The signer's output: the headers to add (`X-Amz-Date`, `Authorization`, ...) and the
/// bare signature (to scrub from anything a server echoes).
#[derive(Clone, PartialEq, Eq)]
pub struct Signed {
    pub headers: Vec<(String, String)>,
    pub signature: String,
}

impl std::fmt::Debug for Signed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Signed")
            .field("headers", &names)
            .finish_non_exhaustive()
    }
}

impl Signed {
    /// The value of one added header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Signs `request` with an access key pair and optional session token.
pub fn sign(
    request: &Request<'_>,
    access_key_id: &str,
    secret_access_key: &str,
    session_token: Option<&str>,
) -> Result<Signed, ProviderError> {
    let credentials = AwsCredentials::new(
        access_key_id,
        secret_access_key,
        session_token.map(String::from),
        None,
        "clouddb-job-operator",
    );
    let identity = credentials.into();
    let mut settings = SigningSettings::default();
    if request.content_sha256 {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = SigningParams::builder()
        .identity(&identity)
        .region(request.region)
        .name(request.service)
        .time(SystemTime::from(request.time))
        .settings(settings)
        .build()
        .map_err(|e| signing_error(&e))?;
    let signable = SignableRequest::new(
        request.method,
        request.uri,
        request.headers.iter().copied(),
        SignableBody::Bytes(request.body),
    )
    .map_err(|e| signing_error(&e))?;
    let (instructions, signature) = sigv4_sign(signable, &params.into())
        .map_err(|e| signing_error(&e))?
        .into_parts();
    let (headers, _) = instructions.into_parts();
    Ok(Signed {
        headers: headers
            .into_iter()
            .map(|h| (h.name().to_string(), h.value().to_string()))
            .collect(),
        signature,
    })
}

/// A request the signer refuses (a URI it cannot parse): the request is wrong, not the key.
/// The signer's errors describe the request, never the secret.
fn signing_error(e: &dyn std::fmt::Display) -> ProviderError {
    ProviderError::permanent(
        ErrorReason::InvalidRequest,
        "SigningFailed",
        format!("the request could not be signed: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_ID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn time() -> Timestamp {
        "2015-08-30T12:36:00Z".parse().unwrap()
    }

    #[test]
    fn get_vanilla_from_the_aws_suite() {
        let request = Request {
            method: "GET",
            uri: "https://example.amazonaws.com/",
            headers: &[("host", "example.amazonaws.com")],
            body: b"",
            region: "us-east-1",
            service: "service",
            time: time(),
            content_sha256: false,
        };
        let signed = sign(&request, KEY_ID, SECRET, None).unwrap();
        assert_eq!(
            signed.signature,
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        assert_eq!(signed.header("x-amz-date"), Some("20150830T123600Z"));
        assert_eq!(
            signed.header("authorization"),
            Some("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        );
        assert_eq!(signed.header("x-amz-security-token"), None);
    }

    #[test]
    fn post_x_www_form_urlencoded_from_the_aws_suite() {
        let request = Request {
            method: "POST",
            uri: "https://example.amazonaws.com/",
            headers: &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("host", "example.amazonaws.com"),
                ("content-length", "13"),
            ],
            body: b"Param1=value1",
            region: "us-east-1",
            service: "service",
            time: time(),
            content_sha256: true,
        };
        let signed = sign(&request, KEY_ID, SECRET, None).unwrap();
        assert_eq!(
            signed.header("authorization"),
            Some("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b")
        );
        assert_eq!(
            signed.header("x-amz-content-sha256"),
            Some("9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e")
        );
    }

    #[test]
    fn a_session_token_is_sent_and_signed() {
        let request = Request {
            method: "POST",
            uri: "https://rds.us-east-1.amazonaws.com/",
            headers: &[("host", "rds.us-east-1.amazonaws.com")],
            body: b"Action=DescribeExportTasks",
            region: "us-east-1",
            service: "rds",
            time: time(),
            content_sha256: false,
        };
        let plain = sign(&request, KEY_ID, SECRET, None).unwrap();
        let temp = sign(&request, KEY_ID, SECRET, Some("token/+=")).unwrap();
        assert_eq!(temp.header("x-amz-security-token"), Some("token/+="));
        let auth = temp.header("authorization").unwrap();
        assert!(
            auth.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"),
            "{auth}"
        );
        assert!(
            auth.contains("/20150830/us-east-1/rds/aws4_request"),
            "{auth}"
        );
        assert_ne!(plain.signature, temp.signature);
        let shown = format!("{temp:?}");
        assert!(
            !shown.contains(&temp.signature) && !shown.contains("token/+="),
            "{shown}"
        );
    }
}
