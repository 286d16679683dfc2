//! Kubernetes Events (`events.k8s.io/v1`) for job transitions, written without a cache.
//!
//! [`publish_events`] decides which transitions deserve one (phase changes, stalls,
//! recoveries; never plain polls); [`EventPublisher`] writes them.
//!
//! kube-runtime's `Recorder` keeps every event it published for six minutes (to turn
//! repeats into a series) and scans that cache on each publish. This controller publishes
//! only on transitions, which do not repeat, so the cache would never aggregate anything
//! while costing memory and CPU per tracked job: with 10,000 jobs finishing within a few
//! minutes it held ~60 MiB (BENCHMARKS.md). The event itself is built the same way.

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event as K8sEvent;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::PostParams;
use kube::runtime::events::{Event, EventType, Reporter};
use kube::{Client, Resource, ResourceExt};
use tracing::{info, warn};

use super::metrics::{EventLabels, Metrics};
use crate::api::{CloudDbJob, CloudDbJobStatus, ConditionType, JobPhase};
use crate::providers::clock::Clock;

/// Publishes events as one controller instance.
#[derive(Clone)]
pub struct EventPublisher {
    client: Client,
    reporter: Reporter,
}

impl EventPublisher {
    /// Events are reported as `reporter` (controller name and pod name).
    pub fn new(client: Client, reporter: Reporter) -> Self {
        EventPublisher { client, reporter }
    }

    /// Creates one event about `regarding` in its namespace, stamped `now`.
    pub async fn publish(
        &self,
        event: &Event,
        regarding: &ObjectReference,
        now: jiff::Timestamp,
    ) -> Result<(), kube::Error> {
        let namespace = regarding.namespace.as_deref().unwrap_or("default");
        let object = build_event(event, regarding, &self.reporter, now);
        let body = serde_json::to_vec(&object).map_err(kube::Error::SerdeError)?;
        let request = kube::core::Request::new(K8sEvent::url_path(&(), Some(namespace)))
            .create(&PostParams::default(), body)
            .map_err(kube::Error::BuildRequest)?;
        // The created Event is not needed back: its answer is not decoded.
        self.client.request_text(request).await.map(|_| ())
    }
}

/// The apiserver refuses an `events.k8s.io/v1` Event whose note exceeds 1 KiB or whose
/// reason exceeds 128 bytes (422 Invalid); provider messages can be longer.
const NOTE_LIMIT: usize = 1024;
const REASON_LIMIT: usize = 128;

/// The longest prefix of `text` of at most `limit` bytes that ends on a character boundary.
fn truncate(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The `events.k8s.io/v1` object for `event` at `now` (pure, for tests).
pub fn build_event(
    event: &Event,
    regarding: &ObjectReference,
    reporter: &Reporter,
    now: jiff::Timestamp,
) -> K8sEvent {
    let object = regarding.name.as_deref().unwrap_or(&reporter.controller);
    K8sEvent {
        metadata: ObjectMeta {
            // The same naming as kubectl and kube-runtime: unique per object and instant.
            name: Some(format!("{object}.{:x}", now.as_nanosecond())),
            namespace: regarding.namespace.clone(),
            ..Default::default()
        },
        action: Some(event.action.clone()),
        reason: Some(truncate(&event.reason, REASON_LIMIT).to_string()),
        note: event
            .note
            .as_deref()
            .map(|n| truncate(n, NOTE_LIMIT).to_string()),
        type_: Some(
            match event.type_ {
                EventType::Normal => "Normal",
                EventType::Warning => "Warning",
            }
            .into(),
        ),
        event_time: Some(MicroTime(now)),
        regarding: Some(regarding.clone()),
        related: event.secondary.clone(),
        reporting_controller: Some(reporter.controller.clone()),
        reporting_instance: Some(
            reporter
                .instance
                .clone()
                .unwrap_or_else(|| reporter.controller.clone()),
        ),
        ..Default::default()
    }
}

/// The events of one status change (pure): a phase change, a new or changed stall, a
/// recovery. Never one for a plain poll, so events do not repeat; nor for the first phase
/// of a job seen unfinished, which its first status says at the same instant (the status
/// write is needed, so that pipelines wait on it; an Event would only repeat it, and at
/// 10,000 jobs those repeats were about a quarter of the operator's apiserver writes).
pub fn transition_events(
    job_id: &str,
    prev: &CloudDbJobStatus,
    next: &CloudDbJobStatus,
) -> Vec<Event> {
    let stalled =
        |s: &CloudDbJobStatus| super::conditions::is_true(&s.conditions, ConditionType::Stalled);
    let mut events = Vec::new();
    let first_sight_unfinished =
        prev.phase.is_none() && !next.phase.is_some_and(JobPhase::is_terminal);
    if prev.phase != next.phase && !first_sight_unfinished {
        if let Some(phase) = next.phase {
            let (type_, note) = match phase {
                JobPhase::Failed => (EventType::Warning, next.message.clone()),
                JobPhase::Succeeded => (EventType::Normal, Some(format!("job {job_id} succeeded"))),
                _ => (EventType::Normal, next.message.clone()),
            };
            let reason = match (phase, next.reason.as_deref()) {
                (JobPhase::Failed, Some(r)) => r.to_string(),
                _ => phase.as_str().to_string(),
            };
            events.push(Event {
                type_,
                reason,
                note,
                action: "Track".into(),
                secondary: None,
            });
        }
    }
    let terminal = next.phase.is_some_and(JobPhase::is_terminal);
    if !terminal && stalled(next) && (!stalled(prev) || prev.reason != next.reason) {
        events.push(Event {
            type_: EventType::Warning,
            reason: next.reason.clone().unwrap_or_else(|| "Stalled".into()),
            note: next.message.clone(),
            action: "Track".into(),
            secondary: None,
        });
    } else if !terminal && stalled(prev) && !stalled(next) {
        events.push(Event {
            type_: EventType::Normal,
            reason: "Recovered".into(),
            note: Some("tracking resumed".into()),
            action: "Track".into(),
            secondary: None,
        });
    }
    events
}

/// Publishes the [`transition_events`] of one status write with `recorder` (none: Events
/// are off), counted in `metrics`.
pub(super) async fn publish_events(
    job: &CloudDbJob,
    prev: &CloudDbJobStatus,
    next: &CloudDbJobStatus,
    recorder: Option<&EventPublisher>,
    metrics: &Metrics,
    clock: &Clock,
) {
    let Some(recorder) = recorder else {
        return;
    };
    let events = transition_events(&job.spec.job_id, prev, next);
    let reference = job.object_ref(&());
    // Notes and reasons are cut to the Events API's limits in `build_event`.
    for event in events {
        match recorder.publish(&event, &reference, clock()).await {
            Ok(()) => {
                metrics
                    .events
                    .get_or_create(&EventLabels {
                        reason: event.reason.clone(),
                    })
                    .inc();
                info!(
                    name = job.name_any(),
                    reason = event.reason,
                    note = event.note.as_deref().unwrap_or_default(),
                    "event published"
                );
            }
            Err(e) => warn!(name = job.name_any(), error = %e, "could not publish event"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_names_its_object_reporter_and_time() {
        let regarding = ObjectReference {
            api_version: Some("clouddb.io/v1alpha1".into()),
            kind: Some("CloudDbJob".into()),
            name: Some("upgrade-1".into()),
            namespace: Some("prod".into()),
            uid: Some("u-1".into()),
            ..Default::default()
        };
        let reporter = Reporter {
            controller: "clouddb-job-operator".into(),
            instance: Some("pod-0".into()),
        };
        let event = Event {
            type_: EventType::Warning,
            reason: "JobFailed".into(),
            note: Some("job 1 failed".into()),
            action: "Track".into(),
            secondary: None,
        };
        let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let built = build_event(&event, &regarding, &reporter, now);
        let name = built.metadata.name.unwrap();
        assert_eq!(name, format!("upgrade-1.{:x}", now.as_nanosecond()));
        assert_eq!(built.metadata.namespace.as_deref(), Some("prod"));
        assert_eq!(built.type_.as_deref(), Some("Warning"));
        assert_eq!(built.reason.as_deref(), Some("JobFailed"));
        assert_eq!(built.note.as_deref(), Some("job 1 failed"));
        assert_eq!(built.regarding, Some(regarding));
        assert_eq!(built.reporting_instance.as_deref(), Some("pod-0"));
        assert_eq!(built.event_time, Some(MicroTime(now)));
        assert_eq!(built.series, None);
    }

    #[test]
    fn long_notes_and_reasons_are_cut_to_the_apiservers_limits_on_char_boundaries() {
        let regarding = ObjectReference {
            name: Some("j".into()),
            ..Default::default()
        };
        let reporter = Reporter {
            controller: "clouddb-job-operator".into(),
            instance: None,
        };
        // 3-byte characters: 1024 is not a boundary (1023 is).
        let event = Event {
            type_: EventType::Warning,
            reason: "R".repeat(200),
            note: Some("失".repeat(500)),
            action: "Track".into(),
            secondary: None,
        };
        let built = build_event(&event, &regarding, &reporter, jiff::Timestamp::UNIX_EPOCH);
        let note = built.note.unwrap();
        assert_eq!(note.len(), 1023);
        assert!(note.chars().all(|c| c == '失'));
        assert_eq!(built.reason.unwrap().len(), 128);
        // Short texts are kept whole.
        assert_eq!(truncate("job 1 failed", NOTE_LIMIT), "job 1 failed");
    }

    fn after(
        prev: &CloudDbJobStatus,
        outcome: super::super::status::PollOutcome<'_>,
    ) -> CloudDbJobStatus {
        let ctx = super::super::status::StatusContext {
            generation: Some(1),
            now: "2026-01-01T00:00:00Z".parse().unwrap(),
            poll_count: 1,
        };
        super::super::status::next_status(prev, outcome, &ctx)
    }

    fn reasons(events: &[Event]) -> Vec<(String, bool)> {
        events
            .iter()
            .map(|e| (e.reason.clone(), e.type_ == EventType::Warning))
            .collect()
    }

    #[test]
    fn transitions_and_only_transitions_are_events() {
        use super::super::status::PollOutcome::{Observed, ProviderFailed};
        use crate::providers::{ErrorReason, JobObservation, ProviderError};
        let running = |progress| JobObservation {
            phase: Some(JobPhase::Running),
            progress: Some(progress),
            ..Default::default()
        };
        let start = CloudDbJobStatus::default();
        let first = after(&start, Observed(&running(10)));
        // A job's first status (seen running) is no event: the status says it.
        assert!(transition_events("42", &start, &first).is_empty());
        // A poll that only moves the progress is not an event.
        let second = after(&first, Observed(&running(50)));
        assert!(transition_events("42", &first, &second).is_empty());
        // A stall is one warning, named by its reason; the same stall again is none.
        let denied = ProviderError::permanent(ErrorReason::AccessDenied, "403", "denied");
        let stalled = after(&second, ProviderFailed(&denied));
        assert_eq!(
            reasons(&transition_events("42", &second, &stalled)),
            [("AccessDenied".to_string(), true)]
        );
        let still = after(&stalled, ProviderFailed(&denied));
        assert!(transition_events("42", &stalled, &still).is_empty());
        // Tracking again after a stall is a recovery.
        let back = after(&still, Observed(&running(60)));
        assert_eq!(
            reasons(&transition_events("42", &still, &back)),
            [("Recovered".to_string(), false)]
        );
        // Success names the job; failure is a warning with the provider's reason.
        let done = after(
            &back,
            Observed(&JobObservation {
                phase: Some(JobPhase::Succeeded),
                progress: Some(100),
                ..Default::default()
            }),
        );
        let events = transition_events("42", &back, &done);
        assert_eq!(reasons(&events), [("Succeeded".to_string(), false)]);
        assert_eq!(events[0].note.as_deref(), Some("job 42 succeeded"));
        let failed = after(
            &back,
            Observed(&JobObservation {
                phase: Some(JobPhase::Failed),
                reason: Some("JobFailed".into()),
                message: Some("disk full".into()),
                ..Default::default()
            }),
        );
        let events = transition_events("42", &back, &failed);
        assert_eq!(reasons(&events), [("JobFailed".to_string(), true)]);
        assert_eq!(events[0].note.as_deref(), Some("disk full"));
    }

    #[test]
    fn a_refused_first_poll_is_one_warning_carrying_the_refusal() {
        use super::super::status::PollOutcome::{Blocked, ProviderFailed};
        use crate::providers::{ErrorReason, ProviderError};
        let start = CloudDbJobStatus::default();
        let refused = ProviderError::permanent(
            ErrorReason::AuthenticationFailed,
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found",
        );
        let blocked = Blocked {
            reason: "SecretNotFound",
            message: "Secret creds not found".into(),
        };
        for (next, refusal) in [
            (
                after(&start, ProviderFailed(&refused)),
                "SecretId is not found",
            ),
            (after(&start, blocked), "Secret creds not found"),
        ] {
            assert_eq!(next.phase, Some(JobPhase::Pending));
            let events = transition_events("42", &start, &next);
            assert_eq!(events.len(), 1, "{:?}", reasons(&events));
            assert_eq!(events[0].type_, EventType::Warning);
            let warned = events[0].note.as_deref().unwrap_or_default();
            assert!(warned.contains(refusal), "{warned}");
        }
    }

    #[test]
    fn a_job_first_seen_finished_has_its_outcome_event() {
        use super::super::status::PollOutcome::Observed;
        use crate::providers::JobObservation;
        let start = CloudDbJobStatus::default();
        let done = after(
            &start,
            Observed(&JobObservation {
                phase: Some(JobPhase::Succeeded),
                progress: Some(100),
                ..Default::default()
            }),
        );
        assert_eq!(
            reasons(&transition_events("42", &start, &done)),
            [("Succeeded".to_string(), false)]
        );
        // Seen first not found yet (`Pending`), then running: the change is an event.
        let pending = CloudDbJobStatus {
            phase: Some(JobPhase::Pending),
            ..Default::default()
        };
        let running = after(
            &pending,
            Observed(&JobObservation {
                phase: Some(JobPhase::Running),
                ..Default::default()
            }),
        );
        assert_eq!(
            reasons(&transition_events("42", &pending, &running)),
            [("Running".to_string(), false)]
        );
    }
}
