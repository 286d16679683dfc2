//! `--scenario tenants`: fairness between namespaces. Namespace `noisy` holds N Tencent
//! `DescribeTasks` jobs (default 5,000) on one credential that the simulated cloud
//! throttles (every call it signs is answered `RequestLimitExceeded`); namespace `quiet`
//! holds 20 jobs on another, healthy credential, one per instance, with the same
//! `pollInterval`. The operator runs cluster-wide with its defaults (as the chart installs
//! it). For the quiet jobs the benchmark reads every poll from the simulator's request log
//! and reports the gaps between successive polls of each job against the interval, the
//! time to the first poll, to the first status and to completion; for the noisy credential
//! the calls it sent per second. Run `baseline` has no noisy namespace; run `contended`
//! has both.
//!
//! `cargo bench --bench scale -- --scenario tenants --interval 30s --duration 180s
//! [--noisy-jobs 5000] [--quiet-jobs 20] [--noisy-per-instance 1]
//! [--runs baseline,contended] [--kubeconfig F]`

use std::collections::{BTreeMap, HashMap};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{stream, StreamExt, TryStreamExt};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::backend::Backend;
use crate::{operator_binary, percentile, proc_cpu_seconds, proc_hwm_mib, Args};
use clouddb_job_operator::api::{CloudDbJob, JobPhase};
use clouddb_job_operator::simulator::auth::KeyPair;
use clouddb_job_operator::simulator::{Scenario, SimConfig, Simulator};

const NOISY_NS: &str = "noisy";
const QUIET_NS: &str = "quiet";
/// The operator's poll jitter (`controller/policy.rs`: ±10 %).
const JITTER: f64 = 0.10;

fn noisy_secret_id() -> String {
    format!("AKIDNOISY{:026}", 0)
}
fn quiet_secret_id() -> String {
    format!("AKIDQUIET{:026}", 0)
}
fn noisy_secret_key() -> String {
    format!("NoisySecretKey{:018}", 0)
}
fn quiet_secret_key() -> String {
    format!("QuietSecretKey{:018}", 0)
}

/// One simulated job of either tenant.
#[derive(Debug, Clone)]
struct TenantJob {
    namespace: &'static str,
    id: u64,
    instance: String,
    /// When the simulator completes it (quiet jobs only; noisy ones never get an answer).
    done: Option<Duration>,
}

impl TenantJob {
    fn name(&self, run: &str) -> String {
        format!("{run}-{}", self.id)
    }
}

fn quiet_jobs(args: &Args) -> Vec<TenantJob> {
    let total = args.duration.as_secs_f64();
    (0..args.quiet_jobs)
        .map(|j| {
            // Completion spread over 60 %..100 % of the duration, so every quiet job is
            // polled for several intervals first.
            let frac = ((j as u64).wrapping_mul(2_654_435_761) % 10_000) as f64 / 10_000.0;
            TenantJob {
                namespace: QUIET_NS,
                id: 200_000 + j as u64,
                // One job per instance: each poll is a call of its own, and the simulator's
                // log names the job it was for.
                instance: format!("cdb-quiet{j:05}"),
                done: Some(Duration::from_secs_f64(total * (0.6 + 0.4 * frac))),
            }
        })
        .collect()
}

fn noisy_jobs(args: &Args) -> Vec<TenantJob> {
    (0..args.noisy_jobs)
        .map(|j| TenantJob {
            namespace: NOISY_NS,
            id: 300_000 + j as u64,
            instance: format!("cdb-noisy{:05}", j / args.noisy_per_instance),
            done: None,
        })
        .collect()
}

fn sim_config(quiet: &[TenantJob], noisy: &[TenantJob]) -> SimConfig {
    let mut config = SimConfig::empty();
    let mut specs: Vec<serde_json::Value> = quiet
        .iter()
        .map(|j| super::succeeding_job(j.id, &j.instance, j.done.unwrap_or_default()))
        .collect();
    // The noisy credential is used for the noisy jobs only, so throttling every request
    // about them throttles every call that credential signs.
    specs.extend(noisy.iter().map(|j| {
        json!({
            "provider": "tencent",
            "jobId": j.id.to_string(),
            "instanceId": j.instance,
            "type": "reboot",
            "timeline": [{"after": "0s", "status": "RUNNING", "progress": 10}],
            "faults": [{"fault": "throttle"}],
        })
    }));
    let scenario: Scenario =
        serde_json::from_value(json!({"name": "tenants", "jobs": specs})).expect("scenario");
    config.scenarios = vec![scenario];
    config.credentials.tencent = vec![
        KeyPair {
            id: quiet_secret_id(),
            secret: quiet_secret_key(),
        },
        KeyPair {
            id: noisy_secret_id(),
            secret: noisy_secret_key(),
        },
    ];
    // Every request of a run, so each quiet poll and each throttled call is counted.
    config.recorder_capacity = 2_000_000;
    config
}

async fn ensure_namespace(client: &Client, namespace: &str, secret: (String, String)) {
    super::create_namespace(client, namespace).await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let object: Secret = serde_json::from_value(json!({
        "metadata": {"name": "creds"},
        "stringData": {"secretId": secret.0, "secretKey": secret.1},
    }))
    .expect("secret");
    match secrets.create(&PostParams::default(), &object).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 409 => {}
        Err(e) => panic!("create secret: {e}"),
    }
}

async fn create_jobs(
    client: &Client,
    run: &str,
    jobs: &[TenantJob],
    interval: Duration,
    sim: &str,
) {
    let interval = format!("{}ms", interval.as_millis());
    stream::iter(jobs)
        .map(|j| {
            let api: Api<CloudDbJob> = Api::namespaced(client.clone(), j.namespace);
            let obj: CloudDbJob = serde_json::from_value(json!({
                "apiVersion": "clouddb.io/v1alpha1",
                "kind": "CloudDbJob",
                "metadata": {"name": j.name(run)},
                "spec": {
                    "provider": "tencent",
                    "jobId": j.id.to_string(),
                    "region": "ap-guangzhou",
                    "instanceId": j.instance,
                    "endpoint": sim,
                    "pollInterval": interval,
                    "credentialsSecretRef": {"name": "creds"},
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

async fn delete_jobs(client: &Client, run: &str, jobs: &[TenantJob]) {
    stream::iter(jobs)
        .map(|j| {
            let api: Api<CloudDbJob> = Api::namespaced(client.clone(), j.namespace);
            let name = j.name(run);
            async move {
                match api.delete(&name, &DeleteParams::default()).await {
                    Ok(_) => Ok(()),
                    Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
                    Err(e) => Err(e),
                }
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<()>>()
        .await
        .expect("delete jobs");
}

/// What the benchmark's watch saw of each job, by namespace/name.
#[derive(Default)]
struct Seen {
    /// The first status the controller wrote (one with a phase).
    first_status: HashMap<String, Instant>,
    succeeded: HashMap<String, Instant>,
    /// Status changes by namespace (each is one effective status write).
    changes: HashMap<String, u64>,
}

fn watch(client: Client, seen: Arc<Mutex<Seen>>) {
    let api: Api<CloudDbJob> = Api::all(client);
    tokio::spawn(async move {
        let mut events = watcher(api, watcher::Config::default()).boxed();
        while let Some(event) = events.next().await {
            let (o, live) = match event {
                Ok(watcher::Event::Apply(o)) => (o, true),
                Ok(watcher::Event::InitApply(o)) => (o, false),
                _ => continue,
            };
            // The controller writes a phase with every status; before that the apiserver
            // may serve the CRD's default status (`observedGeneration: 0`).
            let Some(status) = o.status.as_ref().filter(|s| s.phase.is_some()) else {
                continue;
            };
            let ns = o.namespace().unwrap_or_default();
            let key = format!("{ns}/{}", o.name_any());
            let now = Instant::now();
            let mut seen = seen.lock().unwrap();
            if live {
                *seen.changes.entry(ns).or_default() += 1;
            }
            seen.first_status.entry(key.clone()).or_insert(now);
            if status.phase == Some(JobPhase::Succeeded) {
                seen.succeeded.entry(key).or_insert(now);
            }
        }
    });
}

/// The operator's own metrics (Prometheus text), fetched over plain HTTP/1.0.
async fn scrape(port: u16) -> String {
    let fetch = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .await?;
        let mut out = String::new();
        s.read_to_string(&mut out).await?;
        Ok::<_, std::io::Error>(out)
    };
    match tokio::time::timeout(Duration::from_secs(5), fetch).await {
        Ok(Ok(text)) => text
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or(text),
        _ => String::new(),
    }
}

/// Sum of a metric's samples whose line starts with `prefix` (name and, optionally, labels).
fn metric_sum(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit_once(' ')?.1.trim().parse::<f64>().ok())
        .fold(0.0, |a, b| a + b)
}

fn p50_p99_max(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (
        percentile(&v, 0.5),
        percentile(&v, 0.99),
        v.last().copied().unwrap_or(f64::NAN),
    )
}

#[derive(Debug)]
struct RunReport {
    run: String,
    noisy: usize,
    quiet: usize,
    quiet_polls: usize,
    gaps: Vec<f64>,
    /// Gaps longer than the interval plus the operator's jitter.
    late_gaps: usize,
    first_poll: (f64, f64, f64),
    first_status: (f64, f64, f64),
    completed: usize,
    /// From the simulator's completion to the watch seeing `Succeeded`.
    completion_latency: (f64, f64, f64),
    /// From operator start to the watch seeing `Succeeded`.
    completion_time: (f64, f64, f64),
    throttled_calls: usize,
    noisy_ok_calls: usize,
    throttled_per_second: Vec<u64>,
    /// Noisy jobs with any status by the end, and when they got it.
    noisy_with_status: usize,
    noisy_first_status: (f64, f64, f64),
    wall: f64,
    cpu: f64,
    rss: f64,
    /// Locally rate-limited polls, reconciles, status writes (operator metrics).
    rate_limited: f64,
    /// The operator's `provider_throttled_total`.
    throttled_metric: f64,
    reconciles: f64,
    reconcile_seconds: f64,
    status_writes: f64,
    requests: BTreeMap<String, u64>,
    /// The quiet jobs' poll times, seconds since start, by job ID (for the log).
    polls: BTreeMap<String, Vec<f64>>,
}

#[allow(clippy::too_many_arguments)]
async fn run_once(
    run: &str,
    args: &Args,
    quiet: &[TenantJob],
    noisy: &[TenantJob],
    sim: &Simulator,
    api: &Backend,
    client: &Client,
    seen: &Arc<Mutex<Seen>>,
) -> RunReport {
    let setup = Instant::now();
    ensure_namespace(client, QUIET_NS, (quiet_secret_id(), quiet_secret_key())).await;
    if !noisy.is_empty() {
        ensure_namespace(client, NOISY_NS, (noisy_secret_id(), noisy_secret_key())).await;
        create_jobs(client, run, noisy, args.interval, &sim.url()).await;
    }
    create_jobs(client, run, quiet, args.interval, &sim.url()).await;
    eprintln!(
        "{run}: {} objects created in {:.1}s",
        quiet.len() + noisy.len(),
        setup.elapsed().as_secs_f64()
    );
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let before = api.traffic().await;
    sim.reset();
    let t0 = Instant::now();
    let t0_wall = Timestamp::now();
    let log = std::fs::File::create(std::env::temp_dir().join(format!("scale-tenants-{run}.log")))
        .expect("log file");
    // Cluster-wide with the defaults, as the chart installs it (no leader election here: one
    // replica).
    let mut cmd = tokio::process::Command::new(operator_binary());
    cmd.arg("run")
        .args(["--metrics-addr", &format!("127.0.0.1:{port}")])
        .args(["--allowed-endpoints", "127.0.0.1"])
        .env("KUBECONFIG", api.kubeconfig())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .args(&args.operator_args);
    let mut child = cmd.spawn().expect("spawn operator");
    let pid = child.id().expect("pid");
    let deadline = args.duration + args.interval * 2 + Duration::from_secs(10);
    let keys: Vec<String> = quiet
        .iter()
        .map(|j| format!("{QUIET_NS}/{}", j.name(run)))
        .collect();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let done = {
            let seen = seen.lock().unwrap();
            keys.iter()
                .filter(|k| seen.succeeded.contains_key(*k))
                .count()
        };
        if done >= keys.len() || t0.elapsed() > deadline {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("operator exited early: {status}");
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let metrics = scrape(port).await;
    let cpu = proc_cpu_seconds(pid).unwrap_or(f64::NAN);
    let rss = proc_hwm_mib(pid).unwrap_or(f64::NAN);
    let _ = child.kill().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = api.traffic().await;
    let requests = after.since(&before);
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!(
        "{run}: load before {} after {}",
        load_before.trim(),
        load_after.trim()
    );
    eprintln!("{run}: apiserver requests: {requests:?}");
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("clouddb_job_operator_") && !l.contains("_bucket"))
    {
        eprintln!("{run}: metric {line}");
    }

    // The simulator's log: every provider request since the reset.
    let requests_log = sim.requests();
    let quiet_ids: HashMap<String, &TenantJob> =
        quiet.iter().map(|j| (j.id.to_string(), j)).collect();
    let noisy_ids: std::collections::HashSet<String> =
        noisy.iter().map(|j| j.id.to_string()).collect();
    let mut polls: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut throttled_per_second: Vec<u64> = vec![0; wall.ceil() as usize + 1];
    let mut throttled_calls = 0;
    let mut noisy_ok_calls = 0;
    for r in &requests_log {
        let at = r.at.duration_since(t0_wall).as_secs_f64();
        let job = r.job_id.as_deref().unwrap_or("");
        if r.fault.as_deref() == Some("throttle") {
            throttled_calls += 1;
            let s = (at.max(0.0) as usize).min(throttled_per_second.len() - 1);
            throttled_per_second[s] += 1;
        } else if noisy_ids.contains(job) {
            noisy_ok_calls += 1;
        } else if r.api == "DescribeTasks" && quiet_ids.contains_key(job) {
            polls.entry(job.to_string()).or_default().push(at);
        }
    }
    let interval = args.interval.as_secs_f64();
    let mut gaps = Vec::new();
    let mut first_poll = Vec::new();
    for times in polls.values_mut() {
        times.sort_by(|a, b| a.total_cmp(b));
        first_poll.push(times[0]);
        gaps.extend(times.windows(2).map(|w| w[1] - w[0]));
    }
    let late_gaps = gaps
        .iter()
        .filter(|g| **g > interval * (1.0 + JITTER))
        .count();
    let (first_status, completion_time, completion_latency, noisy_first) = {
        let seen = seen.lock().unwrap();
        let since = |at: &Instant| at.duration_since(t0).as_secs_f64();
        let noisy_first: Vec<f64> = noisy
            .iter()
            .filter_map(|j| {
                let key = format!("{NOISY_NS}/{}", j.name(run));
                seen.first_status.get(&key).map(since)
            })
            .collect();
        let first: Vec<f64> = keys
            .iter()
            .filter_map(|k| seen.first_status.get(k).map(since))
            .collect();
        let done: Vec<f64> = keys
            .iter()
            .filter_map(|k| seen.succeeded.get(k).map(since))
            .collect();
        let latency: Vec<f64> = quiet
            .iter()
            .filter_map(|j| {
                let at = seen.succeeded.get(&format!("{QUIET_NS}/{}", j.name(run)))?;
                Some(since(at) - j.done?.as_secs_f64())
            })
            .collect();
        (first, done, latency, noisy_first)
    };
    let completed = completion_time.len();
    let report = RunReport {
        run: run.into(),
        noisy: noisy.len(),
        quiet: quiet.len(),
        quiet_polls: polls.values().map(Vec::len).sum(),
        gaps,
        late_gaps,
        first_poll: p50_p99_max(first_poll),
        first_status: p50_p99_max(first_status),
        completed,
        completion_latency: p50_p99_max(completion_latency),
        completion_time: p50_p99_max(completion_time),
        throttled_calls,
        noisy_ok_calls,
        throttled_per_second,
        noisy_with_status: noisy_first.len(),
        noisy_first_status: p50_p99_max(noisy_first),
        wall,
        cpu,
        rss,
        rate_limited: metric_sum(&metrics, "clouddb_job_operator_rate_limited"),
        throttled_metric: metric_sum(&metrics, "clouddb_job_operator_provider_throttled_total"),
        reconciles: metric_sum(&metrics, "clouddb_job_operator_reconciles_total"),
        reconcile_seconds: metric_sum(
            &metrics,
            "clouddb_job_operator_reconcile_duration_seconds_sum",
        ),
        status_writes: metric_sum(&metrics, "clouddb_job_operator_status_writes_total"),
        requests,
        polls,
    };
    for (job, times) in &report.polls {
        let t: Vec<String> = times.iter().map(|t| format!("{t:.1}")).collect();
        eprintln!("{run}: quiet job {job} polled at {}", t.join(" "));
    }
    let windows: Vec<String> = report
        .throttled_per_second
        .chunks(10)
        .map(|c| format!("{:.0}", c.iter().sum::<u64>() as f64 / c.len() as f64))
        .collect();
    eprintln!(
        "{run}: throttled calls per second, 10 s averages: {}",
        windows.join(" ")
    );
    report
}

fn print(args: &Args, reports: &[RunReport]) {
    let interval = args.interval.as_secs_f64();
    println!(
        "\nquiet: {} jobs (one per instance), noisy: {} jobs ({} per instance, every call throttled), interval {:?}, quiet jobs finish within {:?}",
        args.quiet_jobs, args.noisy_jobs, args.noisy_per_instance, args.interval, args.duration
    );
    println!(
        "| run | noisy jobs | quiet polls | quiet gaps | gap p50 / p99 / max s | lateness p50 / p99 / max s | gaps > interval + 10 % | first poll p50 / max s | first status p50 / max s | completed | to completion p50 / max s | completion seen after p50 / max s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in reports {
        let (g50, g99, gmax) = p50_p99_max(r.gaps.clone());
        println!(
            "| {} | {} | {} | {} | {:.2} / {:.2} / {:.2} | {:+.2} / {:+.2} / {:+.2} | {} | {:.1} / {:.1} | {:.1} / {:.1} | {}/{} | {:.1} / {:.1} | {:.1} / {:.1} |",
            r.run,
            r.noisy,
            r.quiet_polls,
            r.gaps.len(),
            g50,
            g99,
            gmax,
            g50 - interval,
            g99 - interval,
            gmax - interval,
            r.late_gaps,
            r.first_poll.0,
            r.first_poll.2,
            r.first_status.0,
            r.first_status.2,
            r.completed,
            r.quiet,
            r.completion_time.0,
            r.completion_time.2,
            r.completion_latency.0,
            r.completion_latency.2,
        );
    }
    println!(
        "\n| run | throttled calls | per noisy job | calls/s mean | calls/s max (1 s) | max 10 s average | non-throttled noisy calls | noisy jobs with a status | noisy first status p50 / max s | locally rate-limited polls | operator's provider_throttled_total | reconciles | reconcile s | status writes | CPU s | CPU cores | peak RSS MiB | wall s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in reports {
        let max1 = r.throttled_per_second.iter().copied().max().unwrap_or(0);
        let max10 = r
            .throttled_per_second
            .windows(10)
            .map(|w| w.iter().sum::<u64>() as f64 / 10.0)
            .fold(0.0, f64::max);
        println!(
            "| {} | {} | {:.2} | {:.1} | {} | {:.1} | {} | {}/{} | {:.1} / {:.1} | {:.0} | {:.0} | {:.0} | {:.1} | {:.0} | {:.1} | {:.3} | {:.1} | {:.0} |",
            r.run,
            r.throttled_calls,
            if r.noisy == 0 {
                0.0
            } else {
                r.throttled_calls as f64 / r.noisy as f64
            },
            r.throttled_calls as f64 / r.wall,
            max1,
            max10,
            r.noisy_ok_calls,
            r.noisy_with_status,
            r.noisy,
            r.noisy_first_status.0,
            r.noisy_first_status.2,
            r.rate_limited,
            r.throttled_metric,
            r.reconciles,
            r.reconcile_seconds,
            r.status_writes,
            r.cpu,
            r.cpu / r.wall,
            r.rss,
            r.wall,
        );
    }
    println!("\napiserver requests during each run, by verb and resource:");
    for r in reports {
        let cells: Vec<String> = r.requests.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("- {}: {}", r.run, cells.join(", "));
    }
}

pub async fn run(args: &Args) {
    let quiet = quiet_jobs(args);
    let noisy = noisy_jobs(args);
    let sim = Simulator::start(([127, 0, 0, 1], 0).into(), sim_config(&quiet, &noisy))
        .await
        .expect("simulator");
    let api = match &args.kubeconfig {
        Some(path) => Backend::real(path).await,
        None => Backend::fake().await,
    };
    let client = api.client().await;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    watch(client.clone(), seen.clone());
    let mut reports = Vec::new();
    for (i, run) in args.runs.iter().enumerate() {
        let noisy_here: &[TenantJob] = match run.as_str() {
            "baseline" => &[],
            "contended" => &noisy,
            other => panic!("unknown run {other:?} (baseline, contended)"),
        };
        let r = run_once(run, args, &quiet, noisy_here, &sim, &api, &client, &seen).await;
        if i + 1 < args.runs.len() {
            // The next run starts without this run's objects.
            delete_jobs(&client, run, &quiet).await;
            delete_jobs(&client, run, noisy_here).await;
        }
        let changes = seen.lock().unwrap().changes.clone();
        eprintln!("{run}: status changes seen by namespace so far: {changes:?}");
        reports.push(r);
    }
    if !api.is_real() {
        let _ = std::fs::remove_file(api.kubeconfig());
    }
    print(args, &reports);
}
