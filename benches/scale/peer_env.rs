//! The measuring side of `--scenario peer` (`peer.rs`): the run's watch, the apiserver's
//! request counters, the control plane's CPU, and the peer's binary and CRD.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use super::Controller;
use crate::{proc_cpu_seconds, Args};

#[derive(Default)]
pub(super) struct Seen {
    pub done: HashMap<String, Instant>,
    pub changes: u64,
    /// Each object's last status, to name what a write changed.
    last: HashMap<String, serde_json::Value>,
    /// Writes by the status fields they changed (`status.<field>`, `condition <Type>` for
    /// conditions), so that a write count can be explained.
    pub fields: BTreeMap<String, u64>,
}

/// The status fields that differ between two statuses: top-level keys, and conditions by
/// type (any field of the condition).
fn changed_fields(prev: &serde_json::Value, next: &serde_json::Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (a, b) = (
        prev.as_object().unwrap_or(&empty),
        next.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for k in keys {
        if a.get(k) == b.get(k) {
            continue;
        }
        if k != "conditions" {
            out.push(format!("status.{k}"));
            continue;
        }
        let by_type = |v: Option<&serde_json::Value>| -> BTreeMap<String, serde_json::Value> {
            v.and_then(|v| v.as_array())
                .into_iter()
                .flatten()
                .map(|c| (c["type"].as_str().unwrap_or("?").to_string(), c.clone()))
                .collect()
        };
        let (ca, cb) = (by_type(a.get(k)), by_type(b.get(k)));
        let mut types: Vec<&String> = ca.keys().chain(cb.keys()).collect();
        types.sort();
        types.dedup();
        out.extend(
            types
                .into_iter()
                .filter(|t| ca.get(*t) != cb.get(*t))
                .map(|t| format!("condition {t}")),
        );
    }
    out
}

/// Watches the run's objects; returns once the initial list is in, so that every later
/// event is a write by the controller.
pub(super) async fn watch(
    api: Api<DynamicObject>,
    ctl: Controller,
) -> (Arc<Mutex<Seen>>, tokio::task::JoinHandle<()>) {
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let (ready, listed) = tokio::sync::oneshot::channel();
    let mut ready = Some(ready);
    let state = seen.clone();
    let task = tokio::spawn(async move {
        let mut events = watcher(api, watcher::Config::default()).boxed();
        while let Some(event) = events.next().await {
            let (o, change) = match event {
                Ok(watcher::Event::Apply(o)) => (o, true),
                Ok(watcher::Event::InitApply(o)) => (o, false),
                Ok(watcher::Event::InitDone) => {
                    if let Some(r) = ready.take() {
                        let _ = r.send(());
                    }
                    continue;
                }
                _ => continue,
            };
            let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
            s.changes += u64::from(change);
            let status = o.data.get("status").cloned().unwrap_or_default();
            let prev = s.last.insert(o.name_any(), status.clone());
            if change {
                let changed = changed_fields(&prev.unwrap_or_default(), &status);
                if changed.is_empty() {
                    *s.fields
                        .entry("(metadata or spec only)".into())
                        .or_default() += 1;
                }
                for f in changed {
                    *s.fields.entry(f).or_default() += 1;
                }
            }
            if ctl.done(&o) {
                s.done.entry(o.name_any()).or_insert_with(Instant::now);
            }
        }
    });
    let _ = listed.await;
    (seen, task)
}

/// `apiserver_request_total` by `VERB resource[/subresource]`, and by code for writes.
pub(super) fn request_totals(text: &str) -> BTreeMap<(String, String), u64> {
    let mut totals = BTreeMap::new();
    for line in text.lines() {
        let Some((labels, value)) = line
            .strip_prefix("apiserver_request_total{")
            .and_then(|r| r.rsplit_once("} "))
        else {
            continue;
        };
        let label = |name: &str| {
            labels
                .split(',')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=\"")))
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or("")
                .to_string()
        };
        let (resource, sub) = (label("resource"), label("subresource"));
        let key = match sub.is_empty() {
            true => format!("{} {resource}", label("verb")),
            false => format!("{} {resource}/{sub}", label("verb")),
        };
        let n = value.trim().parse::<f64>().unwrap_or(0.0) as u64;
        *totals.entry((key, label("code"))).or_default() += n;
    }
    totals
}

pub(super) async fn apiserver_totals(client: &Client) -> BTreeMap<(String, String), u64> {
    let request = http::Request::get("/metrics")
        .body(Vec::new())
        .expect("request");
    let text = client
        .request_text(request)
        .await
        .expect("apiserver /metrics");
    request_totals(&text)
}

/// CPU seconds of the test control plane's kube-apiserver and etcd (`$TESTENV_DIR`).
pub(super) fn control_plane_cpu() -> (Option<f64>, Option<f64>) {
    let Ok(dir) = std::env::var("TESTENV_DIR") else {
        return (None, None);
    };
    let cpu = |name: &str| {
        let pid = std::fs::read_to_string(Path::new(&dir).join(name)).ok()?;
        proc_cpu_seconds(pid.trim().parse().ok()?)
    };
    (cpu("apiserver.pid"), cpu("etcd.pid"))
}

pub(super) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The peer's binary: `--ack-bin`, else what `testenv/build-ack.sh` prints (cached).
pub(super) fn ack_binary(args: &Args) -> PathBuf {
    if let Some(bin) = &args.ack_bin {
        return bin.clone();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("testenv/build-ack.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .stderr(Stdio::inherit())
        .output()
        .expect("run testenv/build-ack.sh");
    assert!(out.status.success(), "testenv/build-ack.sh failed");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Installs the DBSnapshot CRD that `testenv/build-ack.sh` put beside the binary.
pub(super) async fn install_dbsnapshot_crd(client: &Client, bin: &Path) {
    let crd_path = bin
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("crds/rds.services.k8s.aws_dbsnapshots.yaml"))
        .expect("the binary's cache directory");
    let yaml = std::fs::read_to_string(&crd_path)
        .unwrap_or_else(|e| panic!("{}: {e}", crd_path.display()));
    let crd: CustomResourceDefinition = serde_norway::from_str(&yaml).expect("DBSnapshot CRD");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.patch(
        &crd.name_any(),
        &PatchParams::apply("scale-bench").force(),
        &Patch::Apply(&crd),
    )
    .await
    .expect("DBSnapshot CRD applied");
    let api: Api<DynamicObject> =
        Api::all_with(client.clone(), &Controller::Ack { workers: 1 }.resource());
    for _ in 0..600 {
        if api.list(&ListParams::default().limit(1)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("DBSnapshot CRD not served");
}
