//! The wrappers every listing goes through, in the order job polls go through theirs:
//! workload identity exchanged first, then the local rate limit of the resolved credential.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::controller::ratelimit::{instance_limit_key, RateLimits};
use crate::providers::discovery::{Discovery, InstanceTarget, JobLister};
use crate::providers::identity::FederatedProvider;
use crate::providers::{Credentials, ProviderError};

/// Takes one token from the bucket job polls of the same API family, credential and
/// endpoint use, so listings and polls together stay under the provider's published
/// limit. One token per listing: a listing is one call unless the instance has more jobs
/// in the window than a page holds. The provider's answer feeds the bucket's adaptive
/// rate as a poll's does: a throttled listing slows the polls of the same bucket too.
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
            .call(&key, self.inner.list_jobs(target, credentials, since))
            .await
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ProviderApi, ProviderKind};
    use crate::controller::ratelimit::RateLimitConfig;
    use crate::providers::credentials::SecretString;

    /// Answers every listing with `answer`.
    struct Answering(fn() -> Result<Discovery, ProviderError>);

    #[async_trait]
    impl JobLister for Answering {
        async fn list_jobs(
            &self,
            _: &InstanceTarget,
            _: &Credentials,
            _: Timestamp,
        ) -> Result<Discovery, ProviderError> {
            (self.0)()
        }
    }

    fn instance() -> InstanceTarget {
        InstanceTarget {
            provider: ProviderKind::Aws,
            api: ProviderApi::DbSnapshot,
            instance_id: "orders".into(),
            region: Some("us-east-1".into()),
            project_id: None,
            subscription_id: None,
            endpoint: None,
        }
    }

    fn aws() -> Credentials {
        Credentials::Aws {
            access_key_id: "AKIALISTER".into(),
            secret_access_key: SecretString::new("s"),
            session_token: None,
        }
    }

    /// A throttled listing cuts the bucket that the same credential's polls draw from, and
    /// answered listings let it recover, as polls do.
    #[tokio::test]
    async fn a_throttled_listing_slows_the_polls_of_its_bucket() {
        let limits = Arc::new(RateLimits::new(RateLimitConfig::default()));
        let key = instance_limit_key(&instance(), &aws());
        let throttled = RateLimitedLister::new(
            Arc::new(Answering(|| {
                Err(ProviderError::throttled("Throttling", "Rate exceeded"))
            })),
            limits.clone(),
        );
        let result = throttled
            .list_jobs(&instance(), &aws(), Timestamp::UNIX_EPOCH)
            .await;
        assert!(result.is_err());
        assert_eq!(
            limits.adaptive_rate(&key),
            Some(35.0),
            "the ceiling of 50/s cut to 70 %"
        );
        assert_eq!(limits.adaptive_cut(), 1);
        let answered = RateLimitedLister::new(
            Arc::new(Answering(|| Ok(Discovery::default()))),
            limits.clone(),
        );
        answered
            .list_jobs(&instance(), &aws(), Timestamp::UNIX_EPOCH)
            .await
            .expect("listed");
        assert!(
            limits.adaptive_rate(&key).is_some(),
            "one answer starts the recovery, it does not jump back to the ceiling"
        );
    }
}
