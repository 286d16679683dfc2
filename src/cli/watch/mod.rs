//! `watch`: the CloudDbJobs of a namespace (or of all, `-A`) as live progress bars, the
//! look of `track` and `demo`, fed by a Kubernetes watch (kube-runtime's `watcher`), not
//! by polling. `--output json|yaml` streams one document per change instead; with
//! `--until-done` it exits once every shown job has finished.
//!
//! It runs as the user, with the kubeconfig (or in-cluster config) `run` would use, and
//! needs only `list` and `watch` on `clouddbjobs`.

mod state;

use std::collections::HashMap;
use std::pin::pin;
use std::time::Duration;

use futures::StreamExt;
use indicatif::MultiProgress;
use kube::runtime::watcher;
use kube::{Api, Client};

pub use state::{Change, Done, Key, Shown, WatchState};

use super::exit;
use super::output::{render, render_deleted, OutputFormat, TextProgress};
use crate::api::CloudDbJob;

/// Arguments of `watch`.
#[derive(Debug, Clone, clap::Args)]
pub struct WatchArgs {
    /// Namespace to show (default: the kubeconfig context's, or the pod's in a cluster).
    #[arg(long, short = 'n', conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// Show the jobs of every namespace.
    #[arg(long, short = 'A')]
    pub all_namespaces: bool,
    /// Only jobs with these labels, e.g. `team=db,stage!=test`.
    #[arg(long, short = 'l')]
    pub selector: Option<String>,
    /// Exit once every shown job has finished: 0 when all succeeded, 1 when any failed.
    /// With no job to show, exit 0 at once. A deleted job leaves the set.
    #[arg(long)]
    pub until_done: bool,
    /// text (progress bars on a terminal, one line per change elsewhere) or json/yaml (one
    /// document per change: `job` with namespace, name, provider, api and jobId, then the
    /// status fields; `"deleted": true` when the object is gone).
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    pub output: OutputFormat,
}

/// Consecutive failures to list before giving up, while nothing was listed yet (a wrong
/// server or an unreachable cluster ends the command instead of hanging it).
const LIST_ATTEMPTS: u32 = 3;

/// Which jobs are shown, for messages.
struct Scope {
    namespace: Option<String>,
    selector: Option<String>,
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "namespace {ns}")?,
            None => f.write_str("all namespaces")?,
        }
        match &self.selector {
            Some(sel) => write!(f, " with labels {sel}"),
            None => Ok(()),
        }
    }
}

/// Runs `watch`; returns the exit code (only with `--until-done`, or on an error).
pub async fn run(args: WatchArgs) -> u8 {
    let client = match Client::try_default().await {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "error: cannot configure the Kubernetes client (kubeconfig or in-cluster): {e}"
            );
            return exit::USAGE;
        }
    };
    let scope = Scope {
        namespace: (!args.all_namespaces).then(|| {
            args.namespace
                .clone()
                .unwrap_or_else(|| client.default_namespace().to_string())
        }),
        selector: args.selector.clone(),
    };
    let api: Api<CloudDbJob> = match &scope.namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    let mut config = watcher::Config::default();
    if let Some(selector) = &args.selector {
        config = config.labels(selector);
    }
    let mut events = pin!(watcher(api, config));
    let mut state = WatchState::default();
    let mut view = View::new(args.output, scope.namespace.is_none());
    let mut failures = 0u32;
    let mut announced = false;
    while let Some(event) = events.next().await {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                if let Some(message) = refusal(&e, &scope) {
                    eprintln!("error: {message}");
                    return exit::USAGE;
                }
                failures += 1;
                if !state.listed() && failures >= LIST_ATTEMPTS {
                    eprintln!("error: cannot list CloudDbJobs in {scope}: {e}");
                    return exit::USAGE;
                }
                eprintln!("warning: watching CloudDbJobs in {scope}: {e}; retrying");
                tokio::time::sleep(backoff(failures)).await;
                continue;
            }
        };
        failures = 0;
        for change in state.apply(event) {
            view.show(&state, change);
        }
        if state.listed() && !announced {
            announced = true;
            if state.is_empty() && args.output == OutputFormat::Text && !args.until_done {
                eprintln!("no CloudDbJobs in {scope} yet; watching for new ones");
            }
        }
        if let Some(done) = state.done().filter(|_| args.until_done) {
            view.finish(done, &scope);
            return done.code();
        }
    }
    // The watcher restarts itself; its stream does not end.
    exit::FAILED
}

/// 1, 2, 4 ... 30 s between attempts after watch errors the watcher cannot fix itself.
fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.saturating_sub(1).min(5)).min(Duration::from_secs(30))
}

/// A message for errors retrying cannot fix: the API server refused the credentials or
/// the request (RBAC), or does not serve CloudDbJobs (CRD not installed).
fn refusal(error: &watcher::Error, scope: &Scope) -> Option<String> {
    let (code, message) = match error {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s))
        | watcher::Error::WatchError(s) => (s.code, s.message.as_str()),
        _ => return None,
    };
    match code {
        401 => Some(format!(
            "the Kubernetes API server did not accept the credentials of the kubeconfig \
             (401 Unauthorized): {message}"
        )),
        403 => Some(format!(
            "not allowed to list and watch CloudDbJobs in {scope} (403 Forbidden): {message}\n\
             `watch` needs the verbs list and watch on clouddbjobs.clouddb.io{}",
            if scope.namespace.is_some() {
                " in that namespace (a Role)"
            } else {
                " in every namespace (a ClusterRole, for -A)"
            }
        )),
        404 => Some(format!(
            "the API server does not serve clouddbjobs.clouddb.io (404): is the CloudDbJob \
             CRD installed? {message}"
        )),
        _ => None,
    }
}

/// Shows changes: progress bars or lines (text), or documents (json/yaml).
struct View {
    format: OutputFormat,
    with_namespace: bool,
    multi: MultiProgress,
    bars: HashMap<Key, TextProgress>,
}

impl View {
    fn new(format: OutputFormat, with_namespace: bool) -> Self {
        View {
            format,
            with_namespace,
            multi: MultiProgress::new(),
            bars: HashMap::new(),
        }
    }

    fn show(&mut self, state: &WatchState, change: Change) {
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

    /// `--until-done` is satisfied.
    fn finish(&mut self, done: Done, scope: &Scope) {
        for bar in self.bars.values() {
            bar.finish();
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

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn scope(namespace: Option<&str>) -> Scope {
        Scope {
            namespace: namespace.map(String::from),
            selector: None,
        }
    }

    fn api_error(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(
            Status::failure("refused", "Forbidden").with_code(code),
        ))
    }

    #[test]
    fn rbac_auth_and_a_missing_crd_end_the_command_with_a_message() {
        let forbidden = watcher::Error::InitialListFailed(api_error(403));
        let message = refusal(&forbidden, &scope(Some("db"))).unwrap();
        assert!(message.contains("namespace db"), "{message}");
        assert!(message.contains("list and watch"), "{message}");
        assert!(message.contains("a Role"), "{message}");
        let message = refusal(&forbidden, &scope(None)).unwrap();
        assert!(message.contains("ClusterRole"), "{message}");
        let unauthorized = watcher::Error::WatchStartFailed(api_error(401));
        assert!(refusal(&unauthorized, &scope(None))
            .unwrap()
            .contains("401"));
        let missing = watcher::Error::InitialListFailed(api_error(404));
        assert!(refusal(&missing, &scope(None)).unwrap().contains("CRD"));
        // Retried: an unavailable server, an expired watch (the watcher re-lists).
        assert_eq!(
            refusal(
                &watcher::Error::InitialListFailed(api_error(503)),
                &scope(None)
            ),
            None
        );
        assert_eq!(
            refusal(&watcher::Error::NoResourceVersion, &scope(None)),
            None
        );
    }

    #[test]
    fn scope_and_backoff() {
        let s = Scope {
            namespace: Some("db".into()),
            selector: Some("team=dba".into()),
        };
        assert_eq!(s.to_string(), "namespace db with labels team=dba");
        assert_eq!(scope(None).to_string(), "all namespaces");
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(50), Duration::from_secs(30));
    }
}
