//! Google Cloud workload identity federation, as the Google auth libraries do it for an
//! `external_account` credential: the ServiceAccount token is exchanged at the Security Token
//! Service (`POST https://sts.googleapis.com/v1/token`, RFC 8693 token exchange, audience
//! `//iam.googleapis.com/<workload identity pool provider>`) for a federated access token;
//! with `identity.googleServiceAccount` that token then impersonates the Google service
//! account (`POST https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/
//! <email>:generateAccessToken`), whose token calls Cloud SQL. The token endpoint answers are
//! read by the Cloud SQL provider's own readers ([`crate::gcp::token`], [`crate::gcp::errors`]).

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use url::Url;

use clouddb_api::ProviderKind;

use super::{FederatedIdentity, StsEndpoints};
use crate::gcp::errors::TokenGrant;
use crate::gcp::errors::{classify, Failure};
use crate::gcp::token::{interpret_token_answer, SCOPE};
use crate::http::HttpClient;
use crate::secret::SecretString;
use crate::token_cache::Expiring;
use crate::{Credentials, ErrorReason, ProviderError};

/// The prefix that makes a pool provider's resource name the STS audience.
pub const AUDIENCE_PREFIX: &str = super::workload::GCP_AUDIENCE_PREFIX;
/// RFC 8693 grant and token types.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const SUBJECT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
pub const REQUESTED_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// The scope of a federated token that impersonates a service account: `iam`, the narrowest
/// the IAM Credentials API's `generateAccessToken` accepts, and what google-auth asks for
/// (`impersonated_credentials` gives its source credentials `iam._IAM_SCOPE`); a
/// `cloud-platform` token would reach every Google API the federated principal may. The
/// impersonated token itself gets only [`SCOPE`].
pub const IMPERSONATION_SCOPE: &str = "https://www.googleapis.com/auth/iam";

/// The scope asked of STS: without impersonation the federated token calls Cloud SQL itself,
/// so it gets only the Cloud SQL Admin API's own scope ([`SCOPE`], `sqlservice.admin`),
/// never `cloud-platform`, which would let a leaked token reach every Google API.
pub fn federated_scope(identity: &FederatedIdentity) -> &'static str {
    match identity.google_service_account {
        Some(_) => IMPERSONATION_SCOPE,
        None => SCOPE,
    }
}

/// The STS audience of a pool provider (`projects/<n>/locations/global/workloadIdentityPools/<pool>/providers/<p>`).
pub fn audience(provider: &str) -> String {
    super::workload::gcp_audience(provider)
}

fn base(overrides: &StsEndpoints, default: &str) -> Result<Url, ProviderError> {
    let base = match overrides.get(ProviderKind::Gcp) {
        Some(url) => url.clone(),
        None => Url::parse(default).map_err(|e| {
            ProviderError::permanent(
                ErrorReason::InvalidRequest,
                "InvalidEndpoint",
                e.to_string(),
            )
        })?,
    };
    Ok(base)
}

fn join(base: &Url, path: &str) -> Result<Url, ProviderError> {
    base.join(path).map_err(|e| {
        ProviderError::permanent(
            ErrorReason::InvalidRequest,
            "InvalidEndpoint",
            e.to_string(),
        )
    })
}

/// The STS token endpoint (the installer's override serves both STS and IAM Credentials).
pub fn sts_url(overrides: &StsEndpoints) -> Result<Url, ProviderError> {
    join(&base(overrides, "https://sts.googleapis.com/")?, "v1/token")
}

/// The IAM Credentials `generateAccessToken` URL of `email`.
pub fn impersonation_url(overrides: &StsEndpoints, email: &str) -> Result<Url, ProviderError> {
    let mut url = base(overrides, "https://iamcredentials.googleapis.com/")?;
    url.path_segments_mut()
        .map_err(|_| {
            ProviderError::permanent(
                ErrorReason::InvalidRequest,
                "InvalidEndpoint",
                "the IAM Credentials endpoint cannot take a path",
            )
        })?
        .pop_if_empty()
        .extend(["v1", "projects", "-", "serviceAccounts"])
        .push(&format!("{email}:generateAccessToken"));
    Ok(url)
}

/// The token-exchange form.
pub fn exchange_form(identity: &FederatedIdentity, token: &SecretString) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", GRANT_TYPE)
        .append_pair(
            "audience",
            &audience(identity.oidc_provider.as_deref().unwrap_or_default()),
        )
        .append_pair("scope", federated_scope(identity))
        .append_pair("requested_token_type", REQUESTED_TOKEN_TYPE)
        .append_pair("subject_token", token.expose())
        .append_pair("subject_token_type", SUBJECT_TOKEN_TYPE)
        .finish()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Impersonated {
    access_token: Option<String>,
    expire_time: Option<String>,
}

/// Reads a `generateAccessToken` answer.
pub fn parse_impersonation(
    status: u16,
    body: &[u8],
    retry_after: Option<std::time::Duration>,
) -> Result<Expiring<SecretString>, ProviderError> {
    if !(200..300).contains(&status) {
        return Err(match classify(status, body, retry_after) {
            Failure::Error(e) => e,
            // No such service account, or no right to see it: the same denial to a caller.
            Failure::NotFound { message } => {
                ProviderError::permanent(ErrorReason::AccessDenied, "NOT_FOUND", message)
            }
        });
    }
    let malformed = |why: &str| {
        ProviderError::transient(
            "MalformedResponse",
            format!("IAM Credentials answered generateAccessToken with {why}"),
        )
    };
    let answer: Impersonated =
        serde_json::from_slice(body).map_err(|_| malformed("a body that is not its JSON"))?;
    let token = answer
        .access_token
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| malformed("no accessToken"))?;
    let expires_at: Timestamp = answer
        .expire_time
        .as_deref()
        .and_then(|t| t.trim().parse().ok())
        .ok_or_else(|| malformed("no expireTime"))?;
    Ok(Expiring {
        value: SecretString::new(token),
        expires_at,
    })
}

/// Exchanges `token` for a Cloud SQL access token: federated, then (optionally) impersonated.
pub async fn exchange(
    http: &HttpClient,
    endpoints: &StsEndpoints,
    identity: &FederatedIdentity,
    token: &SecretString,
    clock: &crate::clock::Clock,
) -> Result<Expiring<Credentials>, ProviderError> {
    let request = http
        .reqwest()
        .post(sts_url(endpoints)?)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(exchange_form(identity, token));
    let response = http.send(request).await?;
    let federated = interpret_token_answer(&response, clock(), TokenGrant::Federation)?;
    let Some(email) = identity.google_service_account.as_deref() else {
        return Ok(Expiring {
            value: Credentials::Bearer(federated.value),
            expires_at: federated.expires_at,
        });
    };
    let body = serde_json::json!({"scope": [SCOPE], "lifetime": "3600s"});
    let request = http
        .reqwest()
        .post(impersonation_url(endpoints, email)?)
        .header("content-type", "application/json")
        .header(
            "authorization",
            format!("Bearer {}", federated.value.expose()),
        )
        .body(body.to_string());
    let response = http.send(request).await?;
    let impersonated = parse_impersonation(response.status, &response.body, response.retry_after())
        .map_err(|mut e| {
            e.message = crate::redact::redact(&e.message, &[federated.value.expose()]);
            e
        })?;
    // Never trust an expiry past the federated token's lifetime plus an hour.
    let cap = federated
        .expires_at
        .checked_add(SignedDuration::from_hours(1))
        .unwrap_or(federated.expires_at);
    Ok(Expiring {
        value: Credentials::Bearer(impersonated.value),
        expires_at: impersonated.expires_at.min(cap),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::fixtures;
    use crate::ErrorClass;

    const PROVIDER: &str =
        "projects/123456789012/locations/global/workloadIdentityPools/k8s/providers/cluster-1";

    fn identity(email: Option<&str>) -> FederatedIdentity {
        FederatedIdentity {
            oidc_provider: Some(PROVIDER.into()),
            project_id: Some("orders-prod".into()),
            google_service_account: email.map(String::from),
            ..fixtures::identity(ProviderKind::Gcp, &audience(PROVIDER))
        }
    }

    #[test]
    fn the_exchange_names_the_pool_provider_and_the_token() {
        let body = exchange_form(&identity(None), &SecretString::new("eyJ.x.y"));
        let pairs = fixtures::form_pairs(&body);
        let get = |k: &str| fixtures::field(&pairs, k);
        assert_eq!(get("grant_type"), Some(GRANT_TYPE));
        assert_eq!(
            get("audience").map(String::from),
            Some(format!("//iam.googleapis.com/{PROVIDER}"))
        );
        assert_eq!(get("subject_token"), Some("eyJ.x.y"));
        assert_eq!(get("subject_token_type"), Some(SUBJECT_TOKEN_TYPE));
        assert_eq!(get("requested_token_type"), Some(REQUESTED_TOKEN_TYPE));
        // Without impersonation the federated token calls Cloud SQL: its scope only.
        assert_eq!(
            get("scope"),
            Some("https://www.googleapis.com/auth/sqlservice.admin")
        );
        let body = exchange_form(
            &identity(Some("reader@p.iam.gserviceaccount.com")),
            &SecretString::new("eyJ.x.y"),
        );
        let pairs = fixtures::form_pairs(&body);
        assert_eq!(
            fixtures::field(&pairs, "scope"),
            Some("https://www.googleapis.com/auth/iam")
        );
        assert_eq!(
            audience(&format!("//iam.googleapis.com/{PROVIDER}")),
            audience(PROVIDER)
        );
    }

    /// google-auth asks STS for `iam` when the federated token only impersonates (found by
    /// `tests/providers/sdk_token_exchanges.rs`); before, the operator asked for
    /// `cloud-platform`, a token for every Google API.
    #[test]
    fn an_impersonating_exchange_asks_only_for_the_iam_scope() {
        let id = identity(Some("reader@p.iam.gserviceaccount.com"));
        assert_eq!(federated_scope(&id), "https://www.googleapis.com/auth/iam");
        let body = exchange_form(&id, &SecretString::new("eyJ.x.y"));
        let pairs = fixtures::form_pairs(&body);
        let scope = fixtures::field(&pairs, "scope").unwrap_or_default();
        assert!(!scope.contains("cloud-platform"), "{scope}");
    }

    #[test]
    fn the_endpoints_are_googles_or_the_installers() {
        let none = StsEndpoints::default();
        assert_eq!(
            sts_url(&none).unwrap().as_str(),
            "https://sts.googleapis.com/v1/token"
        );
        assert_eq!(
            impersonation_url(&none, "reader@p.iam.gserviceaccount.com").unwrap().as_str(),
            "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/reader@p.iam.gserviceaccount.com:generateAccessToken"
        );
        let over = StsEndpoints::parse(["gcp=http://127.0.0.1:9"]).unwrap();
        assert_eq!(
            sts_url(&over).unwrap().as_str(),
            "http://127.0.0.1:9/v1/token"
        );
    }

    #[test]
    fn an_sts_refusal_speaks_of_the_serviceaccount_token_not_a_key() {
        let response = crate::http::HttpResponse {
            status: 400,
            headers: Default::default(),
            body: br#"{"error": "invalid_grant", "error_description": "The audience in ID Token does not match the expected audience."}"#.to_vec(),
        };
        let e = interpret_token_answer(&response, Timestamp::UNIX_EPOCH, TokenGrant::Federation)
            .unwrap_err();
        assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
        assert!(e.message.contains("ServiceAccount token"), "{}", e.message);
        assert!(!e.message.contains("service-account key"), "{}", e.message);
    }

    #[test]
    fn reads_an_impersonated_token_and_classifies_refusals() {
        let ok = parse_impersonation(
            200,
            br#"{"accessToken": "ya29.c", "expireTime": "2026-11-30T06:00:00Z"}"#,
            None,
        )
        .unwrap();
        assert_eq!(ok.expires_at, "2026-11-30T06:00:00Z".parse().unwrap());
        let denied = parse_impersonation(
            403,
            br#"{"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "Permission 'iam.serviceAccounts.getAccessToken' denied"}}"#,
            None,
        )
        .unwrap_err();
        assert_eq!(denied.reason, ErrorReason::AccessDenied);
        let gone = parse_impersonation(
            404,
            br#"{"error": {"code": 404, "status": "NOT_FOUND", "message": "no"}}"#,
            None,
        )
        .unwrap_err();
        assert_eq!(gone.reason, ErrorReason::AccessDenied);
        assert_eq!(
            parse_impersonation(200, b"{}", None).unwrap_err().class,
            ErrorClass::Transient
        );
    }
}
