//! Lanes: a batch read by identifier (AWS) is split into lanes of at most one call's worth
//! of identifiers ([`LANE_SIZE`]), each lane with poll rounds of its own at its own phase of
//! the interval (see [`super::rounds`]).
//!
//! Why: a batch polled at one round boundary answers all its jobs at once, so at 10,000
//! snapshots about 4,000 ended in the same instant and their status applies queued at the
//! apiserver (p95 detection 36.7 s at a 30 s interval, BENCHMARKS.md). Lanes cost the same
//! calls (one per 100 identifiers per round) and spread them, and the writes behind them,
//! over the interval. A batch of at most [`LANE_SIZE`] jobs is one lane, polled as before;
//! a Tencent sweep (one call lists a whole instance) is never split.
//!
//! A job keeps its lane while it is tracked; a finished job's place goes to the next
//! newcomer, and a job not seen for [`MEMBER_TTL`] (deleted while running) is forgotten.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;

use super::batch_key::{BatchKey, MEMBER_TTL};
use crate::providers::aws::batch::{id_key, FILTER_VALUE_LIMIT};

/// Jobs per lane: what one filtered describe names.
pub const LANE_SIZE: usize = FILTER_VALUE_LIMIT;

/// How often a batch's lanes drop the jobs not seen for [`MEMBER_TTL`].
const SWEEP_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Member {
    lane: u32,
    seen: Timestamp,
}

/// The lanes of one batch.
#[derive(Debug, Default)]
struct Book {
    members: HashMap<String, Member>,
    /// Jobs per lane.
    sizes: Vec<usize>,
    swept: Option<Timestamp>,
}

impl Book {
    /// The first lane with room (lanes fill in order, so a small batch is lane 0 alone).
    fn open_lane(&mut self) -> u32 {
        let lane = match self.sizes.iter().position(|&n| n < LANE_SIZE) {
            Some(lane) => lane,
            None => {
                self.sizes.push(0);
                self.sizes.len() - 1
            }
        };
        self.sizes[lane] += 1;
        u32::try_from(lane).unwrap_or(u32::MAX)
    }

    fn remove(&mut self, id: &str) {
        if let Some(member) = self.members.remove(id) {
            if let Some(n) = self.sizes.get_mut(member.lane as usize) {
                *n = n.saturating_sub(1);
            }
        }
    }

    fn sweep(&mut self, now: Timestamp) {
        if self.swept.is_some_and(|at| elapsed(at, now) < SWEEP_EVERY) {
            return;
        }
        self.swept = Some(now);
        let stale: Vec<String> = self
            .members
            .iter()
            .filter(|(_, m)| elapsed(m.seen, now) >= MEMBER_TTL)
            .map(|(id, _)| id.clone())
            .collect();
        for id in stale {
            self.remove(&id);
        }
    }
}

fn elapsed(since: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(now.duration_since(since)).unwrap_or_default()
}

/// The lanes of every batch read by identifier.
#[derive(Debug, Default)]
pub struct Lanes {
    books: Mutex<HashMap<BatchKey, Book>>,
}

impl Lanes {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<BatchKey, Book>> {
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The key of the lane that job `job_id` of `batch` is read in, giving it a place in
    /// the first lane with room when it has none. A batch that is not read by identifier
    /// keeps its key. Identifiers are matched as the reads match them (case-insensitively).
    pub fn key_for(&self, batch: BatchKey, job_id: &str, now: Timestamp) -> BatchKey {
        if !batch.by_id() {
            return batch;
        }
        let id = &id_key(job_id);
        let base = batch.in_lane(0);
        let mut books = self.lock();
        let book = books.entry(base.clone()).or_default();
        book.sweep(now);
        let lane = match book.members.get_mut(id) {
            Some(member) => {
                member.seen = now;
                member.lane
            }
            None => {
                let lane = book.open_lane();
                book.members
                    .insert(id.to_string(), Member { lane, seen: now });
                lane
            }
        };
        base.in_lane(lane)
    }

    /// Job `job_id` of `batch` (any of its lanes) is finished: its place is free.
    pub fn release(&self, batch: &BatchKey, job_id: &str) {
        let id = &id_key(job_id);
        let base = batch.in_lane(0);
        let mut books = self.lock();
        if let Some(book) = books.get_mut(&base) {
            book.remove(id);
            if book.members.is_empty() {
                books.remove(&base);
            }
        }
    }

    /// Jobs holding a place in a lane, over all batches.
    pub fn len(&self) -> usize {
        self.lock().values().map(|b| b.members.len()).sum()
    }

    /// Whether no job holds a place.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where in the interval lane `lane`'s rounds fall, as a fraction of it: lane 0 at 0 (a
/// batch of one lane keeps the rounds it always had), then the golden-ratio sequence, which
/// spreads any number of lanes evenly without knowing how many there will be.
pub fn phase(lane: u32) -> f64 {
    const GOLDEN: f64 = 0.618_033_988_749_894_9;
    (f64::from(lane) * GOLDEN).fract()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::batching::tests::{aws_key, key_on};

    fn at(secs: u64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs as i64).unwrap()
    }

    #[test]
    fn a_batch_fills_lanes_of_one_call_in_order_and_keeps_each_job_in_its_lane() {
        let lanes = Lanes::default();
        let batch = aws_key("team-a");
        let lane_of = |i: usize| {
            lanes
                .key_for(batch.clone(), &format!("snap-{i}"), at(0))
                .lane()
        };
        let first: Vec<u32> = (0..250).map(lane_of).collect();
        assert!(first[..100].iter().all(|&l| l == 0), "{first:?}");
        assert!(first[100..200].iter().all(|&l| l == 1), "{first:?}");
        assert!(first[200..].iter().all(|&l| l == 2), "{first:?}");
        // Asked again (every poll asks), each job keeps its lane.
        assert_eq!((0..250).map(lane_of).collect::<Vec<_>>(), first);
        assert_eq!(lanes.len(), 250);
        // A lane key narrows the batch and nothing else.
        let key = lanes.key_for(batch.clone(), "snap-150", at(0));
        assert_eq!(key.in_lane(0), batch);
    }

    #[test]
    fn a_finished_jobs_place_goes_to_the_next_newcomer() {
        let lanes = Lanes::default();
        let batch = aws_key("team-a");
        for i in 0..150 {
            lanes.key_for(batch.clone(), &format!("snap-{i}"), at(0));
        }
        lanes.release(&batch.in_lane(1), " SNAP-7 ");
        assert_eq!(lanes.key_for(batch.clone(), "new", at(1)).lane(), 0);
        assert_eq!(lanes.key_for(batch.clone(), "newer", at(1)).lane(), 1);
        assert_eq!(lanes.len(), 151);
    }

    #[test]
    fn jobs_not_seen_for_the_member_ttl_are_forgotten() {
        let lanes = Lanes::default();
        let batch = aws_key("team-a");
        for i in 0..100 {
            lanes.key_for(batch.clone(), &format!("gone-{i}"), at(0));
        }
        let late = at(MEMBER_TTL.as_secs() + 1);
        assert_eq!(lanes.key_for(batch.clone(), "new", late).lane(), 0);
        assert_eq!(lanes.len(), 1);
    }

    #[test]
    fn batches_have_lanes_of_their_own_and_sweeps_have_none() {
        let lanes = Lanes::default();
        let (a, b) = (aws_key("team-a"), aws_key("team-b"));
        for i in 0..100 {
            lanes.key_for(a.clone(), &format!("snap-{i}"), at(0));
        }
        // Another credential's jobs never join team A's lanes, whatever their names.
        assert_eq!(lanes.key_for(b.clone(), "snap-1", at(0)), b.in_lane(0));
        assert_eq!(lanes.key_for(a.clone(), "snap-100", at(0)), a.in_lane(1));
        // A Tencent sweep costs one call for any number of tasks: never split.
        let sweep = key_on("cdb-1");
        for i in 0..300 {
            assert_eq!(lanes.key_for(sweep.clone(), &format!("{i}"), at(0)), sweep);
        }
    }

    #[test]
    fn lane_phases_spread_over_the_interval() {
        assert_eq!(phase(0), 0.0);
        // Any first n lanes leave no gap wider than about 2.6 / n of the interval.
        for n in [2u32, 10, 100] {
            let mut p: Vec<f64> = (0..n).map(phase).collect();
            p.sort_by(f64::total_cmp);
            p.push(1.0);
            let widest = p.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
            assert!(widest <= 2.7 / f64::from(n), "n={n}: {widest}");
        }
    }
}
