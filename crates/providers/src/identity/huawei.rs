//! Huawei Cloud IAM "Obtaining a Token with an OpenID Connect ID Token": `POST
//! /v3.0/OS-AUTH/id-token/tokens` on the regional IAM endpoint, header `X-Idp-Id` naming the
//! identity provider that registers the cluster's issuer, body `{"auth": {"id_token": {"id":
//! <token>}, "scope": {"project": {"id": <projectId>}}}}`. The answer (HTTP 201) carries the
//! IAM token in `X-Subject-Token` and its expiry in `token.expires_at`; the token then goes
//! in `X-Auth-Token` like any IAM token. Which user groups (so which permissions) the token
//! gets is the identity provider's mapping rules' business.
//!
//! Hand-written: one JSON POST, and the official Rust SDK has no federated-token support.

use jiff::Timestamp;
use serde::Deserialize;
use url::Url;

use clouddb_api::ProviderKind;

use super::{FederatedIdentity, StsEndpoints};
use crate::http::{HttpClient, HttpResponse};
use crate::secret::SecretString;
use crate::token_cache::Expiring;
use crate::{Credentials, ErrorReason, ProviderError};

/// The IAM endpoint: the installer's override, else the region's in the SDK's IAM table
/// (`iam.eu-west-101.myhuaweicloud.eu` in Huawei Cloud Europe), else the global one.
pub fn endpoint(
    identity: &FederatedIdentity,
    overrides: &StsEndpoints,
) -> Result<Url, ProviderError> {
    let base = match overrides.get(ProviderKind::Huawei) {
        Some(url) => url.clone(),
        None => crate::huawei::endpoints::iam_endpoint(identity.region.as_deref()),
    };
    base.join("v3.0/OS-AUTH/id-token/tokens").map_err(|e| {
        ProviderError::permanent(
            ErrorReason::InvalidRequest,
            "InvalidEndpoint",
            e.to_string(),
        )
    })
}

/// The request body, scoped to the job's project.
pub fn body(identity: &FederatedIdentity, token: &SecretString) -> serde_json::Value {
    serde_json::json!({
        "auth": {
            "id_token": {"id": token.expose()},
            "scope": {"project": {"id": identity.project_id.as_deref().unwrap_or_default()}},
        }
    })
}

#[derive(Deserialize)]
struct Answer {
    token: Option<TokenInfo>,
}

#[derive(Deserialize)]
struct TokenInfo {
    expires_at: Option<String>,
}

/// Reads a successful answer: the `X-Subject-Token` header and `token.expires_at`.
pub fn parse_success(response: &HttpResponse) -> Result<Expiring<Credentials>, ProviderError> {
    let malformed = |why: &str| {
        ProviderError::transient(
            "MalformedResponse",
            format!("Huawei Cloud IAM answered the OpenID Connect token request with {why}"),
        )
    };
    let token = response
        .header("x-subject-token")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| malformed("no X-Subject-Token"))?;
    let answer: Answer = serde_json::from_slice(&response.body)
        .map_err(|_| malformed("a body that is not its JSON"))?;
    let expires = answer
        .token
        .and_then(|t| t.expires_at)
        .ok_or_else(|| malformed("no token.expires_at"))?;
    let expires_at: Timestamp = expires
        .trim()
        .parse()
        .map_err(|_| malformed("a token.expires_at that is not a time"))?;
    Ok(Expiring {
        value: Credentials::HuaweiToken {
            token: SecretString::new(token),
        },
        expires_at,
    })
}

/// Classifies a refusal. IAM errors are `{"error": {"code", "message"}}` (or
/// `{"error_code", "error_msg"}`); a token IAM cannot verify or an identity provider that
/// does not map this ServiceAccount is the credential's refusal.
pub fn classify_failure(
    status: u16,
    body: &[u8],
    retry_after: Option<std::time::Duration>,
) -> ProviderError {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let text = |v: &serde_json::Value| {
        v.as_str()
            .map(String::from)
            .or_else(|| (!v.is_null()).then(|| v.to_string()))
    };
    let code = text(&value["error"]["code"])
        .or_else(|| text(&value["error_code"]))
        .unwrap_or_else(|| format!("HTTP {status}"));
    let message = text(&value["error"]["message"])
        .or_else(|| text(&value["error_msg"]))
        .unwrap_or_else(|| format!("Huawei Cloud IAM answered HTTP {status}"));
    match status {
        429 => ProviderError::throttled(&code, message).with_retry_after(retry_after),
        408 | 500..=599 => ProviderError::transient(&code, message).with_retry_after(retry_after),
        400 | 401 => ProviderError::permanent(
            ErrorReason::AuthenticationFailed,
            &code,
            format!("Huawei Cloud IAM refused the ServiceAccount token: {message}"),
        ),
        403 | 404 => ProviderError::permanent(
            ErrorReason::AccessDenied,
            &code,
            format!("Huawei Cloud IAM did not grant this ServiceAccount a token (check the identity provider and its mapping rules): {message}"),
        ),
        _ => ProviderError::permanent(ErrorReason::InvalidRequest, &code, message),
    }
}

/// Exchanges `token` for an IAM token scoped to the identity's project.
pub async fn exchange(
    http: &HttpClient,
    endpoint: &Url,
    identity: &FederatedIdentity,
    token: &SecretString,
) -> Result<Expiring<Credentials>, ProviderError> {
    let request = http
        .reqwest()
        .post(endpoint.clone())
        .header("content-type", "application/json;charset=utf8")
        .header(
            "x-idp-id",
            identity.oidc_provider.as_deref().unwrap_or_default(),
        )
        .body(body(identity, token).to_string());
    let response = http.send(request).await?;
    if (200..300).contains(&response.status) {
        parse_success(&response)
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
            oidc_provider: Some("k8s-cluster-idp".into()),
            region: Some("cn-north-4".into()),
            project_id: Some("0483b6b16e954cb88930a360d2c4e663".into()),
            ..fixtures::identity(ProviderKind::Huawei, "huawei-iam")
        }
    }

    fn response(status: u16, token: Option<&str>, body: &str) -> HttpResponse {
        let mut headers = http::HeaderMap::new();
        if let Some(t) = token {
            headers.insert("x-subject-token", t.parse().unwrap());
        }
        HttpResponse {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn the_request_names_the_provider_the_token_and_the_project() {
        let url = endpoint(&identity(), &StsEndpoints::default()).unwrap();
        assert_eq!(
            url.as_str(),
            "https://iam.cn-north-4.myhuaweicloud.com/v3.0/OS-AUTH/id-token/tokens"
        );
        let b = body(&identity(), &SecretString::new("eyJ.x.y"));
        assert_eq!(b["auth"]["id_token"]["id"], "eyJ.x.y");
        assert_eq!(
            b["auth"]["scope"]["project"]["id"],
            "0483b6b16e954cb88930a360d2c4e663"
        );
        let over = StsEndpoints::parse(["huawei=http://127.0.0.1:9/prefix/"]).unwrap();
        assert_eq!(
            endpoint(&identity(), &over).unwrap().as_str(),
            "http://127.0.0.1:9/prefix/v3.0/OS-AUTH/id-token/tokens"
        );
    }

    #[test]
    fn reads_the_subject_token_and_its_expiry() {
        let ok = response(
            201,
            Some("MIIDkgYJKoZIhvcNAQcCoIIDgzCCA38CAQExDTALBglghkgBZQMEAgEwgXXXX"),
            r#"{"token": {"expires_at": "2026-11-30T05:00:00.000000Z", "methods": ["mapped"]}}"#,
        );
        let got = parse_success(&ok).unwrap();
        assert_eq!(got.expires_at, "2026-11-30T05:00:00Z".parse().unwrap());
        assert!(matches!(got.value, Credentials::HuaweiToken { .. }));
        let no_token = response(
            201,
            None,
            r#"{"token": {"expires_at": "2026-11-30T05:00:00Z"}}"#,
        );
        assert_eq!(
            parse_success(&no_token).unwrap_err().class,
            ErrorClass::Transient
        );
    }

    #[test]
    fn refusals_are_classified() {
        let e = classify_failure(
            401,
            br#"{"error": {"code": 401, "message": "The id_token is invalid."}}"#,
            None,
        );
        assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
        let e = classify_failure(
            403,
            br#"{"error_code": "IAM.0003", "error_msg": "no mapping"}"#,
            None,
        );
        assert_eq!(
            (e.reason, e.code.as_str()),
            (ErrorReason::AccessDenied, "IAM.0003")
        );
        assert_eq!(
            classify_failure(503, b"", None).class,
            ErrorClass::Transient
        );
        assert_eq!(
            classify_failure(429, b"", None).class,
            ErrorClass::Throttled
        );
    }
}
