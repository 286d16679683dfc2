//! Poll rounds: the jobs of one batch (see [`super::batching`]) are polled together, at
//! fixed round boundaries, so one `DescribeTasks` sweep per round answers them all.
//!
//! A batch's rounds start when its first job is polled and repeat every `period` (the
//! shortest `pollInterval` among its jobs); each lane of a large batch read by identifier
//! ([`super::lanes`]) is a batch of its own here, its rounds at its own phase. A job is
//! scheduled for the first boundary at least half its wanted delay away: a delay shortened
//! near a job's predicted end or lengthened for a long-running job moves it to an earlier
//! or later round, never off the rounds, because a poll off the rounds would cost a call
//! for the whole batch.
//! Sweep reuse asks [`Rounds::round_start`] whether a cached sweep belongs to the current
//! round. Pure apart from the mutex: time comes in as an argument.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::batch_key::BatchKey;
use super::lanes::Lanes;

/// The earliest round a job may join, as a fraction of its wanted delay. Joining a
/// round early costs no provider call (the round's sweep happens anyway).
pub const EARLY: f64 = 0.5;

#[derive(Clone, Copy, Debug)]
struct Series {
    /// A round boundary; the others are `anchor + k * period`.
    anchor: Timestamp,
    period: Duration,
    /// When a job polling every `period` last asked (a slower job may then widen it).
    fastest_seen: Timestamp,
    last_used: Timestamp,
}

impl Series {
    /// The last boundary at or before `t` (`t` must not precede the anchor).
    fn boundary_at_or_before(&self, t: Timestamp) -> Timestamp {
        self.boundary(t, false)
    }

    /// The first boundary at or after `t`.
    fn boundary_at_or_after(&self, t: Timestamp) -> Timestamp {
        self.boundary(t, true)
    }

    fn boundary(&self, t: Timestamp, up: bool) -> Timestamp {
        let period = self.period.as_millis().max(1) as i128;
        let since = t.duration_since(self.anchor).as_millis();
        let mut k = since.div_euclid(period);
        if up && since.rem_euclid(period) != 0 {
            k += 1;
        }
        let offset = SignedDuration::from_millis(i64::try_from(k * period).unwrap_or(i64::MAX));
        self.anchor.checked_add(offset).unwrap_or(t)
    }
}

/// The rounds of each batch, and the lanes a large batch read by identifier is split in.
#[derive(Debug, Default)]
pub struct Rounds {
    series: Mutex<HashMap<BatchKey, Series>>,
    lanes: Lanes,
}

/// Batches not polled for this many periods are forgotten.
const IDLE_PERIODS: u32 = 4;

impl Rounds {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<BatchKey, Series>> {
        self.series.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The delay until the round in which a job of `key` that polls every `interval` and
    /// would like its next poll after `wanted` (its adaptive delay) is polled next. The
    /// first job of a batch (or of a batch idle for a while) starts its rounds at `now`.
    pub fn schedule(
        &self,
        key: &BatchKey,
        now: Timestamp,
        interval: Duration,
        wanted: Duration,
    ) -> Duration {
        let interval = interval.max(Duration::from_millis(1));
        let mut all = self.lock();
        if all.len() > 1024 {
            all.retain(|_, s| !idle(s, now));
        }
        // A lane's rounds fall at its own phase of the interval (lane 0's start now).
        let phase = interval.as_millis() as f64 * super::lanes::phase(key.lane());
        let fresh = Series {
            anchor: now
                .checked_sub(SignedDuration::from_millis(phase.round() as i64))
                .unwrap_or(now),
            period: interval,
            fastest_seen: now,
            last_used: now,
        };
        let series = all
            .entry(key.clone())
            .and_modify(|s| {
                if idle(s, now) {
                    *s = fresh;
                }
            })
            .or_insert(fresh);
        if interval <= series.period {
            series.period = interval;
            series.fastest_seen = now;
        } else if elapsed(series.fastest_seen, now) > interval * 2 {
            // The jobs that needed the faster rounds are gone: widen from the last round.
            series.anchor = series.boundary_at_or_before(now.max(series.anchor));
            series.period = interval;
            series.fastest_seen = now;
        }
        series.last_used = now;
        // The job's data is from this round's sweep, so its wanted delay counts from the
        // round's start: a job reconciled late in a round still takes the next one.
        let round_start = series.boundary_at_or_before(now.max(series.anchor));
        let earliest = round_start
            .checked_add(wanted.mul_f64(EARLY))
            .unwrap_or(now)
            .max(now.checked_add(Duration::from_millis(1)).unwrap_or(now));
        let at = series.boundary_at_or_after(earliest);
        Duration::try_from(at.duration_since(now)).unwrap_or(interval)
    }

    /// The start of the round of `key` that `now` falls in, if the batch has rounds. A
    /// sweep that started at or after it is this round's sweep.
    pub fn round_start(&self, key: &BatchKey, now: Timestamp) -> Option<Timestamp> {
        let all = self.lock();
        let series = all.get(key)?;
        (now >= series.anchor && !idle(series, now)).then(|| series.boundary_at_or_before(now))
    }

    /// The lanes of the batches read by identifier: the batching provider and the
    /// reconciler's schedule both name a job's batch by its lane's key.
    pub fn lanes(&self) -> &Lanes {
        &self.lanes
    }

    /// Batches with rounds.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no batch has rounds.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn elapsed(since: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(now.duration_since(since)).unwrap_or_default()
}

fn idle(series: &Series, now: Timestamp) -> bool {
    elapsed(series.last_used, now) > series.period * IDLE_PERIODS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(instance: &str) -> BatchKey {
        super::super::batching::tests::key_on(instance)
    }

    fn at(secs: f64) -> Timestamp {
        Timestamp::from_millisecond(1_700_000_000_000 + (secs * 1000.0).round() as i64).unwrap()
    }

    const S: fn(u64) -> Duration = Duration::from_secs;
    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn every_job_of_a_batch_is_polled_on_the_first_jobs_rounds() {
        let r = Rounds::default();
        assert_eq!(
            r.schedule(&key("a"), at(0.0), S(30), S(29)),
            S(30),
            "round 1 at 30 s"
        );
        // Polled 0.5 s later with a jittered 32 s: same round.
        assert_eq!(r.schedule(&key("a"), at(0.5), S(30), S(32)), MS(29_500));
        // Reconciled late in round 0 (a busy queue): the next round, not one skipped.
        assert_eq!(r.schedule(&key("a"), at(20.0), S(30), S(30)), S(10));
        // Another batch has its own rounds.
        assert_eq!(r.schedule(&key("b"), at(0.5), S(30), S(32)), S(30));
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn a_job_reconciled_at_the_end_of_a_round_takes_the_boundary_just_ahead() {
        let r = Rounds::default();
        r.schedule(&key("a"), at(0.0), S(30), S(30));
        // Its data is round 0's (t=0): round 1 is 30 s after that data, not too soon.
        assert_eq!(r.schedule(&key("a"), at(29.9), S(30), S(30)), MS(100));
    }

    #[test]
    fn adaptive_delays_pick_earlier_or_later_rounds_but_stay_on_them() {
        let r = Rounds::default();
        r.schedule(&key("a"), at(0.0), S(30), S(30));
        // Near its predicted end a job wants 15 s: still the next round.
        assert_eq!(r.schedule(&key("a"), at(1.0), S(30), S(15)), S(29));
        // A long-running job wants 100 s: the first round at least 50 s away (t=60).
        assert_eq!(r.schedule(&key("a"), at(1.0), S(30), S(100)), S(59));
    }

    #[test]
    fn a_faster_job_shortens_the_rounds_and_a_slower_one_widens_them_once_alone() {
        let r = Rounds::default();
        r.schedule(&key("a"), at(0.0), S(30), S(30));
        // A 10 s job must not wait 30 s: the period becomes 10 s on the same anchor.
        assert_eq!(r.schedule(&key("a"), at(1.0), S(10), S(10)), S(9));
        assert_eq!(
            r.schedule(&key("a"), at(1.0), S(30), S(30)),
            S(19),
            "30 s job: t=20"
        );
        assert_eq!(r.round_start(&key("a"), at(25.0)), Some(at(20.0)));
        // The 10 s job is gone; the 30 s job keeps the 10 s rounds for two of its
        // intervals, then the period widens from the current round.
        assert_eq!(r.schedule(&key("a"), at(20.0), S(30), S(30)), S(20));
        assert_eq!(r.schedule(&key("a"), at(40.0), S(30), S(30)), S(20));
        assert_eq!(r.schedule(&key("a"), at(60.0), S(30), S(30)), S(20));
        assert_eq!(r.schedule(&key("a"), at(80.0), S(30), S(30)), S(30));
        assert_eq!(r.round_start(&key("a"), at(100.0)), Some(at(80.0)));
    }

    #[test]
    fn round_start_is_the_boundary_now_falls_after() {
        let r = Rounds::default();
        assert_eq!(r.round_start(&key("a"), at(0.0)), None, "no rounds yet");
        r.schedule(&key("a"), at(0.0), S(30), S(30));
        assert_eq!(r.round_start(&key("a"), at(0.0)), Some(at(0.0)));
        assert_eq!(r.round_start(&key("a"), at(29.999)), Some(at(0.0)));
        assert_eq!(r.round_start(&key("a"), at(30.0)), Some(at(30.0)));
        assert_eq!(r.round_start(&key("a"), at(95.0)), Some(at(90.0)));
    }

    #[test]
    fn an_idle_batch_starts_new_rounds() {
        let r = Rounds::default();
        r.schedule(&key("a"), at(0.0), S(30), S(30));
        assert_eq!(
            r.round_start(&key("a"), at(500.0)),
            None,
            "idle for > 4 periods"
        );
        assert_eq!(r.schedule(&key("a"), at(500.0), S(30), S(30)), S(30));
        assert_eq!(r.round_start(&key("a"), at(510.0)), Some(at(500.0)));
    }

    #[test]
    fn the_lanes_of_a_large_batch_have_rounds_at_their_own_phases() {
        let r = Rounds::default();
        let batch = super::super::batching::tests::aws_key("team-a");
        // 300 snapshots arrive in the same second: three lanes of 100.
        let delays: Vec<Duration> = (0..300)
            .map(|i| {
                let key = r
                    .lanes()
                    .key_for(batch.clone(), &format!("snap-{i}"), at(0.0));
                r.schedule(&key, at(0.0), S(30), S(30))
            })
            .collect();
        // Lane 0 keeps the rounds a batch always had; lanes 1 and 2 come round 0.618 and
        // 0.236 of an interval from their start, so each lane polls 30 s after the last.
        assert!(delays[..100].iter().all(|d| *d == S(30)), "{delays:?}");
        assert!(
            delays[100..200].iter().all(|d| *d == MS(11_459)),
            "{delays:?}"
        );
        assert!(delays[200..].iter().all(|d| *d == MS(22_918)), "{delays:?}");
        let lane1 = batch.in_lane(1);
        assert_eq!(r.schedule(&lane1, at(11.459), S(30), S(30)), S(30));
        assert_eq!(r.round_start(&lane1, at(12.0)), Some(at(11.459)));
    }
}
