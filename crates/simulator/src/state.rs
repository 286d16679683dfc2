//! The simulator's mutable state behind one mutex: jobs and their clocks, per-job and
//! global request counters, fault rules with a seeded RNG, API 2.0 nonces and the request
//! log. Nothing here awaits, so the lock is never held across I/O.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::auth::{AzureTokens, GcpTokenStore, NonceCache};
use super::faults::{self, FaultContext, FaultRule};
use super::recorder::Recorder;
use super::scenario::{ClockStart, JobSpec};
use super::timeline::{self, JobState};
use super::SimConfig;
use clouddb_api::ProviderKind;

/// A point in time on both clocks: monotonic for elapsed time, wall for rendering.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    pub instant: Instant,
    pub wall: Timestamp,
}

impl Clock {
    pub fn now() -> Self {
        Clock {
            instant: Instant::now(),
            wall: Timestamp::now(),
        }
    }
}

/// One job and its runtime bookkeeping.
#[derive(Debug)]
pub(crate) struct JobEntry {
    pub spec: JobSpec,
    /// When its clock started; `None` until the first request for `first-request` jobs.
    pub origin: Option<Clock>,
    /// Requests that concerned this job (its fault rules count these).
    pub requests: u64,
    /// The distinct states the simulator reported for this job, in order (consecutive
    /// repeats folded, so bounded by the timeline), for tests that count the states a client
    /// could have seen without reasoning about time.
    pub served: Vec<JobState>,
}

/// A job's state at one moment, with wall-clock start and end times.
#[derive(Clone, Debug)]
pub(crate) struct JobView {
    pub state: JobState,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
}

/// Everything the server shares between requests.
#[derive(Debug)]
pub(crate) struct SimState {
    pub config: SimConfig,
    pub started: Clock,
    pub jobs: Vec<JobEntry>,
    pub faults: Vec<FaultRule>,
    pub global_requests: u64,
    pub rng: StdRng,
    pub nonces: NonceCache,
    /// Azure access tokens issued by the simulated token endpoint.
    pub azure_tokens: AzureTokens,
    pub recorder: Recorder,
    /// Workload identity: what the simulated STS trust, and what they issued.
    pub sts: crate::sts::StsState,
    /// Access tokens issued by the Google token endpoint.
    pub gcp_tokens: GcpTokenStore,
    /// Maintenance announced ahead, from the scenarios and the control API.
    pub maintenance: Vec<crate::maintenance::MaintenanceSpec>,
}

impl SimState {
    /// Fresh state from the configuration (also what `reset` returns to).
    pub fn new(config: SimConfig) -> Self {
        let mut state = SimState {
            started: Clock::now(),
            jobs: Vec::new(),
            faults: config.faults.clone(),
            global_requests: 0,
            rng: StdRng::seed_from_u64(config.seed),
            nonces: NonceCache::default(),
            azure_tokens: AzureTokens::default(),
            recorder: Recorder::new(config.recorder_capacity),
            sts: Default::default(),
            gcp_tokens: GcpTokenStore::default(),
            maintenance: config
                .scenarios
                .iter()
                .flat_map(|s| s.maintenance.iter().cloned())
                .collect(),
            config,
        };
        let specs: Vec<JobSpec> = state
            .config
            .scenarios
            .iter()
            .flat_map(|s| s.resolved_jobs())
            .collect();
        for spec in specs {
            state.upsert_job(spec);
        }
        state
    }

    /// Adds a job, replacing one with the same provider, API and ID.
    pub fn upsert_job(&mut self, spec: JobSpec) {
        let clock = spec.clock.unwrap_or(self.config.clock);
        let origin = match clock {
            ClockStart::Start => Some(self.started),
            ClockStart::Added => Some(Clock::now()),
            ClockStart::FirstRequest => None,
        };
        let entry = JobEntry {
            spec,
            origin,
            requests: 0,
            served: Vec::new(),
        };
        let key = |j: &JobSpec| (j.provider, j.api().to_string(), j.job_id.clone());
        match self
            .jobs
            .iter_mut()
            .find(|j| key(&j.spec) == key(&entry.spec))
        {
            Some(existing) => *existing = entry,
            None => self.jobs.push(entry),
        }
    }

    /// Indices of jobs matching a predicate.
    pub fn find(&self, pred: impl Fn(&JobSpec) -> bool) -> Vec<usize> {
        (0..self.jobs.len())
            .filter(|i| pred(&self.jobs[*i].spec))
            .collect()
    }

    /// The job's state now, starting its clock if it waits for a first request. `None`
    /// before its first step.
    pub fn view(&mut self, idx: usize, now: Clock) -> Option<JobView> {
        let speed = self.config.speed;
        let entry = self.jobs.get_mut(idx)?;
        let origin = *entry.origin.get_or_insert(now);
        let real = now.instant.saturating_duration_since(origin.instant);
        let state = timeline::state_at(
            &entry.spec.timeline,
            timeline::scenario_elapsed(real, speed),
        )?;
        if entry.served.last() != Some(&state) {
            entry.served.push(state.clone());
        }
        Some(JobView {
            start: timeline::wall_time(origin.wall, state.started, speed),
            end: state
                .ended
                .map(|e| timeline::wall_time(origin.wall, e, speed)),
            state,
        })
    }

    /// Counts the request (globally and for each target job) and picks the fault to apply:
    /// the targets' own rules first, then the global ones. Returns the rule and, for a job
    /// rule, the job it belongs to.
    pub fn decide_fault(
        &mut self,
        provider: Option<ProviderKind>,
        targets: &[usize],
        job_id: Option<&str>,
        now: Clock,
    ) -> Option<(FaultRule, Option<usize>)> {
        self.global_requests += 1;
        let rng = &mut self.rng;
        let mut draw = || rng.random::<f64>();
        let mut chosen = None;
        for &idx in targets {
            let Some(entry) = self.jobs.get_mut(idx) else {
                continue;
            };
            entry.requests += 1;
            if chosen.is_some() {
                continue;
            }
            // The first request about a job starts a `first-request` clock even when a
            // fault answers it (otherwise `firstSeconds` would never elapse).
            let origin = *entry.origin.get_or_insert(now);
            let ctx = FaultContext {
                request_no: entry.requests,
                elapsed: now.instant.saturating_duration_since(origin.instant),
                provider,
                job_id: Some(&entry.spec.job_id),
            };
            chosen = faults::choose(&entry.spec.faults, &ctx, &mut draw)
                .cloned()
                .map(|r| (r, Some(idx)));
        }
        if chosen.is_some() {
            return chosen;
        }
        let ctx = FaultContext {
            request_no: self.global_requests,
            elapsed: now.instant.saturating_duration_since(self.started.instant),
            provider,
            job_id,
        };
        faults::choose(&self.faults, &ctx, &mut draw)
            .cloned()
            .map(|r| (r, None))
    }

    /// A fresh request ID in the providers' UUID style.
    pub fn request_id(&mut self) -> String {
        let a: u128 = self.rng.random();
        let h = format!("{a:032x}");
        format!(
            "{}-{}-4{}-8{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }

    /// Back to the configured jobs and faults with fresh clocks, counters and log.
    pub fn reset(&mut self) {
        let config = self.config.clone();
        let trust = self.sts.config.take();
        *self = SimState::new(config);
        // What the STS trusts is configuration too (set at runtime, like credentials).
        self.sts.config = trust;
    }

    /// Real time since start, for the control API.
    pub fn uptime(&self) -> Duration {
        self.started.instant.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Phase, Step};

    #[test]
    fn a_faulted_first_request_starts_a_first_request_clock() {
        let rule = FaultRule {
            first_seconds: Some(Duration::from_secs(10)),
            ..FaultRule::always(faults::FaultKind::Status)
        };
        let spec: JobSpec = serde_json::from_value(serde_json::json!({
            "provider": "tencent", "jobId": "1", "clock": "first-request",
            "timeline": [{"after": "0s", "status": "RUNNING"}],
        }))
        .unwrap();
        let spec = JobSpec {
            faults: vec![rule],
            timeline: vec![Step {
                after: Duration::ZERO,
                status: Phase::Running,
                progress: None,
                message: None,
                code: None,
            }],
            ..spec
        };
        let mut state = SimState::new(SimConfig::empty());
        state.upsert_job(spec);
        let t0 = Clock::now();
        let tencent = Some(ProviderKind::Tencent);
        assert!(state.decide_fault(tencent, &[0], Some("1"), t0).is_some());
        let later = Clock {
            instant: t0.instant + Duration::from_secs(11),
            wall: t0.wall,
        };
        assert!(
            state
                .decide_fault(tencent, &[0], Some("1"), later)
                .is_none(),
            "the fault window ends 10 s after the first request"
        );
    }
}
