//! Tencent Cloud STS `AssumeRoleWithWebIdentity` (2018-08-13), as TKE's pod identity calls it:
//! API 3.0 style `POST /` with `X-TC-Action`, `X-TC-Version`, `X-TC-Region`,
//! `X-TC-Timestamp` and `Authorization: SKIP` (the call is not signed: the token is the
//! credential), JSON body `{ProviderId, WebIdentityToken, RoleArn, RoleSessionName,
//! DurationSeconds}`. The answer's `Credentials` (`TmpSecretId`, `TmpSecretKey`, `Token`) and
//! `ExpiredTime` sign the CDB calls like any temporary key (`X-TC-Token`).
//!
//! Hand-written: one JSON POST, which the official SDK would make through its own client.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;
use url::Url;

use clouddb_api::ProviderKind;

use super::{FederatedIdentity, StsEndpoints};
use crate::http::HttpClient;
use crate::secret::SecretString;
use crate::tencent::errors::parse_response;
use crate::token_cache::Expiring;
use crate::{Credentials, ErrorReason, ProviderError};

/// The STS API version.
pub const VERSION: &str = "2018-08-13";
/// The session length asked for (the role's maximum may be longer).
pub const DURATION: Duration = Duration::from_secs(3600);
/// The audience TKE's OIDC tokens carry for STS.
pub const AUDIENCE: &str = super::workload::TENCENT_AUDIENCE;

/// The STS endpoint: the installer's override, else `sts.tencentcloudapi.com`.
pub fn endpoint(overrides: &StsEndpoints) -> Result<Url, ProviderError> {
    match overrides.get(ProviderKind::Tencent) {
        Some(url) => Ok(url.clone()),
        None => Url::parse("https://sts.tencentcloudapi.com/").map_err(|e| {
            ProviderError::permanent(
                ErrorReason::InvalidRequest,
                "InvalidEndpoint",
                e.to_string(),
            )
        }),
    }
}

/// The request body.
pub fn body(identity: &FederatedIdentity, token: &SecretString, duration: Duration) -> Value {
    serde_json::json!({
        "ProviderId": identity.oidc_provider.as_deref().unwrap_or_default(),
        "WebIdentityToken": token.expose(),
        "RoleArn": identity.role_arn.as_deref().unwrap_or_default(),
        "RoleSessionName": identity.session_name(),
        "DurationSeconds": duration.as_secs(),
    })
}

/// Reads a successful `Response`.
pub fn parse_success(response: &Value) -> Result<Expiring<Credentials>, ProviderError> {
    let malformed = |why: &str| {
        ProviderError::transient(
            "MalformedResponse",
            format!("Tencent Cloud STS answered AssumeRoleWithWebIdentity with {why}"),
        )
    };
    let creds = &response["Credentials"];
    let text = |v: &Value| {
        v.as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    let (Some(id), Some(secret), Some(token)) = (
        text(&creds["TmpSecretId"]),
        text(&creds["TmpSecretKey"]),
        text(&creds["Token"]),
    ) else {
        return Err(malformed("incomplete Credentials"));
    };
    let expires_at = match response["ExpiredTime"].as_i64() {
        Some(seconds) => Timestamp::from_second(seconds).ok(),
        None => text(&response["Expiration"]).and_then(|t| t.parse().ok()),
    }
    .ok_or_else(|| malformed("no ExpiredTime"))?;
    Ok(Expiring {
        value: Credentials::Tencent {
            secret_id: id,
            secret_key: SecretString::new(secret),
            token: Some(SecretString::new(token)),
        },
        expires_at,
    })
}

/// STS codes (from the official SDK's `sts/v20180813/errorcodes.py`) that refuse the
/// ServiceAccount token.
pub const TOKEN_REFUSED: &[&str] = &["InvalidParameter.WebIdentityTokenError"];
/// STS codes that refuse the role: it does not exist, or does not let this identity assume
/// it. `UnauthorizedOperation` is matched as a family (`UnauthorizedOperation.*` too).
pub const ROLE_REFUSED: &[&str] = &["ResourceNotFound.RoleNotFound", "UnauthorizedOperation"];

/// Classifies a refusal: a token STS cannot verify is the credential's fault; a role that
/// does not exist or does not trust this ServiceAccount is a denial; the rest as any API 3.0
/// error (so a `ResourceNotFound.*` STS code must never fall through to the CDB
/// classification's `JobNotFound`).
pub fn classify_failure(error: ProviderError) -> ProviderError {
    let code = error.code.clone();
    let family = code.split('.').next().unwrap_or_default();
    if TOKEN_REFUSED.contains(&code.as_str()) {
        return ProviderError::permanent(
            ErrorReason::AuthenticationFailed,
            &code,
            format!(
                "Tencent Cloud STS refused the ServiceAccount token: {}",
                error.message
            ),
        )
        .with_request_id(error.request_id);
    }
    if ROLE_REFUSED.contains(&code.as_str()) || ROLE_REFUSED.contains(&family) {
        return ProviderError::permanent(
            ErrorReason::AccessDenied,
            &code,
            format!("Tencent Cloud STS refused to let this ServiceAccount assume the role (check that the role exists, its trust policy and the identity provider): {}", error.message),
        )
        .with_request_id(error.request_id);
    }
    if error.reason == ErrorReason::JobNotFound {
        // Another `ResourceNotFound.*`: a missing STS resource, never a missing job.
        return ProviderError::permanent(
            ErrorReason::InvalidRequest,
            &code,
            format!("Tencent Cloud STS: {}", error.message),
        )
        .with_request_id(error.request_id);
    }
    error
}

/// Exchanges `token` for temporary credentials of the identity's CAM role.
pub async fn exchange(
    http: &HttpClient,
    endpoint: &Url,
    identity: &FederatedIdentity,
    token: &SecretString,
    now: Timestamp,
) -> Result<Expiring<Credentials>, ProviderError> {
    let region = identity.region.as_deref().unwrap_or("ap-guangzhou");
    let request = http
        .reqwest()
        .post(endpoint.clone())
        .header("content-type", "application/json; charset=utf-8")
        .header("authorization", "SKIP")
        .header("x-tc-action", "AssumeRoleWithWebIdentity")
        .header("x-tc-version", VERSION)
        .header("x-tc-region", region)
        .header("x-tc-timestamp", now.as_second().to_string())
        // English refusals, as for the CDB calls (the default is Chinese).
        .header("x-tc-language", "en-US")
        .body(body(identity, token, DURATION).to_string());
    let response = http.send(request).await?;
    match parse_response(response.status, &response.body, response.retry_after()) {
        Ok(answer) => parse_success(&answer),
        Err(error) => Err(classify_failure(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::fixtures;
    use crate::tencent::errors::classify;
    use crate::ErrorClass;

    fn classify_code(code: &str, message: &str) -> ProviderError {
        classify_failure(classify(code, Some(message)))
    }

    fn identity() -> FederatedIdentity {
        FederatedIdentity {
            role_arn: Some("qcs::cam::uin/100000000001:roleName/db-reader".into()),
            oidc_provider: Some("cls-abc123".into()),
            region: Some("ap-guangzhou".into()),
            ..fixtures::identity(ProviderKind::Tencent, AUDIENCE)
        }
    }

    #[test]
    fn the_body_names_the_provider_the_role_and_the_token() {
        let b = body(&identity(), &SecretString::new("eyJ.x.y"), DURATION);
        assert_eq!(b["ProviderId"], "cls-abc123");
        assert_eq!(
            b["RoleArn"],
            "qcs::cam::uin/100000000001:roleName/db-reader"
        );
        assert_eq!(b["WebIdentityToken"], "eyJ.x.y");
        assert_eq!(b["RoleSessionName"], "clouddb.team-a.reader");
        assert_eq!(b["DurationSeconds"], 3600);
    }

    #[test]
    fn reads_the_documented_answer() {
        let answer: Value = serde_json::json!({
            "ExpiredTime": 1_800_003_600,
            "Expiration": "2027-01-15T08:00:00Z",
            "Credentials": {"Token": "tok", "TmpSecretId": "AKIDtmp", "TmpSecretKey": "sk"},
            "RequestId": "r-1",
        });
        let got = parse_success(&answer).unwrap();
        assert_eq!(got.expires_at.as_second(), 1_800_003_600);
        assert!(matches!(
            got.value,
            Credentials::Tencent { ref secret_id, token: Some(_), .. } if secret_id == "AKIDtmp"
        ));
        let incomplete = serde_json::json!({"ExpiredTime": 1, "Credentials": {"Token": "t"}});
        assert_eq!(
            parse_success(&incomplete).unwrap_err().class,
            ErrorClass::Transient
        );
    }

    #[test]
    fn refusals_are_classified() {
        let e = classify_code("InvalidParameter.WebIdentityTokenError", "bad token");
        assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
        // The SDK's code for a missing role (not `RoleNotExist`, which STS never sends):
        // a denial naming the role, never the CDB mapping's `JobNotFound`.
        let e = classify_code("ResourceNotFound.RoleNotFound", "no role");
        assert_eq!(e.reason, ErrorReason::AccessDenied);
        assert!(e.message.contains("trust policy"));
        let e = classify_code("UnauthorizedOperation", "not trusted");
        assert_eq!(e.reason, ErrorReason::AccessDenied);
        let e = classify_code("ResourceNotFound.Other", "x");
        assert_eq!(e.reason, ErrorReason::InvalidRequest);
        assert_eq!(
            classify_code("RequestLimitExceeded", "slow").class,
            ErrorClass::Throttled
        );
        assert_eq!(
            classify_code("InternalError", "x").class,
            ErrorClass::Transient
        );
    }
}
