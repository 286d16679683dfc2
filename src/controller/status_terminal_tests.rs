//! A terminal status never changes again, for every way a job ends (success, provider
//! failure, tracking timeout) and every later outcome: only `observedGeneration` moves.

use super::*;
use crate::providers::ErrorReason;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn at(now: &str, generation: i64, polls: i64) -> StatusContext {
    StatusContext {
        generation: Some(generation),
        now: ts(now),
        poll_count: polls,
    }
}

fn observed(phase: JobPhase, progress: u8, message: &str) -> JobObservation {
    JobObservation {
        phase: Some(phase),
        provider_status: Some(format!("{phase:?}").to_uppercase()),
        progress: Some(progress),
        message: Some(message.into()),
        start_time: Some(ts("2026-01-01T00:00:00Z")),
        ..Default::default()
    }
}

/// A running job, then how it ended: (name, terminal status).
fn terminal_statuses() -> Vec<(&'static str, CloudDbJobStatus)> {
    let running = next_status(
        &CloudDbJobStatus::default(),
        PollOutcome::Observed(&observed(JobPhase::Running, 40, "upgrading")),
        &at("2026-01-01T00:10:00Z", 1, 1),
    );
    let end = at("2026-01-01T00:20:00Z", 1, 2);
    let ended = |outcome| next_status(&running, outcome, &end);
    vec![
        (
            "Succeeded",
            ended(PollOutcome::Observed(&observed(
                JobPhase::Succeeded,
                100,
                "done",
            ))),
        ),
        (
            "Failed",
            ended(PollOutcome::Observed(&observed(
                JobPhase::Failed,
                60,
                "disk full",
            ))),
        ),
        (
            "TrackingTimeout",
            ended(PollOutcome::TimedOut {
                message: "stopped tracking after 20m".into(),
            }),
        ),
    ]
}

#[test]
fn terminal_statuses_are_what_they_claim() {
    let reasons: Vec<(Option<JobPhase>, Option<String>)> = terminal_statuses()
        .into_iter()
        .map(|(_, s)| (s.phase, s.reason))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (Some(JobPhase::Succeeded), None),
            (Some(JobPhase::Failed), Some("JobFailed".into())),
            (Some(JobPhase::Failed), Some("TrackingTimeout".into())),
        ]
    );
}

#[test]
fn no_later_outcome_changes_a_terminal_status() {
    let transient = ProviderError::transient("HTTP 503", "unavailable");
    let throttled = ProviderError::throttled("RequestLimitExceeded", "slow down");
    let rejected =
        ProviderError::permanent(ErrorReason::AuthenticationFailed, "4100", "bad signature");
    let later_observations = [
        observed(JobPhase::Running, 10, "restarted"),
        observed(JobPhase::Pending, 0, "queued"),
        observed(JobPhase::Succeeded, 100, "done after all"),
        observed(JobPhase::Failed, 90, "another failure"),
    ];
    for (name, terminal) in terminal_statuses() {
        let mut outcomes: Vec<PollOutcome<'_>> = later_observations
            .iter()
            .map(PollOutcome::Observed)
            .collect();
        outcomes.extend([
            PollOutcome::ProviderFailed(&transient),
            PollOutcome::ProviderFailed(&throttled),
            PollOutcome::ProviderFailed(&rejected),
            PollOutcome::Blocked {
                reason: "SecretNotFound",
                message: "gone".into(),
            },
            PollOutcome::TimedOut {
                message: "late".into(),
            },
        ]);
        for outcome in outcomes {
            let shown = format!("{name} then {outcome:?}");
            // Same generation: identical, so nothing is written.
            let same = next_status(
                &terminal,
                outcome.clone(),
                &at("2026-01-01T05:00:00Z", 1, 9),
            );
            assert_eq!(same, terminal, "{shown}");
            assert!(!needs_write(&terminal, &same), "{shown}");
            // A later generation: only observedGeneration moves (status and conditions).
            let newer = next_status(&terminal, outcome, &at("2026-01-01T05:00:00Z", 2, 9));
            let mut expected = terminal.clone();
            expected.observed_generation = Some(2);
            for c in &mut expected.conditions {
                c.observed_generation = Some(2);
            }
            assert_eq!(newer, expected, "{shown}");
        }
    }
}
