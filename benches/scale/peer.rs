//! `--scenario peer`: the operator side by side with the best-known peer for AWS RDS
//! snapshots, AWS Controllers for Kubernetes' RDS controller (built by
//! `testenv/build-ack.sh`), on a real kube-apiserver (`--kubeconfig`, the test control plane)
//! and the same simulator. N AWS DB snapshots (20 per instance by default) are `creating`
//! (progress fixed at 40 %) and turn `available` at times spread over 30-90 % of
//! `--duration`. One controller at a time, each in a fresh namespace holding its own N
//! objects, with fresh simulator clocks:
//!
//! * `ack-<W>`: the peer with `--reconcile-default-max-concurrent-syncs W` (default: one
//!   worker) tracking read-only DBSnapshots (`services.k8s.aws/read-only: "true"`: no finalizer,
//!   no writes to the cloud), polling every 30 s (its fixed requeue) while not available;
//! * `ours`: the operator with its default flags (`--allowed-endpoints 127.0.0.1` for the
//!   simulator) tracking CloudDbJobs of AWS `db-snapshot` with `pollInterval` `--interval`.
//!
//! Both measured the same way: CPU seconds (utime+stime) and peak RSS (VmHWM) of the
//! controller process until every resource says the snapshot is available (or the
//! deadline); RDS and STS calls by action from the simulator's counters; apiserver requests
//! by verb and resource from its `apiserver_request_total`; writes (PATCH/PUT/APPLY of the
//! run's resource answered 200) split into real ones (a watch event: the object changed)
//! and no-op ones (the rest: a real apiserver does not bump the resourceVersion of a no-op
//! write), and which status fields each real write changed; the time from a snapshot
//! turning available in the simulator to the watch seeing the resource say so (DBSnapshot
//! `status.status: available`, CloudDbJob `Succeeded`); polls (the peer's reconciles, one
//! `DescribeDBSnapshots` each; ours the sum of `status.pollCount`) and CPU per poll, which
//! compares the two at equal cadence when one of them cannot keep it; and the
//! kube-apiserver's and etcd's CPU seconds when `$TESTENV_DIR` names their PID files.
//!
//! `cargo bench --bench scale -- --scenario peer --kubeconfig "$KUBECONFIG" --jobs 1000
//! --interval 30s --duration 120s [--peer-runs ack-1,ack-64,ours] [--ack-bin PATH]`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::{stream, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::api::PostParams;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams};
use kube::Client;
use serde_json::{json, Value};

#[path = "peer_env.rs"]
mod env;

use crate::backend::Backend;
use crate::{create_namespace, operator_binary, percentile, proc_cpu_seconds, proc_hwm_mib, Args};
use clouddb_job_operator::api::CloudDbJob;
use clouddb_job_operator::simulator::auth::KeyPair;
use clouddb_job_operator::simulator::{Scenario, SimConfig, Simulator};
use env::{
    ack_binary, apiserver_totals, control_plane_cpu, free_port, install_dbsnapshot_crd, watch,
};

const KEY_ID: &str = "AKIAPEERBENCH0000001";
const SECRET: &str = "PeerBenchSecretAccessKey/0000000000000001";
const REGION: &str = "us-east-1";
/// Progress a snapshot reports while `creating` (fixed: a poll that sees it changes nothing).
const PROGRESS: u8 = 40;

/// One simulated snapshot: its identifier, instance and when it turns available.
struct Snap {
    id: String,
    instance: String,
    done: Duration,
}

fn plan(args: &Args) -> Vec<Snap> {
    let total = args.duration.as_secs_f64();
    (0..args.jobs)
        .map(|j| {
            // The same deterministic spread as the scale scenario: 30 %..90 % of the duration.
            let frac = ((j as u64).wrapping_mul(2_654_435_761) % 10_000) as f64 / 10_000.0;
            Snap {
                id: format!("bench-snap-{j:06}"),
                instance: format!("bench-db-{:04}", j / args.per_instance),
                done: Duration::from_secs_f64(total * (0.3 + 0.6 * frac)),
            }
        })
        .collect()
}

fn sim_config(snaps: &[Snap]) -> SimConfig {
    let jobs: Vec<Value> = snaps
        .iter()
        .map(|s| {
            json!({
                "provider": "aws", "api": "db-snapshot", "jobId": s.id, "instanceId": s.instance,
                "detail": {"engine": "mysql", "snapshotType": "manual"},
                "timeline": [
                    {"after": "0s", "status": "RUNNING", "progress": PROGRESS},
                    {"after": format!("{}ms", s.done.as_millis()), "status": "SUCCEED"},
                ],
            })
        })
        .collect();
    let mut config = SimConfig::empty();
    config.scenarios =
        vec![
            serde_json::from_value::<Scenario>(json!({"name": "peer", "jobs": jobs}))
                .expect("scenario"),
        ];
    config.credentials.aws = vec![KeyPair {
        id: KEY_ID.into(),
        secret: SECRET.into(),
    }];
    config
}

/// Which controller a run measures.
#[derive(Clone, Copy, Debug)]
enum Controller {
    Ack { workers: u16 },
    Ours,
}

impl Controller {
    fn parse(run: &str) -> Result<Controller, String> {
        match run {
            "ours" => Ok(Controller::Ours),
            _ => run
                .strip_prefix("ack-")
                .and_then(|w| w.parse().ok())
                .filter(|w| *w > 0)
                .map(|workers| Controller::Ack { workers })
                .ok_or_else(|| format!("unknown peer run {run:?} (ack-<workers>, ours)")),
        }
    }

    fn resource(self) -> ApiResource {
        match self {
            Controller::Ours => ApiResource::erase::<CloudDbJob>(&()),
            Controller::Ack { .. } => ApiResource {
                group: "rds.services.k8s.aws".into(),
                version: "v1alpha1".into(),
                api_version: "rds.services.k8s.aws/v1alpha1".into(),
                kind: "DBSnapshot".into(),
                plural: "dbsnapshots".into(),
            },
        }
    }

    /// Whether the object says its snapshot is available.
    fn done(self, o: &DynamicObject) -> bool {
        let status = &o.data["status"];
        match self {
            Controller::Ours => status["phase"] == "Succeeded",
            Controller::Ack { .. } => status["status"] == "available",
        }
    }

    fn object(self, s: &Snap, args: &Args, sim: &str) -> Value {
        match self {
            Controller::Ack { .. } => json!({
                "apiVersion": "rds.services.k8s.aws/v1alpha1", "kind": "DBSnapshot",
                "metadata": {"name": s.id, "annotations": {"services.k8s.aws/read-only": "true"}},
                "spec": {"dbSnapshotIdentifier": s.id, "dbInstanceIdentifier": s.instance},
            }),
            Controller::Ours => json!({
                "apiVersion": "clouddb.io/v1alpha1", "kind": "CloudDbJob",
                "metadata": {"name": s.id},
                "spec": {
                    "provider": "aws", "api": "db-snapshot", "jobId": s.id,
                    "region": REGION, "instanceId": s.instance, "endpoint": sim,
                    "pollInterval": format!("{}ms", args.interval.as_millis()),
                    "credentialsSecretRef": {"name": "aws"},
                },
            }),
        }
    }
}

/// What a run's watch saw: when each object first said done, and its changes.
fn spawn(
    ctl: Controller,
    args: &Args,
    ns: &str,
    sim: &str,
    bin: &Path,
    kubeconfig: &Path,
) -> tokio::process::Child {
    let log = std::env::temp_dir().join(format!("scale-peer-{ns}.log"));
    let log = std::fs::File::create(log).expect("log file");
    let metrics = format!("127.0.0.1:{}", free_port());
    let mut cmd = match ctl {
        Controller::Ack { workers } => {
            let mut cmd = tokio::process::Command::new(bin);
            cmd.args(["--aws-region", REGION, "--aws-endpoint-url", sim])
                .args([
                    "--aws-identity-endpoint-url",
                    sim,
                    "--allow-unsafe-aws-endpoint-urls",
                ])
                .args(["--watch-namespace", ns, "--enable-leader-election=false"])
                .args([
                    "--enable-carm=false",
                    "--enable-field-export-reconciler=false",
                ])
                .args(["--reconcile-resources", "DBSnapshot"])
                .args([
                    "--reconcile-default-max-concurrent-syncs",
                    &workers.to_string(),
                ])
                .args(["--metrics-addr", &metrics])
                .args(["--healthz-addr", &format!("127.0.0.1:{}", free_port())])
                .env("AWS_ACCESS_KEY_ID", KEY_ID)
                .env("AWS_SECRET_ACCESS_KEY", SECRET)
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .env("AWS_CONFIG_FILE", "/dev/null")
                .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
                .env_remove("AWS_CA_BUNDLE")
                .env_remove("AWS_PROFILE");
            cmd
        }
        Controller::Ours => {
            let mut cmd = tokio::process::Command::new(operator_binary());
            cmd.arg("run")
                .args(["--namespace", ns, "--metrics-addr", &metrics])
                .args(["--allowed-endpoints", "127.0.0.1"])
                .args(&args.operator_args);
            cmd
        }
    };
    // Both at their default log level, to a file.
    cmd.env("KUBECONFIG", kubeconfig)
        .env_remove("RUST_LOG")
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .kill_on_drop(true);
    cmd.spawn().expect("spawn controller")
}

struct Report {
    run: String,
    completed: usize,
    all_done: f64,
    latency: (f64, f64, f64),
    cpu: f64,
    rss: f64,
    calls: BTreeMap<String, u64>,
    /// Polls made: the peer's `DescribeDBSnapshots` (one per reconcile), ours the sum of
    /// `status.pollCount` (a batched read answers many polls).
    polls: u64,
    errors: u64,
    writes: u64,
    real_writes: u64,
    requests: BTreeMap<String, u64>,
    /// Real writes by the status fields they changed.
    fields: BTreeMap<String, u64>,
    apiserver_cpu: Option<f64>,
    etcd_cpu: Option<f64>,
}

async fn run_one(
    run: &str,
    args: &Args,
    snaps: &[Snap],
    sim: &Simulator,
    client: &Client,
    bin: &Path,
    kubeconfig: &Path,
) -> Report {
    let ctl = Controller::parse(run).expect("run");
    let stamp = jiff::Timestamp::now().as_second();
    let ns = format!("peer-{run}-{stamp}");
    create_namespace(client, &ns).await;
    let resource = ctl.resource();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource);
    if let Controller::Ours = ctl {
        let secret: Secret = serde_json::from_value(json!({
            "metadata": {"name": "aws"},
            "stringData": {"accessKeyId": KEY_ID, "secretAccessKey": SECRET},
        }))
        .expect("secret");
        Api::<Secret>::namespaced(client.clone(), &ns)
            .create(&PostParams::default(), &secret)
            .await
            .expect("create secret");
    }
    let setup = Instant::now();
    stream::iter(snaps)
        .map(|s| {
            let api = api.clone();
            let obj: DynamicObject =
                serde_json::from_value(ctl.object(s, args, &sim.url())).expect("object");
            async move { api.create(&PostParams::default(), &obj).await.map(|_| ()) }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<()>>()
        .await
        .expect("create objects");
    eprintln!(
        "{run}: {} objects created in {:.1}s in {ns}",
        snaps.len(),
        setup.elapsed().as_secs_f64()
    );
    let (seen, watch_task) = watch(api.clone(), ctl).await;
    let before = apiserver_totals(client).await;
    let (api_cpu0, etcd_cpu0) = control_plane_cpu();
    sim.reset();
    let t0 = Instant::now();
    let mut child = spawn(ctl, args, &ns, &sim.url(), bin, kubeconfig);
    let pid = child.id().expect("pid");
    let deadline = args.duration + args.interval * 4 + Duration::from_secs(60);
    let (mut cpu, mut rss) = (f64::NAN, f64::NAN);
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        cpu = proc_cpu_seconds(pid).unwrap_or(cpu);
        rss = proc_hwm_mib(pid).unwrap_or(rss);
        let done = seen.lock().unwrap_or_else(|e| e.into_inner()).done.len();
        if done >= snaps.len() || t0.elapsed() > deadline {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{run} exited early: {status}; see {}",
                std::env::temp_dir()
                    .join(format!("scale-peer-{ns}.log"))
                    .display()
            );
        }
    }
    let _ = child.kill().await;
    let (api_cpu1, etcd_cpu1) = control_plane_cpu();
    // Let the last writes reach the watch and the metrics before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = apiserver_totals(client).await;
    watch_task.abort();
    let mut requests = BTreeMap::new();
    let mut writes = 0;
    for ((key, code), n) in &after {
        let n = n - before
            .get(&(key.clone(), code.clone()))
            .copied()
            .unwrap_or(0);
        if n == 0 {
            continue;
        }
        *requests.entry(key.clone()).or_default() += n;
        let (verb, res) = key.split_once(' ').unwrap_or_default();
        let ours = res.split('/').next() == Some(resource.plural.as_str());
        if ours && matches!(verb, "PATCH" | "PUT" | "APPLY" | "UPDATE") && code == "200" {
            writes += n;
        }
    }
    let counters = sim.counters();
    let calls: BTreeMap<String, u64> = counters
        .by_api
        .iter()
        .map(|(api, n)| match api.as_str() {
            "db-snapshot" => ("DescribeDBSnapshots".to_string(), *n),
            other => (other.to_string(), *n),
        })
        .collect();
    let errors = counters
        .by_status
        .iter()
        .filter(|(s, _)| s.as_str() != "200")
        .map(|(_, n)| n)
        .sum();
    let (done, real_writes, fields) = {
        let seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        (seen.done.clone(), seen.changes, seen.fields.clone())
    };
    let mut latencies: Vec<f64> = snaps
        .iter()
        .filter_map(|s| {
            Some(done.get(&s.id)?.duration_since(t0).as_secs_f64() - s.done.as_secs_f64())
        })
        .collect();
    latencies.sort_by(|a, b| a.total_cmp(b));
    let all_done = done
        .values()
        .map(|at| at.duration_since(t0).as_secs_f64())
        .fold(f64::NAN, f64::max);
    let polls = match ctl {
        Controller::Ours => api
            .list(&ListParams::default())
            .await
            .map(|l| {
                l.items
                    .iter()
                    .filter_map(|o| o.data["status"]["pollCount"].as_u64())
                    .sum()
            })
            .unwrap_or(0),
        Controller::Ack { .. } => calls.get("DescribeDBSnapshots").copied().unwrap_or(0),
    };
    let report = Report {
        run: run.to_string(),
        completed: latencies.len(),
        all_done,
        latency: (
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.95),
            latencies.last().copied().unwrap_or(f64::NAN),
        ),
        cpu,
        rss,
        calls,
        polls,
        errors,
        writes,
        real_writes,
        requests,
        fields,
        apiserver_cpu: api_cpu0.zip(api_cpu1).map(|(a, b)| b - a),
        etcd_cpu: etcd_cpu0.zip(etcd_cpu1).map(|(a, b)| b - a),
    };
    // Leave the apiserver as the next run found it: the run's objects gone (neither kind
    // has a finalizer here; the namespace stays, as nothing finalizes it).
    let _ = api
        .delete_collection(&DeleteParams::default(), &ListParams::default())
        .await;
    report
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.1}"))
}

fn print(args: &Args, reports: &[Report]) {
    println!(
        "\n{} AWS DB snapshots, {} per instance, creating ({PROGRESS} %) then available within 30-90 % of {:?}; interval {:?}",
        args.jobs, args.per_instance, args.duration, args.interval
    );
    println!("| controller | completed | all seen done s | latency p50/p95/max s | polls | CPU s | CPU ms per 100 polls | peak RSS MiB | RDS calls by action | RDS errors | writes | real writes | no-op writes | kube-apiserver CPU s | etcd CPU s |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in reports {
        let calls: Vec<String> = r.calls.iter().map(|(a, n)| format!("{n} {a}")).collect();
        println!(
            "| {} | {}/{} | {:.1} | {:.1} / {:.1} / {:.1} | {} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {} | {} | {} | {} |",
            r.run, r.completed, args.jobs, r.all_done, r.latency.0, r.latency.1, r.latency.2,
            r.polls, r.cpu, r.cpu * 100_000.0 / r.polls.max(1) as f64, r.rss,
            calls.join(" + "), r.errors, r.writes, r.real_writes, r.writes.saturating_sub(r.real_writes),
            fmt_opt(r.apiserver_cpu), fmt_opt(r.etcd_cpu),
        );
    }
    counts_table(
        "apiserver requests during each run, by verb and resource (all clients; PUT leases is the apiserver's own identity lease)",
        "requests",
        reports,
        |r| &r.requests,
    );
    counts_table(
        "real writes by the status fields they changed (a write counts once under each)",
        "fields",
        reports,
        |r| &r.fields,
    );
}

/// One row of counts (`name count, ...`) per run.
fn counts_table(
    title: &str,
    column: &str,
    reports: &[Report],
    counts: impl Fn(&Report) -> &BTreeMap<String, u64>,
) {
    println!("\n{title}:");
    println!("| controller | {column} |");
    println!("|---|---|");
    for r in reports {
        let cells: Vec<String> = counts(r).iter().map(|(k, n)| format!("{k} {n}")).collect();
        println!("| {} | {} |", r.run, cells.join(", "));
    }
}

pub async fn run(args: &Args) {
    let Some(kubeconfig) = &args.kubeconfig else {
        eprintln!("error: --scenario peer runs on a real kube-apiserver: pass --kubeconfig");
        std::process::exit(2);
    };
    let runs: Vec<Controller> = match args
        .peer_runs
        .iter()
        .map(|r| Controller::parse(r))
        .collect()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let bin = if runs.iter().any(|c| matches!(c, Controller::Ack { .. })) {
        ack_binary(args)
    } else {
        PathBuf::new()
    };
    let snaps = plan(args);
    let sim = Simulator::start(([127, 0, 0, 1], 0).into(), sim_config(&snaps))
        .await
        .expect("simulator");
    let backend = Backend::real(kubeconfig).await;
    let client = backend.client().await;
    if !bin.as_os_str().is_empty() {
        install_dbsnapshot_crd(&client, &bin).await;
    }
    let mut reports = Vec::new();
    for run in &args.peer_runs {
        let r = run_one(run, args, &snaps, &sim, &client, &bin, kubeconfig).await;
        eprintln!(
            "{run}: done {}/{} in {:.1}s, CPU {:.1}s, RSS {:.1} MiB, calls {:?}",
            r.completed,
            snaps.len(),
            r.all_done,
            r.cpu,
            r.rss,
            r.calls
        );
        reports.push(r);
    }
    print(args, &reports);
}
