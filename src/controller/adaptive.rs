//! The adaptive part of the client-side rate limit: what the AWS SDKs' `adaptive` retry
//! mode does (botocore `retries/adaptive.py`, `throttling.py`, `bucket.py`), per
//! credential bucket, as a pure state machine on an injected clock (seconds as `f64`).
//!
//! - Until a throttling answer, nothing is added to the configured ceiling (botocore's
//!   client limiter is disabled until its first throttling error).
//! - On a throttling answer the allowed rate is cut to `BETA` (0.7) times the rate in
//!   force, never below `MIN_RATE` (0.5/s, botocore's `TokenBucket._MIN_RATE`).
//! - On later answered calls it recovers along botocore's CUBIC curve:
//!   `rate(t) = SCALE * (t - K)^3 + W_max` with `SCALE` 0.4, `W_max` the rate when
//!   throttled, `K = cbrt(W_max * (1 - BETA) / SCALE)` the time to get back to it, `t` the
//!   time since the throttling answer: slowly near `W_max`, faster beyond it, and never
//!   above the ceiling (`--rate-limit-<provider>`). Back at the ceiling, the bucket is
//!   the ceiling's alone again.
//! - While cut, calls take tokens from a bucket refilled at the allowed rate, holding at
//!   most `max(1, rate)` tokens (botocore's capacity); a call that finds none is told how
//!   long until the next.
//!
//! One difference from botocore: the cut is from the allowed rate, not from a measured
//! send rate, so that the state depends on answers and time only.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Duration;

/// The cut on a throttling answer (botocore `CubicCalculator._BETA`).
pub const BETA: f64 = 0.7;
/// The CUBIC scale (botocore `CubicCalculator._SCALE_CONSTANT`).
pub const SCALE: f64 = 0.4;
/// The lowest allowed rate, calls per second (botocore `TokenBucket._MIN_RATE`).
pub const MIN_RATE: f64 = 0.5;

/// The adaptive state of one bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct Adaptive {
    ceiling: f64,
    rate: f64,
    /// `Some` while the rate is below the ceiling: when the last throttling answer came,
    /// the rate then (`W_max`) and `K`.
    cut: Option<Cut>,
    tokens: f64,
    refilled: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Cut {
    at: f64,
    w_max: f64,
    k: f64,
}

impl Adaptive {
    /// A bucket at its ceiling (calls per second).
    pub fn new(ceiling: f64) -> Self {
        let ceiling = ceiling.max(MIN_RATE);
        Adaptive {
            ceiling,
            rate: ceiling,
            cut: None,
            tokens: 0.0,
            refilled: 0.0,
        }
    }

    /// The allowed rate now (calls per second).
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Whether the rate is below the ceiling.
    pub fn is_cut(&self) -> bool {
        self.cut.is_some()
    }

    fn capacity(&self) -> f64 {
        self.rate.max(1.0)
    }

    fn refill(&mut self, now: f64) {
        let elapsed = (now - self.refilled).max(0.0);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity());
        self.refilled = now;
    }

    /// A throttling answer at `now`.
    pub fn throttled(&mut self, now: f64) {
        self.refill(now);
        let w_max = self.rate;
        self.rate = (w_max * BETA).max(MIN_RATE);
        let k = (w_max * (1.0 - BETA) / SCALE).cbrt();
        if self.cut.is_none() {
            // The first cut starts with what the bucket could send in one second.
            self.tokens = self.rate.min(self.capacity());
        }
        self.tokens = self.tokens.min(self.capacity());
        self.cut = Some(Cut { at: now, w_max, k });
    }

    /// An answered call at `now`: the rate recovers along the CUBIC curve.
    pub fn answered(&mut self, now: f64) {
        let Some(cut) = self.cut else {
            return;
        };
        self.refill(now);
        let t = (now - cut.at).max(0.0);
        let rate = SCALE * (t - cut.k).powi(3) + cut.w_max;
        if rate >= self.ceiling {
            self.rate = self.ceiling;
            self.cut = None;
        } else {
            self.rate = rate.max(MIN_RATE);
            self.tokens = self.tokens.min(self.capacity());
        }
    }

    /// One call at `now`: allowed, or the wait until a token. Always allowed at the
    /// ceiling (the ceiling's own bucket decides).
    pub fn acquire(&mut self, now: f64) -> Result<(), Duration> {
        if self.cut.is_none() {
            return Ok(());
        }
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let wait = (1.0 - self.tokens) / self.rate;
        Err(Duration::from_secs_f64(wait.clamp(0.001, 3600.0)))
    }
}

/// The adaptive states of the buckets that were throttled, by bucket key. A bucket back at
/// its ceiling is forgotten: the map holds only the buckets whose rate is cut.
#[derive(Debug)]
pub struct AdaptiveSet<K> {
    map: Mutex<HashMap<K, Adaptive>>,
}

impl<K> Default for AdaptiveSet<K> {
    fn default() -> Self {
        AdaptiveSet {
            map: Mutex::default(),
        }
    }
}

impl<K: Hash + Eq + Clone> AdaptiveSet<K> {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Adaptive>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One call of `key` at `now`: allowed (always, for a bucket not cut), or the wait.
    pub fn acquire(&self, key: &K, now: f64) -> Result<(), Duration> {
        match self.lock().get_mut(key) {
            Some(a) => a.acquire(now),
            None => Ok(()),
        }
    }

    /// A throttling answer to a call of `key`, whose ceiling is `ceiling` calls per second.
    pub fn throttled(&self, key: &K, ceiling: f64, now: f64) {
        self.lock()
            .entry(key.clone())
            .or_insert_with(|| Adaptive::new(ceiling))
            .throttled(now);
    }

    /// An answered call of `key`.
    pub fn answered(&self, key: &K, now: f64) {
        let mut map = self.lock();
        if let Some(a) = map.get_mut(key) {
            a.answered(now);
            if !a.is_cut() {
                map.remove(key);
            }
        }
    }

    /// The allowed rate of `key` when it is cut.
    pub fn rate(&self, key: &K) -> Option<f64> {
        self.lock().get(key).map(Adaptive::rate)
    }

    /// How many buckets are cut below their ceiling.
    pub fn cut(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_changes_until_a_throttling_answer() {
        let mut a = Adaptive::new(50.0);
        for n in 0..1000 {
            assert_eq!(a.acquire(n as f64 / 1000.0), Ok(()));
            a.answered(n as f64 / 1000.0);
        }
        assert_eq!(a.rate(), 50.0);
        assert!(!a.is_cut());
    }

    #[test]
    fn a_throttling_answer_cuts_the_rate_to_seventy_percent_then_tokens_pace_calls() {
        let mut a = Adaptive::new(50.0);
        a.throttled(10.0);
        assert!((a.rate() - 35.0).abs() < 1e-9, "{}", a.rate());
        // A second's worth of tokens at the cut rate, then one every 1/35 s.
        let mut allowed = 0;
        while a.acquire(10.0).is_ok() {
            allowed += 1;
        }
        assert_eq!(allowed, 35);
        let wait = a.acquire(10.0).unwrap_err();
        assert!((wait.as_secs_f64() - 1.0 / 35.0).abs() < 1e-6, "{wait:?}");
        assert_eq!(a.acquire(10.0 + 1.0 / 35.0 + 1e-6), Ok(()));
        // Throttled again: cut again, from the rate in force.
        a.throttled(10.5);
        assert!((a.rate() - 24.5).abs() < 1e-9, "{}", a.rate());
    }

    #[test]
    fn the_rate_never_goes_below_half_a_call_per_second() {
        let mut a = Adaptive::new(10.0);
        for n in 0..50 {
            a.throttled(n as f64);
        }
        assert_eq!(a.rate(), MIN_RATE);
        a.acquire(100.0).unwrap();
        assert_eq!(a.acquire(100.0), Err(Duration::from_secs(2)));
    }

    /// botocore's curve: back to the rate at the throttling answer after K seconds, then
    /// beyond it, capped at the ceiling, where the cut ends.
    #[test]
    fn successes_recover_along_the_cubic_curve_up_to_the_ceiling() {
        let mut a = Adaptive::new(50.0);
        a.answered(0.0);
        a.throttled(100.0);
        let k = (50.0_f64 * 0.3 / 0.4).cbrt(); // ~3.35 s
        a.answered(100.0);
        assert!((a.rate() - 35.0).abs() < 1e-9, "at the cut: 0.7 W_max");
        a.answered(100.0 + k / 2.0);
        let half = a.rate();
        assert!(half > 35.0 && half < 50.0, "{half}");
        a.answered(100.0 + k - 0.01);
        assert!(a.rate() < 50.0 && a.rate() > 49.99, "{}", a.rate());
        assert!(a.is_cut(), "just before W_max: still cut");
        a.answered(100.0 + k + 1.0);
        assert_eq!(a.rate(), 50.0, "capped at the ceiling");
        assert!(!a.is_cut());
        assert_eq!(a.acquire(100.0 + k + 1.0), Ok(()));
    }

    #[test]
    fn only_throttled_buckets_are_kept_and_only_while_cut() {
        let set = AdaptiveSet::default();
        assert_eq!(set.acquire(&"a", 0.0), Ok(()));
        set.answered(&"a", 0.0);
        assert_eq!(
            set.cut(),
            0,
            "an answered call of a bucket never cut adds nothing"
        );
        set.throttled(&"a", 10.0, 1.0);
        assert_eq!(set.rate(&"a"), Some(7.0));
        assert_eq!(set.rate(&"b"), None, "other buckets keep their ceiling");
        set.answered(&"a", 1000.0);
        assert_eq!(set.cut(), 0, "recovered: forgotten");
    }

    #[test]
    fn a_ceiling_below_the_floor_is_the_floor() {
        let a = Adaptive::new(0.0);
        assert_eq!(a.rate(), MIN_RATE);
    }
}
