//! Client-side rate limits: one token bucket (governor GCRA) per credential, endpoint and
//! API family, sized to the providers' published limits, so the operator stays under them
//! however many jobs it tracks.
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
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use governor::clock::Reference;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use crate::api::{ProviderApi, ProviderKind};
use crate::providers::{
    Credentials, ErrorReason, JobObservation, JobTarget, Provider, ProviderError,
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
    let family = match target.provider {
        ProviderKind::Tencent if target.api == ProviderApi::DescribeAsyncRequestInfo => {
            Family::TencentAsync
        }
        ProviderKind::Tencent => Family::TencentTasks,
        ProviderKind::TencentLegacy => Family::TencentLegacy,
        ProviderKind::Huawei => Family::Huawei,
        ProviderKind::Alibaba => Family::Alibaba,
        ProviderKind::Aws => Family::Aws,
        ProviderKind::Gcp => Family::Gcp,
        ProviderKind::Azure => Family::Azure,
    };
    LimitKey {
        family,
        credential: credential_identity(credentials),
        endpoint: match &target.endpoint {
            Some(url) => url.as_str().to_string(),
            None => format!("default/{}", target.region.as_deref().unwrap_or("")),
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
    /// AWS RDS describe calls per second. RDS throttles with per-account token buckets of
    /// unpublished size; 10/s stays well inside what the SDKs' waiters use.
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
            aws_per_second: 10,
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
            clock,
            queued: Mutex::default(),
            acquires: AtomicU64::new(0),
        }
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
            .acquire(&key)
            .map_err(|wait| rate_limited(&key, wait))?;
        self.inner.observe(target, credentials).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::credentials::SecretString;
    use governor::clock::FakeRelativeClock;

    fn tencent(id: &str) -> Credentials {
        Credentials::Tencent {
            secret_id: id.into(),
            secret_key: SecretString::new("secret-key-value"),
            token: None,
        }
    }

    fn target(provider: ProviderKind, api: Option<&str>) -> JobTarget {
        JobTarget::new(
            provider,
            api,
            "1",
            Some("ap-guangzhou"),
            Some("cdb-1"),
            Some("p"),
            None,
        )
        .unwrap()
    }

    #[test]
    fn keys_separate_families_credentials_and_never_hold_tokens() {
        let t = target(ProviderKind::Tencent, Some("DescribeTasks"));
        let a = target(ProviderKind::Tencent, Some("DescribeAsyncRequestInfo"));
        assert_eq!(limit_key(&t, &tencent("A")).family, Family::TencentTasks);
        assert_eq!(limit_key(&a, &tencent("A")).family, Family::TencentAsync);
        assert_ne!(limit_key(&t, &tencent("A")), limit_key(&t, &tencent("B")));
        let token = Credentials::HuaweiToken {
            token: SecretString::new("very-secret-iam-token"),
        };
        let h = limit_key(&target(ProviderKind::Huawei, None), &token);
        assert_eq!(h.family, Family::Huawei);
        assert!(!h.credential.contains("very-secret"), "{h:?}");
        assert!(h.credential.starts_with("token-sha256:"));
    }

    #[test]
    fn describe_tasks_allows_fifty_per_second_then_says_how_long_to_wait() {
        let clock = FakeRelativeClock::default();
        let limits = RateLimits::with_clock(RateLimitConfig::default(), clock.clone());
        let key = limit_key(
            &target(ProviderKind::Tencent, Some("DescribeTasks")),
            &tencent("A"),
        );
        for i in 0..50 {
            assert_eq!(limits.acquire(&key), Ok(()), "call {i}");
        }
        let wait = limits.acquire(&key).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(20),
            "{wait:?}"
        );
        // Another credential has its own bucket.
        let other = limit_key(
            &target(ProviderKind::Tencent, Some("DescribeTasks")),
            &tencent("B"),
        );
        assert_eq!(limits.acquire(&other), Ok(()));
        clock.advance(wait);
        assert_eq!(limits.acquire(&key), Ok(()), "refilled after the wait");
        assert!(limits.acquire(&key).is_err());
    }

    /// Default limits on a fake clock, with one Huawei key's 60 tokens all taken.
    fn huawei_bucket_emptied() -> (FakeRelativeClock, RateLimits<FakeRelativeClock>, LimitKey) {
        let clock = FakeRelativeClock::default();
        let limits = RateLimits::with_clock(RateLimitConfig::default(), clock.clone());
        let creds = Credentials::HuaweiAkSk {
            ak: "AK".into(),
            sk: SecretString::new("sk"),
        };
        let key = limit_key(&target(ProviderKind::Huawei, None), &creds);
        for _ in 0..60 {
            assert_eq!(limits.acquire(&key), Ok(()));
        }
        (clock, limits, key)
    }

    #[test]
    fn refused_polls_get_successive_slots_instead_of_one_shared_wait() {
        let (clock, limits, key) = huawei_bucket_emptied();
        // 60/min: one token a second. Three refused jobs come back 1 s, 2 s and 3 s later.
        let waits: Vec<Duration> = (0..3).map(|_| limits.acquire(&key).unwrap_err()).collect();
        assert_eq!(
            waits,
            [
                Duration::from_secs(1),
                Duration::from_secs(2),
                Duration::from_secs(3)
            ]
        );
        clock.advance(Duration::from_secs(1));
        assert_eq!(limits.acquire(&key), Ok(()), "the first one gets its token");
        // Once the queue has drained, a refused poll waits only for the next token again.
        clock.advance(Duration::from_secs(10));
        for i in 0..10 {
            assert_eq!(limits.acquire(&key), Ok(()), "refilled token {i}");
        }
        assert_eq!(limits.acquire(&key), Err(Duration::from_secs(1)));
        limits.shrink();
        assert_eq!(
            limits.lock_queued().len(),
            1,
            "only the future slot is kept"
        );
        clock.advance(Duration::from_secs(2));
        limits.shrink();
        assert!(limits.lock_queued().is_empty(), "past slots are forgotten");
    }

    #[test]
    fn huawei_is_sixty_per_minute() {
        let (_clock, limits, key) = huawei_bucket_emptied();
        let wait = limits.acquire(&key).unwrap_err();
        assert!(
            wait > Duration::from_millis(900) && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
    }

    #[test]
    fn configured_limits_apply() {
        let clock = FakeRelativeClock::default();
        let config = RateLimitConfig {
            tencent_async_per_second: 2,
            ..RateLimitConfig::default()
        };
        let limits = RateLimits::with_clock(config, clock);
        let key = limit_key(
            &target(ProviderKind::Tencent, Some("DescribeAsyncRequestInfo")),
            &tencent("A"),
        );
        assert!(limits.acquire(&key).is_ok());
        assert!(limits.acquire(&key).is_ok());
        let wait = limits.acquire(&key).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        let e = rate_limited(&key, wait);
        assert_eq!(e.reason, ErrorReason::LocalRateLimit);
        assert_eq!(e.retry_after, Some(Duration::from_millis(500)));
    }
}
