//! How `track`, `demo` and `watch` show a job: a document per change for scripts (the
//! status object's own fields, exactly as in `.status`, plus `job`: which job it is), or a
//! live progress bar / plain progress lines for people.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use kube::ResourceExt;
use serde::Serialize;

use crate::api::{CloudDbJob, CloudDbJobStatus, ConditionType, JobPhase};
use crate::providers::JobTarget;

/// Which job a document describes: the provider's job, and the CloudDbJob when there is
/// one (`watch`; `track` and `demo` have no object).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobIdentity {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub provider: String,
    pub api: String,
    pub job_id: String,
}

impl JobIdentity {
    /// The job `track` and `demo` poll.
    pub fn of_target(target: &JobTarget) -> Self {
        JobIdentity {
            namespace: None,
            name: None,
            provider: target.provider.as_str().into(),
            api: target.api.as_str().into(),
            job_id: target.job_id.clone(),
        }
    }

    /// The job a CloudDbJob tracks (`api` defaulted per provider, as the controller does).
    pub fn of_object(job: &CloudDbJob) -> Self {
        let spec = &job.spec;
        JobIdentity {
            namespace: job.namespace(),
            name: Some(job.name_any()),
            provider: spec.provider.as_str().into(),
            api: spec
                .api
                .clone()
                .unwrap_or_else(|| spec.provider.default_api().into()),
            job_id: spec.job_id.clone(),
        }
    }

    /// `[namespace/]name provider api job` for a progress line (the namespace only when
    /// jobs of several namespaces are shown).
    pub fn label(&self, with_namespace: bool) -> String {
        columns(
            self.namespace.as_deref(),
            self.name.as_deref(),
            with_namespace,
            [&self.provider, &self.api, &self.job_id],
        )
    }
}

/// `[namespace/]name provider api id` in fixed columns, so that the lines of jobs and
/// instances line up (names vary in length: a fixed column keeps the rest aligned for most).
pub fn columns(
    namespace: Option<&str>,
    name: Option<&str>,
    with_namespace: bool,
    [provider, api, id]: [&str; 3],
) -> String {
    let object = match (namespace, name) {
        (Some(ns), Some(name)) if with_namespace => format!("{:<32} ", format!("{ns}/{name}")),
        (_, Some(name)) => format!("{name:<24} "),
        _ => String::new(),
    };
    format!("{object}{provider:<14} {api:<24} {:<13}", short(id))
}

/// A job ID cut to 13 characters, for progress lines.
pub fn short(id: &str) -> String {
    match id.char_indices().nth(12) {
        Some((cut, _)) if id.chars().count() > 13 => format!("{}…", &id[..cut]),
        _ => id.to_string(),
    }
}

/// One document of `--output json|yaml`: `job`, then the status fields at the top level
/// (where scripts written before `job` existed read them).
#[derive(Serialize)]
struct Document<'a> {
    job: &'a JobIdentity,
    /// `watch`: the object was deleted (the status is its last one).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    deleted: bool,
    #[serde(flatten)]
    status: &'a CloudDbJobStatus,
}

/// `--output` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// One JSON object per status change (JSON lines).
    Json,
    /// One YAML document per status change.
    Yaml,
    /// A progress bar on a terminal, one line per change otherwise.
    Text,
}

/// Serializes one job's status for `--output json|yaml` (text: its summary line).
pub fn render(job: &JobIdentity, status: &CloudDbJobStatus, format: OutputFormat) -> String {
    render_document(job, status, false, format)
}

/// [`render`] of a job whose object was deleted (`"deleted": true`, the last status).
pub fn render_deleted(
    job: &JobIdentity,
    status: &CloudDbJobStatus,
    format: OutputFormat,
) -> String {
    render_document(job, status, true, format)
}

fn render_document(
    job: &JobIdentity,
    status: &CloudDbJobStatus,
    deleted: bool,
    format: OutputFormat,
) -> String {
    let doc = Document {
        job,
        deleted,
        status,
    };
    match format {
        OutputFormat::Json => {
            serde_json::to_string(&doc).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")) + "\n"
        }
        OutputFormat::Yaml => format!(
            "---\n{}",
            serde_norway::to_string(&doc).unwrap_or_else(|e| format!("error: {e}\n"))
        ),
        OutputFormat::Text if deleted => "deleted\n".into(),
        OutputFormat::Text => summary_line(status) + "\n",
    }
}

/// `Running 45% upgrade ETA 2026-01-01T10:00:00Z [Reason] (retrying: 2 errors): message`
/// style one-liner.
pub fn summary_line(status: &CloudDbJobStatus) -> String {
    let phase = status.phase.unwrap_or(JobPhase::Pending);
    let mut line = phase.to_string();
    if let Some(p) = status.progress {
        line.push_str(&format!(" {p}%"));
    }
    if let Some(t) = &status.job_type {
        line.push_str(&format!(" {t}"));
    }
    if let Some(eta) = status
        .estimated_completion_time
        .as_ref()
        .filter(|_| !phase.is_terminal())
    {
        line.push_str(&format!(" ETA {}", eta.0));
    }
    if let Some(r) = &status.reason {
        line.push_str(&format!(" [{r}]"));
    }
    // A transient provider fault leaves phase, reason and message alone; say that the
    // poll is being retried, so a recovery is visible too.
    let retrying =
        crate::controller::conditions::find(&status.conditions, ConditionType::Reconciling)
            .filter(|c| c.status == "True")
            .and_then(|c| match c.reason.as_str() {
                "RetryingAfterError" => Some("retrying"),
                "Throttled" => Some("throttled, retrying"),
                _ => None,
            });
    if let Some(retrying) = retrying.filter(|_| !phase.is_terminal()) {
        let errors = status.consecutive_errors.unwrap_or(1).max(1);
        let plural = if errors == 1 { "" } else { "s" };
        line.push_str(&format!(" ({retrying}: {errors} error{plural})"));
    }
    if let Some(m) = status.message.as_deref().filter(|m| !m.is_empty()) {
        line.push_str(&format!(": {m}"));
    }
    line
}

/// A live progress display for one job: a bar on a terminal, plain lines elsewhere.
pub struct TextProgress {
    bar: Option<ProgressBar>,
    label: String,
    last_line: String,
    quiet: bool,
}

impl TextProgress {
    /// `multi` groups several bars (for `demo`); `None` draws a single bar.
    pub fn new(label: impl Into<String>, multi: Option<&MultiProgress>) -> Self {
        let label = label.into();
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::new(100);
            let bar = match multi {
                Some(m) => m.add(bar),
                None => {
                    bar.set_draw_target(ProgressDrawTarget::stdout());
                    bar
                }
            };
            let style =
                ProgressStyle::with_template("{spinner} {prefix:<38} [{bar:30}] {pos:>3}% {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(label.clone());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        TextProgress {
            bar,
            label,
            last_line: String::new(),
            quiet: false,
        }
    }

    /// A display that shows nothing (the caller prints the result itself).
    pub fn hidden() -> Self {
        TextProgress {
            bar: None,
            label: String::new(),
            last_line: String::new(),
            quiet: true,
        }
    }

    /// Shows the latest status.
    pub fn update(&mut self, status: &CloudDbJobStatus) {
        let line = summary_line(status);
        match &self.bar {
            Some(bar) => {
                bar.set_position(status.progress.unwrap_or(0).clamp(0, 100) as u64);
                bar.set_message(line.clone());
            }
            None if !self.quiet && line != self.last_line => println!("{}  {line}", self.label),
            None => {}
        }
        self.last_line = line;
    }

    /// Ends the display with `line` instead of a status (`watch`: the job was deleted).
    pub fn finish_with(&mut self, line: &str) {
        match &self.bar {
            Some(bar) => bar.finish_with_message(line.to_string()),
            None if !self.quiet => println!("{}  {line}", self.label),
            None => {}
        }
        self.last_line = line.to_string();
    }

    /// Leaves the final state on screen.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_with_message(self.last_line.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> JobIdentity {
        JobIdentity {
            namespace: Some("db".into()),
            name: Some("upgrade-1".into()),
            provider: "tencent".into(),
            api: "DescribeTasks".into(),
            job_id: "15967".into(),
        }
    }

    #[test]
    fn json_and_yaml_use_status_field_names() {
        let status = CloudDbJobStatus {
            phase: Some(JobPhase::Running),
            progress: Some(45),
            provider_status: Some("RUNNING".into()),
            ..Default::default()
        };
        let json = render(&identity(), &status, OutputFormat::Json);
        assert!(json.ends_with('\n') && json.lines().count() == 1, "{json}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["phase"], "Running");
        assert_eq!(v["progress"], 45);
        assert_eq!(v["providerStatus"], "RUNNING");
        assert_eq!(
            v["job"],
            serde_json::json!({"namespace": "db", "name": "upgrade-1", "provider": "tencent",
                "api": "DescribeTasks", "jobId": "15967"})
        );
        assert_eq!(v.get("deleted"), None);
        let yaml = render(&identity(), &status, OutputFormat::Yaml);
        assert!(yaml.starts_with("---\n"));
        assert!(yaml.contains("providerStatus: RUNNING"), "{yaml}");
        assert!(
            yaml.contains("jobId: '15967'") || yaml.contains("jobId: \"15967\""),
            "{yaml}"
        );
        assert_eq!(summary_line(&status), "Running 45%");

        let deleted = render_deleted(&identity(), &status, OutputFormat::Json);
        let v: serde_json::Value = serde_json::from_str(&deleted).unwrap();
        assert_eq!(v["deleted"], true);
        assert_eq!(v["phase"], "Running", "the last status rides along");
    }

    #[test]
    fn a_job_without_an_object_has_no_namespace_or_name() {
        let mut job = identity();
        job.namespace = None;
        job.name = None;
        let v: serde_json::Value = serde_json::from_str(&render(
            &job,
            &CloudDbJobStatus::default(),
            OutputFormat::Json,
        ))
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"job": {"provider": "tencent", "api": "DescribeTasks", "jobId": "15967"}})
        );
        assert!(
            job.label(true).starts_with("tencent "),
            "{}",
            job.label(true)
        );
        let with_namespace = identity().label(true);
        assert!(
            with_namespace.starts_with("db/upgrade-1 "),
            "{with_namespace}"
        );
        assert_eq!(with_namespace.find("tencent"), Some(33), "{with_namespace}");
        let without = identity().label(false);
        assert!(without.starts_with("upgrade-1 "), "{without}");
        assert_eq!(without.find("tencent"), Some(25), "{without}");
    }

    #[test]
    fn the_summary_shows_the_eta_while_running_and_a_retry_in_progress() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
        let eta: jiff::Timestamp = "2026-01-01T10:00:00Z".parse().unwrap();
        let mut status = CloudDbJobStatus {
            phase: Some(JobPhase::Running),
            progress: Some(40),
            job_type: Some("upgrade".into()),
            estimated_completion_time: Some(Time(eta)),
            consecutive_errors: Some(2),
            conditions: vec![Condition {
                type_: "Reconciling".into(),
                status: "True".into(),
                reason: "RetryingAfterError".into(),
                message: "provider call failed, retrying: HTTP 503".into(),
                last_transition_time: Time(eta),
                observed_generation: None,
            }],
            ..Default::default()
        };
        assert_eq!(
            summary_line(&status),
            "Running 40% upgrade ETA 2026-01-01T10:00:00Z (retrying: 2 errors)"
        );
        status.conditions[0].reason = "Polling".into();
        status.phase = Some(JobPhase::Succeeded);
        status.progress = Some(100);
        assert_eq!(
            summary_line(&status),
            "Succeeded 100% upgrade",
            "no ETA when done"
        );
    }
}
