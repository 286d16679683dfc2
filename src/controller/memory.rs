//! What the controller remembers between reconciles of a job, in memory only.
//!
//! Everything here can be lost on restart without harm: it is rebuilt from the object's
//! status (poll count) or simply means one early poll (due time).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;

use crate::api::JobPhase;
use crate::providers::digest::CredentialDigest;

#[derive(Clone, Debug, Default)]
struct Entry {
    /// When the next provider poll is due.
    due: Option<Timestamp>,
    /// The generation the due time was computed for; a spec change polls at once.
    generation: Option<i64>,
    /// Polls so far (seeded from `status.pollCount`).
    polls: i64,
    /// Consecutive failures talking to the Kubernetes API (for `error_policy`).
    api_errors: u32,
    /// Consecutive refused (403) reads of the job's Secret.
    refusals: u32,
    /// Last known phase, for the jobs-by-phase gauge.
    phase: Option<JobPhase>,
    /// Why the job is stalled (condition `Stalled`), for the stalled-jobs gauge.
    stall_reason: Option<String>,
    /// Digest of the credential the provider last rejected, while the job is stalled
    /// on it: the Secret is re-checked before the next poll is due.
    rejected: Option<CredentialDigest>,
}

/// Per-job memory keyed by object UID (a re-created object with the same name is new).
#[derive(Debug, Default)]
pub struct JobMemory {
    entries: Mutex<HashMap<String, Entry>>,
}

impl JobMemory {
    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, Entry>) -> R) -> R {
        // A poisoned lock only means another reconcile panicked mid-update; the map is
        // still usable (worst case one early poll).
        let mut guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Time left before the next poll is due, if it is not due yet.
    pub fn wait_before_poll(
        &self,
        uid: &str,
        generation: Option<i64>,
        now: Timestamp,
    ) -> Option<Duration> {
        self.with(|m| {
            let e = m.get(uid)?;
            if e.generation != generation {
                return None;
            }
            let due = e.due?;
            (due > now).then(|| Duration::try_from(due.duration_since(now)).unwrap_or_default())
        })
    }

    /// Polls made so far; `from_status` seeds the count after a restart.
    pub fn polls(&self, uid: &str, from_status: Option<i64>) -> i64 {
        self.with(|m| {
            m.get(uid)
                .map(|e| e.polls)
                .unwrap_or(from_status.unwrap_or(0))
        })
    }

    /// Records the outcome of a reconcile that reached the provider (or decided not to).
    pub fn record(
        &self,
        uid: &str,
        generation: Option<i64>,
        polls: i64,
        due: Option<Timestamp>,
        phase: Option<JobPhase>,
    ) {
        self.with(|m| {
            let e = m.entry(uid.to_string()).or_default();
            e.generation = generation;
            e.polls = polls;
            e.due = due;
            e.api_errors = 0;
            e.phase = phase;
        })
    }

    /// Remembers (or clears) why the job is stalled.
    pub fn set_stall_reason(&self, uid: &str, reason: Option<String>) {
        self.with(|m| {
            if let Some(e) = m.get_mut(uid) {
                e.stall_reason = reason;
            }
        })
    }

    /// Remembers (or clears) the credential the provider rejected.
    pub fn set_rejected(&self, uid: &str, digest: Option<CredentialDigest>) {
        self.with(|m| {
            if let Some(e) = m.get_mut(uid) {
                e.rejected = digest;
            }
        })
    }

    /// The credential the provider rejected, if the job is stalled on one.
    pub fn rejected(&self, uid: &str) -> Option<CredentialDigest> {
        self.with(|m| m.get(uid)?.rejected)
    }

    /// Counts a refused read of the job's Secret and returns the count since the Secret
    /// was last read.
    pub fn count_refusal(&self, uid: &str) -> u32 {
        self.with(|m| {
            let e = m.entry(uid.to_string()).or_default();
            e.refusals = e.refusals.saturating_add(1);
            e.refusals
        })
    }

    /// The job's Secret was read.
    pub fn clear_refusals(&self, uid: &str) {
        self.with(|m| {
            if let Some(e) = m.get_mut(uid) {
                e.refusals = 0;
            }
        })
    }

    /// Counts a failed Kubernetes API call and returns the new count.
    pub fn api_error(&self, uid: &str) -> u32 {
        self.with(|m| {
            let e = m.entry(uid.to_string()).or_default();
            e.api_errors = e.api_errors.saturating_add(1);
            e.api_errors
        })
    }

    /// Drops a finished or deleted job.
    pub fn forget(&self, uid: &str) {
        self.with(|m| {
            m.remove(uid);
        })
    }

    /// Forgets every job whose UID `live` does not hold: jobs deleted while the watch was
    /// down leave no delete event behind, only their absence from the next listing.
    pub fn retain(&self, live: &std::collections::HashSet<String>) {
        self.with(|m| m.retain(|uid, _| live.contains(uid)))
    }

    /// Stalled jobs by reason, for the metrics gauge.
    pub fn stall_counts(&self) -> HashMap<String, i64> {
        self.with(|m| {
            let mut counts = HashMap::new();
            for reason in m.values().filter_map(|e| e.stall_reason.clone()) {
                *counts.entry(reason).or_insert(0) += 1;
            }
            counts
        })
    }

    /// Tracked (non-terminal) jobs by phase, for the metrics gauge.
    pub fn phase_counts(&self) -> HashMap<JobPhase, i64> {
        self.with(|m| {
            let mut counts = HashMap::new();
            for e in m.values() {
                *counts
                    .entry(e.phase.unwrap_or(JobPhase::Pending))
                    .or_insert(0) += 1;
            }
            counts
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn due_time_is_per_generation() {
        let m = JobMemory::default();
        let now = ts("2026-01-01T00:00:00Z");
        assert_eq!(
            m.wait_before_poll("u", Some(1), now),
            None,
            "unknown job polls at once"
        );
        m.record(
            "u",
            Some(1),
            3,
            Some(ts("2026-01-01T00:00:10Z")),
            Some(JobPhase::Running),
        );
        assert_eq!(
            m.wait_before_poll("u", Some(1), now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            m.wait_before_poll("u", Some(2), now),
            None,
            "spec change polls at once"
        );
        assert_eq!(
            m.wait_before_poll("u", Some(1), ts("2026-01-01T00:00:10Z")),
            None
        );
        assert_eq!(m.polls("u", Some(99)), 3);
        assert_eq!(m.polls("other", Some(99)), 99);
        assert_eq!(m.phase_counts().get(&JobPhase::Running), Some(&1));
        assert_eq!(m.api_error("u"), 1);
        assert_eq!(m.api_error("u"), 2);
        assert_eq!(m.rejected("u"), None);
        let refused = crate::providers::digest::digest_of("refused");
        m.set_rejected("u", Some(refused));
        assert_eq!(m.rejected("u"), Some(refused));
        m.set_rejected("u", None);
        assert_eq!(m.rejected("u"), None);
        m.forget("u");
        assert_eq!(m.polls("u", None), 0);
        m.set_rejected("u", Some(refused));
        assert_eq!(m.rejected("u"), None, "only tracked jobs");
    }

    #[test]
    fn stalls_are_counted_by_reason_until_cleared_or_forgotten() {
        let m = JobMemory::default();
        for uid in ["a", "b", "c"] {
            m.record(uid, Some(1), 1, None, Some(JobPhase::Pending));
        }
        m.set_stall_reason("a", Some("SecretNotFound".into()));
        m.set_stall_reason("b", Some("SecretNotFound".into()));
        m.set_stall_reason("c", Some("AuthenticationFailed".into()));
        m.set_stall_reason("untracked", Some("InvalidSpec".into()));
        let counts = m.stall_counts();
        assert_eq!(counts.get("SecretNotFound"), Some(&2));
        assert_eq!(counts.get("AuthenticationFailed"), Some(&1));
        assert_eq!(counts.get("InvalidSpec"), None, "only tracked jobs");
        m.set_stall_reason("a", None);
        m.forget("c");
        assert_eq!(
            m.stall_counts(),
            HashMap::from([("SecretNotFound".to_string(), 1)])
        );
    }

    #[test]
    fn retain_forgets_jobs_missing_from_a_listing() {
        let m = JobMemory::default();
        for uid in ["kept", "gone"] {
            m.record(uid, Some(1), 4, None, Some(JobPhase::Running));
        }
        m.retain(&["kept".to_string()].into_iter().collect());
        assert_eq!(m.polls("kept", None), 4);
        assert_eq!(m.polls("gone", None), 0, "forgotten");
        assert_eq!(m.phase_counts().get(&JobPhase::Running), Some(&1));
    }
}
