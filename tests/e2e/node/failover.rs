//! Issue 28, failover between real pods: `replicaCount: 2`; the leader's pod is deleted
//! while jobs run; another replica takes the Lease and carries on, every job reaches its
//! end, none loses or repeats a transition. Measures deletion -> Lease taken -> first
//! status write by the new leader (the audit log says which pod wrote: its source IP).

use std::time::Instant;

use super::{get_json, install_release, jobs, operator_pods, SYSTEM_NS};
use crate::cluster::{kubectl_sync_ok, Cluster};

/// The chart's default Lease name.
pub const LEASE: &str = "clouddb-job-operator";

pub fn lease_holder(cluster: &Cluster) -> String {
    let lease = get_json(
        &cluster.kubeconfig,
        &["-n", SYSTEM_NS, &format!("lease/{LEASE}")],
    );
    lease["spec"]["holderIdentity"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Status writes of one job in the audit log: (time, source IP), oldest first.
fn status_writes(cluster: &Cluster, ns: &str, name: &str) -> Vec<(jiff::Timestamp, String)> {
    cluster
        .audited()
        .into_iter()
        .filter(|r| r.is_status_write_of(ns, name))
        .filter_map(|r| Some((r.at.parse().ok()?, r.source_ip)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_pod_takes_the_lease_and_carries_on() {
    let installed = install_release(&["--set", "replicaCount=2"]).await;
    let (cluster, kc, ip, cert) = (
        &installed.cluster,
        &installed.kc,
        installed.ip,
        &installed.cert,
    );
    let pods = operator_pods(kc);
    assert_eq!(pods.len(), 2, "two replicas: {pods:?}");
    let jobs = jobs::start("failover", cert, ip, &["881001", "881002", "881003"]).await;
    let h = &jobs.h;

    let leader = lease_holder(cluster);
    assert!(
        operator_pods(kc)
            .iter()
            .any(|p| p["metadata"]["name"] == leader.as_str()),
        "the Lease holder {leader:?} is not one of the release's pods"
    );
    let deleted_at = jiff::Timestamp::now();
    let started = Instant::now();
    kubectl_sync_ok(
        kc,
        &["-n", SYSTEM_NS, "delete", "pod", &leader, "--wait=false"],
    );
    // The standby, normally; the Deployment's replacement pod may win the race.
    let mut new_leader = String::new();
    h.eventually("another pod takes the Lease", 60, |_| {
        new_leader = lease_holder(cluster);
        !new_leader.is_empty() && new_leader != leader
    })
    .await;
    let lease_taken = started.elapsed();
    let new_ip = operator_pods(kc)
        .iter()
        .find(|p| p["metadata"]["name"] == new_leader.as_str())
        .and_then(|p| p["status"]["podIP"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no IP for the new leader {new_leader}"));
    let mut first_write = None;
    h.eventually("a status write by the new leader", 60, |h| {
        first_write = jobs
            .names
            .iter()
            .flat_map(|n| status_writes(cluster, &h.ns, n))
            .filter(|(at, src)| *at > deleted_at && *src == new_ip)
            .map(|(at, _)| at)
            .min();
        first_write.is_some()
    })
    .await;
    let first_write = first_write.expect("found above");
    let to_write = first_write.duration_since(deleted_at);
    eprintln!(
        "failover: leader pod {leader} deleted; Lease taken by {new_leader} after \
         {lease_taken:?}; first status write by it {:.2} s after the deletion",
        to_write.as_secs_f64()
    );
    assert!(
        to_write.as_secs_f64() < 30.0,
        "the new leader wrote only {to_write:?} after the deletion"
    );
    jobs.assert_finished_once(cluster).await;
    drop(jobs);
    drop(installed);
}
