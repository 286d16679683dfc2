//! The provider implementations wired into `run`, `track` and `demo`.

use std::sync::Arc;
use std::time::Duration;

use crate::api::ProviderKind;
use crate::controller::batching::{BatchingAwsProvider, BatchingTencentProvider};
use crate::controller::instance::{FederatedLister, RateLimitedLister};
use crate::controller::ratelimit::{RateLimitConfig, RateLimitedProvider, RateLimits};
use crate::controller::rounds::Rounds;
use crate::controller::Clock;
use crate::providers::alibaba::AlibabaProvider;
use crate::providers::aws::AwsProvider;
use crate::providers::azure::AzureProvider;
use crate::providers::discovery::{JobLister, ListerSet};
use crate::providers::gcp::GcpProvider;
use crate::providers::http::{HttpClient, HttpOptions};
use crate::providers::huawei::HuaweiProvider;
use crate::providers::identity::{FederatedProvider, ServiceAccountTokens, StsEndpoints};
use crate::providers::tencent::TencentProvider;
use crate::providers::tencent_legacy::TencentLegacyProvider;
use crate::providers::{Provider, ProviderSet};

/// Every real provider client, sharing one HTTP client (and its connection pool).
pub fn standard(options: &HttpOptions) -> Result<Arc<dyn Provider>, String> {
    let http = HttpClient::new(options)?;
    Ok(Arc::new(
        ProviderSet::new()
            .with(
                ProviderKind::Tencent,
                Arc::new(TencentProvider::new(http.clone())),
            )
            .with(
                ProviderKind::TencentLegacy,
                Arc::new(TencentLegacyProvider::new(http.clone())),
            )
            .with(
                ProviderKind::Huawei,
                Arc::new(HuaweiProvider::new(http.clone())),
            )
            .with(
                ProviderKind::Alibaba,
                Arc::new(AlibabaProvider::new(http.clone())),
            )
            .with(ProviderKind::Aws, Arc::new(AwsProvider::new(http.clone())))
            .with(
                ProviderKind::Azure,
                Arc::new(AzureProvider::new(http.clone())),
            )
            .with(ProviderKind::Gcp, Arc::new(GcpProvider::new(http))),
    ))
}

/// How `run` polls: batched and rate-limited, or the naive baseline.
#[derive(Clone, Debug)]
pub struct PollingOptions {
    /// One unbatched call per job (the benchmark baseline); rate limits still apply.
    pub naive: bool,
    /// Client-side limits per credential, endpoint and API family.
    pub limits: RateLimitConfig,
    /// How long a finished `DescribeTasks` sweep answers later polls of its batch.
    pub batch_cache_ttl: Duration,
}

/// What `run` polls and lists with.
pub struct RunProviders {
    pub provider: Arc<dyn Provider>,
    /// CloudDbInstance discovery: every provider with a list call, behind the same
    /// workload-identity exchange and rate limits as `provider`.
    pub lister: Arc<dyn JobLister>,
    /// The one set of buckets polls and listings draw from (its cut count is a metric).
    pub limits: Arc<RateLimits>,
}

/// The listers of CloudDbInstance discovery, one per provider that can list an instance's
/// jobs (admission refuses the others).
pub fn listers(http: &HttpClient) -> ListerSet {
    crate::providers::listers::standard(http)
}

/// The providers of `run`: every real client behind the local rate limits, with Tencent
/// `DescribeTasks` batched per credential, region, endpoint and instance, and the AWS RDS
/// describes per credential, API, region and endpoint, unless `naive`;
/// jobs with a workload identity get their temporary credentials from the clouds' STS first
/// (ServiceAccount tokens from `tokens`).
pub fn for_run(
    options: &HttpOptions,
    polling: &PollingOptions,
    (rounds, clock): (Arc<Rounds>, Clock),
    (tokens, sts): (Arc<dyn ServiceAccountTokens>, StsEndpoints),
) -> Result<RunProviders, String> {
    let http = HttpClient::new(options)?;
    // One set of buckets: listings draw from the same limits as polls.
    let limits = Arc::new(RateLimits::new(polling.limits));
    let listed: Arc<dyn JobLister> = Arc::new(RateLimitedLister::new(
        Arc::new(listers(&http)),
        limits.clone(),
    ));
    let sts_http = http.clone();
    let sts_clock = clock.clone();
    let limited = |p: Arc<dyn Provider>| -> Arc<dyn Provider> {
        Arc::new(RateLimitedProvider::new(p, limits.clone()))
    };
    let tencent = TencentProvider::new(http.clone());
    let tencent: Arc<dyn Provider> = if polling.naive {
        limited(Arc::new(tencent))
    } else {
        Arc::new(
            BatchingTencentProvider::new(tencent, Some(limits.clone()))
                .with_cache_ttl(polling.batch_cache_ttl)
                .with_rounds(rounds.clone(), clock.clone()),
        )
    };
    let aws = AwsProvider::new(http.clone());
    let aws: Arc<dyn Provider> = if polling.naive {
        limited(Arc::new(aws))
    } else {
        Arc::new(
            BatchingAwsProvider::new(aws, Some(limits.clone()))
                .with_cache_ttl(polling.batch_cache_ttl)
                .with_rounds(rounds, clock),
        )
    };
    let set = Arc::new(
        ProviderSet::new()
            .with(ProviderKind::Tencent, tencent)
            .with(
                ProviderKind::TencentLegacy,
                limited(Arc::new(TencentLegacyProvider::new(http.clone()))),
            )
            .with(
                ProviderKind::Huawei,
                limited(Arc::new(HuaweiProvider::new(http.clone()))),
            )
            .with(
                ProviderKind::Alibaba,
                limited(Arc::new(AlibabaProvider::new(http.clone()))),
            )
            .with(ProviderKind::Aws, aws)
            .with(
                ProviderKind::Azure,
                limited(Arc::new(AzureProvider::new(http.clone()))),
            )
            .with(ProviderKind::Gcp, limited(Arc::new(GcpProvider::new(http)))),
    );
    let federated = Arc::new(FederatedProvider::new(
        set, tokens, sts_http, sts, sts_clock,
    ));
    Ok(RunProviders {
        provider: federated.clone(),
        lister: Arc::new(FederatedLister::new(federated, listed)),
        limits,
    })
}
