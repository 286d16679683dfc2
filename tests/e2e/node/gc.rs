//! Issue 30: deleting a CloudDbInstance removes the CloudDbJobs it created, through their
//! ownerReference, where a garbage collector runs (the test node's kube-controller-manager;
//! the plain control plane has none), and nothing else: not the jobs of another instance, not
//! a CloudDbJob a user created (even one carrying the instance's label), not the Secret.
//!
//! The operator runs as a process on the host (the garbage collector is what is tested, not
//! the pod); the release slot is held so that no cluster-wide release reconciles the same
//! instances meanwhile.

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::scenario::Phase;
use serde_json::Value;

use super::{get_json, RELEASE_LOCK};
use crate::discovery::{instance_yaml, on_instance};
use crate::harness::{Harness, Options};
use crate::manifests::{manifest_for, secret_yaml, sim_job, tencent_creds};

/// The CloudDbJobs of the namespace whose ownerReference is the object with `uid`.
fn owned_by(h: &Harness, uid: &str) -> Vec<String> {
    let jobs = get_json(&h.kubeconfig, &["cdbjob"]);
    jobs["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|j| {
            j["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|o| o["uid"] == uid)
        })
        .filter_map(|j| j["metadata"]["name"].as_str().map(String::from))
        .collect()
}

fn uid(h: &Harness, object: &str) -> String {
    let value: Value = get_json(&h.kubeconfig, &[object]);
    value["metadata"]["uid"]
        .as_str()
        .unwrap_or_else(|| panic!("{object} has no uid: {value}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_instance_removes_its_jobs_and_nothing_else() {
    super::node_ip();
    let _slot = RELEASE_LOCK.lock().await;
    let long = [(0, Phase::Running, Some(20)), (3600, Phase::Succeed, None)];
    let mut kept = on_instance("9602", &long);
    kept.instance_id = Some("cdb-keep".into());
    let by_hand = sim_job(ProviderKind::Tencent, "DescribeTasks", "9603", &long);
    let h = Harness::start(
        "gc",
        Options {
            speed: 1.0,
            builtins: false,
            jobs: vec![on_instance("9601", &long), kept, by_hand.clone()],
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    h.apply("creds", &secret_yaml("tencent-creds", &tencent_creds()))
        .await;
    h.apply(
        "orders",
        &instance_yaml("orders", "cdb-disc", &url, "tencent-creds"),
    )
    .await;
    h.apply(
        "keep",
        &instance_yaml("keep", "cdb-keep", &url, "tencent-creds"),
    )
    .await;
    // A user's own CloudDbJob, labelled as if the instance had made it.
    h.apply("by-hand", &manifest_for(&by_hand, "by-hand", &url).yaml())
        .await;
    h.kubectl_ok(&["label", "cdbjob/by-hand", "clouddb.io/instance=orders"])
        .await;

    let (orders, keep) = (uid(&h, "cdbinst/orders"), uid(&h, "cdbinst/keep"));
    h.eventually(
        "each instance owns its job, the user's job Running",
        60,
        |h| {
            owned_by(h, &orders).len() == 1
                && owned_by(h, &keep).len() == 1
                && h.status("by-hand")["phase"] == "Running"
        },
    )
    .await;
    let keep_jobs = owned_by(&h, &keep);

    h.kubectl_ok(&["delete", "cdbinst/orders", "--wait=true"])
        .await;
    // The garbage collector notices a new resource type within its 30 s resync.
    h.eventually("the garbage collector removed orders' job", 120, |h| {
        owned_by(h, &orders).is_empty()
    })
    .await;
    assert_eq!(owned_by(&h, &keep), keep_jobs, "another instance's job");
    for object in ["cdbjob/by-hand", "cdbinst/keep", "secret/tencent-creds"] {
        h.kubectl_ok(&["get", object]).await;
    }
    assert_eq!(
        h.status("by-hand")["phase"],
        "Running",
        "the user's job, still tracked"
    );
}
