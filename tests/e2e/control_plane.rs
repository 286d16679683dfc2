//! Tests that need a control plane of their own (scripts/testenv.sh with a private state
//! directory), because they stop the apiserver, compact etcd, or read every request the
//! operator made. Named `testenv_*`: they cannot run against an arbitrary cluster.

use std::collections::BTreeSet;

use clouddb_job_operator::api::{CloudDbJob, ProviderKind};
use clouddb_job_operator::simulator::scenario::Phase;
use kube::api::{Patch, PatchParams};
use kube::Api;
use serde_json::{json, Value};

use super::cluster::{self, ControlPlane};
use super::harness::{client_for, Harness, Options, Scratch};
use super::manifests::{manifest_for, secret_yaml, sim_job, tencent_creds};

fn long_job(id: &str) -> clouddb_job_operator::simulator::JobSpec {
    sim_job(
        ProviderKind::Tencent,
        "DescribeTasks",
        id,
        &[
            (0, Phase::Running, Some(10)),
            (10, Phase::Running, Some(50)),
            (20, Phase::Succeed, None),
        ],
    )
}

/// Operator requests of one verb on `clouddbjobs` so far.
fn operator_requests(h: &Harness, verb: &str) -> usize {
    h.cluster()
        .audited_requests(&cluster::operator_user(&h.ns))
        .iter()
        .filter(|r| r.verb == verb && r.full_resource() == "clouddbjobs")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testenv_apiserver_restart_mid_job_loses_and_repeats_nothing() {
    let dir = Scratch::new("cp-restart");
    let cp = ControlPlane::start(&dir.0.join("cp"), "");
    let job = long_job("883001");
    let mut h = Harness::start(
        "restart-apiserver",
        Options {
            speed: 1.0,
            builtins: false,
            jobs: vec![job.clone()],
            cluster: Some(cp.cluster.clone()),
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    h.apply("survivor", &manifest_for(&job, "survivor", &url).yaml())
        .await;
    h.eventually("the job Running", 20, |h| {
        h.status("survivor")["phase"] == "Running"
    })
    .await;
    cp.stop_apiserver();
    // The provider moves on while the apiserver is gone; the operator notices the outage
    // (its next reconcile cannot reach the apiserver) before it comes back.
    h.eventually("the operator to meet the outage", 30, |h| {
        h.operator_logs().contains("client error (Connect)")
    })
    .await;
    cp.start_apiserver();
    h.wait_for("survivor", "Complete", 60).await;
    h.assert_operator_alive();
    h.assert_sane("survivor", false).await;
    assert_eq!(
        h.event_reasons("survivor").await,
        ["Succeeded"],
        "each transition published once"
    );
    h.assert_no_noop_writes(&["survivor"]).await;

    // The check can fail: a write of the status it already has, under the operator's
    // identity, is one no-op write.
    let as_operator =
        Api::<CloudDbJob>::namespaced(client_for(&h.operator_kubeconfig).await, &h.ns);
    let patch = json!({"status": {"phase": h.status("survivor")["phase"]}});
    as_operator
        .patch_status("survivor", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("the operator's identity writes the status");
    let writes = h.settled_job_writes(h.cluster(), "survivor").await;
    let noops = cluster::noop_status_writes(&writes, &cluster::operator_user(&h.ns));
    assert_eq!(noops.len(), 1, "{noops:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testenv_etcd_compaction_forces_a_relist_that_loses_and_repeats_nothing() {
    let dir = Scratch::new("cp-compact");
    // Without the watch cache, a watch resumed at a compacted revision gets 410 Gone from
    // etcd itself, as a real cluster's does once its cache window has passed.
    let cp = ControlPlane::start(&dir.0.join("cp"), "--watch-cache=false");
    let (first, second) = (long_job("884001"), long_job("884002"));
    let mut h = Harness::start(
        "compaction",
        Options {
            speed: 1.0,
            builtins: false,
            jobs: vec![first.clone(), second.clone()],
            cluster: Some(cp.cluster.clone()),
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    h.apply("first", &manifest_for(&first, "first", &url).yaml())
        .await;
    h.eventually("the first job Running", 20, |h| {
        h.status("first")["phase"] == "Running"
    })
    .await;
    let lists_before = operator_requests(&h, "list");
    cp.stop_apiserver();
    // Move etcd past the operator's watch position and compact everything before it.
    let etcd = cp.etcd_url();
    let http = reqwest::Client::new();
    let put = http
        .post(format!("{etcd}/v3/kv/put"))
        .json(&json!({"key": "L2Nsb3VkZGItdGVzdC9idW1w", "value": "MQ=="}))
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{:?}", put.text().await);
    let header: Value = put.json().await.unwrap();
    let revision: u64 = header["header"]["revision"]
        .as_str()
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("etcd revision in {header}"));
    let compact = http
        .post(format!("{etcd}/v3/kv/compaction"))
        .json(&json!({"revision": revision.to_string(), "physical": true}))
        .send()
        .await
        .unwrap();
    assert!(compact.status().is_success(), "{:?}", compact.text().await);
    cp.start_apiserver();
    // A job created after the compaction is seen too.
    h.apply("second", &manifest_for(&second, "second", &url).yaml())
        .await;
    h.wait_for("first", "Complete", 60).await;
    h.wait_for("second", "Complete", 60).await;
    assert!(
        operator_requests(&h, "list") > lists_before,
        "the operator re-listed after its watch was refused with 410"
    );
    for name in ["first", "second"] {
        h.assert_sane(name, false).await;
        assert_eq!(
            h.event_reasons(name).await,
            ["Succeeded"],
            "{name}: each transition published once"
        );
    }
    h.assert_operator_alive();
}

/// The chart's RBAC is derived from what the operator does: run it cluster-wide (the
/// chart's default) under the chart's ClusterRole and lease Role, drive every kind of
/// outcome (Complete, Failed, a missing Secret, a rejected key, leader election, events,
/// a finished job deleted for its `ttlSecondsAfterFinished`),
/// then compare every request in the apiserver's audit log with the rendered rules. Every
/// request must be granted (none refused with 403), and every granted verb must have been
/// used (nothing superfluous).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testenv_the_charts_rbac_is_exactly_what_the_operator_uses() {
    let dir = Scratch::new("cp-rbac");
    let cp = ControlPlane::start(&dir.0.join("cp"), "");
    // On an instance a CloudDbInstance watches: discovery creates a CloudDbJob for it and
    // writes the instance's status, so the chart's rules for both are used too.
    let mut ok = long_job("885001");
    ok.instance_id = Some("cdb-rbac".into());
    let failing = sim_job(
        ProviderKind::Huawei,
        "rds",
        "cccccccc-0000-4000-8000-000000000001",
        &[(0, Phase::Running, Some(10)), (2, Phase::Failed, None)],
    );
    let mut h = Harness::start(
        "rbac",
        Options {
            speed: 4.0,
            builtins: false,
            jobs: vec![ok.clone(), failing.clone()],
            cluster: Some(cp.cluster.clone()),
            cluster_wide: true,
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    let ok_manifest =
        manifest_for(&ok, "ok", &url).with_spec(serde_json::json!({"ttlSecondsAfterFinished": 2}));
    h.apply("ok", &ok_manifest.yaml()).await;
    h.apply("failing", &manifest_for(&failing, "failing", &url).yaml())
        .await;
    let mut orphan = manifest_for(&ok, "orphan", &url);
    orphan.secret = None;
    h.apply("orphan", &orphan.yaml()).await;
    h.apply("creds", &secret_yaml("tencent-creds", &tencent_creds()))
        .await;
    let instance = format!(
        "apiVersion: clouddb.io/v1alpha1\nkind: CloudDbInstance\nmetadata: {{name: rbac-inst}}\nspec:\n  provider: tencent\n  instanceId: cdb-rbac\n  region: ap-guangzhou\n  endpoint: {url}\n  pollInterval: 1s\n  credentialsSecretRef: {{name: tencent-creds}}\n"
    );
    h.apply("rbac-inst", &instance).await;
    h.eventually("the instance's job discovered", 60, |h| {
        let out = cluster::kubectl_sync(
            &h.kubeconfig,
            &[
                "get",
                "cdbjob",
                "-l",
                "clouddb.io/instance=rbac-inst",
                "-o",
                "name",
            ],
        );
        !String::from_utf8_lossy(&out.stdout).trim().is_empty()
    })
    .await;
    h.wait_for("ok", "Complete", 60).await;
    h.wait_for("failing", "Failed", 60).await;
    h.wait_for("orphan", "Stalled", 60).await;
    h.eventually("the finished job deleted for its TTL", 30, |h| {
        h.object("ok").is_null()
    })
    .await;
    // A clean shutdown releases the Lease (the release is a request too).
    let mut op = h.operator.take().expect("operator");
    let pid = op.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let exited = tokio::task::block_in_place(|| op.child.wait()).unwrap();
    assert!(exited.success(), "{exited}");

    let requests = h.cluster().audited_requests(&cluster::operator_user(&h.ns));
    let refused: Vec<_> = requests.iter().filter(|r| r.code == 403).collect();
    assert!(
        refused.is_empty(),
        "requests the chart's RBAC refused: {refused:#?}"
    );
    let used = cluster::verbs_used(&requests);
    let granted = granted_rules(&h.ns);
    let ungranted: Vec<_> = used.difference(&granted).collect();
    assert!(ungranted.is_empty(), "used but not granted: {ungranted:?}");
    let unused: Vec<_> = granted.difference(&used).collect();
    assert!(
        unused.is_empty(),
        "granted but never used: {unused:?}\nused: {used:?}"
    );
}

/// `(group, resource, verb)` triples the chart grants in cluster mode (ClusterRole plus the
/// leader-election Role), expanded from its rendered rules.
fn granted_rules(ns: &str) -> BTreeSet<(String, String, String)> {
    let rendered = cluster::helm_template(ns, &[], &["rbac.yaml"]);
    let mut out = BTreeSet::new();
    for doc in serde_norway::Deserializer::from_str(&rendered) {
        let doc: Value = serde::Deserialize::deserialize(doc).unwrap();
        if !matches!(doc["kind"].as_str(), Some("Role" | "ClusterRole")) {
            continue;
        }
        for rule in doc["rules"].as_array().unwrap() {
            let list = |k: &str| -> Vec<String> {
                rule[k]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            for group in list("apiGroups") {
                for resource in list("resources") {
                    for verb in list("verbs") {
                        out.insert((group.clone(), resource.clone(), verb));
                    }
                }
            }
        }
    }
    out
}
