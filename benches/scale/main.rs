//! Scale benchmark: the operator binary (as a child process, for honest CPU and RSS)
//! tracking N concurrent Tencent `DescribeTasks` jobs against the provider simulator and
//! either the in-process fake API server or, with `--kubeconfig`, a real kube-apiserver
//! (the test control plane of scripts/testenv.sh), batched and then `--naive-polling`, in
//! one run.
//!
//! `cargo bench --bench scale -- --jobs 1000 --interval 30s --duration 120s [--kubeconfig F]`
//! (see BENCHMARKS.md). Not run by `cargo test` (`test = false` in Cargo.toml).
//!
//! `--scenario tenants` measures fairness between namespaces instead (see `tenants.rs`);
//! `--scenario peer` compares the operator with ACK's RDS controller (see `peer.rs`).

mod backend;
mod peer;
mod tenants;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backend::{Backend, Traffic};
use clouddb_job_operator::api::{CloudDbJob, JobPhase};
use clouddb_job_operator::duration::parse_duration;
use clouddb_job_operator::simulator::auth::KeyPair;
use clouddb_job_operator::simulator::{Scenario, SimConfig, Simulator};
use futures::{stream, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, PostParams};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::json;

#[derive(Debug, Clone)]
struct Args {
    jobs: usize,
    per_instance: usize,
    instances_per_credential: usize,
    interval: Duration,
    duration: Duration,
    concurrency: u16,
    modes: Vec<String>,
    /// Extra flags for the operator's `run` (e.g. `--secret-cache-ttl=10s`), both modes.
    operator_args: Vec<String>,
    /// A real cluster instead of the fake API server.
    kubeconfig: Option<PathBuf>,
    /// `scale` (the default) or `tenants` (fairness between namespaces).
    scenario: String,
    /// `tenants`: jobs in the throttled namespace.
    noisy_jobs: usize,
    /// `tenants`: jobs in the healthy namespace (one per instance).
    quiet_jobs: usize,
    /// `tenants`: noisy jobs per instance (1: no two share a `DescribeTasks` call).
    noisy_per_instance: usize,
    /// `tenants`: `baseline` (quiet namespace alone) and/or `contended`.
    runs: Vec<String>,
    /// `peer`: `ack-<workers>` and/or `ours`, one after the other.
    peer_runs: Vec<String>,
    /// `peer`: the peer's binary (default: what `testenv/build-ack.sh` prints).
    ack_bin: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        jobs: 1000,
        per_instance: 20,
        instances_per_credential: 10,
        interval: Duration::from_secs(30),
        duration: Duration::from_secs(120),
        concurrency: 64,
        modes: vec!["batched".into(), "naive".into()],
        operator_args: Vec::new(),
        kubeconfig: None,
        scenario: "scale".into(),
        noisy_jobs: 5000,
        quiet_jobs: 20,
        noisy_per_instance: 1,
        runs: vec!["baseline".into(), "contended".into()],
        peer_runs: vec!["ack-1".into(), "ack-64".into(), "ours".into()],
        ack_bin: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--bench" {
            continue;
        }
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--jobs" => args.jobs = value()?.parse().map_err(|e| format!("--jobs: {e}"))?,
            "--per-instance" => {
                args.per_instance = value()?.parse().map_err(|e| format!("{flag}: {e}"))?
            }
            "--instances-per-credential" => {
                args.instances_per_credential =
                    value()?.parse().map_err(|e| format!("{flag}: {e}"))?
            }
            "--interval" => args.interval = parse_duration(&value()?)?,
            "--duration" => args.duration = parse_duration(&value()?)?,
            "--concurrency" => {
                args.concurrency = value()?.parse().map_err(|e| format!("{flag}: {e}"))?
            }
            "--modes" => args.modes = value()?.split(',').map(String::from).collect(),
            "--operator-arg" => args.operator_args.push(value()?),
            "--kubeconfig" => args.kubeconfig = Some(PathBuf::from(value()?)),
            "--scenario" => args.scenario = value()?,
            "--noisy-jobs" => {
                args.noisy_jobs = value()?.parse().map_err(|e| format!("{flag}: {e}"))?
            }
            "--quiet-jobs" => {
                args.quiet_jobs = value()?.parse().map_err(|e| format!("{flag}: {e}"))?
            }
            "--noisy-per-instance" => {
                args.noisy_per_instance = value()?.parse().map_err(|e| format!("{flag}: {e}"))?
            }
            "--runs" => args.runs = value()?.split(',').map(String::from).collect(),
            "--peer-runs" => args.peer_runs = value()?.split(',').map(String::from).collect(),
            "--ack-bin" => args.ack_bin = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    args.per_instance = args.per_instance.max(1);
    args.instances_per_credential = args.instances_per_credential.max(1);
    args.noisy_per_instance = args.noisy_per_instance.max(1);
    if !matches!(args.scenario.as_str(), "scale" | "tenants" | "peer") {
        return Err(format!(
            "unknown scenario {:?} (scale, tenants, peer)",
            args.scenario
        ));
    }
    Ok(args)
}

/// One simulated job: its instance, credential and completion time.
#[derive(Debug, Clone)]
struct Job {
    id: u64,
    instance: usize,
    credential: usize,
    done: Duration,
}

fn plan(args: &Args) -> Vec<Job> {
    let total = args.duration.as_secs_f64();
    (0..args.jobs)
        .map(|j| {
            let instance = j / args.per_instance;
            // Deterministic spread of completion times over 30 %..90 % of the duration.
            let frac = ((j as u64).wrapping_mul(2_654_435_761) % 10_000) as f64 / 10_000.0;
            Job {
                id: 100_000 + j as u64,
                instance,
                credential: instance / args.instances_per_credential,
                done: Duration::from_secs_f64(total * (0.3 + 0.6 * frac)),
            }
        })
        .collect()
}

fn secret_id(c: usize) -> String {
    format!("AKIDBENCH{c:026}")
}
fn secret_key(c: usize) -> String {
    format!("BenchSecretKey{c:018}")
}

/// A simulated Tencent job on `instance` that runs (10 %, then 50 % halfway) and succeeds
/// `done` after its start.
fn succeeding_job(id: u64, instance: &str, done: Duration) -> serde_json::Value {
    let ms = done.as_millis() as u64;
    json!({
        "provider": "tencent",
        "jobId": id.to_string(),
        "instanceId": instance,
        "type": "reboot",
        "timeline": [
            {"after": "0s", "status": "RUNNING", "progress": 10},
            {"after": format!("{}ms", ms / 2), "status": "RUNNING", "progress": 50},
            {"after": format!("{ms}ms"), "status": "SUCCEED"},
        ],
    })
}

fn sim_config(jobs: &[Job]) -> SimConfig {
    let mut config = SimConfig::empty();
    let specs: Vec<serde_json::Value> = jobs
        .iter()
        .map(|j| succeeding_job(j.id, &format!("cdb-bench{:05}", j.instance), j.done))
        .collect();
    let scenario: Scenario =
        serde_json::from_value(json!({"name": "scale", "jobs": specs})).expect("scenario");
    config.scenarios = vec![scenario];
    let creds = jobs.iter().map(|j| j.credential).max().unwrap_or(0) + 1;
    config.credentials.tencent = (0..creds)
        .map(|c| KeyPair {
            id: secret_id(c),
            secret: secret_key(c),
        })
        .collect();
    config
}

/// Creates `namespace` (already there is fine: a rerun against the same cluster).
async fn create_namespace(client: &Client, namespace: &str) {
    let ns: Api<Namespace> = Api::all(client.clone());
    let _ = ns
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": namespace}})).expect("ns"),
        )
        .await;
}

async fn create_objects(client: &Client, namespace: &str, jobs: &[Job], args: &Args, sim: &str) {
    create_namespace(client, namespace).await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let creds = jobs.iter().map(|j| j.credential).max().unwrap_or(0) + 1;
    for c in 0..creds {
        let secret: Secret = serde_json::from_value(json!({
            "metadata": {"name": format!("creds-{c}")},
            "stringData": {"secretId": secret_id(c), "secretKey": secret_key(c)},
        }))
        .expect("secret");
        secrets
            .create(&PostParams::default(), &secret)
            .await
            .expect("create secret");
    }
    let api: Api<CloudDbJob> = Api::namespaced(client.clone(), namespace);
    let interval = format!("{}ms", args.interval.as_millis());
    stream::iter(jobs)
        .map(|j| {
            let api = api.clone();
            let obj: CloudDbJob = serde_json::from_value(json!({
                "apiVersion": "clouddb.io/v1alpha1",
                "kind": "CloudDbJob",
                "metadata": {"name": format!("job-{}", j.id)},
                "spec": {
                    "provider": "tencent",
                    "jobId": j.id.to_string(),
                    "region": "ap-guangzhou",
                    "instanceId": format!("cdb-bench{:05}", j.instance),
                    "endpoint": sim,
                    "pollInterval": interval,
                    "credentialsSecretRef": {"name": format!("creds-{}", j.credential)},
                },
            }))
            .expect("job");
            async move { api.create(&PostParams::default(), &obj).await.map(|_| ()) }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<()>>()
        .await
        .expect("create jobs");
}

/// When each job was first seen `Succeeded`, by namespace/name.
type Seen = Arc<Mutex<HashMap<String, Instant>>>;
/// Status changes the watch saw, by namespace (each is one effective status write).
type Changes = Arc<Mutex<HashMap<String, u64>>>;

fn watch_completions(client: Client, seen: Seen, changes: Changes) {
    let api: Api<CloudDbJob> = Api::all(client);
    tokio::spawn(async move {
        let mut events = watcher(api, watcher::Config::default()).boxed();
        while let Some(event) = events.next().await {
            let objects = match event {
                Ok(watcher::Event::Apply(o)) => {
                    // After the initial list, every event is a write that changed the object,
                    // and only status changes after creation.
                    if o.status.is_some() {
                        *changes
                            .lock()
                            .unwrap()
                            .entry(o.namespace().unwrap_or_default())
                            .or_default() += 1;
                    }
                    vec![o]
                }
                Ok(watcher::Event::InitApply(o)) => vec![o],
                _ => continue,
            };
            for o in objects {
                if o.status.as_ref().and_then(|s| s.phase) == Some(JobPhase::Succeeded) {
                    let key = format!("{}/{}", o.namespace().unwrap_or_default(), o.name_any());
                    seen.lock().unwrap().entry(key).or_insert_with(Instant::now);
                }
            }
        }
    });
}

fn proc_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn proc_hwm_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The fewest `DescribeTasks` calls that track every batch to completion: one call per
/// instance per interval while any of its jobs is unfinished, plus the call that sees
/// the last one finish.
fn floor_calls(jobs: &[Job], interval: Duration) -> u64 {
    let mut last: BTreeMap<usize, Duration> = BTreeMap::new();
    for j in jobs {
        let e = last.entry(j.instance).or_default();
        *e = (*e).max(j.done);
    }
    last.values()
        .map(|d| (d.as_secs_f64() / interval.as_secs_f64()).ceil() as u64 + 1)
        .sum()
}

/// Job-rounds: the polls one-call-per-job polling needs.
fn job_rounds(jobs: &[Job], interval: Duration) -> u64 {
    jobs.iter()
        .map(|j| (j.done.as_secs_f64() / interval.as_secs_f64()).ceil() as u64 + 1)
        .sum()
}

#[derive(Debug)]
struct Report {
    mode: String,
    calls: u64,
    floor: u64,
    job_rounds: u64,
    status_writes: u64,
    noop_writes: u64,
    changes: u64,
    /// apiserver requests during the mode, by `VERB resource`.
    requests: BTreeMap<String, u64>,
    cpu: f64,
    wall: f64,
    rss: f64,
    completed: usize,
    latency: (f64, f64, f64),
}

fn operator_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_clouddb-job-operator"))
}

#[allow(clippy::too_many_arguments)]
async fn run_mode(
    mode: &str,
    args: &Args,
    jobs: &[Job],
    sim: &Simulator,
    api: &Backend,
    seen: &Seen,
    changes: &Changes,
) -> Report {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let before = api.traffic().await;
    let changes_before = changes.lock().unwrap().get(mode).copied().unwrap_or(0);
    sim.reset();
    let t0 = Instant::now();
    let log = std::fs::File::create(std::env::temp_dir().join(format!("scale-{mode}.log")))
        .expect("log file");
    let mut cmd = tokio::process::Command::new(operator_binary());
    cmd.arg("run")
        .args(["--namespace", mode])
        .args(["--metrics-addr", &format!("127.0.0.1:{port}")])
        .args(["--allowed-endpoints", "127.0.0.1"])
        .args(["--max-concurrent-polls", &args.concurrency.to_string()])
        .env("KUBECONFIG", api.kubeconfig())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true);
    if mode == "naive" {
        cmd.arg("--naive-polling");
    }
    cmd.args(&args.operator_args);
    let mut child = cmd.spawn().expect("spawn operator");
    let pid = child.id().expect("pid");
    let deadline = args.duration + args.interval * 2 + Duration::from_secs(10);
    let prefix = format!("{mode}/");
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let done = seen
            .lock()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .count();
        if done >= jobs.len() || t0.elapsed() > deadline {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("operator exited early: {status}");
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = proc_cpu_seconds(pid).unwrap_or(f64::NAN);
    let rss = proc_hwm_mib(pid).unwrap_or(f64::NAN);
    let _ = child.kill().await;
    // Let the last status writes reach the watch before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after: Traffic = api.traffic().await;
    let requests = after.since(&before);
    eprintln!("{mode}: apiserver requests: {requests:?}");
    if let (Some(a), Some(b)) = (after.gone, before.gone) {
        eprintln!("{mode}: watches answered 410 Gone: {}", a - b);
    }
    let status_writes = after.status_writes - before.status_writes;
    let observed = changes.lock().unwrap().get(mode).copied().unwrap_or(0) - changes_before;
    let noop_writes = match (after.noop_writes, before.noop_writes) {
        (Some(a), Some(b)) => a - b,
        // A real apiserver does not bump the resourceVersion of a no-op patch, so the watch
        // sees no event for it.
        _ => status_writes.saturating_sub(observed),
    };
    let calls = sim
        .counters()
        .by_api
        .get("DescribeTasks")
        .copied()
        .unwrap_or(0);
    let seen = seen.lock().unwrap();
    let mut latencies: Vec<f64> = jobs
        .iter()
        .filter_map(|j| {
            let at = seen.get(&format!("{mode}/job-{}", j.id))?;
            Some(at.duration_since(t0).as_secs_f64() - j.done.as_secs_f64())
        })
        .collect();
    latencies.sort_by(|a, b| a.total_cmp(b));
    Report {
        mode: mode.into(),
        calls,
        floor: floor_calls(jobs, args.interval),
        job_rounds: job_rounds(jobs, args.interval),
        status_writes,
        noop_writes,
        requests,
        // First sighting (Running 10 %), progress 50 %, completion.
        changes: 3 * jobs.len() as u64,
        cpu,
        wall,
        rss,
        completed: latencies.len(),
        latency: (
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.95),
            latencies.last().copied().unwrap_or(f64::NAN),
        ),
    }
}

fn print_requests(args: &Args, reports: &[Report]) {
    println!("\napiserver requests per job, by verb and resource:");
    println!("| mode | requests |");
    println!("|---|---|");
    for r in reports {
        let cells: Vec<String> = r
            .requests
            .iter()
            .map(|(k, v)| format!("{k} {:.3}", *v as f64 / args.jobs as f64))
            .collect();
        println!("| {} | {} |", r.mode, cells.join(", "));
    }
}

fn print(args: &Args, reports: &[Report]) {
    let instances = args.jobs.div_ceil(args.per_instance);
    println!(
        "\n{} jobs, {} per instance ({} instances), {} instances per credential, interval {:?}, jobs finish within {:?}",
        args.jobs, args.per_instance, instances, args.instances_per_credential, args.interval, args.duration
    );
    println!(
        "| mode | DescribeTasks calls | floor | calls/floor | calls per job | calls per job-round | status writes | writes per change | no-op writes | CPU s | CPU cores | peak RSS MiB | completed | latency p50/p95/max s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in reports {
        println!(
            "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {} | {:.3} | {} | {:.1} | {:.3} | {:.1} | {}/{} | {:.1} / {:.1} / {:.1} |",
            r.mode,
            r.calls,
            r.floor,
            r.calls as f64 / r.floor as f64,
            r.calls as f64 / args.jobs as f64,
            r.calls as f64 / r.job_rounds as f64,
            r.status_writes,
            r.status_writes as f64 / r.changes as f64,
            r.noop_writes,
            r.cpu,
            r.cpu / r.wall,
            r.rss,
            r.completed,
            args.jobs,
            r.latency.0,
            r.latency.1,
            r.latency.2,
        );
    }
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; anything else (e.g. `cargo test --all-targets`)
    // must not start a multi-minute run.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("scale: benchmark only; run `cargo bench --bench scale`");
        return;
    }
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    if args.scenario == "tenants" {
        tenants::run(&args).await;
        return;
    }
    if args.scenario == "peer" {
        peer::run(&args).await;
        return;
    }
    let jobs = plan(&args);
    let setup = Instant::now();
    let sim = Simulator::start(([127, 0, 0, 1], 0).into(), sim_config(&jobs))
        .await
        .expect("simulator");
    let api = match &args.kubeconfig {
        Some(path) => Backend::real(path).await,
        None => Backend::fake().await,
    };
    let client = api.client().await;
    for mode in &args.modes {
        create_objects(&client, mode, &jobs, &args, &sim.url()).await;
    }
    eprintln!(
        "setup: {} objects created in {:.1}s",
        jobs.len() * args.modes.len(),
        setup.elapsed().as_secs_f64()
    );
    let seen: Seen = Arc::default();
    let changes: Changes = Arc::default();
    watch_completions(client.clone(), seen.clone(), changes.clone());
    let mut reports = Vec::new();
    for mode in &args.modes {
        let r = run_mode(mode, &args, &jobs, &sim, &api, &seen, &changes).await;
        eprintln!("{r:?}");
        reports.push(r);
    }
    if !api.is_real() {
        let _ = std::fs::remove_file(api.kubeconfig());
    }
    print(&args, &reports);
    print_requests(&args, &reports);
}
