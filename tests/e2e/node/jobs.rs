//! Jobs that run while the node's tests disturb the release (failover, upgrade), and the
//! checks that none of them lost or repeated a transition.

use std::collections::BTreeMap;
use std::net::IpAddr;

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::scenario::Phase;

use super::tls::{FrontCert, TlsFront};
use super::SYSTEM_NS;
use crate::cluster::{self, Cluster};
use crate::harness::{Harness, Options};
use crate::manifests::{manifest_for, sim_job};

/// Jobs in a namespace of their own, running on the simulator behind its HTTPS front.
pub struct RunningJobs {
    pub names: Vec<String>,
    // Kept while the jobs run; declared before the harness, whose simulator it forwards to.
    _front: TlsFront,
    pub h: Harness,
}

/// One job per ID, each running for 40 s with progress every 2 s (the simulator at real
/// speed); returns once every job shows progress, i.e. the release's leader polls them.
pub async fn start(tag: &str, cert: &FrontCert, ip: IpAddr, ids: &[&str]) -> RunningJobs {
    let steps: Vec<(u64, Phase, Option<u8>)> = (0..20)
        .map(|i| (i * 2, Phase::Running, Some((i * 5) as u8)))
        .chain([(40, Phase::Succeed, Some(100))])
        .collect();
    let jobs: Vec<_> = ids
        .iter()
        .map(|id| sim_job(ProviderKind::Tencent, "DescribeTasks", id, &steps))
        .collect();
    let h = Harness::start_without_operator(
        tag,
        Options {
            speed: 1.0,
            builtins: false,
            jobs: jobs.clone(),
            chart_identity: false,
            ..Options::default()
        },
    )
    .await;
    let front = TlsFront::start(cert, ip, h.sim.addr()).await;
    let names: Vec<String> = (0..jobs.len()).map(|i| format!("{tag}-{i}")).collect();
    for (job, name) in jobs.iter().zip(&names) {
        h.apply(name, &manifest_for(job, name, &front.url).yaml())
            .await;
    }
    h.eventually("every job shows progress", 60, |h| {
        names
            .iter()
            .all(|n| h.status(n)["progress"].as_i64().unwrap_or(0) >= 10)
    })
    .await;
    RunningJobs {
        names,
        _front: front,
        h,
    }
}

impl RunningJobs {
    /// Every job reaches its end; its status history never went back nor was written after
    /// the end; each transition was reported by one Event; the release wrote no status
    /// that changed nothing (the apiserver's audit log).
    pub async fn assert_finished_once(&self, cluster: &Cluster) {
        let h = &self.h;
        for name in &self.names {
            h.wait_for(name, "Complete", 120).await;
        }
        let user = format!(
            "system:serviceaccount:{SYSTEM_NS}:{}",
            cluster::SERVICE_ACCOUNT
        );
        for name in &self.names {
            h.assert_sane(name, false).await;
            let mut reasons: BTreeMap<String, i64> = BTreeMap::new();
            for e in h.events_of(name).await {
                let count = e["deprecatedCount"].as_i64().unwrap_or(1).max(1);
                *reasons
                    .entry(e["reason"].as_str().unwrap_or("").to_string())
                    .or_default() += count;
            }
            assert_eq!(reasons.get("Succeeded"), Some(&1), "{name}: {reasons:?}");
            assert!(
                reasons.values().all(|&c| c == 1),
                "{name}: a transition reported twice: {reasons:?}"
            );
            let writes = h.settled_job_writes(cluster, name).await;
            let noops = cluster::noop_status_writes(&writes, &user);
            assert!(noops.is_empty(), "{name}: no-op status writes: {noops:?}");
        }
    }
}
