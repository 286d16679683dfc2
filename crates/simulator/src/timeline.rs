//! Pure timeline evaluation: given a job's steps and the time elapsed on its clock, the
//! state it is in now. Time is "scenario time" (already multiplied by the speed factor);
//! [`wall_time`] converts scenario offsets back to wall-clock times for rendering.

use std::time::Duration;

use jiff::Timestamp;

use super::scenario::{Phase, Step};

/// A job's state at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobState {
    pub phase: Phase,
    /// 0-100.
    pub progress: u8,
    pub message: String,
    /// Task error code (0 = fine).
    pub code: i64,
    /// Scenario offset at which the job started (its first step).
    pub started: Duration,
    /// Scenario offset at which the job ended, for terminal states.
    pub ended: Option<Duration>,
}

/// The job's state after `elapsed` scenario time, or `None` before its first step (the job
/// does not exist yet, like a provider listing a new job only seconds after creation).
pub fn state_at(timeline: &[Step], elapsed: Duration) -> Option<JobState> {
    let first = timeline.first()?;
    if elapsed < first.after {
        return None;
    }
    let reached: Vec<&Step> = timeline.iter().take_while(|s| s.after <= elapsed).collect();
    let current = reached.last()?;
    let carried = reached.iter().rev().find_map(|s| s.progress).unwrap_or(0);
    let progress = match (current.progress, current.status) {
        (Some(p), _) => p,
        (None, Phase::Succeed) => 100,
        (None, _) => carried,
    }
    .min(100);
    Some(JobState {
        phase: current.status,
        progress,
        message: current.message.clone().unwrap_or_default(),
        code: current.code.unwrap_or(0),
        started: first.after,
        ended: current.status.is_terminal().then_some(current.after),
    })
}

/// Real time since a job's clock started → scenario time, with the speed factor applied.
/// Non-finite or non-positive speeds count as 1.
pub fn scenario_elapsed(real: Duration, speed: f64) -> Duration {
    let speed = if speed.is_finite() && speed > 0.0 {
        speed
    } else {
        1.0
    };
    Duration::try_from_secs_f64(real.as_secs_f64() * speed).unwrap_or(Duration::MAX)
}

/// Wall-clock time of a scenario offset on a job whose clock started at `origin`.
pub fn wall_time(origin: Timestamp, offset: Duration, speed: f64) -> Timestamp {
    let speed = if speed.is_finite() && speed > 0.0 {
        speed
    } else {
        1.0
    };
    let real = offset.as_secs_f64() / speed;
    let span = jiff::SignedDuration::try_from_secs_f64(real).unwrap_or(jiff::SignedDuration::ZERO);
    origin.checked_add(span).unwrap_or(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(after: u64, status: Phase, progress: Option<u8>, message: &str) -> Step {
        Step {
            after: Duration::from_secs(after),
            status,
            progress,
            message: (!message.is_empty()).then(|| message.to_string()),
            code: None,
        }
    }

    fn timeline() -> Vec<Step> {
        vec![
            step(2, Phase::Initial, None, ""),
            step(5, Phase::Running, Some(10), "copying"),
            step(10, Phase::Running, Some(60), ""),
            step(15, Phase::Running, None, "almost"),
            step(20, Phase::Succeed, None, "done"),
        ]
    }

    #[test]
    fn before_the_first_step_the_job_is_unknown() {
        assert_eq!(state_at(&timeline(), Duration::from_secs(1)), None);
        assert_eq!(state_at(&[], Duration::from_secs(100)), None);
    }

    #[test]
    fn follows_the_steps() {
        let t = timeline();
        let at = |s: u64| state_at(&t, Duration::from_secs(s)).unwrap();
        assert_eq!(at(2).phase, Phase::Initial);
        assert_eq!(at(2).progress, 0);
        assert_eq!(at(7).phase, Phase::Running);
        assert_eq!(at(7).progress, 10);
        assert_eq!(at(7).message, "copying");
        assert_eq!(at(12).progress, 60);
        // Progress carries over when a step leaves it out.
        assert_eq!(at(16).progress, 60);
        assert_eq!(at(16).message, "almost");
        assert_eq!(at(16).ended, None);
        let done = at(3600);
        assert_eq!(done.phase, Phase::Succeed);
        assert_eq!(done.progress, 100);
        assert_eq!(done.started, Duration::from_secs(2));
        assert_eq!(done.ended, Some(Duration::from_secs(20)));
    }

    #[test]
    fn failures_keep_their_progress_and_code() {
        let mut t = vec![
            step(0, Phase::Running, Some(5), ""),
            step(30, Phase::Failed, None, "ERROR 2006"),
        ];
        t[1].code = Some(3);
        let s = state_at(&t, Duration::from_secs(31)).unwrap();
        assert_eq!((s.phase, s.progress, s.code), (Phase::Failed, 5, 3));
        assert_eq!(s.ended, Some(Duration::from_secs(30)));
    }

    #[test]
    fn speed_compresses_time() {
        assert_eq!(
            scenario_elapsed(Duration::from_secs(2), 10.0),
            Duration::from_secs(20)
        );
        assert_eq!(
            scenario_elapsed(Duration::from_secs(2), f64::NAN),
            Duration::from_secs(2)
        );
        let origin = Timestamp::from_second(1_000).unwrap();
        assert_eq!(
            wall_time(origin, Duration::from_secs(20), 10.0),
            Timestamp::from_second(1_002).unwrap()
        );
    }
}
