//! Issue 28, metrics: a real Prometheus (Debian's) scrapes the release's pod through the
//! metrics Service's endpoints, selected the way the chart's ServiceMonitor selects them,
//! and evaluates the chart's alert rules (`files/alerts.yaml`) on what it scraped.
//!
//! Debian builds Prometheus without Kubernetes service discovery, so the test does what the
//! Prometheus Operator does with a ServiceMonitor: the rendered `servicemonitor.yaml` names
//! the namespaces, the Services' labels and the port by name; the Services and their
//! EndpointSlices give the addresses (the pod's, on the node's bridge, reachable from the
//! host); the targets carry the labels the operator gives them (`namespace`, `service`,
//! `pod`, `endpoint`, `job` from `jobLabel`). A ServiceMonitor that names the wrong port, or
//! labels the Service lacks, selects nothing and the test fails.

use std::time::{Duration, Instant};

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::scenario::Phase;
use serde::Deserialize;
use serde_json::{json, Value};

use super::tls::{FrontCert, TlsFront};
use super::{get_json, install_release_with, node_ip, operator_pods, RELEASE_LOCK, SYSTEM_NS};
use crate::cluster::{self, kubectl_sync_ok};
use crate::common::monitoring;
use crate::harness::{Harness, Options};
use crate::manifests::{manifest_for, sim_job};
use crate::monitoring::Prometheus;

/// The chart's ServiceMonitor, rendered as `metrics.serviceMonitor.enabled=true` installs it.
fn service_monitor() -> Value {
    let text = cluster::helm_template(
        SYSTEM_NS,
        &["metrics.serviceMonitor.enabled=true"],
        &["servicemonitor.yaml"],
    );
    let sm = Value::deserialize(serde_norway::Deserializer::from_str(&text))
        .unwrap_or_else(|e| panic!("servicemonitor.yaml: {e}\n{text}"));
    assert_eq!(sm["kind"], "ServiceMonitor", "{sm}");
    sm
}

/// The targets the ServiceMonitor selects (its first endpoint), in Prometheus's file
/// service-discovery format: for every Service in `namespaceSelector.matchNames` whose labels
/// match `selector.matchLabels`, every ready address of its EndpointSlices with the port named
/// by `endpoints[0].port`.
fn selected_targets(kubeconfig: &std::path::Path, sm: &Value) -> Vec<Value> {
    let spec = &sm["spec"];
    let selector: Vec<String> = spec["selector"]["matchLabels"]
        .as_object()
        .unwrap_or_else(|| panic!("no selector.matchLabels: {sm}"))
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    let port_name = spec["endpoints"][0]["port"]
        .as_str()
        .expect("endpoint port");
    let job_label = spec["jobLabel"].as_str().unwrap_or_default();
    let mut groups = Vec::new();
    for ns in spec["namespaceSelector"]["matchNames"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let services = get_json(
            kubeconfig,
            &["services", "-n", ns, "-l", &selector.join(",")],
        );
        for service in services["items"].as_array().into_iter().flatten() {
            let name = service["metadata"]["name"].as_str().unwrap_or_default();
            let job = service["metadata"]["labels"][job_label]
                .as_str()
                .unwrap_or(name);
            let by_service = format!("kubernetes.io/service-name={name}");
            let slices = get_json(kubeconfig, &["endpointslices", "-n", ns, "-l", &by_service]);
            for slice in slices["items"].as_array().into_iter().flatten() {
                let Some(port) = slice["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|p| p["name"] == port_name)
                    .and_then(|p| p["port"].as_u64())
                else {
                    continue;
                };
                for endpoint in slice["endpoints"].as_array().into_iter().flatten() {
                    if endpoint["conditions"]["ready"] != true {
                        continue;
                    }
                    let pod = endpoint["targetRef"]["name"].as_str().unwrap_or_default();
                    for address in endpoint["addresses"].as_array().into_iter().flatten() {
                        let address = address.as_str().unwrap_or_default();
                        groups.push(json!({
                            "targets": [format!("{address}:{port}")],
                            "labels": {
                                "job": job,
                                "namespace": ns,
                                "service": name,
                                "pod": pod,
                                "endpoint": port_name,
                            },
                        }));
                    }
                }
            }
        }
    }
    groups
}

/// The first sample's value of an instant query (NaN when there is none).
async fn value(prometheus: &Prometheus, expr: &str) -> f64 {
    prometheus
        .query(expr)
        .await
        .ok()
        .and_then(|r| r.first().map(|s| s["value"][1].clone()))
        .and_then(|v| v.as_str().and_then(|v| v.parse().ok()))
        .unwrap_or(f64::NAN)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_pod_as_the_service_monitor_selects_it() {
    let started = Instant::now();
    // The release slot first: the harness below applies the CRD, which no install may race.
    let slot = RELEASE_LOCK.lock().await;
    let ip = node_ip();
    let cert = FrontCert::generate(ip);
    // Three jobs that run for an hour, one that fails, one stalled on a missing Secret.
    let long = [(0, Phase::Running, Some(10)), (3600, Phase::Succeed, None)];
    let failing = [(0, Phase::Running, Some(10)), (2, Phase::Failed, None)];
    let mut jobs: Vec<_> = (1..=3)
        .map(|i| {
            let id = format!("28100{i}");
            (
                format!("running-{i}"),
                sim_job(ProviderKind::Tencent, "DescribeTasks", &id, &long),
            )
        })
        .collect();
    jobs.push((
        "failing".into(),
        sim_job(ProviderKind::Tencent, "DescribeTasks", "281004", &failing),
    ));
    jobs.push((
        "stalled".into(),
        sim_job(ProviderKind::Tencent, "DescribeTasks", "281005", &long),
    ));
    let h = Harness::start_without_operator(
        "node-metrics",
        Options {
            speed: 1.0,
            builtins: false,
            jobs: jobs.iter().map(|(_, j)| j.clone()).collect(),
            chart_identity: false,
            ..Options::default()
        },
    )
    .await;
    let front = TlsFront::start(&cert, ip, h.sim.addr()).await;
    // The release watches this test's namespace only, so its gauges count exactly these jobs
    // (earlier tests' jobs stay in theirs).
    let watch = format!("watchNamespace={}", h.ns);
    let installed = install_release_with(slot, cert, &["--set", &watch]).await;
    for (name, job) in &jobs {
        let mut manifest = manifest_for(job, name, &front.url);
        if name == "stalled" {
            manifest.secret = None;
        }
        h.apply(name, &manifest.yaml()).await;
    }
    for i in 1..=3 {
        h.eventually("the job runs", 60, |h| {
            h.status(&format!("running-{i}"))["phase"] == "Running"
        })
        .await;
    }
    h.wait_for("failing", "Failed", 60).await;
    h.wait_for("stalled", "Stalled", 60).await;

    // The ServiceMonitor selects exactly the release's pod, on its metrics port.
    let sm = service_monitor();
    let pods = operator_pods(&installed.kc);
    assert_eq!(pods.len(), 1, "{pods:?}");
    let pod = pods[0]["metadata"]["name"].as_str().unwrap_or_default();
    let pod_ip = pods[0]["status"]["podIP"].as_str().unwrap_or_default();
    let targets = selected_targets(&installed.kc, &sm);
    assert_eq!(
        targets.len(),
        1,
        "the ServiceMonitor selects {targets:?}\n{sm:#}\nServices: {}",
        kubectl_sync_ok(
            &installed.kc,
            &["get", "svc,endpointslices", "-n", SYSTEM_NS]
        )
    );
    assert_eq!(targets[0]["labels"]["pod"], pod, "{targets:?}");
    assert!(
        targets[0]["targets"][0]
            .as_str()
            .is_some_and(|t| t.starts_with(&format!("{pod_ip}:"))),
        "{targets:?}"
    );
    let dir = h.dir.0.join("prometheus");
    std::fs::create_dir_all(&dir).expect("prometheus dir");
    let sd = dir.join("targets.json");
    std::fs::write(&sd, Value::from(targets.clone()).to_string()).expect("targets.json");
    // The ServiceMonitor's path and scheme; every second instead of its 30 s interval.
    let endpoint = &sm["spec"]["endpoints"][0];
    let scrape = format!(
        "  - job_name: serviceMonitor/{SYSTEM_NS}/{}/0\n    metrics_path: {}\n    scheme: {}\n    \
         honor_labels: {}\n    file_sd_configs:\n      - files: ['{}']\n",
        sm["metadata"]["name"].as_str().unwrap_or_default(),
        endpoint["path"].as_str().unwrap_or("/metrics"),
        endpoint["scheme"].as_str().unwrap_or("http"),
        endpoint["honorLabels"].as_bool().unwrap_or(false),
        sd.display()
    );
    let prometheus = Prometheus::start_with(&dir, &scrape).await;

    // The scrape works and the series say what the cluster says: three jobs running, one
    // stalled (Pending), this pod leading.
    let job = targets[0]["labels"]["job"].as_str().unwrap_or_default();
    let sel = format!("namespace=\"{SYSTEM_NS}\",job=\"{job}\",pod=\"{pod}\"");
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut up, mut running, mut tracked, mut leader);
    loop {
        up = value(&prometheus, &format!("up{{{sel}}}")).await;
        running = value(
            &prometheus,
            &format!("sum(clouddb_job_operator_jobs{{{sel},phase=\"Running\"}})"),
        )
        .await;
        tracked = value(
            &prometheus,
            &format!("sum(clouddb_job_operator_jobs{{{sel}}})"),
        )
        .await;
        leader = value(
            &prometheus,
            &format!("clouddb_job_operator_leader{{{sel}}}"),
        )
        .await;
        let done = up == 1.0 && running == 3.0 && tracked == 4.0 && leader == 1.0;
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let targets_seen = prometheus.api("targets").await;
    assert_eq!(
        (up, running, tracked, leader),
        (1.0, 3.0, 4.0, 1.0),
        "up, Running jobs, tracked jobs, leader\ntargets: {targets_seen:?}\nlog:\n{}",
        prometheus.log()
    );
    let samples = value(&prometheus, &format!("scrape_samples_scraped{{{sel}}}")).await;
    let took = value(&prometheus, &format!("scrape_duration_seconds{{{sel}}}")).await;

    // The alert rules load and evaluate cleanly on these series; the failure fires, the stall
    // waits its 10 minutes, the rest stay quiet; every alert names where the operator runs.
    let rules = monitoring::alert_rules();
    let evaluated = prometheus.evaluated_rules(rules.len()).await;
    assert_eq!(evaluated.len(), rules.len(), "{evaluated:#?}");
    for rule in &evaluated {
        assert_eq!(rule["health"], "ok", "{rule:#}");
        assert_eq!(rule["lastError"].as_str().unwrap_or(""), "", "{rule:#}");
    }
    let expected = [
        ("CloudDbJobFailed", "JobFailed", "firing"),
        ("CloudDbJobStalled", "SecretNotFound", "pending"),
    ];
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut alerts;
    loop {
        alerts = prometheus.alerts().await;
        let mut seen: Vec<(String, String, String)> = alerts
            .iter()
            .filter(|a| a["labels"]["namespace"] == SYSTEM_NS && a["labels"]["job"] == job)
            .map(|a| {
                let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
                (
                    text(&a["labels"]["alertname"]),
                    text(&a["labels"]["reason"]),
                    text(&a["state"]),
                )
            })
            .collect();
        seen.sort();
        let want: Vec<(String, String, String)> = expected
            .iter()
            .map(|(a, r, s)| (a.to_string(), r.to_string(), s.to_string()))
            .collect();
        if seen == want || Instant::now() > deadline {
            assert_eq!(seen, want, "{alerts:#?}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "metrics: Prometheus scraped {pod} at {} ({samples} samples, {:.1} ms); jobs \
         Running {running}, tracked {tracked}, leader {leader}; {} rules evaluated; alerts: \
         CloudDbJobFailed firing, CloudDbJobStalled pending; {:?} in all",
        targets[0]["targets"][0],
        took * 1000.0,
        evaluated.len(),
        started.elapsed()
    );

    // No running job left for the next release to poll.
    h.kubectl_ok(&["delete", "cdbjob", "--all", "--wait"]).await;
    drop(prometheus);
    drop(front);
    drop(h);
    drop(installed);
}
