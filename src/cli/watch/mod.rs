//! `watch`: the CloudDbJobs of a namespace (or of all, `-A`) as live progress bars, the
//! look of `track` and `demo`, and the CloudDbInstances beside them (idle or busy, their
//! active jobs, announced maintenance), fed by Kubernetes watches (kube-runtime's
//! `watcher`), not by polling. `--output json|yaml` streams one document per change
//! instead; with `--until-done` it exits once every shown job has finished.
//!
//! It runs as the user, with the kubeconfig (or in-cluster config) `run` would use, and
//! needs `list` and `watch` on `clouddbjobs`; without them on `clouddbinstances` (or
//! without that CRD) it says so once and shows the jobs alone.

mod instances;
mod state;
mod view;

use std::pin::pin;
use std::time::Duration;

use futures::stream::{abortable, select};
use futures::StreamExt;
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client};

pub use instances::{instance_summary, render_instance, InstanceIdentity, ShownInstance};
pub use state::{Change, Done, Key, Shown, WatchState, Watched};

use super::exit;
use super::output::OutputFormat;
use crate::api::{CloudDbInstance, CloudDbJob};
pub use view::InstanceLine;
use view::View;

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
    let (jobs_api, instances_api): (Api<CloudDbJob>, Api<CloudDbInstance>) = match &scope.namespace
    {
        Some(ns) => (
            Api::namespaced(client.clone(), ns),
            Api::namespaced(client, ns),
        ),
        None => (Api::all(client.clone()), Api::all(client)),
    };
    let mut config = watcher::Config::default();
    if let Some(selector) = &args.selector {
        config = config.labels(selector);
    }
    // Instances are extra: their errors back off inside their stream, and a refusal ends
    // that stream alone.
    let (instance_events, instances_off) = abortable(
        watcher(instances_api, config.clone())
            .default_backoff()
            .map(|e| Incoming::Instance(Box::new(e))),
    );
    let job_events = watcher(jobs_api, config).map(|e| Incoming::Job(Box::new(e)));
    let mut events = pin!(select(job_events, instance_events));
    let mut state = WatchState::<CloudDbJob>::default();
    let mut instances = WatchState::<CloudDbInstance>::default();
    let mut view = View::new(args.output, scope.namespace.is_none());
    let mut failures = 0u32;
    let mut announced = false;
    while let Some(incoming) = events.next().await {
        let event = match incoming {
            Incoming::Instance(event) => match *event {
                Ok(event) => {
                    for change in instances.apply(event) {
                        view.show_instance(&instances, change);
                    }
                    continue;
                }
                Err(e) => {
                    match instance_refusal(&e, &scope) {
                        Some(message) => {
                            eprintln!("warning: {message}; showing CloudDbJobs only");
                            instances_off.abort();
                        }
                        None => eprintln!(
                            "warning: watching CloudDbInstances in {scope}: {e}; retrying"
                        ),
                    }
                    continue;
                }
            },
            Incoming::Job(event) => match *event {
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
            },
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
    // The job watcher restarts itself; its stream does not end.
    exit::FAILED
}

/// One event of either watch (boxed: objects are large, and of different sizes).
enum Incoming {
    Job(Box<Result<watcher::Event<CloudDbJob>, watcher::Error>>),
    Instance(Box<Result<watcher::Event<CloudDbInstance>, watcher::Error>>),
}

/// 1, 2, 4 ... 30 s between attempts after watch errors the watcher cannot fix itself.
fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.saturating_sub(1).min(5)).min(Duration::from_secs(30))
}

/// The API server's refusal (code and message) in a watcher error, if it is one.
fn api_refusal(error: &watcher::Error) -> Option<(u16, &str)> {
    match error {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s))
        | watcher::Error::WatchError(s) => Some((s.code, s.message.as_str())),
        _ => None,
    }
}

/// Why CloudDbInstances cannot be shown, for errors retrying cannot fix: no rights on
/// them (403), or an install without their CRD (404). Credentials refused (401) refuse
/// the jobs too, which ends the command.
fn instance_refusal(error: &watcher::Error, scope: &Scope) -> Option<String> {
    let (code, message) = api_refusal(error)?;
    match code {
        403 => Some(format!(
            "not showing CloudDbInstances: not allowed to list and watch \
             clouddbinstances.clouddb.io in {scope} (403 Forbidden): {message}"
        )),
        404 => Some(
            "not showing CloudDbInstances: the API server does not serve \
             clouddbinstances.clouddb.io (404; an install without the CloudDbInstance CRD)"
                .to_string(),
        ),
        _ => None,
    }
}

/// A message for errors retrying cannot fix: the API server refused the credentials or
/// the request (RBAC), or does not serve CloudDbJobs (CRD not installed).
fn refusal(error: &watcher::Error, scope: &Scope) -> Option<String> {
    let (code, message) = api_refusal(error)?;
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
    fn instances_without_rights_or_crd_are_left_out_with_a_message() {
        let forbidden = watcher::Error::InitialListFailed(api_error(403));
        let message = instance_refusal(&forbidden, &scope(Some("db"))).unwrap();
        assert!(
            message.contains("clouddbinstances") && message.contains("namespace db"),
            "{message}"
        );
        let missing = watcher::Error::WatchStartFailed(api_error(404));
        assert!(instance_refusal(&missing, &scope(None))
            .unwrap()
            .contains("CRD"));
        // Retried in the stream: an unavailable server; 401 ends the command through the
        // jobs' watch instead.
        for code in [401, 503] {
            let e = watcher::Error::InitialListFailed(api_error(code));
            assert_eq!(instance_refusal(&e, &scope(None)), None, "{code}");
        }
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
