//! Shows `watch`'s changes: progress bars (jobs) and status lines (instances) on a
//! terminal, one line per change elsewhere, or documents (json/yaml).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::instances::{instance_summary, render_instance, ShownInstance};
use super::state::{Change, Done, Key, Shown, WatchState};
use crate::api::{CloudDbInstance, CloudDbJob};
use crate::cli::output::{render, render_deleted, OutputFormat, TextProgress};

/// A live line for one instance: a spinner line on a terminal, a printed line per change
/// elsewhere.
pub struct InstanceLine {
    bar: Option<ProgressBar>,
    label: String,
    last_line: String,
}

impl InstanceLine {
    pub fn new(label: String, multi: &MultiProgress) -> Self {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = multi.add(ProgressBar::new_spinner());
            let style = ProgressStyle::with_template("{spinner} {prefix:<38} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
            bar.set_prefix(label.clone());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        InstanceLine {
            bar,
            label,
            last_line: String::new(),
        }
    }

    /// Shows `line` (an instance summary, or `deleted`).
    pub fn show(&mut self, line: String) {
        match &self.bar {
            Some(bar) => bar.set_message(line.clone()),
            None if line != self.last_line => println!("{}  {line}", self.label),
            None => {}
        }
        self.last_line = line;
    }

    /// Leaves the last line on screen.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_with_message(self.last_line.clone());
        }
    }
}

/// Shows changes of jobs and instances.
pub(super) struct View {
    format: OutputFormat,
    with_namespace: bool,
    multi: MultiProgress,
    bars: HashMap<Key, TextProgress>,
    instance_lines: HashMap<Key, InstanceLine>,
}

impl View {
    pub(super) fn new(format: OutputFormat, with_namespace: bool) -> Self {
        View {
            format,
            with_namespace,
            multi: MultiProgress::new(),
            bars: HashMap::new(),
            instance_lines: HashMap::new(),
        }
    }

    pub(super) fn show(&mut self, state: &WatchState<CloudDbJob>, change: Change<Shown>) {
        match (change, self.format) {
            (Change::Updated(key), OutputFormat::Text) => {
                let Some(shown) = state.get(&key) else { return };
                let (multi, with_namespace) = (&self.multi, self.with_namespace);
                let bar = self.bars.entry(key).or_insert_with(|| {
                    TextProgress::new(shown.identity.label(with_namespace), Some(multi))
                });
                bar.update(&shown.status);
            }
            (Change::Updated(key), format) => {
                if let Some(shown) = state.get(&key) {
                    print!("{}", render(&shown.identity, &shown.status, format));
                }
            }
            (Change::Deleted(key, _), OutputFormat::Text) => {
                if let Some(mut bar) = self.bars.remove(&key) {
                    bar.finish_with("deleted");
                }
            }
            (Change::Deleted(_, last), format) => {
                print!("{}", render_deleted(&last.identity, &last.status, format));
            }
        }
    }

    pub(super) fn show_instance(
        &mut self,
        state: &WatchState<CloudDbInstance>,
        change: Change<ShownInstance>,
    ) {
        match (change, self.format) {
            (Change::Updated(key), OutputFormat::Text) => {
                let Some(shown) = state.get(&key) else { return };
                let (multi, with_namespace) = (&self.multi, self.with_namespace);
                let line = self.instance_lines.entry(key).or_insert_with(|| {
                    InstanceLine::new(shown.identity.label(with_namespace), multi)
                });
                line.show(instance_summary(&shown.status));
            }
            (Change::Updated(key), format) => {
                if let Some(shown) = state.get(&key) {
                    print!("{}", render_instance(shown, false, format));
                }
            }
            (Change::Deleted(key, _), OutputFormat::Text) => {
                if let Some(mut line) = self.instance_lines.remove(&key) {
                    line.show("deleted".into());
                    line.finish();
                }
            }
            (Change::Deleted(_, last), format) => {
                print!("{}", render_instance(&last, true, format));
            }
        }
    }

    /// `--until-done` is satisfied.
    pub(super) fn finish(&mut self, done: Done, scope: &impl std::fmt::Display) {
        for bar in self.bars.values() {
            bar.finish();
        }
        for line in self.instance_lines.values() {
            line.finish();
        }
        if self.format != OutputFormat::Text {
            return;
        }
        if done.succeeded + done.failed == 0 {
            eprintln!("no CloudDbJobs in {scope}: nothing to wait for");
        } else {
            println!(
                "{} jobs finished: {} succeeded, {} failed",
                done.succeeded + done.failed,
                done.succeeded,
                done.failed
            );
        }
    }
}
