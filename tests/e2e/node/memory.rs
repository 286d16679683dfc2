//! Issue 28, resources: the release's pod, with the chart's default requests and limits,
//! tracking 1,000 CloudDbJobs. Its memory is read where the kernel accounts it: the
//! container's process (`VmRSS`, and `VmHWM`, its peak) and the container's memory cgroup
//! (usage, peak, the limit the kubelet set from the chart). The peak must stay well below
//! the chart's limit, the cgroup must never have hit it, and the container never restarted.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clouddb_job_operator::api::{CloudDbJob, ProviderKind};
use clouddb_job_operator::simulator::scenario::Phase;
use futures::{StreamExt, TryStreamExt};
use kube::api::{ListParams, PostParams};
use kube::Api;
use serde_json::json;

use super::tls::TlsFront;
use super::{container_pid, install_release, operator_pods};
use crate::harness::{Harness, Options};
use crate::manifests::{sim_job, tencent_creds};

const JOBS: usize = 1000;
/// Jobs per database instance: one DescribeTasks call answers for all of them.
const PER_INSTANCE: usize = 20;
const MIB: f64 = 1024.0 * 1024.0;

/// The container's memory as the kernel accounts it, in bytes.
#[derive(Debug, Default, Clone, Copy)]
struct Memory {
    /// The process's resident set now, and its peak (`VmHWM`).
    rss: u64,
    rss_peak: u64,
    /// The cgroup's usage (page cache included), its peak, and its limit.
    usage: u64,
    usage_peak: u64,
    limit: u64,
    /// Times the cgroup hit its limit (cgroup v1 `failcnt`, v2 `memory.events` `max`).
    limit_hits: u64,
}

fn read_u64(path: &PathBuf) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = text.trim();
    if text == "max" {
        return u64::MAX;
    }
    text.parse()
        .unwrap_or_else(|e| panic!("{}: {text:?}: {e}", path.display()))
}

/// A `Key: N kB` line of `/proc/PID/status`, in bytes.
fn status_kib(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .unwrap_or_else(|| panic!("no {key} in /proc status:\n{status}"))
}

/// Reads the process's and its memory cgroup's figures (cgroup v1 or v2).
fn memory_of(pid: u32) -> Memory {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("proc cgroup");
    let v1 = cgroups.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        controllers
            .split(',')
            .any(|c| c == "memory")
            .then(|| path.to_string())
    });
    let mut memory = Memory {
        rss: status_kib(&status, "VmRSS:"),
        rss_peak: status_kib(&status, "VmHWM:"),
        ..Memory::default()
    };
    if let Some(path) = v1 {
        let dir = PathBuf::from(format!("/sys/fs/cgroup/memory{path}"));
        memory.usage = read_u64(&dir.join("memory.usage_in_bytes"));
        memory.usage_peak = read_u64(&dir.join("memory.max_usage_in_bytes"));
        memory.limit = read_u64(&dir.join("memory.limit_in_bytes"));
        memory.limit_hits = read_u64(&dir.join("memory.failcnt"));
    } else {
        let path = cgroups
            .lines()
            .find_map(|l| l.strip_prefix("0::"))
            .unwrap_or_else(|| panic!("no memory cgroup in /proc/{pid}/cgroup:\n{cgroups}"));
        let dir = PathBuf::from(format!("/sys/fs/cgroup{path}"));
        memory.usage = read_u64(&dir.join("memory.current"));
        let peak = dir.join("memory.peak");
        memory.usage_peak = if peak.exists() {
            read_u64(&peak)
        } else {
            memory.usage
        };
        memory.limit = read_u64(&dir.join("memory.max"));
        let events = std::fs::read_to_string(dir.join("memory.events")).unwrap_or_default();
        memory.limit_hits = events
            .lines()
            .find_map(|l| l.strip_prefix("max "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
    }
    memory
}

/// `128Mi`, `64M`, `1Gi`, plain bytes: a Kubernetes memory quantity in bytes.
fn quantity(text: &str) -> u64 {
    let units = [
        ("Ki", 1u64 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("k", 1000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
    ];
    let (number, factor) = units
        .iter()
        .find_map(|(suffix, f)| text.strip_suffix(suffix).map(|n| (n, *f)))
        .unwrap_or((text, 1));
    number
        .parse::<u64>()
        .map(|n| n * factor)
        .unwrap_or_else(|e| panic!("memory quantity {text:?}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pod_tracks_1000_jobs_within_the_charts_memory_limit() {
    let installed = install_release(&[]).await;
    let (cluster, kc, ip) = (&installed.cluster, &installed.kc, installed.ip);
    let pods = operator_pods(kc);
    assert_eq!(pods.len(), 1, "{pods:?}");
    let pod = &pods[0];
    let resources = &pod["spec"]["containers"][0]["resources"];
    let limit = quantity(resources["limits"]["memory"].as_str().unwrap_or_default());
    let request = quantity(resources["requests"]["memory"].as_str().unwrap_or_default());
    let container_id = pod["status"]["containerStatuses"][0]["containerID"]
        .as_str()
        .expect("containerID");
    let pid = container_pid(cluster, container_id);
    let idle = memory_of(pid);
    // The kubelet applied the chart's limit to the container's cgroup.
    assert_eq!(idle.limit, limit, "cgroup limit vs the chart's {resources}");

    // 1,000 Tencent jobs, 20 per instance, that run for an hour; polled every 15 s.
    let steps = [(0, Phase::Running, Some(10)), (3600, Phase::Succeed, None)];
    let jobs: Vec<_> = (0..JOBS)
        .map(|i| {
            let mut job = sim_job(
                ProviderKind::Tencent,
                "DescribeTasks",
                &(289_000 + i).to_string(),
                &steps,
            );
            job.instance_id = Some(format!("cdb-mem{:03}", i / PER_INSTANCE));
            job
        })
        .collect();
    let h = Harness::start_without_operator(
        "node-memory",
        Options {
            speed: 1.0,
            builtins: false,
            jobs: jobs.clone(),
            chart_identity: false,
            ..Options::default()
        },
    )
    .await;
    let front = TlsFront::start(&installed.cert, ip, h.sim.addr()).await;
    let creds: serde_json::Map<_, _> = tencent_creds()
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "creds"}, "stringData": creds,
    });
    h.apply("creds", &secret.to_string()).await;
    let api: Api<CloudDbJob> = Api::namespaced(h.client.clone(), &h.ns);
    let started = Instant::now();
    futures::stream::iter(&jobs)
        .map(|job| {
            let api = api.clone();
            let object: Result<CloudDbJob, _> = serde_json::from_value(json!({
                "apiVersion": "clouddb.io/v1alpha1",
                "kind": "CloudDbJob",
                "metadata": {"name": format!("job-{}", job.job_id)},
                "spec": {
                    "provider": "tencent",
                    "api": "DescribeTasks",
                    "jobId": job.job_id,
                    "region": "ap-guangzhou",
                    "instanceId": job.instance_id,
                    "endpoint": front.url,
                    "pollInterval": "15s",
                    "credentialsSecretRef": {"name": "creds"},
                },
            }));
            async move {
                let object = object.map_err(|e| e.to_string())?;
                api.create(&PostParams::default(), &object)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
        .buffer_unordered(8)
        .try_collect::<Vec<()>>()
        .await
        .unwrap_or_else(|e| panic!("creating {JOBS} CloudDbJobs: {e}"));
    let created = started.elapsed();

    // Until the pod has polled every job and written it Running, then more than one poll
    // round (15 s) with all of them.
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut running = 0;
    while running < JOBS {
        assert!(
            Instant::now() < deadline,
            "{running} of {JOBS} jobs Running after 300 s"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        let list = api
            .list(&ListParams::default())
            .await
            .unwrap_or_else(|e| panic!("listing the jobs: {e}"));
        running = list
            .items
            .iter()
            .filter(|j| {
                j.status
                    .as_ref()
                    .is_some_and(|s| s.phase.as_ref().is_some_and(|p| p.as_str() == "Running"))
            })
            .count();
    }
    let tracked_in = started.elapsed();
    tokio::time::sleep(Duration::from_secs(20)).await;
    let last = memory_of(pid);

    // The pod's own gauge counts them (and any earlier test's unfinished jobs).
    let pod_ip = pod["status"]["podIP"].as_str().unwrap_or_default();
    let metrics = reqwest::get(format!("http://{pod_ip}:8080/metrics"))
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| panic!("GET the pod's /metrics: {e}"))
        .text()
        .await
        .unwrap_or_else(|e| panic!("the pod's /metrics: {e}"));
    let gauge: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("clouddb_job_operator_jobs{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    let polls = h.sim.counters().by_api.get("DescribeTasks").copied();
    let restarts = operator_pods(kc)
        .first()
        .map(|p| p["status"]["containerStatuses"][0]["restartCount"].clone());
    eprintln!(
        "memory at {JOBS} jobs ({created:?} to create, all Running after {tracked_in:?}, \
         {polls:?} DescribeTasks calls, gauge {gauge}): process RSS {:.1} MiB now, peak \
         (VmHWM) {:.1} MiB, idle {:.1} MiB; cgroup usage {:.1} MiB now, peak {:.1} MiB \
         (page cache included); chart request {:.0} MiB, limit {:.0} MiB; limit hits {}",
        last.rss as f64 / MIB,
        last.rss_peak as f64 / MIB,
        idle.rss as f64 / MIB,
        last.usage as f64 / MIB,
        last.usage_peak as f64 / MIB,
        request as f64 / MIB,
        limit as f64 / MIB,
        last.limit_hits
    );
    assert!(gauge >= JOBS as f64, "the pod's gauge says {gauge} jobs");
    assert_eq!(restarts, Some(json!(0)), "the container restarted");
    assert_eq!(last.limit_hits, 0, "the cgroup hit its limit: {last:?}");
    // With margin: the peak resident set at most three quarters of the limit.
    assert!(
        last.rss_peak * 4 <= limit * 3,
        "peak RSS {:.1} MiB is over 3/4 of the chart's {:.0} MiB limit",
        last.rss_peak as f64 / MIB,
        limit as f64 / MIB
    );

    // No running job left for the next release to poll: the namespace's jobs deleted.
    let _ = api
        .delete_collection(&Default::default(), &ListParams::default())
        .await
        .unwrap_or_else(|e| panic!("deleting the jobs: {e}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = api
            .list(&ListParams::default().limit(1))
            .await
            .map(|l| l.items.len())
            .unwrap_or(1);
        if left == 0 || Instant::now() > deadline {
            assert_eq!(left, 0, "jobs left after 60 s");
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop(front);
    drop(h);
    drop(installed);
}
