//! The buckets: keys, published limits, successive slots, configured and adaptive rates.

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

/// A throttling answer cuts the bucket below its ceiling (70 %), other buckets keep theirs,
/// answers recover it, and a local refusal is not the provider's throttling.
#[test]
fn throttling_answers_cut_the_bucket_and_answers_recover_it() {
    let clock = FakeRelativeClock::default();
    let config = RateLimitConfig {
        aws_per_second: 10,
        ..RateLimitConfig::default()
    };
    let limits = RateLimits::with_clock(config, clock.clone());
    let gauge = prometheus_client::metrics::gauge::Gauge::<i64>::default();
    limits.report_cut_to(gauge.clone());
    let aws = |id: &str| Credentials::Aws {
        access_key_id: id.into(),
        secret_access_key: SecretString::new("s"),
        session_token: None,
    };
    let key = limit_key(&target(ProviderKind::Aws, Some("db-snapshot")), &aws("A"));
    let other = limit_key(&target(ProviderKind::Aws, Some("db-snapshot")), &aws("B"));
    let local = rate_limited(&key, Duration::from_millis(5));
    limits.feedback(&key, Some(&local));
    assert_eq!(
        limits.adaptive_rate(&key),
        None,
        "a local refusal cuts nothing"
    );
    limits.feedback(&key, Some(&ProviderError::transient("HTTP 503", "down")));
    assert_eq!(limits.adaptive_rate(&key), None, "nor does a 5xx");
    limits.feedback(
        &key,
        Some(&ProviderError::throttled("Throttling", "Rate exceeded")),
    );
    assert_eq!(limits.adaptive_rate(&key), Some(7.0));
    assert_eq!(limits.adaptive_rate(&other), None);
    assert_eq!(gauge.get(), 1, "the metric counts the cut bucket");
    // 7 calls in the first second instead of the ceiling's 10.
    let allowed = (0..10).filter(|_| limits.acquire(&key).is_ok()).count();
    assert_eq!(allowed, 7);
    assert!(
        (0..10).all(|_| limits.acquire(&other).is_ok()),
        "B keeps 10/s"
    );
    // Answers for a minute: back at the ceiling, and forgotten.
    clock.advance(Duration::from_secs(60));
    limits.feedback(&key, None);
    assert_eq!(limits.adaptive_rate(&key), None);
    assert_eq!(limits.adaptive_cut(), 0);
    assert_eq!(
        gauge.get(),
        0,
        "and no longer once it is back at the ceiling"
    );
    assert_eq!(RateLimitConfig::default().aws_per_second, 50);
}
