//! Every status a CloudDbJob went through, recorded from a watch of the fake API server, so
//! tests can check invariants over time (progress never goes backwards, a terminal status is
//! written once, a transient fault never yields `Failed`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use clouddb_job_operator::api::CloudDbJob;
use futures::StreamExt;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, ResourceExt};
use serde_json::Value;

/// One recorded status (a status write, as seen by a watch).
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub resource_version: u64,
    pub status: Value,
}

impl Snapshot {
    pub fn phase(&self) -> &str {
        self.status["phase"].as_str().unwrap_or("")
    }

    pub fn progress(&self) -> Option<i64> {
        self.status["progress"].as_i64()
    }

    pub fn poll_count(&self) -> Option<i64> {
        self.status["pollCount"].as_i64()
    }

    pub fn is_terminal(&self) -> bool {
        matches!(self.phase(), "Succeeded" | "Failed")
    }

    /// The status of condition `type_` ("True"/"False"), if present.
    pub fn condition(&self, type_: &str) -> Option<String> {
        condition(&self.status, type_)
            .and_then(|c| c["status"].as_str())
            .map(str::to_string)
    }
}

/// The condition of type `type_` in a status.
pub fn condition<'a>(status: &'a Value, type_: &str) -> Option<&'a Value> {
    status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Status changes per object name, recorded in the background.
#[derive(Clone, Default)]
pub struct History {
    seen: Arc<Mutex<BTreeMap<String, Vec<Snapshot>>>>,
    /// The newest resourceVersion seen per object name.
    latest: Arc<Mutex<BTreeMap<String, u64>>>,
    /// Errors of the watch (it re-lists after each, with a backoff), for failure messages.
    errors: Arc<Mutex<Vec<String>>>,
    _task: Option<Arc<AbortOnDrop>>,
}

impl History {
    /// Starts watching `api` (re-listing after errors, e.g. expired watches).
    pub fn start(api: Api<CloudDbJob>) -> History {
        let seen: Arc<Mutex<BTreeMap<String, Vec<Snapshot>>>> = Arc::default();
        let errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let latest: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
        let (sink, error_sink, latest_sink) = (seen.clone(), errors.clone(), latest.clone());
        let task = tokio::spawn(async move {
            let mut stream = watcher::watcher(api, watcher::Config::default())
                .default_backoff()
                .boxed();
            while let Some(event) = stream.next().await {
                let obj = match event {
                    Ok(Event::Apply(obj)) | Ok(Event::InitApply(obj)) => obj,
                    Err(e) => {
                        error_sink.lock().unwrap().push(e.to_string());
                        continue;
                    }
                    _ => continue,
                };
                let rv = obj
                    .resource_version()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                latest_sink.lock().unwrap().insert(obj.name_any(), rv);
                // Statuses the operator wrote: not the CRD's default, which the apiserver
                // serves until the first write.
                if obj.status.as_ref().is_none_or(|s| s.is_unobserved()) {
                    continue;
                }
                let status = serde_json::to_value(&obj.status).unwrap_or(Value::Null);
                let mut map = sink.lock().unwrap();
                let list = map.entry(obj.name_any()).or_default();
                if list.last().is_some_and(|last| last.status == status) {
                    continue;
                }
                list.push(Snapshot {
                    resource_version: rv,
                    status,
                });
            }
        });
        History {
            seen,
            latest,
            errors,
            _task: Some(Arc::new(AbortOnDrop(task))),
        }
    }

    /// The statuses recorded for `name`, oldest first.
    pub fn of(&self, name: &str) -> Vec<Snapshot> {
        self.seen
            .lock()
            .unwrap()
            .get(name)
            .cloned()
            .unwrap_or_default()
    }

    /// Whether the watch has seen `name` at `resource_version` or later.
    pub fn has_caught_up(&self, name: &str, resource_version: u64) -> bool {
        self.latest
            .lock()
            .unwrap()
            .get(name)
            .is_some_and(|rv| *rv >= resource_version)
    }

    /// Checks the invariants every job must keep; `may_fail` says whether `Failed` is an
    /// acceptable outcome. Returns the snapshots for further checks.
    pub fn assert_sane(&self, name: &str, may_fail: bool) -> Vec<Snapshot> {
        let list = self.of(name);
        assert!(
            !list.is_empty(),
            "{name}: no status recorded; watch errors: {:?}",
            self.errors.lock().unwrap()
        );
        let dump = || {
            list.iter()
                .map(|s| s.status.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        };
        for pair in list.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if let (Some(pa), Some(pb)) = (a.progress(), b.progress()) {
                assert!(
                    pb >= pa,
                    "{name}: progress went back {pa} -> {pb}:\n{}",
                    dump()
                );
            }
            if let (Some(ca), Some(cb)) = (a.poll_count(), b.poll_count()) {
                assert!(
                    cb >= ca,
                    "{name}: pollCount went back {ca} -> {cb}:\n{}",
                    dump()
                );
            }
            assert!(
                !(a.phase() == "Running" && b.phase() == "Pending"),
                "{name}: went back from Running to Pending:\n{}",
                dump()
            );
            assert!(
                !a.is_terminal(),
                "{name}: status written again after a terminal status:\n{}",
                dump()
            );
        }
        if !may_fail {
            assert!(
                list.iter().all(|s| s.phase() != "Failed"),
                "{name}: marked Failed:\n{}",
                dump()
            );
        }
        list
    }
}
