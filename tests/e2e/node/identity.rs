//! Issue 28, workload identity from a pod: one job per cloud with `spec.identity` and no
//! Secret. The release's pod requests tokens of the jobs' ServiceAccount (TokenRequest, under
//! the chart's RBAC for `workloadIdentity.serviceAccountNames`) from the node's apiserver,
//! through its in-cluster configuration, and exchanges them at each cloud's simulated STS
//! (`workloadIdentity.stsEndpoints`, behind the HTTPS front, trusted through `extraCA`),
//! which verifies them against the apiserver's own issuer and JWKS: the same keys sign the
//! tokens of the process-level test (`identity.rs`) and of the pod, so the trust is set up
//! the same way.

use std::time::Instant;

use clouddb_job_operator::simulator::scenario::Phase;
use clouddb_job_operator::simulator::sts::WorkloadIdentityConfig;

use super::tls::{FrontCert, TlsFront};
use super::{install_release_with, node_ip, operator_pods, RELEASE_LOCK, SYSTEM_NS};
use crate::cluster::{self, Cluster};
use crate::harness::{Harness, Options};
use crate::identity::{assert_every_exchange_renewed_and_nothing_refused, EXCHANGES, READER};
use crate::identity::{cluster_oidc, every_cloud_jobs, every_cloud_roles, identity_job};

/// Successful TokenRequests (`create serviceaccounts/token`) for `sa` in `ns` by `user`, and
/// the source addresses they came from (the audit log).
fn token_requests(cluster: &Cluster, user: &str, ns: &str, sa: &str) -> Vec<String> {
    cluster
        .audited()
        .into_iter()
        .filter(|r| {
            r.verb == "create"
                && r.user == user
                && r.full_resource() == "serviceaccounts/token"
                && r.namespace == ns
                && r.name == sa
                && r.code == 201
        })
        .map(|r| r.source_ip)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pod_exchanges_service_account_tokens_at_every_clouds_sts() {
    let started = Instant::now();
    // The release slot first: the harness below applies the CRD, which no install may race.
    let slot = RELEASE_LOCK.lock().await;
    let ip = node_ip();
    let cert = FrontCert::generate(ip);
    // Every credential lives 20 s: the pod renews it at least once during a 24 s job.
    let steps = [
        (0, Phase::Running, Some(10)),
        (8, Phase::Running, Some(40)),
        (16, Phase::Running, Some(80)),
        (24, Phase::Succeed, None),
    ];
    let every = every_cloud_jobs(&steps);
    let h = Harness::start_without_operator(
        "node-identity",
        Options {
            speed: 1.0,
            builtins: false,
            jobs: every.iter().map(|(job, _, _)| job.clone()).collect(),
            chart_identity: false,
            ..Options::default()
        },
    )
    .await;
    // The STS trusts the apiserver's issuer and keys for the test namespace's ServiceAccount.
    let (issuer, jwks) = cluster_oidc(&h);
    h.sim.set_workload_identity(WorkloadIdentityConfig {
        issuer,
        jwks,
        roles: every_cloud_roles(&format!("system:serviceaccount:{}:{READER}", h.ns)),
        credential_lifetime_secs: 20,
    });
    h.kubectl_ok(&["create", "serviceaccount", READER]).await;
    let front = TlsFront::start(&cert, ip, h.sim.addr()).await;

    // Every cloud's STS at the front: chart values, as an installer of a private cloud sets
    // them (jobs cannot choose where their tokens go).
    let mut sets = vec![format!("workloadIdentity.serviceAccountNames={{{READER}}}")];
    for provider in ["aws", "alibaba", "huawei", "tencent", "azure", "gcp"] {
        sets.push(format!(
            "workloadIdentity.stsEndpoints.{provider}={}",
            front.url
        ));
    }
    let extra: Vec<&str> = sets.iter().flat_map(|s| ["--set", s.as_str()]).collect();
    let installed = install_release_with(slot, cert, &extra).await;
    let cluster = &installed.cluster;
    eprintln!("helm install --wait took {:?}", installed.took);

    let manifests: Vec<_> = every
        .iter()
        .map(|(job, name, identity)| identity_job(job, name, &front.url, identity.clone()))
        .collect();
    for manifest in &manifests {
        assert!(!manifest.yaml().contains("kind: Secret"));
        h.apply(&manifest.name, &manifest.yaml()).await;
    }
    for manifest in &manifests {
        h.wait_for(&manifest.name, "Complete", 50).await;
        assert_eq!(h.status(&manifest.name)["progress"], 100);
    }

    // Each cloud's exchange happened, at least once more for a renewal; nothing was refused.
    assert_every_exchange_renewed_and_nothing_refused(&h, &manifests, 2).await;

    // The tokens were requested by the pod (its address, the release's ServiceAccount), not
    // by anything on the host.
    let pods = operator_pods(&installed.kc);
    let pod_ip = pods
        .first()
        .and_then(|p| p["status"]["podIP"].as_str())
        .unwrap_or_else(|| panic!("no pod IP: {pods:?}"))
        .to_string();
    let user = format!(
        "system:serviceaccount:{SYSTEM_NS}:{}",
        cluster::SERVICE_ACCOUNT
    );
    let sources = token_requests(cluster, &user, &h.ns, READER);
    assert!(
        sources.len() >= EXCHANGES.len(),
        "{} TokenRequests by {user} for {READER}: {sources:?}",
        sources.len()
    );
    assert!(
        sources.iter().all(|s| *s == pod_ip),
        "TokenRequests not from the pod {pod_ip}: {sources:?}"
    );
    eprintln!(
        "workload identity from the pod: {} TokenRequests, {} STS exchanges, 6 jobs complete \
         in {:?}",
        sources.len(),
        h.sim.sts_exchanges(),
        started.elapsed()
    );
    drop(front);
    drop(h);
    drop(installed);
}
