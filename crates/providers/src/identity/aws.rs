//! AWS STS `AssumeRoleWithWebIdentity` (Query API 2011-06-15), as the AWS SDKs' web
//! identity provider calls it for EKS IRSA: `POST /` to the regional STS endpoint with a form
//! body `Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=..&RoleSessionName=..&
//! WebIdentityToken=..&DurationSeconds=..`, unsigned (the token is the credential). The
//! answer's `Credentials` (`AccessKeyId`, `SecretAccessKey`, `SessionToken`, `Expiration`)
//! sign the RDS calls like any STS key.
//!
//! Written here rather than taken from `aws-sdk-sts` for the reason `aws-sdk-rds` was not
//! taken (see `crate::aws`): one call, and the smithy runtime with its own HTTP stack.

use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;
use url::Url;

use clouddb_api::ProviderKind;

use super::{FederatedIdentity, StsEndpoints};
use crate::aws::errors::{classify_envelope, parse_error_envelope, ErrorEnvelope, Failure};
use crate::aws::model::{from_xml, text};
use crate::http::HttpClient;
use crate::secret::SecretString;
use crate::token_cache::Expiring;
use crate::{Credentials, ErrorReason, ProviderError, DEFAULT_RETRY_BOUND};

/// The STS Query API version.
pub const VERSION: &str = "2011-06-15";
/// Longest session AWS grants a role by default (the role's maximum may be longer).
pub const DURATION: Duration = Duration::from_secs(3600);

/// The STS endpoint: the installer's override, else the regional one (the SDKs' default),
/// else the global `sts.amazonaws.com`.
pub fn endpoint(
    identity: &FederatedIdentity,
    overrides: &StsEndpoints,
) -> Result<Url, ProviderError> {
    if let Some(url) = overrides.get(ProviderKind::Aws) {
        return Ok(url.clone());
    }
    match identity.region.as_deref() {
        Some(region) => crate::aws::client::service_endpoint("sts", region),
        None => Url::parse("https://sts.amazonaws.com/").map_err(|e| {
            ProviderError::permanent(
                ErrorReason::InvalidRequest,
                "InvalidEndpoint",
                e.to_string(),
            )
        }),
    }
}

/// The request body.
pub fn form_body(identity: &FederatedIdentity, token: &SecretString, duration: Duration) -> String {
    let role = identity.role_arn.as_deref().unwrap_or_default();
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("Action", "AssumeRoleWithWebIdentity")
        .append_pair("Version", VERSION)
        .append_pair("RoleArn", role)
        .append_pair("RoleSessionName", &identity.session_name())
        .append_pair("WebIdentityToken", token.expose())
        .append_pair("DurationSeconds", &duration.as_secs().to_string())
        .finish()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssumeRoleResponse {
    assume_role_with_web_identity_result: Option<AssumeRoleResult>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssumeRoleResult {
    credentials: Option<StsCredentials>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsCredentials {
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
    expiration: Option<String>,
}

impl std::fmt::Debug for StsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

/// Reads a successful answer: the temporary credentials and when they expire.
pub fn parse_success(body: &[u8]) -> Result<Expiring<Credentials>, ProviderError> {
    let malformed = |why: &str| {
        ProviderError::transient(
            "MalformedResponse",
            format!("AWS STS answered AssumeRoleWithWebIdentity with {why}"),
        )
    };
    let response: AssumeRoleResponse =
        from_xml(body).map_err(|_| malformed("a body that is not its XML"))?;
    let creds = response
        .assume_role_with_web_identity_result
        .and_then(|r| r.credentials)
        .ok_or_else(|| malformed("no Credentials"))?;
    let (Some(id), Some(secret), Some(token), Some(expiration)) = (
        text(&creds.access_key_id),
        text(&creds.secret_access_key),
        text(&creds.session_token),
        text(&creds.expiration),
    ) else {
        return Err(malformed("incomplete Credentials"));
    };
    let expires_at: Timestamp = expiration
        .parse()
        .map_err(|_| malformed("an Expiration that is not a time"))?;
    Ok(Expiring {
        value: Credentials::Aws {
            access_key_id: id.to_string(),
            secret_access_key: SecretString::new(secret),
            session_token: Some(SecretString::new(token)),
        },
        expires_at,
    })
}

/// STS refusals of the ServiceAccount token that retrying does not fix.
pub const TOKEN_REFUSED: &[&str] = &["ExpiredTokenException"];
/// STS refusals of the token that the official Go SDK retries (`stscreds` adds
/// `InvalidIdentityToken` to its retryer: STS answers it too when it failed to fetch the
/// issuer's JWKS): retried [`DEFAULT_RETRY_BOUND`] polls in a row, then `Stalled` on
/// `AuthenticationFailed`.
pub const TOKEN_REFUSED_RETRIED: &[&str] = &["InvalidIdentityToken"];
/// The role does not trust this ServiceAccount.
pub const ROLE_REFUSED: &[&str] = &["AccessDenied", "IDPRejectedClaim"];
/// STS could not reach the identity provider.
pub const IDP_UNREACHABLE: &[&str] = &["IDPCommunicationError"];

/// Classifies a refusal. STS's own codes first: a token it cannot verify is the
/// credential's fault (bounded for the one the SDK retries), a trust policy that does not
/// name this ServiceAccount (another namespace's role, say) is a denial, and its identity
/// provider being unreachable is transient; the rest as for any AWS Query API.
pub fn classify_failure(status: u16, body: &[u8], retry_after: Option<Duration>) -> ProviderError {
    let envelope: ErrorEnvelope = parse_error_envelope(body).unwrap_or_default();
    let code = envelope.code.clone().unwrap_or_default();
    let message = envelope
        .message
        .clone()
        .unwrap_or_else(|| format!("AWS STS answered HTTP {status}"));
    let request_id = envelope.request_id.clone();
    let sts = |e: ProviderError| {
        e.with_request_id(request_id.clone())
            .with_retry_after(retry_after)
    };
    let is = |list: &[&str]| list.contains(&code.as_str());
    let token_refused = || format!("AWS STS refused the ServiceAccount token: {message}");
    if is(TOKEN_REFUSED) {
        return sts(ProviderError::permanent(
            ErrorReason::AuthenticationFailed,
            &code,
            token_refused(),
        ));
    }
    if is(TOKEN_REFUSED_RETRIED) {
        return sts(ProviderError::bounded(
            ErrorReason::AuthenticationFailed,
            DEFAULT_RETRY_BOUND,
            &code,
            token_refused(),
        ));
    }
    if is(ROLE_REFUSED) {
        return sts(ProviderError::permanent(
            ErrorReason::AccessDenied,
            &code,
            format!("AWS STS refused to let this ServiceAccount assume the role (check the role's trust policy): {message}"),
        ));
    }
    if is(IDP_UNREACHABLE) {
        return sts(ProviderError::transient(&code, message));
    }
    match classify_envelope(status, envelope, None, retry_after) {
        Failure::Error(e) => e,
        Failure::NotFound { code, message } => sts(ProviderError::permanent(
            ErrorReason::InvalidRequest,
            code,
            message,
        )),
    }
}

/// Exchanges `token` for temporary credentials of the identity's role.
pub async fn exchange(
    http: &HttpClient,
    endpoint: &Url,
    identity: &FederatedIdentity,
    token: &SecretString,
) -> Result<Expiring<Credentials>, ProviderError> {
    let request = http
        .reqwest()
        .post(endpoint.clone())
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(form_body(identity, token, DURATION));
    let response = http.send(request).await?;
    if (200..300).contains(&response.status) {
        parse_success(&response.body)
    } else {
        Err(classify_failure(
            response.status,
            &response.body,
            response.retry_after(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::fixtures;
    use crate::ErrorClass;

    fn identity() -> FederatedIdentity {
        FederatedIdentity {
            role_arn: Some("arn:aws:iam::123456789012:role/reader".into()),
            region: Some("us-east-1".into()),
            ..fixtures::identity(ProviderKind::Aws, "sts.amazonaws.com")
        }
    }

    /// The answer documented in the STS API reference, with its fields.
    const ANSWER: &str = r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:team-a:db-tracker</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/reader/clouddb.team-a.db-tracker</Arn>
      <AssumedRoleId>AROACLKWSDQRAOEXAMPLE:clouddb.team-a.db-tracker</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <Expiration>2026-11-30T05:00:00Z</Expiration>
      <AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>
    </Credentials>
    <Provider>oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"#;

    #[test]
    fn the_form_names_the_role_the_session_and_the_token() {
        let body = form_body(&identity(), &SecretString::new("eyJ.a+b/c"), DURATION);
        let pairs = fixtures::form_pairs(&body);
        let get = |k: &str| fixtures::field(&pairs, k);
        assert_eq!(get("Action"), Some("AssumeRoleWithWebIdentity"));
        assert_eq!(get("Version"), Some("2011-06-15"));
        assert_eq!(
            get("RoleArn"),
            Some("arn:aws:iam::123456789012:role/reader")
        );
        assert_eq!(get("RoleSessionName"), Some("clouddb.team-a.reader"));
        assert_eq!(get("WebIdentityToken"), Some("eyJ.a+b/c"));
        assert_eq!(get("DurationSeconds"), Some("3600"));
    }

    #[test]
    fn reads_the_documented_answer() {
        let got = parse_success(ANSWER.as_bytes()).unwrap();
        assert_eq!(got.expires_at, "2026-11-30T05:00:00Z".parse().unwrap());
        let Credentials::Aws {
            access_key_id,
            secret_access_key,
            session_token,
        } = got.value
        else {
            panic!("not AWS credentials");
        };
        assert_eq!(access_key_id, "ASgeIAIOSFODNN7EXAMPLE");
        assert_eq!(
            secret_access_key.expose(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
        );
        assert!(session_token.is_some());
        let incomplete = ANSWER.replace("<Expiration>2026-11-30T05:00:00Z</Expiration>", "");
        let err = parse_success(incomplete.as_bytes()).unwrap_err();
        assert_eq!(err.class, ErrorClass::Transient);
    }

    fn error(code: &str) -> Vec<u8> {
        format!("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>m</Message></Error><RequestId>r-1</RequestId></ErrorResponse>").into_bytes()
    }

    #[test]
    fn refusals_are_classified() {
        let e = classify_failure(400, &error("ExpiredTokenException"), None);
        assert_eq!(
            (e.class, e.reason),
            (ErrorClass::Permanent, ErrorReason::AuthenticationFailed)
        );
        assert_eq!(e.request_id.as_deref(), Some("r-1"));
        // The Go SDK retries InvalidIdentityToken (a JWKS fetch failure at STS): retried a
        // few polls, then stalled on the token.
        let e = classify_failure(400, &error("InvalidIdentityToken"), None);
        assert_eq!(e.class, ErrorClass::Transient);
        assert_eq!(e.request_id.as_deref(), Some("r-1"));
        assert_eq!(
            e.clone().settle(DEFAULT_RETRY_BOUND - 1).class,
            ErrorClass::Transient
        );
        let stalled = e.settle(DEFAULT_RETRY_BOUND);
        assert_eq!(
            (stalled.class, stalled.reason),
            (ErrorClass::Permanent, ErrorReason::AuthenticationFailed)
        );
        assert!(stalled.message.contains("refused the ServiceAccount token"));
        let e = classify_failure(403, &error("AccessDenied"), None);
        assert_eq!(e.reason, ErrorReason::AccessDenied);
        assert!(e.message.contains("trust policy"), "{}", e.message);
        let e = classify_failure(400, &error("IDPCommunicationError"), None);
        assert_eq!(e.class, ErrorClass::Transient);
        let e = classify_failure(400, &error("Throttling"), Some(Duration::from_secs(3)));
        assert_eq!(e.class, ErrorClass::Throttled);
        assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
        let e = classify_failure(503, b"unavailable", None);
        assert_eq!(e.class, ErrorClass::Transient);
    }

    #[test]
    fn the_regional_endpoint_unless_the_installer_overrides_it() {
        let none = StsEndpoints::default();
        assert_eq!(
            endpoint(&identity(), &none).unwrap().as_str(),
            "https://sts.us-east-1.amazonaws.com/"
        );
        let mut cn = identity();
        cn.region = Some("cn-north-1".into());
        assert_eq!(
            endpoint(&cn, &none).unwrap().as_str(),
            "https://sts.cn-north-1.amazonaws.com.cn/"
        );
        let over = StsEndpoints::parse(["aws=http://127.0.0.1:9"]).unwrap();
        assert_eq!(
            endpoint(&identity(), &over).unwrap().as_str(),
            "http://127.0.0.1:9/"
        );
    }
}
