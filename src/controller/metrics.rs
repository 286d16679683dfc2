//! Prometheus metrics (prometheus-client). Labels are bounded sets (provider, api,
//! outcome, phase): never job names or IDs, never anything from a Secret.

use std::sync::Arc;

use prometheus_client::encoding::{text::encode, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use super::memory::JobMemory;
use crate::api::JobPhase;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    pub provider: &'static str,
    pub api: &'static str,
    /// `ok`, `transient`, `throttled` or `permanent`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ApiLabels {
    pub provider: &'static str,
    pub api: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProviderLabels {
    pub provider: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PhaseLabels {
    pub phase: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    pub reason: String,
}

/// A terminal phase and its reason (a CamelCase value the controller or a provider
/// mapping chose from a fixed set, never free text).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FinishedLabels {
    pub phase: &'static str,
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: String,
}

/// All controller metrics, registered under the `clouddb_job_operator_` prefix.
pub struct Metrics {
    registry: Registry,
    pub reconciles: Family<ResultLabels, Counter>,
    pub reconcile_duration: Histogram,
    pub provider_calls: Family<CallLabels, Counter>,
    pub provider_latency: Family<ApiLabels, Histogram>,
    pub provider_throttled: Family<ApiLabels, Counter>,
    pub status_writes: Counter,
    pub status_writes_skipped: Counter,
    /// Finished jobs deleted for `spec.ttlSecondsAfterFinished`.
    pub ttl_deletions: Counter,
    /// Polls postponed because the local rate limit had no token.
    pub rate_limited: Counter,
    /// Rate-limit buckets a provider's throttling answers cut below their ceiling.
    pub rate_limit_buckets_cut: Gauge,
    pub events: Family<EventLabels, Counter>,
    pub jobs: Family<PhaseLabels, Gauge>,
    /// Jobs that need a human (condition `Stalled`, not terminal), by reason; refreshed
    /// from the job memory on every scrape.
    pub jobs_stalled: Family<ReasonLabels, Gauge>,
    /// Jobs this controller saw reach a terminal phase.
    pub jobs_finished: Family<FinishedLabels, Counter>,
    /// 1 while this process runs the controller (holds the Lease, or runs without leader
    /// election), else 0.
    pub leader: Gauge,
    /// Unix time of the last reconcile that ended without an error (0: none yet).
    pub last_reconcile_success: Gauge,
    /// Errors of the CloudDbJob watch itself (RBAC, a missing CRD, an unreachable API).
    pub watch_errors: Counter,
    /// CloudDbJobs created for jobs a CloudDbInstance discovered, by provider.
    pub discovered_jobs: Family<ProviderLabels, Counter>,
    /// Listings of instances' jobs, by provider, api and outcome (like `provider_calls`).
    pub discovery_listings: Family<CallLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("clouddb_job_operator");
        let reconciles = Family::<ResultLabels, Counter>::default();
        registry.register("reconciles", "Reconciles by result", reconciles.clone());
        let reconcile_duration = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        registry.register(
            "reconcile_duration_seconds",
            "Time spent in one reconcile",
            reconcile_duration.clone(),
        );
        let provider_calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "provider_calls",
            "Provider API calls by provider, api and outcome",
            provider_calls.clone(),
        );
        let provider_latency = Family::<ApiLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 14))
        });
        registry.register(
            "provider_call_duration_seconds",
            "Provider API call latency",
            provider_latency.clone(),
        );
        let provider_throttled = Family::<ApiLabels, Counter>::default();
        registry.register(
            "provider_throttled",
            "Provider calls answered with throttling",
            provider_throttled.clone(),
        );
        let status_writes = Counter::default();
        registry.register(
            "status_writes",
            "Status subresource writes",
            status_writes.clone(),
        );
        let status_writes_skipped = Counter::default();
        registry.register(
            "status_writes_skipped",
            "Reconciles whose status was unchanged, so nothing was written",
            status_writes_skipped.clone(),
        );
        let ttl_deletions = Counter::default();
        registry.register(
            "ttl_deletions",
            "Finished CloudDbJobs deleted because spec.ttlSecondsAfterFinished elapsed",
            ttl_deletions.clone(),
        );
        let rate_limited = Counter::default();
        registry.register(
            "rate_limited_polls",
            "Polls postponed by the local provider rate limits (no request sent)",
            rate_limited.clone(),
        );
        let rate_limit_buckets_cut = Gauge::default();
        registry.register(
            "rate_limit_buckets_cut",
            "Rate-limit buckets (credential, endpoint, API family) slowed below their ceiling by the provider's throttling answers",
            rate_limit_buckets_cut.clone(),
        );
        let events = Family::<EventLabels, Counter>::default();
        registry.register(
            "events",
            "Kubernetes Events published by reason",
            events.clone(),
        );
        let jobs = Family::<PhaseLabels, Gauge>::default();
        registry.register("jobs", "Jobs being tracked, by phase", jobs.clone());
        let jobs_stalled = Family::<ReasonLabels, Gauge>::default();
        registry.register(
            "jobs_stalled",
            "Tracked jobs stalled until a human fixes something, by reason",
            jobs_stalled.clone(),
        );
        let jobs_finished = Family::<FinishedLabels, Counter>::default();
        registry.register(
            "jobs_finished",
            "Jobs that reached Succeeded or Failed, by phase and reason",
            jobs_finished.clone(),
        );
        // Present at 0 from the start, so the first success shows as an increase.
        jobs_finished
            .get_or_create(&FinishedLabels {
                phase: JobPhase::Succeeded.as_str(),
                reason: String::new(),
            })
            .inc_by(0);
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this replica runs the controller (leader, or no leader election)",
            leader.clone(),
        );
        let last_reconcile_success = Gauge::default();
        registry.register(
            "last_reconcile_success_timestamp_seconds",
            "Unix time of the last reconcile that succeeded (0: none yet)",
            last_reconcile_success.clone(),
        );
        let watch_errors = Counter::default();
        registry.register(
            "watch_errors",
            "Errors watching CloudDbJobs (RBAC, missing CRD, unreachable API server)",
            watch_errors.clone(),
        );
        let discovered_jobs = Family::<ProviderLabels, Counter>::default();
        registry.register(
            "discovered_jobs",
            "CloudDbJobs created for jobs a CloudDbInstance discovered, by provider",
            discovered_jobs.clone(),
        );
        let discovery_listings = Family::<CallLabels, Counter>::default();
        registry.register(
            "discovery_listings",
            "Listings of a CloudDbInstance's jobs by provider, api and outcome",
            discovery_listings.clone(),
        );
        Metrics {
            registry,
            reconciles,
            reconcile_duration,
            provider_calls,
            provider_latency,
            provider_throttled,
            status_writes,
            status_writes_skipped,
            ttl_deletions,
            rate_limited,
            rate_limit_buckets_cut,
            events,
            jobs,
            jobs_stalled,
            jobs_finished,
            leader,
            last_reconcile_success,
            watch_errors,
            discovered_jobs,
            discovery_listings,
        }
    }

    /// Counts a job that reached a terminal phase.
    pub fn job_finished(&self, phase: JobPhase, reason: Option<&str>) {
        self.jobs_finished
            .get_or_create(&FinishedLabels {
                phase: phase.as_str(),
                reason: reason.unwrap_or_default().to_string(),
            })
            .inc();
    }

    /// OpenMetrics text exposition, with the job gauges refreshed from `memory`.
    pub fn render(&self, memory: Option<&Arc<JobMemory>>) -> String {
        if let Some(memory) = memory {
            let counts = memory.phase_counts();
            for phase in [JobPhase::Pending, JobPhase::Running] {
                self.jobs
                    .get_or_create(&PhaseLabels {
                        phase: phase.as_str(),
                    })
                    .set(counts.get(&phase).copied().unwrap_or(0));
            }
            // A reason nobody is stalled on any more leaves the family (rather than
            // staying at its last count).
            self.jobs_stalled.clear();
            for (reason, count) in memory.stall_counts() {
                self.jobs_stalled
                    .get_or_create(&ReasonLabels { reason })
                    .set(count);
            }
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// Converts an OpenMetrics exposition to the Prometheus text format 0.0.4 (what clients
/// that do not ask for OpenMetrics, and `promtool check metrics`, expect): counter
/// families are named with their `_total` suffix, and `# UNIT` / `# EOF` are dropped.
pub fn prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_names_counters_with_total() {
        let om = "# HELP x_calls Calls.\n# TYPE x_calls counter\nx_calls_total 1\n# HELP x_g G.\n# TYPE x_g gauge\n# UNIT x_g seconds\nx_g 2\n# EOF\n";
        assert_eq!(
            prometheus_text(om),
            "# HELP x_calls_total Calls.\n# TYPE x_calls_total counter\nx_calls_total 1\n# HELP x_g G.\n# TYPE x_g gauge\nx_g 2\n"
        );
    }

    #[test]
    fn renders_registered_metrics() {
        let m = Metrics::new();
        m.provider_calls
            .get_or_create(&CallLabels {
                provider: "tencent",
                api: "DescribeTasks",
                outcome: "ok",
            })
            .inc();
        m.status_writes.inc();
        let memory = Arc::new(JobMemory::default());
        memory.record("u", Some(1), 1, None, Some(JobPhase::Running));
        let text = m.render(Some(&memory));
        assert!(text.contains(r#"clouddb_job_operator_provider_calls_total{provider="tencent",api="DescribeTasks",outcome="ok"} 1"#), "{text}");
        assert!(
            text.contains("clouddb_job_operator_status_writes_total 1"),
            "{text}"
        );
        assert!(
            text.contains(r#"clouddb_job_operator_jobs{phase="Running"} 1"#),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn operability_metrics_leader_stalls_finished_jobs_and_last_success() {
        let m = Metrics::new();
        let memory = Arc::new(JobMemory::default());
        let text = m.render(Some(&memory));
        for present in [
            "clouddb_job_operator_leader 0",
            "clouddb_job_operator_last_reconcile_success_timestamp_seconds 0",
            "clouddb_job_operator_watch_errors_total 0",
            r#"clouddb_job_operator_jobs_finished_total{phase="Succeeded",reason=""} 0"#,
        ] {
            assert!(text.contains(present), "{present} missing:\n{text}");
        }
        assert!(
            !text.contains("clouddb_job_operator_jobs_stalled{"),
            "{text}"
        );

        m.leader.set(1);
        m.last_reconcile_success.set(1_767_225_600);
        m.job_finished(JobPhase::Failed, Some("JobFailed"));
        m.job_finished(JobPhase::Failed, Some("JobFailed"));
        m.job_finished(JobPhase::Succeeded, None);
        memory.record("a", Some(1), 1, None, Some(JobPhase::Pending));
        memory.set_stall_reason("a", Some("SecretNotFound".into()));
        let text = m.render(Some(&memory));
        for present in [
            "clouddb_job_operator_leader 1",
            "clouddb_job_operator_last_reconcile_success_timestamp_seconds 1767225600",
            r#"clouddb_job_operator_jobs_finished_total{phase="Failed",reason="JobFailed"} 2"#,
            r#"clouddb_job_operator_jobs_finished_total{phase="Succeeded",reason=""} 1"#,
            r#"clouddb_job_operator_jobs_stalled{reason="SecretNotFound"} 1"#,
        ] {
            assert!(text.contains(present), "{present} missing:\n{text}");
        }

        // A stall that is over leaves the family instead of staying at its last count.
        memory.set_stall_reason("a", None);
        let text = m.render(Some(&memory));
        assert!(
            !text.contains("clouddb_job_operator_jobs_stalled{"),
            "{text}"
        );
    }
}
