//! How `track` and `demo` show a job: the status object as JSON or YAML (exactly the
//! field names of `.status`), or a live progress bar / plain progress lines.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::api::{CloudDbJobStatus, JobPhase};

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

/// Serializes a status for `--output json|yaml`.
pub fn render(status: &CloudDbJobStatus, format: OutputFormat) -> String {
    match format {
        OutputFormat::Json => {
            serde_json::to_string(status).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
                + "\n"
        }
        OutputFormat::Yaml => format!(
            "---\n{}",
            serde_norway::to_string(status).unwrap_or_else(|e| format!("error: {e}\n"))
        ),
        OutputFormat::Text => summary_line(status) + "\n",
    }
}

/// `Running 45% upgrade: message` style one-liner.
pub fn summary_line(status: &CloudDbJobStatus) -> String {
    let phase = status.phase.unwrap_or(JobPhase::Pending);
    let mut line = phase.to_string();
    if let Some(p) = status.progress {
        line.push_str(&format!(" {p}%"));
    }
    if let Some(t) = &status.job_type {
        line.push_str(&format!(" {t}"));
    }
    if let Some(r) = &status.reason {
        line.push_str(&format!(" [{r}]"));
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

    #[test]
    fn json_and_yaml_use_status_field_names() {
        let status = CloudDbJobStatus {
            phase: Some(JobPhase::Running),
            progress: Some(45),
            provider_status: Some("RUNNING".into()),
            ..Default::default()
        };
        let json = render(&status, OutputFormat::Json);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["phase"], "Running");
        assert_eq!(v["progress"], 45);
        assert_eq!(v["providerStatus"], "RUNNING");
        let yaml = render(&status, OutputFormat::Yaml);
        assert!(yaml.starts_with("---\n"));
        assert!(yaml.contains("providerStatus: RUNNING"), "{yaml}");
        assert_eq!(summary_line(&status), "Running 45%");
    }
}
