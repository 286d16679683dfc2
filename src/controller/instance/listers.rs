//! The wrappers every listing goes through, in the order job polls go through theirs:
//! workload identity exchanged first, then the local rate limit of the resolved credential.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::controller::ratelimit::{instance_limit_key, rate_limited, RateLimits};
use crate::providers::discovery::{Discovery, InstanceTarget, JobLister};
use crate::providers::identity::FederatedProvider;
use crate::providers::{Credentials, ProviderError};

/// Takes one token from the bucket job polls of the same API family, credential and
/// endpoint use, so listings and polls together stay under the provider's published
/// limit. One token per listing: a listing is one call unless the instance has more jobs
/// in the window than a page holds.
pub struct RateLimitedLister {
    inner: Arc<dyn JobLister>,
    limits: Arc<RateLimits>,
}

impl RateLimitedLister {
    pub fn new(inner: Arc<dyn JobLister>, limits: Arc<RateLimits>) -> Self {
        RateLimitedLister { inner, limits }
    }
}

#[async_trait]
impl JobLister for RateLimitedLister {
    async fn list_jobs(
        &self,
        target: &InstanceTarget,
        credentials: &Credentials,
        since: Timestamp,
    ) -> Result<Discovery, ProviderError> {
        let key = instance_limit_key(target, credentials);
        self.limits
            .acquire(&key)
            .map_err(|wait| rate_limited(&key, wait))?;
        self.inner.list_jobs(target, credentials, since).await
    }
}

/// Resolves a workload identity with the job controller's [`FederatedProvider`], whose
/// cache is keyed by the whole identity (namespace, ServiceAccount, role): the same
/// identity reuses one exchange, different ones never share.
pub struct FederatedLister {
    federated: Arc<FederatedProvider>,
    inner: Arc<dyn JobLister>,
}

impl FederatedLister {
    pub fn new(federated: Arc<FederatedProvider>, inner: Arc<dyn JobLister>) -> Self {
        FederatedLister { federated, inner }
    }
}

#[async_trait]
impl JobLister for FederatedLister {
    async fn list_jobs(
        &self,
        target: &InstanceTarget,
        credentials: &Credentials,
        since: Timestamp,
    ) -> Result<Discovery, ProviderError> {
        let resolved = self.federated.resolve_credentials(credentials).await?;
        self.inner.list_jobs(target, &resolved, since).await
    }
}
