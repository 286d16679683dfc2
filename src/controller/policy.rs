//! Pure requeue policy: when to poll a job next, and how to back off after errors.
//!
//! `sample` arguments are uniform random numbers in [0, 1) supplied by the caller, so the
//! policy itself is deterministic and tested exactly.
//!
//! Backoffs use "equal jitter": the nominal delay (2 s, 30 s, doubling to a cap) is the
//! upper end, and each delay is drawn between half and all of it, so jobs that fail
//! together (one provider outage) do not retry in step. The first transient retry is thus
//! 1-2 s after the failure, the first Secret re-check 15-30 s.

use std::time::Duration;

use jiff::Timestamp;

use crate::api::{CloudDbJobStatus, JobPhase, MIN_POLL_INTERVAL};
use crate::providers::{ErrorClass, ProviderError};

/// Jitter applied to every poll delay: ±10 %, so jobs created together drift apart.
const JITTER: f64 = 0.10;
/// The near-end rule of [`next_poll_delay`] applies once the predicted end is at most this
/// many intervals away, but it polls sooner than the interval only when the end is less
/// than one interval away: from one to two intervals away it gives the interval, as the
/// other rules would there too.
const NEAR_END_INTERVALS: f64 = 2.0;
/// Long-running jobs are polled at most this many times slower than `pollInterval`.
const MAX_SLOWDOWN: f64 = 4.0;
/// Running this long (and predicted far from done) counts as long-running.
const LONG_RUNNING: Duration = Duration::from_secs(3600);

const TRANSIENT_BASE: Duration = Duration::from_secs(2);
const TRANSIENT_CAP: Duration = Duration::from_secs(300);
const PERMANENT_BASE: Duration = Duration::from_secs(30);
const PERMANENT_CAP: Duration = Duration::from_secs(600);
/// A missing or unreadable Secret costs only a Secret read to re-check, not a provider call,
/// so it is re-checked more often once it has been broken for a while.
const SECRET_CAP: Duration = Duration::from_secs(120);

/// Delay before the next poll of a non-terminal job that was just observed. Only a
/// `Running` job with an estimated completion time is polled at another pace than its
/// interval:
///
/// - ETA at most two intervals away: the time left, but at most one interval and at least
///   half of one. So from one to two intervals away it is just the interval; under one
///   interval the poll lands at the predicted end (not sooner than half an interval); once
///   the ETA has passed, half the interval;
/// - ETA further away and running for an hour or more (since `startTime`): a tenth of the
///   time left, between one and four intervals (so slower only when the end is more than
///   ten intervals away);
/// - otherwise the interval. Always ±10 % jitter, and never below 1 s.
pub fn next_poll_delay(
    interval: Duration,
    status: &CloudDbJobStatus,
    now: Timestamp,
    sample: f64,
) -> Duration {
    let base = interval.as_secs_f64();
    let mut delay = base;
    if status.phase == Some(JobPhase::Running) {
        let remaining = status
            .estimated_completion_time
            .as_ref()
            .map(|eta| eta.0.duration_since(now).as_secs_f64());
        let running_for = status
            .start_time
            .as_ref()
            .map(|s| now.duration_since(s.0).as_secs_f64())
            .unwrap_or(0.0);
        match remaining {
            Some(left) if left <= base * NEAR_END_INTERVALS => {
                delay = (base / 2.0).max(left.min(base));
            }
            Some(left) if running_for >= LONG_RUNNING.as_secs_f64() => {
                // Spend at most a tenth of the remaining time between polls.
                delay = (left / 10.0).clamp(base, base * MAX_SLOWDOWN);
            }
            _ => {}
        }
    }
    with_jitter(delay, sample).max(MIN_POLL_INTERVAL)
}

/// What a reconcile found, as far as the next look depends on it.
#[derive(Clone, Copy, Debug)]
pub enum Found<'a> {
    /// The provider answered; `naive` is the benchmark baseline (exactly the interval).
    Observed { interval: Duration, naive: bool },
    /// The provider call failed.
    Failed(&'a ProviderError),
    /// Blocked on something a human must fix; `retry` when it may be fixed outside the
    /// object (a Secret), so it is looked at again on a backoff.
    Blocked { retry: bool },
    /// `spec.timeout` passed: only a change of the object matters now.
    TimedOut,
}

/// When to look at a job again after a reconcile that wrote (or kept) `status`: `None`
/// for "only when the object changes".
pub fn requeue_delay(
    found: Found<'_>,
    status: &CloudDbJobStatus,
    now: Timestamp,
    sample: f64,
) -> Option<Duration> {
    if status.phase.is_some_and(JobPhase::is_terminal) {
        return None;
    }
    let errors = status.consecutive_errors.unwrap_or(0);
    match found {
        Found::Observed {
            interval,
            naive: true,
        } => Some(interval),
        Found::Observed { interval, .. } => Some(next_poll_delay(interval, status, now, sample)),
        Found::Failed(e) if e.class != ErrorClass::Permanent => {
            Some(transient_backoff(errors, e.retry_after, sample))
        }
        Found::Failed(_) => Some(permanent_backoff(errors, sample)),
        Found::Blocked { retry: true } => Some(secret_backoff(errors, sample)),
        Found::Blocked { retry: false } | Found::TimedOut => None,
    }
}

/// For a job whose credential the provider refused: its Secret is re-read (no provider
/// call) within the Secret backoff, so a fixed credential is picked up within two minutes
/// even while the provider is not asked again until `delay`.
pub fn recheck_credentials_within(
    delay: Option<Duration>,
    status: &CloudDbJobStatus,
    sample: f64,
) -> Option<Duration> {
    let errors = status.consecutive_errors.unwrap_or(0);
    delay.map(|d| d.min(secret_backoff(errors, sample)))
}

/// Backoff after `consecutive_errors` transient failures (1 = first): 2 s doubling to
/// 5 min, with equal jitter (1-2 s first), at least the server's `Retry-After`.
pub fn transient_backoff(
    consecutive_errors: i32,
    retry_after: Option<Duration>,
    sample: f64,
) -> Duration {
    let d = exponential(TRANSIENT_BASE, TRANSIENT_CAP, consecutive_errors, sample);
    retry_after.map_or(d, |r| d.max(r.min(TRANSIENT_CAP)))
}

/// Backoff while a job is stalled on something a human must fix: 30 s doubling to 10 min
/// with equal jitter (15-30 s first), so a fixed Secret or credential is picked up without
/// hammering the provider.
pub fn permanent_backoff(consecutive_errors: i32, sample: f64) -> Duration {
    exponential(PERMANENT_BASE, PERMANENT_CAP, consecutive_errors, sample)
}

/// Backoff while the job's Secret is missing, forbidden or lacks a key: 30 s doubling to
/// 2 min with equal jitter (15-30 s first), so a fixed Secret is picked up within two
/// minutes however long it was broken.
pub fn secret_backoff(consecutive_errors: i32, sample: f64) -> Duration {
    exponential(PERMANENT_BASE, SECRET_CAP, consecutive_errors, sample)
}

/// `base * 2^(n-1)`, capped, with "equal jitter" (between half and all of it).
fn exponential(base: Duration, cap: Duration, n: i32, sample: f64) -> Duration {
    let exp = n.clamp(1, 30) - 1;
    let raw = base.as_secs_f64() * 2f64.powi(exp);
    let capped = raw.min(cap.as_secs_f64());
    Duration::from_secs_f64(capped * (0.5 + 0.5 * sample.clamp(0.0, 1.0)))
}

fn with_jitter(seconds: f64, sample: f64) -> Duration {
    let factor = 1.0 - JITTER + 2.0 * JITTER * sample.clamp(0.0, 1.0);
    Duration::from_secs_f64((seconds * factor).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn running(start: &str, eta: Option<&str>) -> CloudDbJobStatus {
        CloudDbJobStatus {
            phase: Some(JobPhase::Running),
            start_time: Some(Time(ts(start))),
            estimated_completion_time: eta.map(|e| Time(ts(e))),
            ..Default::default()
        }
    }

    const I: Duration = Duration::from_secs(30);

    #[test]
    fn plain_interval_with_jitter_bounds() {
        let s = CloudDbJobStatus::default();
        let now = ts("2026-01-01T00:00:00Z");
        assert_eq!(next_poll_delay(I, &s, now, 0.5), I);
        assert_eq!(next_poll_delay(I, &s, now, 0.0), Duration::from_secs(27));
        assert_eq!(next_poll_delay(I, &s, now, 1.0), Duration::from_secs(33));
    }

    #[test]
    fn faster_near_the_predicted_end() {
        let now = ts("2026-01-01T00:10:00Z");
        let s = running("2026-01-01T00:00:00Z", Some("2026-01-01T00:10:40Z"));
        assert_eq!(next_poll_delay(I, &s, now, 0.5), Duration::from_secs(30));
        let s = running("2026-01-01T00:00:00Z", Some("2026-01-01T00:10:05Z"));
        assert_eq!(next_poll_delay(I, &s, now, 0.5), Duration::from_secs(15));
    }

    #[test]
    fn slower_for_long_running_jobs_far_from_done() {
        let now = ts("2026-01-01T02:00:00Z");
        let s = running("2026-01-01T00:00:00Z", Some("2026-01-01T06:00:00Z"));
        assert_eq!(
            next_poll_delay(I, &s, now, 0.5),
            Duration::from_secs(120),
            "capped at 4x"
        );
        let short = running("2026-01-01T01:50:00Z", Some("2026-01-01T06:00:00Z"));
        assert_eq!(
            next_poll_delay(I, &short, now, 0.5),
            I,
            "not long-running yet"
        );
    }

    #[test]
    fn the_near_end_and_long_running_boundaries_are_exact() {
        let now = ts("2026-01-01T01:00:00Z");
        let delay =
            |start: &str, eta: &str| next_poll_delay(I, &running(start, Some(eta)), now, 0.5);
        let secs = Duration::from_secs;
        // Long-running from exactly one hour on: 6 h left is polled 4x slower.
        assert_eq!(
            delay("2026-01-01T00:00:00Z", "2026-01-01T07:00:00Z"),
            secs(120)
        );
        assert_eq!(
            delay("2026-01-01T00:00:01Z", "2026-01-01T07:00:00Z"),
            secs(30)
        );
        // Slowed to a tenth of the time left: 10 min left is 60 s.
        assert_eq!(
            delay("2026-01-01T00:00:00Z", "2026-01-01T01:10:00Z"),
            secs(60)
        );
        // At and just past two intervals from the end both give one interval: there the
        // near-end delay (the time left, at most one interval) and the long-running one
        // (a tenth of the time left, at least one interval) agree, so the exact edge of
        // NEAR_END_INTERVALS cannot be observed (a `<=` -> `<` there is equivalent).
        assert_eq!(
            delay("2026-01-01T00:00:00Z", "2026-01-01T01:01:00Z"),
            secs(30)
        );
        assert_eq!(
            delay("2026-01-01T00:00:00Z", "2026-01-01T01:01:01Z"),
            secs(30)
        );
        // Near the end, the time left, from one interval down to half of one.
        let start = "2026-01-01T00:59:00Z";
        assert_eq!(delay(start, "2026-01-01T01:00:31Z"), secs(30));
        assert_eq!(delay(start, "2026-01-01T01:00:30Z"), secs(30));
        assert_eq!(delay(start, "2026-01-01T01:00:29Z"), secs(29));
        assert_eq!(delay(start, "2026-01-01T01:00:15Z"), secs(15));
        assert_eq!(delay(start, "2026-01-01T01:00:14Z"), secs(15));
        // Past the predicted end: half an interval.
        assert_eq!(delay(start, "2026-01-01T00:59:50Z"), secs(15));
    }

    #[test]
    fn never_below_the_floor() {
        let s = running("2026-01-01T00:00:00Z", Some("2026-01-01T00:00:01Z"));
        let d = next_poll_delay(Duration::from_secs(1), &s, ts("2026-01-01T00:00:00Z"), 0.0);
        assert!(d >= MIN_POLL_INTERVAL, "{d:?}");
    }

    #[test]
    fn transient_backoff_doubles_and_caps() {
        assert_eq!(transient_backoff(1, None, 1.0), Duration::from_secs(2));
        assert_eq!(transient_backoff(2, None, 1.0), Duration::from_secs(4));
        assert_eq!(transient_backoff(5, None, 1.0), Duration::from_secs(32));
        assert_eq!(transient_backoff(50, None, 1.0), Duration::from_secs(300));
        assert_eq!(
            transient_backoff(3, None, 0.0),
            Duration::from_secs(4),
            "jitter keeps at least half"
        );
        assert_eq!(
            transient_backoff(1, Some(Duration::from_secs(20)), 1.0),
            Duration::from_secs(20)
        );
        assert_eq!(
            transient_backoff(1, Some(Duration::from_secs(9000)), 1.0),
            Duration::from_secs(300)
        );
    }

    #[test]
    fn permanent_backoff_is_long_and_bounded() {
        assert_eq!(permanent_backoff(1, 1.0), Duration::from_secs(30));
        assert_eq!(permanent_backoff(3, 1.0), Duration::from_secs(120));
        assert_eq!(permanent_backoff(100, 1.0), Duration::from_secs(600));
    }

    #[test]
    fn secret_backoff_starts_like_permanent_but_caps_at_two_minutes() {
        assert_eq!(secret_backoff(1, 1.0), permanent_backoff(1, 1.0));
        assert_eq!(secret_backoff(3, 1.0), Duration::from_secs(120));
        assert_eq!(secret_backoff(100, 1.0), Duration::from_secs(120));
        assert_eq!(secret_backoff(100, 0.0), Duration::from_secs(60));
    }

    fn status(phase: JobPhase, errors: i32) -> CloudDbJobStatus {
        CloudDbJobStatus {
            phase: Some(phase),
            consecutive_errors: Some(errors),
            ..Default::default()
        }
    }

    #[test]
    fn requeue_delay_follows_what_was_found() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let running = status(JobPhase::Running, 0);
        let interval = Duration::from_secs(30);
        let naive = Found::Observed {
            interval,
            naive: true,
        };
        assert_eq!(requeue_delay(naive, &running, now, 0.9), Some(interval));
        let adaptive = Found::Observed {
            interval,
            naive: false,
        };
        // Adaptive: the interval with its jitter (0.9 x 30 s at sample 0), where the
        // naive baseline would take exactly 30 s.
        assert_eq!(
            requeue_delay(adaptive, &running, now, 0.0),
            Some(Duration::from_secs(27))
        );
        let failing = status(JobPhase::Running, 4);
        let transient = ProviderError::transient("HTTP 503", "x");
        // The fourth transient failure: 2 s x 2^3.
        assert_eq!(
            requeue_delay(Found::Failed(&transient), &failing, now, 1.0),
            Some(Duration::from_secs(16))
        );
        let denied =
            ProviderError::permanent(crate::providers::ErrorReason::AccessDenied, "403", "no");
        // The fourth permanent one: 30 s x 2^3.
        let stalled = requeue_delay(Found::Failed(&denied), &failing, now, 1.0);
        assert_eq!(stalled, Some(Duration::from_secs(240)));
        // Stalled on a refused credential: the Secret is looked at within its backoff
        // (capped at 2 min).
        assert_eq!(
            recheck_credentials_within(stalled, &failing, 1.0),
            Some(Duration::from_secs(120))
        );
        assert_eq!(recheck_credentials_within(None, &failing, 1.0), None);
        let missing_secret = Found::Blocked { retry: true };
        assert_eq!(
            requeue_delay(missing_secret, &failing, now, 0.0),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            requeue_delay(Found::Blocked { retry: false }, &failing, now, 0.0),
            None
        );
        assert_eq!(requeue_delay(Found::TimedOut, &failing, now, 0.0), None);
        // A terminal status is never polled again, whatever was found.
        let done = status(JobPhase::Succeeded, 0);
        assert_eq!(requeue_delay(naive, &done, now, 0.0), None);
    }
}
