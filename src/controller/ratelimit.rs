//! Client-side rate limits: one token bucket (governor GCRA) per credential, endpoint and
//! API family, sized to the providers' published limits, so the operator stays under them
//! however many jobs it tracks. The configured limit is a ceiling: a bucket whose calls are
//! throttled by the provider is slowed down below it and recovers gradually, as the AWS
//! SDKs' adaptive retry mode does ([`super::adaptive`]).
//!
//! A poll that finds no token is not made and not waited for inside the reconcile: the
//! reconcile requeues the job after the bucket's wait (see [`RATE_LIMITED`]), so a
//! reconcile slot is never held while waiting. Refused polls of one bucket get successive
//! slots, one replenish interval apart: told the same "next token" wait, a thousand
//! refused jobs would all come back together, one would get the token and the rest would
//! be refused again, each retry also re-reading its Secret.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use governor::clock::Reference;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use prometheus_client::metrics::gauge::Gauge;

use super::adaptive::AdaptiveSet;
use crate::api::{ProviderApi, ProviderKind};
use crate::providers::discovery::InstanceTarget;
use crate::providers::{
    Credentials, ErrorClass, ErrorReason, JobObservation, JobTarget, Provider, ProviderError,
};

/// Which published limit a call counts against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// Tencent CDB `DescribeTasks` (API 3.0).
    TencentTasks,
    /// Tencent CDB `DescribeAsyncRequestInfo` (API 3.0).
    TencentAsync,
    /// Tencent CDB API 2.0 (`GetCdbTaskInfo` and friends).
    TencentLegacy,
    /// Huawei Cloud RDS and TaurusDB job queries.
    Huawei,
    /// Alibaba Cloud RDS and PolarDB `DescribeHistoryTasks`.
    Alibaba,
    /// AWS RDS Query API describe calls.
    Aws,
    /// Google Cloud SQL Admin API `operations.get`.
    Gcp,
    /// Azure Resource Manager reads of async operations.
    Azure,
}

/// The bucket a call draws from: API family, caller identity and endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LimitKey {
    pub family: Family,
    /// The SecretId / AK, or a digest of an IAM token (never the token itself).
    pub credential: String,
    /// The endpoint the call goes to (`default/<region>` for the provider's own host).
    pub endpoint: String,
}

/// The bucket for a poll of `target` with `credentials`.
pub fn limit_key(target: &JobTarget, credentials: &Credentials) -> LimitKey {
    bucket(
        family(target.provider, target.api),
        credentials,
        target.endpoint.as_ref().map(|u| u.as_str()),
        target.region.as_deref(),
    )
}

/// The bucket for a listing of an instance's jobs: the same bucket as a poll of the same
/// API family, credential and endpoint, so listings and polls share the provider's limit.
pub fn instance_limit_key(target: &InstanceTarget, credentials: &Credentials) -> LimitKey {
    bucket(
        family(target.provider, target.api),
        credentials,
        target.endpoint.as_ref().map(|u| u.as_str()),
        target.region.as_deref(),
    )
}

/// The published limit a call of `api` counts against.
pub fn family(provider: ProviderKind, api: ProviderApi) -> Family {
    match provider {
        ProviderKind::Tencent if api == ProviderApi::DescribeAsyncRequestInfo => {
            Family::TencentAsync
        }
        ProviderKind::Tencent => Family::TencentTasks,
        ProviderKind::TencentLegacy => Family::TencentLegacy,
        ProviderKind::Huawei => Family::Huawei,
        ProviderKind::Alibaba => Family::Alibaba,
        ProviderKind::Aws => Family::Aws,
        ProviderKind::Gcp => Family::Gcp,
        ProviderKind::Azure => Family::Azure,
    }
}

fn bucket(
    family: Family,
    credentials: &Credentials,
    endpoint: Option<&str>,
    region: Option<&str>,
) -> LimitKey {
    LimitKey {
        family,
        credential: credential_identity(credentials),
        endpoint: match endpoint {
            Some(url) => url.to_string(),
            None => format!("default/{}", region.unwrap_or("")),
        },
    }
}

/// A non-secret identity of the caller: the access key ID, or a digest of a token.
pub fn credential_identity(credentials: &Credentials) -> String {
    credentials.identity()
}

/// The limits, as requests per period for each family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// `DescribeTasks` per second (published: 50/s; some pages say 100/s).
    pub tencent_tasks_per_second: u32,
    /// `DescribeAsyncRequestInfo` per second (published: 40/s).
    pub tencent_async_per_second: u32,
    /// API 2.0 calls per second. No limit is published for the 2.0 CDB actions; 20/s is an
    /// assumption, deliberately below the 3.0 limits.
    pub tencent_legacy_per_second: u32,
    /// Huawei calls per minute (RDS publishes 60/min per user; TaurusDB publishes none, so
    /// the RDS limit is assumed).
    pub huawei_per_minute: u32,
    /// Alibaba Cloud calls per second. The per-API flow-control quotas are per account and
    /// not published for `DescribeHistoryTasks`; 20/s is an assumption.
    pub alibaba_per_second: u32,
    /// AWS RDS describe calls per second, a ceiling. RDS throttles with per-account token
    /// buckets of unpublished size, and the SDKs set no client-side rate: botocore's
    /// `standard` mode retries throttled calls with backoff, its `adaptive` mode sends
    /// unlimited until the first throttling answer, then cuts and recovers its rate (what
    /// [`super::adaptive`] does here). 50/s bounds what one credential's jobs may cost the
    /// account's other clients; batching keeps well below it (100 jobs per call).
    pub aws_per_second: u32,
    /// Google Cloud SQL Admin API calls per minute. The API's quota is per project and user
    /// and set per project in the console; 180/min (3/s) is an assumption below the
    /// defaults seen.
    pub gcp_per_minute: u32,
    /// Azure Resource Manager reads per second. ARM refills read tokens at 25/s per
    /// subscription and region (its token-bucket throttling); 10/s leaves room for every
    /// other client of the subscription.
    pub azure_per_second: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            tencent_tasks_per_second: 50,
            tencent_async_per_second: 40,
            tencent_legacy_per_second: 20,
            huawei_per_minute: 60,
            alibaba_per_second: 20,
            aws_per_second: 50,
            gcp_per_minute: 180,
            azure_per_second: 10,
        }
    }
}

type Keyed<C> =
    RateLimiter<LimitKey, DashMapStateStore<LimitKey>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// One family's keyed buckets and the time between two of their tokens.
struct Buckets<C: Clock> {
    limiter: Keyed<C>,
    interval: Duration,
}

impl<C: Clock> Buckets<C> {
    fn new(quota: Quota, clock: C) -> Self {
        Buckets {
            interval: quota.replenish_interval(),
            limiter: RateLimiter::dashmap_with_clock(quota, clock),
        }
    }
}

/// Keyed token buckets for every family; cheap to share behind an `Arc`.
pub struct RateLimits<C: Clock = DefaultClock> {
    clock: C,
    tencent_tasks: Buckets<C>,
    tencent_async: Buckets<C>,
    tencent_legacy: Buckets<C>,
    huawei: Buckets<C>,
    alibaba: Buckets<C>,
    aws: Buckets<C>,
    gcp: Buckets<C>,
    azure: Buckets<C>,
    /// The last slot handed to a refused poll, per bucket.
    queued: Mutex<HashMap<LimitKey, C::Instant>>,
    acquires: AtomicU64,
    /// The buckets throttled by their provider, below their ceiling.
    adaptive: AdaptiveSet<LimitKey>,
    /// Set to the number of cut buckets after every provider verdict (the metric).
    cut_gauge: OnceLock<Gauge>,
    config: RateLimitConfig,
    origin: C::Instant,
}

/// Every this many acquisitions, idle buckets and past slots are forgotten.
const SHRINK_EVERY: u64 = 4096;

impl RateLimits<DefaultClock> {
    /// Buckets on the real monotonic clock.
    pub fn new(config: RateLimitConfig) -> Self {
        Self::with_clock(config, DefaultClock::default())
    }
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

impl<C: Clock + Clone> RateLimits<C> {
    /// Buckets on the given clock (tests use governor's `FakeRelativeClock`).
    pub fn with_clock(config: RateLimitConfig, clock: C) -> Self {
        let per_second = |n: u32| Quota::per_second(nonzero(n));
        RateLimits {
            tencent_tasks: Buckets::new(per_second(config.tencent_tasks_per_second), clock.clone()),
            tencent_async: Buckets::new(per_second(config.tencent_async_per_second), clock.clone()),
            tencent_legacy: Buckets::new(
                per_second(config.tencent_legacy_per_second),
                clock.clone(),
            ),
            huawei: Buckets::new(
                Quota::per_minute(nonzero(config.huawei_per_minute)),
                clock.clone(),
            ),
            alibaba: Buckets::new(per_second(config.alibaba_per_second), clock.clone()),
            aws: Buckets::new(per_second(config.aws_per_second), clock.clone()),
            gcp: Buckets::new(
                Quota::per_minute(nonzero(config.gcp_per_minute)),
                clock.clone(),
            ),
            azure: Buckets::new(per_second(config.azure_per_second), clock.clone()),
            origin: clock.now(),
            clock,
            queued: Mutex::default(),
            acquires: AtomicU64::new(0),
            adaptive: AdaptiveSet::default(),
            cut_gauge: OnceLock::new(),
            config,
        }
    }

    /// Seconds since these limits were made, on their clock (the adaptive state's time).
    fn seconds(&self) -> f64 {
        Duration::from(self.clock.now().duration_since(self.origin)).as_secs_f64()
    }

    /// A family's configured limit in calls per second: the adaptive rate's ceiling.
    pub fn ceiling(&self, family: Family) -> f64 {
        let c = &self.config;
        match family {
            Family::TencentTasks => f64::from(c.tencent_tasks_per_second),
            Family::TencentAsync => f64::from(c.tencent_async_per_second),
            Family::TencentLegacy => f64::from(c.tencent_legacy_per_second),
            Family::Huawei => f64::from(c.huawei_per_minute) / 60.0,
            Family::Alibaba => f64::from(c.alibaba_per_second),
            Family::Aws => f64::from(c.aws_per_second),
            Family::Gcp => f64::from(c.gcp_per_minute) / 60.0,
            Family::Azure => f64::from(c.azure_per_second),
        }
    }

    /// The provider's verdict on a call sent with a token of `key`: `Some` error when it
    /// failed, `None` when it was answered. A throttling answer cuts the bucket's rate
    /// below its ceiling; answers let it recover; other failures change nothing.
    pub fn feedback(&self, key: &LimitKey, error: Option<&ProviderError>) {
        match error {
            Some(e)
                if e.class == ErrorClass::Throttled && e.reason != ErrorReason::LocalRateLimit =>
            {
                self.adaptive
                    .throttled(key, self.ceiling(key.family), self.seconds());
            }
            Some(_) => return,
            None => self.adaptive.answered(key, self.seconds()),
        }
        if let Some(gauge) = self.cut_gauge.get() {
            gauge.set(i64::try_from(self.adaptive.cut()).unwrap_or(i64::MAX));
        }
    }

    /// One provider call under the bucket `key`: a token first (none: the local rate-limit
    /// error, and nothing is sent), then the provider's verdict fed back to the bucket's
    /// adaptive rate. Every single call (polls, listings) goes through here.
    pub async fn call<T>(
        &self,
        key: &LimitKey,
        call: impl std::future::Future<Output = Result<T, ProviderError>>,
    ) -> Result<T, ProviderError> {
        self.acquire(key).map_err(|wait| rate_limited(key, wait))?;
        let result = call.await;
        self.feedback(key, result.as_ref().err());
        result
    }

    /// Keeps `gauge` at the number of buckets cut below their ceiling (the metric
    /// `clouddb_job_operator_rate_limit_buckets_cut`); the first gauge given stays.
    pub fn report_cut_to(&self, gauge: Gauge) {
        let _ = self.cut_gauge.set(gauge);
    }

    /// The rate a throttled bucket is cut to (calls per second); `None` at its ceiling.
    pub fn adaptive_rate(&self, key: &LimitKey) -> Option<f64> {
        self.adaptive.rate(key)
    }

    /// How many buckets are cut below their ceiling.
    pub fn adaptive_cut(&self) -> usize {
        self.adaptive.cut()
    }

    fn lock_queued(&self) -> std::sync::MutexGuard<'_, HashMap<LimitKey, C::Instant>> {
        self.queued.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes one token from the key's bucket, or says how long this caller should wait:
    /// until the next token for the first refused caller, one replenish interval later
    /// for each refused caller after it.
    pub fn acquire(&self, key: &LimitKey) -> Result<(), Duration> {
        if self.acquires.fetch_add(1, Ordering::Relaxed) % SHRINK_EVERY == SHRINK_EVERY - 1 {
            self.shrink();
        }
        let buckets = match key.family {
            Family::TencentTasks => &self.tencent_tasks,
            Family::TencentAsync => &self.tencent_async,
            Family::TencentLegacy => &self.tencent_legacy,
            Family::Huawei => &self.huawei,
            Family::Alibaba => &self.alibaba,
            Family::Aws => &self.aws,
            Family::Gcp => &self.gcp,
            Family::Azure => &self.azure,
        };
        // A bucket throttled by its provider is paced below its ceiling first.
        self.adaptive.acquire(key, self.seconds())?;
        let not_until = match buckets.limiter.check_key(key) {
            Ok(()) => return Ok(()),
            Err(not_until) => not_until,
        };
        let now = self.clock.now();
        let earliest = not_until.earliest_possible();
        let mut queued = self.lock_queued();
        let slot = match queued.get(key) {
            Some(&last) if last >= earliest => last + Nanos::from(buckets.interval),
            _ => earliest,
        };
        queued.insert(key.clone(), slot);
        Err(Duration::from(slot.duration_since(now)))
    }

    /// Forgets buckets that are full again and slots already past, so the maps do not
    /// grow with retired keys.
    pub fn shrink(&self) {
        self.tencent_tasks.limiter.retain_recent();
        self.tencent_async.limiter.retain_recent();
        self.tencent_legacy.limiter.retain_recent();
        self.huawei.limiter.retain_recent();
        self.alibaba.limiter.retain_recent();
        self.aws.limiter.retain_recent();
        self.gcp.limiter.retain_recent();
        self.azure.limiter.retain_recent();
        let now = self.clock.now();
        self.lock_queued().retain(|_, slot| *slot > now);
    }
}

/// The error for a poll refused locally: throttled, with the wait as `retry_after`.
pub fn rate_limited(key: &LimitKey, wait: Duration) -> ProviderError {
    // Reason `LocalRateLimit`: no request was sent, and the reconciler requeues the job
    // after `retry_after` without touching its status.
    let mut e = ProviderError::throttled(
        ErrorReason::LocalRateLimit.as_str(),
        format!(
            "local rate limit for {:?} calls to {} reached; next slot in {} ms",
            key.family,
            key.endpoint,
            wait.as_millis()
        ),
    )
    .with_retry_after(Some(wait.max(Duration::from_millis(10))));
    e.reason = ErrorReason::LocalRateLimit;
    e
}

/// Wraps a provider so every `observe` takes a token first (one call per observe).
pub struct RateLimitedProvider {
    inner: Arc<dyn Provider>,
    limits: Arc<RateLimits>,
}

impl RateLimitedProvider {
    /// Limits `inner` with the shared buckets.
    pub fn new(inner: Arc<dyn Provider>, limits: Arc<RateLimits>) -> Self {
        RateLimitedProvider { inner, limits }
    }
}

#[async_trait]
impl Provider for RateLimitedProvider {
    async fn observe(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        let key = limit_key(target, credentials);
        self.limits
            .call(&key, self.inner.observe(target, credentials))
            .await
    }
}

#[cfg(test)]
#[path = "ratelimit_tests.rs"]
mod tests;
