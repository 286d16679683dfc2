//! Poll rounds: jobs in the same batch (see [`super::batching`]) are scheduled for the same
//! instant, so one sweep answers them all instead of each job's jitter spreading the batch
//! over the whole interval.
//!
//! Each batch has an anchor: the next due time chosen by the first job scheduled after the
//! previous round. A job whose own delay would land a little before or (more generously)
//! after the anchor takes the anchor instead; a job that needs something else (e.g. it is polled faster near its
//! predicted end) keeps its own time. Pure apart from the mutex: time comes in as an
//! argument.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;

use super::batching::BatchKey;
use crate::api::MIN_POLL_INTERVAL;

/// How much later than its own delay (as a fraction of it) a job may be polled to join a
/// round.
pub const LATE: f64 = 0.25;
/// How much earlier (as a fraction of its own delay) a job may be polled to join a round.
/// Joining early costs no provider call (the round's sweep happens anyway), so this is
/// generous: it lets a batch whose jobs were first seen at different times converge on
/// one round.
pub const EARLY: f64 = 0.5;

/// The next round of each batch.
#[derive(Debug, Default)]
pub struct Rounds {
    anchors: Mutex<HashMap<BatchKey, Timestamp>>,
}

impl Rounds {
    /// The delay to use for a job of `key` that wants to be polled after `delay`.
    pub fn align(&self, key: &BatchKey, now: Timestamp, delay: Duration) -> Duration {
        let mut anchors = self.anchors.lock().unwrap_or_else(|p| p.into_inner());
        if anchors.len() > 4096 {
            anchors.retain(|_, at| *at > now);
        }
        let wanted = now.checked_add(delay).unwrap_or(now);
        match anchors.get(key) {
            Some(&anchor) if anchor > now => {
                let to_anchor = Duration::try_from(anchor.duration_since(now)).unwrap_or_default();
                let joinable = to_anchor >= delay.mul_f64(1.0 - EARLY)
                    && to_anchor <= delay.mul_f64(1.0 + LATE);
                if joinable && to_anchor >= MIN_POLL_INTERVAL {
                    to_anchor
                } else {
                    delay
                }
            }
            _ => {
                anchors.insert(key.clone(), wanted);
                delay
            }
        }
    }

    /// Batches with an upcoming round.
    pub fn len(&self) -> usize {
        self.anchors.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether no batch has a round.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(instance: &str) -> BatchKey {
        BatchKey {
            secret_id: "S".into(),
            region: "ap-guangzhou".into(),
            endpoint: "https://cdb.tencentcloudapi.com/".into(),
            instance_id: Some(instance.into()),
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn jobs_of_one_batch_join_the_first_jobs_round() {
        let r = Rounds::default();
        let now = ts("2026-01-01T00:00:00Z");
        assert_eq!(
            r.align(&key("a"), now, S(29)),
            S(29),
            "first job sets the round"
        );
        let later = ts("2026-01-01T00:00:00.5Z");
        assert_eq!(
            r.align(&key("a"), later, S(32)),
            Duration::from_millis(28_500),
            "jittered neighbour joins it"
        );
        assert_eq!(
            r.align(&key("b"), later, S(32)),
            S(32),
            "other batch: own round"
        );
    }

    #[test]
    fn a_job_that_needs_another_time_keeps_it() {
        let r = Rounds::default();
        let now = ts("2026-01-01T00:00:00Z");
        r.align(&key("a"), now, S(30));
        assert_eq!(
            r.align(&key("a"), now, S(15)),
            S(15),
            "near its ETA: faster"
        );
        assert_eq!(
            r.align(&key("a"), now, S(29)),
            S(30),
            "the round is unchanged"
        );
    }

    #[test]
    fn a_passed_round_is_replaced() {
        let r = Rounds::default();
        r.align(&key("a"), ts("2026-01-01T00:00:00Z"), S(30));
        let next = ts("2026-01-01T00:00:31Z");
        assert_eq!(r.align(&key("a"), next, S(28)), S(28));
        assert_eq!(r.align(&key("a"), next, S(30)), S(28));
        assert_eq!(r.len(), 1);
    }
}
