//! The provider wrapper that turns a job's workload identity into temporary credentials
//! before the real provider is called.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use clouddb_api::ProviderKind;

use super::{
    alibaba, aws, azure, gcp, huawei, tencent, FederatedIdentity, ServiceAccountTokens,
    StsEndpoints,
};
use crate::clock::Clock;
use crate::http::HttpClient;
use crate::redact::redact;
use crate::token_cache::{Expiring, TokenCache};
use crate::{Credentials, ErrorReason, JobObservation, JobTarget, Provider, ProviderError};

/// How long the ServiceAccount tokens asked for live: the minimum TokenRequest grants, as
/// each is used once, at once, for one exchange.
pub const SERVICE_ACCOUNT_TOKEN_LIFETIME: Duration = Duration::from_secs(600);

/// Resolves `Credentials::Federated` (exchanging a ServiceAccount token at the cloud's STS,
/// cached per identity until shortly before the temporary credentials expire) and passes
/// every call on to `inner`. Other credentials pass through untouched.
pub struct FederatedProvider {
    inner: Arc<dyn Provider>,
    tokens: Arc<dyn ServiceAccountTokens>,
    http: HttpClient,
    endpoints: StsEndpoints,
    cache: TokenCache<FederatedIdentity, Credentials>,
    clock: Clock,
}

impl FederatedProvider {
    pub fn new(
        inner: Arc<dyn Provider>,
        tokens: Arc<dyn ServiceAccountTokens>,
        http: HttpClient,
        endpoints: StsEndpoints,
        clock: Clock,
    ) -> Self {
        FederatedProvider {
            inner,
            tokens,
            http,
            endpoints,
            cache: TokenCache::new(clock.clone()),
            clock,
        }
    }

    /// STS exchanges made so far (for tests and metrics).
    pub fn exchanges(&self) -> u64 {
        self.cache.fetches()
    }

    /// `credentials` ready to sign with: a workload identity exchanged (or served from the
    /// cache of that same identity), anything else as it is. For callers other than
    /// `observe`, such as the listers of `CloudDbInstance` discovery.
    pub async fn resolve_credentials(
        &self,
        credentials: &Credentials,
    ) -> Result<Credentials, ProviderError> {
        match credentials {
            Credentials::Federated(identity) => self.resolve(identity).await,
            other => Ok(other.clone()),
        }
    }

    async fn resolve(&self, identity: &FederatedIdentity) -> Result<Credentials, ProviderError> {
        self.cache.get(identity, || self.exchange(identity)).await
    }

    async fn exchange(
        &self,
        identity: &FederatedIdentity,
    ) -> Result<Expiring<Credentials>, ProviderError> {
        let audience = match identity.provider {
            ProviderKind::Azure => azure::audience(identity, &self.endpoints),
            _ => &identity.audience,
        };
        let token = self
            .tokens
            .token(
                &identity.namespace,
                &identity.service_account,
                audience,
                SERVICE_ACCOUNT_TOKEN_LIFETIME,
            )
            .await?;
        let exchanged = match identity.provider {
            ProviderKind::Aws => {
                let endpoint = aws::endpoint(identity, &self.endpoints)?;
                aws::exchange(&self.http, &endpoint, identity, &token).await
            }
            ProviderKind::Alibaba => {
                let endpoint = alibaba::endpoint(identity, &self.endpoints)?;
                let now = (self.clock)();
                alibaba::exchange(&self.http, &endpoint, identity, &token, now).await
            }
            ProviderKind::Tencent => {
                let endpoint = tencent::endpoint(&self.endpoints)?;
                let now = (self.clock)();
                tencent::exchange(&self.http, &endpoint, identity, &token, now).await
            }
            ProviderKind::Azure => {
                let endpoint = azure::endpoint(identity, &self.endpoints)?;
                azure::exchange(&self.http, &endpoint, identity, &token, &self.clock).await
            }
            ProviderKind::Gcp => {
                gcp::exchange(&self.http, &self.endpoints, identity, &token, &self.clock).await
            }
            ProviderKind::Huawei => {
                let endpoint = huawei::endpoint(identity, &self.endpoints)?;
                huawei::exchange(&self.http, &endpoint, identity, &token).await
            }
            other => Err(ProviderError::permanent(
                ErrorReason::InvalidRequest,
                "IdentityNotSupported",
                format!("workload identity is not supported for provider {other} yet; use credentialsSecretRef"),
            )),
        };
        // The ServiceAccount token is a credential: an STS echoing it back in an error
        // must not carry it into a status or a log.
        exchanged.map_err(|mut e| {
            e.message = redact(&e.message, &[token.expose()]);
            e.code = redact(&e.code, &[token.expose()]);
            e.request_id = e.request_id.map(|r| redact(&r, &[token.expose()]));
            e
        })
    }
}

#[async_trait]
impl Provider for FederatedProvider {
    async fn observe(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        let Credentials::Federated(identity) = credentials else {
            return self.inner.observe(target, credentials).await;
        };
        let resolved = self.resolve(identity).await?;
        // An Azure token is for the Resource Manager of the authority's cloud, so that is
        // where the call goes unless the job names an endpoint.
        let cloud_target;
        let target = match identity.provider {
            ProviderKind::Azure if target.endpoint.is_none() => {
                cloud_target = JobTarget {
                    endpoint: Some(azure::cloud(&self.endpoints).arm_endpoint()),
                    ..target.clone()
                };
                &cloud_target
            }
            _ => target,
        };
        match self.inner.observe(target, &resolved).await {
            // Temporary credentials revoked before their expiry (the role's sessions were
            // revoked, say): exchange again once, silently, before calling it an error.
            Err(e) if e.rejects_credentials() => {
                self.cache.invalidate(identity, &resolved).await;
                let fresh = self.resolve(identity).await?;
                if fresh == resolved {
                    return Err(e);
                }
                self.inner.observe(target, &fresh).await
            }
            other => other,
        }
    }
}
