//! Azure (Microsoft Entra) workload identity: the client-credentials grant with a federated
//! client assertion, as `azure_identity`'s `WorkloadIdentityCredential` sends it — `POST
//! {authority}/{tenant}/oauth2/v2.0/token` with `client_id`, `scope`,
//! `grant_type=client_credentials`, `client_assertion_type=urn:ietf:params:oauth:
//! client-assertion-type:jwt-bearer` and the ServiceAccount token as `client_assertion`. The
//! app registration's federated credential names the cluster's issuer and the subject
//! `system:serviceaccount:<ns>:<name>`. The answer is read by the Azure provider's own
//! token reader ([`crate::azure::token::interpret_token`]); the access token goes to ARM as
//! `Bearer`.

use jiff::Timestamp;
use url::Url;

use clouddb_api::ProviderKind;

use super::{FederatedIdentity, StsEndpoints};
use crate::azure::endpoints::{token_url, ARM_SCOPE};
use crate::azure::token::interpret_token;
use crate::http::HttpClient;
use crate::secret::SecretString;
use crate::token_cache::Expiring;
use crate::{Credentials, ErrorReason, ProviderError};

/// The audience Entra expects in a federated client assertion.
pub const AUDIENCE: &str = super::workload::AZURE_AUDIENCE;
/// The assertion type of a JWT client assertion (RFC 7523).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The token endpoint of the identity's tenant: on the installer's authority host override
/// (`--sts-endpoint azure=https://login.microsoftonline.us`), else the public cloud's.
pub fn endpoint(
    identity: &FederatedIdentity,
    overrides: &StsEndpoints,
) -> Result<Url, ProviderError> {
    let tenant = identity.tenant_id.as_deref().unwrap_or_default();
    let authority = overrides
        .get(ProviderKind::Azure)
        .map(|u| u.as_str().trim_end_matches('/').to_string());
    token_url(authority.as_deref(), tenant)
        .map_err(|e| ProviderError::permanent(ErrorReason::InvalidRequest, "InvalidAuthority", e.0))
}

/// The form body.
pub fn form_body(identity: &FederatedIdentity, token: &SecretString) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair(
            "client_id",
            identity.client_id.as_deref().unwrap_or_default(),
        )
        .append_pair("scope", ARM_SCOPE)
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_assertion_type", ASSERTION_TYPE)
        .append_pair("client_assertion", token.expose())
        .finish()
}

/// Exchanges `token` for an ARM access token of the identity's app registration.
pub async fn exchange(
    http: &HttpClient,
    endpoint: &Url,
    identity: &FederatedIdentity,
    token: &SecretString,
    clock: &crate::clock::Clock,
) -> Result<Expiring<Credentials>, ProviderError> {
    let request = http
        .reqwest()
        .post(endpoint.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(identity, token));
    let response = http.send(request).await?;
    let now: Timestamp = clock();
    let answer = interpret_token(&response, now)?;
    Ok(Expiring {
        value: Credentials::Bearer(answer.value),
        expires_at: answer.expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::fixtures;

    fn identity() -> FederatedIdentity {
        FederatedIdentity {
            region: Some("eastus".into()),
            tenant_id: Some("72f988bf-86f1-41af-91ab-2d7cd011db47".into()),
            client_id: Some("00000000-0000-0000-0000-00000000c11e".into()),
            ..fixtures::identity(ProviderKind::Azure, AUDIENCE)
        }
    }

    #[test]
    fn the_grant_carries_the_assertion_not_a_secret() {
        let body = form_body(&identity(), &SecretString::new("eyJ.x.y"));
        let pairs = fixtures::form_pairs(&body);
        let get = |k: &str| fixtures::field(&pairs, k);
        assert_eq!(get("grant_type"), Some("client_credentials"));
        assert_eq!(get("client_assertion_type"), Some(ASSERTION_TYPE));
        assert_eq!(get("client_assertion"), Some("eyJ.x.y"));
        assert_eq!(
            get("client_id"),
            Some("00000000-0000-0000-0000-00000000c11e")
        );
        assert_eq!(get("scope"), Some(ARM_SCOPE));
        assert_eq!(get("client_secret"), None);
    }

    #[test]
    fn the_tenant_token_endpoint_on_the_public_or_the_installers_authority() {
        let url = endpoint(&identity(), &StsEndpoints::default()).unwrap();
        assert_eq!(
            url.as_str(),
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"
        );
        let over = StsEndpoints::parse(["azure=http://127.0.0.1:9"]).unwrap();
        let url = endpoint(&identity(), &over).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"
        );
    }
}
