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
use crate::azure::endpoints::{token_url, AzureCloud};
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

/// The cloud of the installer's authority override (`--sts-endpoint azure=`), which also
/// selects the ARM host, the token scope and the default audience.
pub fn cloud(overrides: &StsEndpoints) -> AzureCloud {
    AzureCloud::from_authority(overrides.get(ProviderKind::Azure).map(Url::as_str))
}

/// The audience of the ServiceAccount token: the job's `identity.audience`, except that the
/// public cloud's default (`api://AzureADTokenExchange`, what an unset audience becomes)
/// is the cloud's own in the US Government and China clouds.
pub fn audience<'a>(identity: &'a FederatedIdentity, overrides: &StsEndpoints) -> &'a str {
    if identity.audience == AUDIENCE {
        cloud(overrides).federation_audience()
    } else {
        &identity.audience
    }
}

/// The form body, asking for an ARM token of `cloud`.
pub fn form_body(identity: &FederatedIdentity, token: &SecretString, cloud: AzureCloud) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair(
            "client_id",
            identity.client_id.as_deref().unwrap_or_default(),
        )
        .append_pair("scope", &cloud.arm_scope())
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
        .body(form_body(
            identity,
            token,
            AzureCloud::from_authority(Some(endpoint.as_str())),
        ));
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
        let body = form_body(
            &identity(),
            &SecretString::new("eyJ.x.y"),
            AzureCloud::Public,
        );
        let pairs = fixtures::form_pairs(&body);
        let get = |k: &str| fixtures::field(&pairs, k);
        assert_eq!(get("grant_type"), Some("client_credentials"));
        assert_eq!(get("client_assertion_type"), Some(ASSERTION_TYPE));
        assert_eq!(get("client_assertion"), Some("eyJ.x.y"));
        assert_eq!(
            get("client_id"),
            Some("00000000-0000-0000-0000-00000000c11e")
        );
        assert_eq!(get("scope"), Some(crate::azure::endpoints::ARM_SCOPE));
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

    /// The installer's US Government or China authority selects the scope, the ARM host and
    /// the default audience; before, the scope and audience were always the public cloud's.
    #[test]
    fn a_national_authority_selects_scope_and_audience() {
        let gov = StsEndpoints::parse(["azure=https://login.microsoftonline.us"]).unwrap();
        let url = endpoint(&identity(), &gov).unwrap();
        let cloud = AzureCloud::from_authority(Some(url.as_str()));
        assert_eq!(cloud, AzureCloud::UsGovernment);
        let body = form_body(&identity(), &SecretString::new("t"), cloud);
        let pairs = fixtures::form_pairs(&body);
        assert_eq!(
            fixtures::field(&pairs, "scope"),
            Some("https://management.usgovcloudapi.net/.default")
        );
        assert_eq!(
            audience(&identity(), &gov),
            "api://AzureADTokenExchangeUSGov"
        );
        let china = StsEndpoints::parse(["azure=https://login.chinacloudapi.cn"]).unwrap();
        assert_eq!(
            audience(&identity(), &china),
            "api://AzureADTokenExchangeChina"
        );
        assert_eq!(
            audience(&identity(), &StsEndpoints::default()),
            "api://AzureADTokenExchange"
        );
        let mut own = identity();
        own.audience = "api://contoso-exchange".into();
        assert_eq!(audience(&own, &gov), "api://contoso-exchange");
    }
}
