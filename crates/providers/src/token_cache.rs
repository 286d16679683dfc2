//! The one cache of short-lived credentials: OAuth2 access tokens (Google Cloud, Azure) and,
//! later, temporary credentials from a cloud STS.
//!
//! One entry per key (a credential's keyed digest, [`crate::digest`]), shared by every job using that credential;
//! one fetch at a time per key, so a hundred jobs polled together cause one token request; an
//! entry is refreshed a margin before it expires, so no request is sent with a token about to
//! lapse. Values are held as given (`SecretString` for tokens): nothing here logs them.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;

use crate::clock::Clock;
use crate::ProviderError;

/// How long before expiry a token is replaced, at most (the Azure and Google SDKs use a few
/// minutes). Short-lived tokens are replaced at half their lifetime instead.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A fetched value and when it stops being valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expiring<V> {
    pub value: V,
    pub expires_at: Timestamp,
}

struct Cached<V> {
    value: V,
    expires_at: Timestamp,
    refresh_at: Timestamp,
}

type Slot<V> = Arc<tokio::sync::Mutex<Option<Cached<V>>>>;

/// Short-lived credentials by key. Cheap to share behind an `Arc`.
pub struct TokenCache<K, V> {
    clock: Clock,
    margin: Duration,
    slots: Mutex<HashMap<K, Slot<V>>>,
    fetches: AtomicU64,
}

impl<K: Eq + Hash + Clone, V: Clone + PartialEq> TokenCache<K, V> {
    pub fn new(clock: Clock) -> Self {
        Self::with_margin(clock, DEFAULT_REFRESH_MARGIN)
    }

    pub fn with_margin(clock: Clock, margin: Duration) -> Self {
        TokenCache {
            clock,
            margin,
            slots: Mutex::new(HashMap::new()),
            fetches: AtomicU64::new(0),
        }
    }

    /// The cached value for `key`, or a new one from `fetch` when there is none or it is due
    /// for refresh. Concurrent callers with the same key wait for one fetch. A failed fetch
    /// caches nothing: the next caller tries again (the controller's backoff paces that).
    pub async fn get<F, Fut>(&self, key: &K, fetch: F) -> Result<V, ProviderError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Expiring<V>, ProviderError>>,
    {
        let slot = self.slot(key);
        let mut entry = slot.lock().await;
        let now = (self.clock)();
        if let Some(cached) = entry.as_ref() {
            if now < cached.refresh_at {
                return Ok(cached.value.clone());
            }
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fresh = fetch().await?;
        let value = fresh.value.clone();
        *entry = Some(Cached {
            refresh_at: self.refresh_time(now, fresh.expires_at),
            value: fresh.value,
            expires_at: fresh.expires_at,
        });
        Ok(value)
    }

    /// Drops `rejected` (a value the provider refused, e.g. a token revoked early) so the next
    /// `get` fetches anew. A value another caller has already replaced is left alone, so one
    /// late 401 does not throw away a fresh token.
    pub async fn invalidate(&self, key: &K, rejected: &V) {
        let slot = self.slot(key);
        let mut entry = slot.lock().await;
        if entry.as_ref().is_some_and(|c| &c.value == rejected) {
            *entry = None;
        }
    }

    /// How many fetches were started, for tests and metrics.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Keys with an entry (expired ones are swept as new keys arrive).
    pub fn len(&self) -> usize {
        self.lock_slots().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn slot(&self, key: &K) -> Slot<V> {
        let mut slots = self.lock_slots();
        if let Some(slot) = slots.get(key) {
            return slot.clone();
        }
        // A rotated Secret leaves its old key behind: sweep entries that have expired and
        // that nobody is fetching, so the map stays the size of the credentials in use.
        let now = (self.clock)();
        slots.retain(|_, slot| match slot.try_lock() {
            Ok(entry) => entry.as_ref().is_some_and(|c| c.expires_at > now),
            Err(_) => true,
        });
        slots.entry(key.clone()).or_default().clone()
    }

    fn lock_slots(&self) -> std::sync::MutexGuard<'_, HashMap<K, Slot<V>>> {
        // A panic while holding this lock cannot leave the map inconsistent (each operation
        // is a single insert or retain), so a poisoned lock is still usable.
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Refresh `margin` before expiry, or at half the lifetime for short-lived values.
    fn refresh_time(&self, now: Timestamp, expires_at: Timestamp) -> Timestamp {
        let lifetime = expires_at.duration_since(now);
        let lifetime = lifetime.unsigned_abs();
        let margin = self.margin.min(lifetime / 2);
        expires_at
            .checked_sub(jiff::SignedDuration::try_from(margin).unwrap_or_default())
            .unwrap_or(now)
    }
}

#[cfg(test)]
#[path = "token_cache_tests.rs"]
mod tests;
