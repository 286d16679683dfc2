//! Issue 17: the dashboard and the alerts the chart ships, against reality. A real Prometheus
//! (`/usr/bin/prometheus`) scrapes the operator every second while jobs run that succeed,
//! fail, stall on a missing Secret, hit provider 5xx and throttling; every panel query of
//! `files/dashboard.json` must return data through Prometheus's HTTP API, and the rules of
//! `files/alerts.yaml`, loaded as Prometheus loads them, must evaluate cleanly on the real
//! series (the failure fires, the stall is pending, the leader is there).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::faults::RequestRange;
use clouddb_job_operator::simulator::scenario::Phase;
use clouddb_job_operator::simulator::{FaultKind, FaultRule, JobSpec};
use serde_json::Value;

use super::common::{self, monitoring};
use super::harness::{free_port, http_get, tail, Harness, Options};
use super::manifests::{manifest_for, sim_job};

/// Values for Grafana's variables: every namespace, and a rate window of many 1 s scrapes.
const VARIABLES: &[(&str, &str)] = &[
    ("namespace", ".*"),
    ("__rate_interval", "1m"),
    ("__interval", "5s"),
    ("__range", "5m"),
];

/// A Prometheus server scraping every second and evaluating the chart's alert rules, killed
/// on drop. Also used by the node's test (`node::metrics`), which scrapes the operator's pod.
pub(super) struct Prometheus {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Prometheus {
    /// Scrapes one target on loopback.
    async fn start(dir: &std::path::Path, target_port: u16) -> Prometheus {
        let scrape = format!(
            "  - job_name: clouddb-job-operator\n    static_configs:\n      \
             - targets: ['127.0.0.1:{target_port}']\n"
        );
        Prometheus::start_with(dir, &scrape).await
    }

    /// Runs with `scrape_configs` (YAML list items, indented two spaces) and the chart's
    /// rule file; returns once Prometheus is ready.
    pub(super) async fn start_with(dir: &std::path::Path, scrape_configs: &str) -> Prometheus {
        let binary = common::find_tool("PROMETHEUS", "prometheus");
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 rule_files:\n  - {}\n\
                 scrape_configs:\n{scrape_configs}",
                monitoring::alerts_path().display()
            ),
        )
        .unwrap();
        let port = free_port();
        let log = dir.join("prometheus.log");
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut prometheus = Prometheus { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !matches!(http_get(port, "/-/ready").await, Ok((200, _))) {
            assert!(
                matches!(prometheus.child.try_wait(), Ok(None)),
                "prometheus exited: {}",
                prometheus.log()
            );
            assert!(
                Instant::now() < deadline,
                "prometheus not ready in 30 s: {}",
                prometheus.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        prometheus
    }

    pub(super) fn log(&self) -> String {
        tail(&std::fs::read_to_string(&self.log).unwrap_or_default(), 30)
    }

    /// `GET /api/v1/<path>`: the `data` of a successful answer, or the error.
    pub(super) async fn api(&self, path: &str) -> Result<Value, String> {
        let (code, body) = http_get(self.port, &format!("/api/v1/{path}"))
            .await
            .map_err(|e| e.to_string())?;
        let answer: Value = serde_json::from_str(&body)
            .map_err(|e| format!("HTTP {code}, not JSON ({e}): {body}"))?;
        if code != 200 || answer["status"] != "success" {
            return Err(format!("HTTP {code}: {answer}"));
        }
        Ok(answer["data"].clone())
    }

    /// An instant query's result vector (scalars as one element).
    pub(super) async fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let encoded: String = url::form_urlencoded::byte_serialize(expr.as_bytes()).collect();
        let data = self.api(&format!("query?query={encoded}")).await?;
        Ok(match data["resultType"].as_str() {
            Some("vector" | "matrix") => data["result"].as_array().cloned().unwrap_or_default(),
            _ => vec![data["result"].clone()],
        })
    }
}

impl Prometheus {
    /// The loaded rules, once `count` of them have been evaluated at least once (or after
    /// 30 s, whatever they are then).
    pub(super) async fn evaluated_rules(&self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let groups = self.api("rules").await.unwrap_or_default()["groups"].clone();
            let loaded: Vec<Value> = groups
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
                .collect();
            let done = loaded.len() == count
                && loaded.iter().all(|r| {
                    r["lastEvaluation"]
                        .as_str()
                        .is_some_and(|t| !t.starts_with("0001"))
                });
            if done || Instant::now() > deadline {
                return loaded;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Active alerts (`/api/v1/alerts`).
    pub(super) async fn alerts(&self) -> Vec<Value> {
        self.api("alerts").await.unwrap_or_default()["alerts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fault on the job's 2nd and 3rd requests.
fn twice(mut job: JobSpec, fault: FaultKind) -> JobSpec {
    job.faults.push(FaultRule {
        requests: Some(RequestRange::Text("2-3".into())),
        ..FaultRule::always(fault)
    });
    job
}

fn steps(last: Phase) -> [(u64, Phase, Option<u8>); 3] {
    [
        (0, Phase::Running, Some(10)),
        (40, Phase::Running, Some(50)),
        (80, last, None),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_query_and_alert_rule_works_on_a_real_prometheus() {
    let mut h = Harness::start("monitoring", Options::default()).await;
    let url = h.sim.url();
    let metrics_port = h.operator.as_ref().expect("operator").metrics_port;
    let prometheus = Prometheus::start(&h.dir.0, metrics_port).await;

    // Jobs that succeed, fail, recover from 5xx and throttling, and one stalled for good.
    let jobs = [
        (
            "steady",
            sim_job(
                ProviderKind::Tencent,
                "DescribeTasks",
                "171001",
                &steps(Phase::Succeed),
            ),
        ),
        (
            "failing",
            sim_job(
                ProviderKind::Tencent,
                "DescribeTasks",
                "171002",
                &steps(Phase::Failed),
            ),
        ),
        (
            "flaky",
            twice(
                sim_job(
                    ProviderKind::Huawei,
                    "rds",
                    "17100000-0000-4000-8000-000000000003",
                    &steps(Phase::Succeed),
                ),
                FaultKind::Status,
            ),
        ),
        (
            "throttled",
            twice(
                sim_job(
                    ProviderKind::Tencent,
                    "DescribeTasks",
                    "171004",
                    &steps(Phase::Succeed),
                ),
                FaultKind::Throttle,
            ),
        ),
        (
            "stalled",
            sim_job(
                ProviderKind::Tencent,
                "DescribeTasks",
                "171005",
                &steps(Phase::Succeed),
            ),
        ),
    ];
    for (name, job) in &jobs {
        h.sim.add_job(job.clone()).unwrap();
        let mut manifest = manifest_for(job, name, &url);
        if *name == "stalled" {
            // No Secret: the job stalls on SecretNotFound.
            manifest.secret = None;
        }
        h.apply(name, &manifest.yaml()).await;
    }
    for name in ["steady", "flaky", "throttled"] {
        h.wait_for(name, "Complete", 60).await;
    }
    h.wait_for("failing", "Failed", 60).await;
    h.wait_for("stalled", "Stalled", 60).await;
    let counters = h.sim.counters();
    for fault in ["status", "throttle"] {
        assert!(
            counters.by_fault.keys().any(|k| k.starts_with(fault)),
            "the simulator injected {fault}: {:?}",
            counters.by_fault
        );
    }

    // Every panel query returns data once Prometheus has scraped what happened.
    let queries: Vec<(String, String)> = monitoring::dashboard_queries()
        .into_iter()
        .map(|(title, expr)| (title, monitoring::substitute(&expr, VARIABLES)))
        .collect();
    assert!(queries.len() >= 15, "{queries:?}");
    let mut pending: BTreeMap<usize, String> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        pending.clear();
        for (i, (title, expr)) in queries.iter().enumerate() {
            match prometheus.query(expr).await {
                Ok(result) if !result.is_empty() => {}
                Ok(_) => {
                    pending.insert(i, format!("{title}: no data for {expr}"));
                }
                Err(e) => {
                    pending.insert(i, format!("{title}: {expr} failed: {e}"));
                }
            }
        }
        if pending.is_empty() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(
        pending.is_empty(),
        "dashboard queries without data after 60 s:\n{}\ntargets: {:?}\nprometheus log:\n{}",
        pending.values().cloned().collect::<Vec<_>>().join("\n"),
        prometheus.api("targets").await,
        prometheus.log()
    );

    // The alert rules: every metric they read has real series, every expression runs.
    let rules = monitoring::alert_rules();
    for rule in &rules {
        let expr = rule["expr"].as_str().unwrap();
        for metric in monitoring::metric_names(expr) {
            let series = prometheus.query(&format!("count({metric})")).await.unwrap();
            assert!(
                !series.is_empty(),
                "{}: no series of {metric}",
                rule["alert"]
            );
        }
        if let Err(e) = prometheus.query(expr).await {
            panic!("{}: {e}", rule["alert"]);
        }
    }
    // Prometheus loaded the file as is and evaluates every rule without error.
    let evaluated = prometheus.evaluated_rules(rules.len()).await;
    assert_eq!(evaluated.len(), rules.len(), "{evaluated:#?}");
    for rule in &evaluated {
        assert_eq!(rule["health"], "ok", "{rule:#}");
        assert_eq!(rule["lastError"].as_str().unwrap_or(""), "", "{rule:#}");
    }

    // On these series: the failure fires at once, the stall waits its 10 minutes, a leader
    // is there. Read once the failure series has two scrapes behind it.
    let deadline = Instant::now() + Duration::from_secs(30);
    let alerts = loop {
        let alerts = prometheus.alerts().await;
        let firing = |name: &str, reason: &str, state: &str| {
            alerts.iter().any(|a| {
                a["labels"]["alertname"] == name
                    && a["labels"]["reason"] == reason
                    && a["state"] == state
            })
        };
        let expected = firing("CloudDbJobFailed", "JobFailed", "firing")
            && firing("CloudDbJobStalled", "SecretNotFound", "pending");
        if expected || Instant::now() > deadline {
            break alerts;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let state = |name: &str| -> Vec<(String, String)> {
        alerts
            .iter()
            .filter(|a| a["labels"]["alertname"] == name)
            .map(|a| {
                (
                    a["labels"]["reason"].as_str().unwrap_or("").to_string(),
                    a["state"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    assert_eq!(
        state("CloudDbJobFailed"),
        [("JobFailed".to_string(), "firing".to_string())],
        "{alerts:#?}"
    );
    assert_eq!(
        state("CloudDbJobStalled"),
        [("SecretNotFound".to_string(), "pending".to_string())],
        "{alerts:#?}"
    );
    for quiet in [
        "CloudDbJobOperatorNoLeader",
        "CloudDbJobOperatorNotReconciling",
        "CloudDbJobOperatorWatchFailing",
    ] {
        assert!(state(quiet).is_empty(), "{quiet}: {alerts:#?}");
    }
    h.assert_operator_alive();
}
