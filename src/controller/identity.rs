//! ServiceAccount tokens for workload identity, from the Kubernetes TokenRequest API
//! (`create` on `serviceaccounts/token`, which the chart grants only for the ServiceAccount
//! names the installer lists).

use std::time::Duration;

use async_trait::async_trait;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::PostParams;
use kube::{Api, Client};

use crate::providers::credentials::SecretString;
use crate::providers::identity::ServiceAccountTokens;
use crate::providers::{ErrorReason, ProviderError};

/// Requests ServiceAccount tokens from the API server the controller talks to.
pub struct KubeServiceAccountTokens {
    client: Client,
}

impl KubeServiceAccountTokens {
    pub fn new(client: Client) -> Self {
        KubeServiceAccountTokens { client }
    }
}

#[async_trait]
impl ServiceAccountTokens for KubeServiceAccountTokens {
    async fn token(
        &self,
        namespace: &str,
        name: &str,
        audience: &str,
        lifetime: Duration,
    ) -> Result<SecretString, ProviderError> {
        let accounts: Api<ServiceAccount> = Api::namespaced(self.client.clone(), namespace);
        let request = TokenRequest {
            spec: Some(TokenRequestSpec {
                audiences: Some(vec![audience.to_string()]),
                expiration_seconds: Some(i64::try_from(lifetime.as_secs()).unwrap_or(600)),
                ..TokenRequestSpec::default()
            }),
            ..TokenRequest::default()
        };
        match accounts
            .create_token_request(name, &PostParams::default(), &request)
            .await
        {
            Ok(answer) => answer
                .status
                .and_then(|s| s.token)
                .filter(|t| !t.is_empty())
                .map(SecretString::new)
                .ok_or_else(|| {
                    ProviderError::transient(
                        "EmptyTokenRequest",
                        format!("the API server issued no token for ServiceAccount {name:?} in namespace {namespace:?}"),
                    )
                }),
            Err(kube::Error::Api(e)) if e.code == 404 => Err(ProviderError::permanent(
                ErrorReason::ServiceAccountNotFound,
                "ServiceAccountNotFound",
                format!("ServiceAccount {name:?} not found in namespace {namespace:?} (spec.identity.serviceAccountName)"),
            )),
            Err(kube::Error::Api(e)) if e.code == 403 => Err(ProviderError::permanent(
                ErrorReason::AccessDenied,
                "ServiceAccountTokenForbidden",
                format!("the controller may not request tokens of ServiceAccount {name:?} in namespace {namespace:?}: the installer lists the ServiceAccounts it may use (chart value workloadIdentity.serviceAccountNames)"),
            )),
            Err(e) => Err(ProviderError::transient(
                "TokenRequestFailed",
                format!("requesting a token of ServiceAccount {name:?} in namespace {namespace:?} failed: {e}"),
            )),
        }
    }
}
