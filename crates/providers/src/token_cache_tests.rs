//! One fetch per key for many callers, refresh before expiry, invalidation, sweeping.
use std::sync::atomic::AtomicI64;

use super::*;
use crate::ErrorReason;

const START: i64 = 1_800_000_000;

/// A clock the test moves by hand.
fn manual_clock() -> (Clock, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(START));
    let read = now.clone();
    let clock: Clock = Arc::new(move || {
        Timestamp::from_second(read.load(Ordering::SeqCst)).expect("valid test time")
    });
    (clock, now)
}

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(second).expect("valid test time")
}

fn token(n: u64, expires_at: i64) -> Result<Expiring<String>, ProviderError> {
    Ok(Expiring {
        value: format!("token-{n}"),
        expires_at: at(expires_at),
    })
}

#[tokio::test]
async fn many_jobs_with_one_credential_cause_one_fetch() {
    let (clock, _) = manual_clock();
    let cache = Arc::new(TokenCache::<u64, String>::new(clock));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let cache = cache.clone();
        tasks.push(tokio::spawn(async move {
            cache
                .get(&7, || async {
                    // Slow enough that every task arrives while the first fetch runs.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    token(1, START + 3600)
                })
                .await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), "token-1");
    }
    assert_eq!(cache.fetches(), 1);
    // Another credential gets its own token.
    let other = cache.get(&8, || async { token(2, START + 3600) }).await;
    assert_eq!(other.unwrap(), "token-2");
    assert_eq!(cache.fetches(), 2);
    assert_eq!(cache.len(), 2);
}

#[tokio::test]
async fn a_token_is_replaced_a_margin_before_it_expires() {
    let (clock, now) = manual_clock();
    let cache = TokenCache::<u64, String>::new(clock);
    let first = cache.get(&1, || async { token(1, START + 3600) }).await;
    assert_eq!(first.unwrap(), "token-1");

    // 54 minutes in: more than the 5-minute margin left, so the cached token is used.
    now.store(START + 54 * 60, Ordering::SeqCst);
    let again = cache.get(&1, || async { token(2, START + 7200) }).await;
    assert_eq!(again.unwrap(), "token-1");
    assert_eq!(cache.fetches(), 1);

    // 55 minutes in: within the margin, so a new token is fetched before the old one lapses.
    now.store(START + 55 * 60, Ordering::SeqCst);
    let renewed = cache
        .get(&1, || async { token(2, START + 55 * 60 + 3600) })
        .await;
    assert_eq!(renewed.unwrap(), "token-2");
    assert_eq!(cache.fetches(), 2);
}

#[tokio::test]
async fn short_lived_tokens_are_refreshed_at_half_life() {
    let (clock, now) = manual_clock();
    let cache = TokenCache::<u64, String>::new(clock);
    // A 4-minute token: the 5-minute margin would mean refetching on every call.
    cache
        .get(&1, || async { token(1, START + 240) })
        .await
        .unwrap();
    now.store(START + 119, Ordering::SeqCst);
    let cached = cache.get(&1, || async { token(2, START + 600) }).await;
    assert_eq!(cached.unwrap(), "token-1");
    now.store(START + 120, Ordering::SeqCst);
    let renewed = cache.get(&1, || async { token(2, START + 600) }).await;
    assert_eq!(renewed.unwrap(), "token-2");
}

#[tokio::test]
async fn a_failed_fetch_caches_nothing() {
    let (clock, _) = manual_clock();
    let cache = TokenCache::<u64, String>::new(clock);
    let refused = cache
        .get(&1, || async {
            Err(ProviderError::permanent(
                ErrorReason::AuthenticationFailed,
                "invalid_client",
                "the token endpoint refused the client credentials",
            ))
        })
        .await;
    assert_eq!(
        refused.unwrap_err().reason,
        ErrorReason::AuthenticationFailed
    );
    let next = cache.get(&1, || async { token(1, START + 3600) }).await;
    assert_eq!(next.unwrap(), "token-1");
    assert_eq!(cache.fetches(), 2);
}

#[tokio::test]
async fn invalidating_a_rejected_token_fetches_a_new_one_once() {
    let (clock, _) = manual_clock();
    let cache = TokenCache::<u64, String>::new(clock);
    cache
        .get(&1, || async { token(1, START + 3600) })
        .await
        .unwrap();
    cache.invalidate(&1, &"token-1".to_string()).await;
    let renewed = cache.get(&1, || async { token(2, START + 3600) }).await;
    assert_eq!(renewed.unwrap(), "token-2");
    // A late rejection of the old token leaves the new one in place.
    cache.invalidate(&1, &"token-1".to_string()).await;
    let kept = cache.get(&1, || async { token(3, START + 3600) }).await;
    assert_eq!(kept.unwrap(), "token-2");
    assert_eq!(cache.fetches(), 2);
}

#[tokio::test]
async fn expired_entries_of_unused_credentials_are_swept() {
    let (clock, now) = manual_clock();
    let cache = TokenCache::<u64, String>::new(clock);
    cache
        .get(&1, || async { token(1, START + 600) })
        .await
        .unwrap();
    cache
        .get(&2, || async { token(2, START + 7200) })
        .await
        .unwrap();
    assert_eq!(cache.len(), 2);
    // Key 1's Secret was rotated away; its token expires; a new key arrives.
    now.store(START + 601, Ordering::SeqCst);
    cache
        .get(&3, || async { token(3, START + 4200) })
        .await
        .unwrap();
    assert_eq!(cache.len(), 2, "the expired entry of key 1 is gone");
    // Key 2's token is still valid and still cached.
    let kept = cache.get(&2, || async { token(9, START + 9000) }).await;
    assert_eq!(kept.unwrap(), "token-2");
}
