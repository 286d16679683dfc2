//! Alibaba Cloud STS `AssumeRoleWithOIDC` (2015-04-01), the exchange behind RRSA, as the
//! official credentials SDK calls it: `POST /?Action=AssumeRoleWithOIDC&Format=JSON&
//! Version=2015-04-01&Timestamp=..` with a form body `RoleArn`, `OIDCProviderArn`,
//! `OIDCToken`, `RoleSessionName`, `DurationSeconds`, unsigned (the token is the
//! credential). The answer's `Credentials` (`AccessKeyId`, `AccessKeySecret`,
//! `SecurityToken`, `Expiration`) sign the RDS/PolarDB calls like any STS key.
//!
//! Hand-written: the official Rust credentials crate covers AccessKey and ECS RAM roles, not
//! OIDC, and this is one form POST.

use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;
use url::Url;

use clouddb_api::ProviderKind;

use super::{FederatedIdentity, StsEndpoints};
use crate::alibaba::errors::{classify_envelope, parse_error_envelope};
use crate::http::HttpClient;
use crate::secret::SecretString;
use crate::token_cache::Expiring;
use crate::{Credentials, ErrorReason, ProviderError};

/// The STS API version.
pub const VERSION: &str = "2015-04-01";
/// The session length asked for (the role's maximum may be longer).
pub const DURATION: Duration = Duration::from_secs(3600);
/// The audience RRSA tokens carry.
pub const AUDIENCE: &str = super::workload::ALIBABA_AUDIENCE;

/// The STS endpoint: the installer's override, else the region's in the SDK's endpoint map
/// (central for some regions), else the regional one, else the central one.
pub fn endpoint(
    identity: &FederatedIdentity,
    overrides: &StsEndpoints,
) -> Result<Url, ProviderError> {
    if let Some(url) = overrides.get(ProviderKind::Alibaba) {
        return Ok(url.clone());
    }
    Ok(crate::alibaba::endpoints::sts_endpoint(
        identity.region.as_deref(),
    ))
}

/// The request URL (action and version in the query, as the SDK sends them).
pub fn request_url(endpoint: &Url, now: Timestamp) -> Url {
    let mut url = endpoint.clone();
    url.query_pairs_mut()
        .append_pair("Action", "AssumeRoleWithOIDC")
        .append_pair("Format", "JSON")
        .append_pair("Version", VERSION)
        .append_pair("Timestamp", &now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    url
}

/// The form body.
pub fn form_body(identity: &FederatedIdentity, token: &SecretString, duration: Duration) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("RoleArn", identity.role_arn.as_deref().unwrap_or_default())
        .append_pair(
            "OIDCProviderArn",
            identity.oidc_provider.as_deref().unwrap_or_default(),
        )
        .append_pair("OIDCToken", token.expose())
        .append_pair("RoleSessionName", &identity.session_name())
        .append_pair("DurationSeconds", &duration.as_secs().to_string())
        .finish()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    credentials: Option<StsCredentials>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsCredentials {
    access_key_id: Option<String>,
    access_key_secret: Option<String>,
    security_token: Option<String>,
    expiration: Option<String>,
}

/// Reads a successful answer.
pub fn parse_success(body: &[u8]) -> Result<Expiring<Credentials>, ProviderError> {
    let malformed = |why: &str| {
        ProviderError::transient(
            "MalformedResponse",
            format!("Alibaba Cloud STS answered AssumeRoleWithOIDC with {why}"),
        )
    };
    let answer: Answer =
        serde_json::from_slice(body).map_err(|_| malformed("a body that is not its JSON"))?;
    let creds = answer
        .credentials
        .ok_or_else(|| malformed("no Credentials"))?;
    let text = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let (Some(id), Some(secret), Some(token), Some(expiration)) = (
        text(creds.access_key_id),
        text(creds.access_key_secret),
        text(creds.security_token),
        text(creds.expiration),
    ) else {
        return Err(malformed("incomplete Credentials"));
    };
    let expires_at: Timestamp = expiration
        .parse()
        .map_err(|_| malformed("an Expiration that is not a time"))?;
    Ok(Expiring {
        value: Credentials::Alibaba {
            access_key_id: id,
            access_key_secret: SecretString::new(secret),
            security_token: Some(SecretString::new(token)),
        },
        expires_at,
    })
}

/// Code prefixes of STS refusing the ServiceAccount token.
pub const TOKEN_REFUSED_PREFIXES: &[&str] =
    &["AuthenticationFail.OIDCToken", "InvalidParameter.OIDCToken"];
/// Code prefixes of STS refusing the role to this ServiceAccount.
pub const ROLE_REFUSED_PREFIXES: &[&str] = &["NoPermission"];
/// Codes of STS refusing the role to this ServiceAccount: no trust, or a role or OIDC
/// provider the account does not have.
pub const ROLE_REFUSED: &[&str] = &[
    "AuthenticationFail.NoPermission",
    "EntityNotExist.Role",
    "EntityNotExist.OIDCProvider",
];

/// Classifies a refusal: a token STS cannot verify (`AuthenticationFail.OIDCToken.*`,
/// `InvalidParameter.OIDCToken*`) is the credential's fault; a role that does not trust
/// this ServiceAccount, or a role or OIDC provider that does not exist, is a denial; the
/// rest as any Alibaba Cloud API (unknown codes: bounded retries, then stalled).
pub fn classify_failure(status: u16, body: &[u8]) -> ProviderError {
    let envelope = parse_error_envelope(body).unwrap_or_default();
    let code = envelope.code.clone().unwrap_or_default();
    let message = envelope.message.clone().unwrap_or_default();
    let request_id = envelope.request_id.clone();
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| code.starts_with(p));
    if starts(TOKEN_REFUSED_PREFIXES) {
        return ProviderError::permanent(
            ErrorReason::AuthenticationFailed,
            &code,
            format!("Alibaba Cloud STS refused the ServiceAccount token: {message}"),
        )
        .with_request_id(request_id);
    }
    if ROLE_REFUSED.contains(&code.as_str()) || starts(ROLE_REFUSED_PREFIXES) {
        return ProviderError::permanent(
            ErrorReason::AccessDenied,
            &code,
            format!("Alibaba Cloud STS refused to let this ServiceAccount assume the role (check that the role and the OIDC provider exist, and the role's trust policy): {message}"),
        )
        .with_request_id(request_id);
    }
    classify_envelope(status, envelope, None, None)
}

/// Exchanges `token` for temporary credentials of the identity's RAM role.
pub async fn exchange(
    http: &HttpClient,
    endpoint: &Url,
    identity: &FederatedIdentity,
    token: &SecretString,
    now: Timestamp,
) -> Result<Expiring<Credentials>, ProviderError> {
    let request = http
        .reqwest()
        .post(request_url(endpoint, now))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(identity, token, DURATION));
    let response = http.send(request).await?;
    if (200..300).contains(&response.status) {
        parse_success(&response.body)
    } else {
        Err(classify_failure(response.status, &response.body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::fixtures;
    use crate::ErrorClass;

    fn identity() -> FederatedIdentity {
        FederatedIdentity {
            role_arn: Some("acs:ram::1234567890123456:role/db-reader".into()),
            oidc_provider: Some("acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1".into()),
            region: Some("cn-hangzhou".into()),
            ..fixtures::identity(ProviderKind::Alibaba, AUDIENCE)
        }
    }

    /// The documented answer's shape (values shortened).
    const ANSWER: &str = r#"{
      "RequestId": "3D57EAD2-8723-1F26-B69C-F8707D8B565D",
      "OIDCTokenInfo": {"Subject": "system:serviceaccount:team-a:reader", "Issuer": "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c1", "ClientIds": "sts.aliyuncs.com"},
      "AssumedRoleUser": {"AssumedRoleId": "33157794895460****", "Arn": "acs:ram::1234567890123456:role/db-reader/clouddb.team-a.reader"},
      "Credentials": {"SecurityToken": "CAIShwJ1q6Ft5B2yfSjIr5bSEsj4g7BihPWGWHz****", "Expiration": "2026-11-30T05:27:09Z", "AccessKeySecret": "CVwjCkNzTMupZ8NbTCxCBRq3K16jtcWFTJAyBEv2****", "AccessKeyId": "STS.NUgYrLnoC37mZZCNnAbez****"}
    }"#;

    #[test]
    fn the_request_carries_the_role_the_provider_and_the_token() {
        let url = request_url(
            &endpoint(&identity(), &StsEndpoints::default()).unwrap(),
            "2026-11-30T04:27:09Z".parse().unwrap(),
        );
        assert_eq!(url.host_str(), Some("sts.cn-hangzhou.aliyuncs.com"));
        let query = url.query().unwrap();
        assert!(query.contains("Action=AssumeRoleWithOIDC"), "{query}");
        assert!(query.contains("Version=2015-04-01"), "{query}");
        assert!(
            query.contains("Timestamp=2026-11-30T04%3A27%3A09Z"),
            "{query}"
        );
        let body = form_body(&identity(), &SecretString::new("eyJ.x.y"), DURATION);
        let pairs = fixtures::form_pairs(&body);
        let get = |k: &str| fixtures::field(&pairs, k);
        assert_eq!(
            get("RoleArn"),
            Some("acs:ram::1234567890123456:role/db-reader")
        );
        assert_eq!(
            get("OIDCProviderArn"),
            Some("acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1")
        );
        assert_eq!(get("OIDCToken"), Some("eyJ.x.y"));
        assert_eq!(get("RoleSessionName"), Some("clouddb.team-a.reader"));
        assert_eq!(get("DurationSeconds"), Some("3600"));
    }

    #[test]
    fn reads_the_answer_and_refuses_an_incomplete_one() {
        let got = parse_success(ANSWER.as_bytes()).unwrap();
        assert_eq!(got.expires_at, "2026-11-30T05:27:09Z".parse().unwrap());
        assert!(matches!(
            got.value,
            Credentials::Alibaba { ref access_key_id, security_token: Some(_), .. }
                if access_key_id == "STS.NUgYrLnoC37mZZCNnAbez****"
        ));
        let incomplete = ANSWER.replace("\"SecurityToken\"", "\"Other\"");
        assert_eq!(
            parse_success(incomplete.as_bytes()).unwrap_err().class,
            ErrorClass::Transient
        );
    }

    #[test]
    fn refusals_are_classified() {
        let body = |code: &str| {
            format!(
                r#"{{"RequestId":"r-1","HostId":"sts.aliyuncs.com","Code":"{code}","Message":"m"}}"#
            )
            .into_bytes()
        };
        let e = classify_failure(400, &body("AuthenticationFail.OIDCToken.Invalid"));
        assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
        assert_eq!(e.request_id.as_deref(), Some("r-1"));
        let e = classify_failure(403, &body("AuthenticationFail.NoPermission"));
        assert_eq!(e.reason, ErrorReason::AccessDenied);
        assert!(e.message.contains("trust policy"), "{}", e.message);
        // A missing OIDC provider is a configuration error, stalled at once.
        let e = classify_failure(404, &body("EntityNotExist.OIDCProvider"));
        assert_eq!(
            (e.class, e.reason),
            (ErrorClass::Permanent, ErrorReason::AccessDenied)
        );
        // A code nobody knows: bounded retries, then stalled with the provider's message.
        let e = classify_failure(400, &body("Something.New")).settle(crate::DEFAULT_RETRY_BOUND);
        assert_eq!(
            (e.class, e.reason, e.message.starts_with('m')),
            (ErrorClass::Permanent, ErrorReason::ProviderError, true)
        );
        assert_eq!(
            classify_failure(400, &body("Throttling.User")).class,
            ErrorClass::Throttled
        );
        assert_eq!(classify_failure(503, b"busy").class, ErrorClass::Transient);
    }

    #[test]
    fn the_central_endpoint_without_a_region_and_the_override_first() {
        let mut central = identity();
        central.region = None;
        assert_eq!(
            endpoint(&central, &StsEndpoints::default())
                .unwrap()
                .as_str(),
            "https://sts.aliyuncs.com/"
        );
        let over = StsEndpoints::parse(["alibaba=http://127.0.0.1:9"]).unwrap();
        assert_eq!(
            endpoint(&identity(), &over).unwrap().as_str(),
            "http://127.0.0.1:9/"
        );
    }
}
