//! The monitoring the chart ships: the alert rules (`files/alerts.yaml`) pass `promtool
//! check rules` and `promtool test rules` (every alert fires and stays silent on the cases
//! of `alerts_test.yaml`); the Grafana dashboard (`files/dashboard.json`) is well formed;
//! both read only metrics the operator exports; the chart renders each file unchanged,
//! and neither by default.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use clouddb_job_operator::controller::memory::JobMemory;
use clouddb_job_operator::controller::metrics::{
    prometheus_text, ApiLabels, CallLabels, EventLabels, Metrics, ResultLabels,
};
use serde_json::{json, Value};

use crate::common::{self, monitoring};

/// `{{ $labels.name }}` in an annotation, replaced by the alert's label (as Prometheus's
/// template does); panics on any other template, so annotations stay this simple.
fn expand(template: &str, labels: &serde_json::Map<String, Value>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .unwrap_or_else(|| panic!("unclosed template in {template}"))
            + start;
        let inner = rest[start + 2..end].trim();
        let name = inner
            .strip_prefix("$labels.")
            .unwrap_or_else(|| panic!("only {{{{ $labels.x }}}} is expected, found {inner}"));
        let value = labels[name]
            .as_str()
            .unwrap_or_else(|| panic!("the test case gives no label {name} for {template}"));
        out.push_str(value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

#[test]
fn alert_rules_pass_promtool_check_and_their_tests() {
    let promtool = common::find_tool("PROMTOOL", "promtool");
    let alerts = monitoring::alerts_path();
    let out = Command::new(&promtool)
        .args(["check", "rules"])
        .arg(&alerts)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool check rules: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let rules = monitoring::alert_rules();
    let annotations: BTreeMap<String, serde_json::Map<String, Value>> = rules
        .iter()
        .map(|r| {
            let name = r["alert"].as_str().expect("alert name").to_string();
            let annotations = r["annotations"].as_object().cloned().unwrap_or_default();
            assert!(
                annotations.contains_key("summary") && annotations.contains_key("description"),
                "{name}: summary and a runbook description"
            );
            (name, annotations)
        })
        .collect();

    // The cases, pointed at the chart's file and completed with the rules' annotations.
    let cases_path = common::repo_root().join("tests/packaging/alerts_test.yaml");
    let mut cases = common::read_yaml_stream(&cases_path).remove(0);
    cases["rule_files"] = json!([alerts.to_str().unwrap()]);
    let mut fired = BTreeSet::new();
    let mut silent = BTreeSet::new();
    for group in cases["tests"].as_array_mut().unwrap() {
        for case in group["alert_rule_test"].as_array_mut().unwrap() {
            let name = case["alertname"].as_str().unwrap().to_string();
            let rule = annotations
                .get(&name)
                .unwrap_or_else(|| panic!("a case for an unknown alert {name}"));
            let expected = case["exp_alerts"].as_array_mut().unwrap();
            if expected.is_empty() {
                silent.insert(name.clone());
            } else {
                fired.insert(name.clone());
            }
            for alert in expected {
                let labels = alert["exp_labels"].as_object().cloned().unwrap_or_default();
                let filled: serde_json::Map<String, Value> = rule
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(expand(v.as_str().unwrap(), &labels))))
                    .collect();
                alert["exp_annotations"] = Value::Object(filled);
            }
        }
    }
    for name in annotations.keys() {
        assert!(fired.contains(name), "{name}: no case where it fires");
        assert!(
            silent.contains(name),
            "{name}: no case where it stays silent"
        );
    }
    let dir = std::env::temp_dir().join(format!("clouddb-alerts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("alerts_test.yaml");
    std::fs::write(&file, serde_norway::to_string(&cases).unwrap()).unwrap();
    let out = Command::new(&promtool)
        .args(["test", "rules"])
        .arg(&file)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool test rules:\n{text}");
    assert!(text.contains("SUCCESS"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The metric names the operator's exposition defines (counters with `_total`,
/// histograms with `_bucket`, `_sum` and `_count`), with a sample in every family.
fn exported_metric_names() -> BTreeSet<String> {
    let m = Metrics::new();
    let api = ApiLabels {
        provider: "tencent",
        api: "DescribeTasks",
    };
    m.provider_calls
        .get_or_create(&CallLabels {
            provider: api.provider,
            api: api.api,
            outcome: "ok",
        })
        .inc();
    m.reconciles
        .get_or_create(&ResultLabels { result: "ok" })
        .inc();
    m.provider_latency.get_or_create(&api).observe(0.1);
    m.provider_throttled.get_or_create(&api).inc();
    m.events
        .get_or_create(&EventLabels {
            reason: "Running".into(),
        })
        .inc();
    let memory = std::sync::Arc::new(JobMemory::default());
    memory.record("u", Some(1), 1, None, None);
    memory.set_stall_reason("u", Some("SecretNotFound".into()));
    let text = prometheus_text(&m.render(Some(&memory)));
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let (name, kind) = rest.split_once(' ').unwrap();
        match kind {
            "histogram" => {
                for suffix in ["_bucket", "_sum", "_count"] {
                    names.insert(format!("{name}{suffix}"));
                }
            }
            _ => {
                names.insert(name.to_string());
            }
        }
    }
    assert!(names.len() > 10, "{text}");
    names
}

#[test]
fn alerts_and_dashboard_read_only_metrics_the_operator_exports() {
    let exported = exported_metric_names();
    let mut used = BTreeSet::new();
    for rule in monitoring::alert_rules() {
        let expr = rule["expr"].as_str().unwrap();
        for name in monitoring::metric_names(expr) {
            assert!(
                exported.contains(&name),
                "alert {}: {name} is not exported ({exported:?})",
                rule["alert"]
            );
            used.insert(name);
        }
    }
    for (title, expr) in monitoring::dashboard_queries() {
        for name in monitoring::metric_names(&expr) {
            assert!(
                exported.contains(&name),
                "panel {title:?}: {name} is not exported ({exported:?})"
            );
            used.insert(name);
        }
    }
    // What the issue asks the dashboard and alerts to cover.
    for wanted in [
        "clouddb_job_operator_jobs",
        "clouddb_job_operator_jobs_stalled",
        "clouddb_job_operator_jobs_finished_total",
        "clouddb_job_operator_provider_calls_total",
        "clouddb_job_operator_provider_call_duration_seconds_bucket",
        "clouddb_job_operator_provider_throttled_total",
        "clouddb_job_operator_status_writes_total",
        "clouddb_job_operator_reconcile_duration_seconds_bucket",
        "clouddb_job_operator_rate_limited_polls_total",
        "clouddb_job_operator_leader",
        "clouddb_job_operator_last_reconcile_success_timestamp_seconds",
    ] {
        assert!(used.contains(wanted), "nothing reads {wanted}");
    }
}

#[test]
fn the_dashboard_is_a_well_formed_grafana_dashboard() {
    let dashboard = monitoring::dashboard();
    assert_eq!(dashboard["uid"], "clouddb-job-operator");
    assert!(dashboard["title"].is_string());
    assert!(dashboard["schemaVersion"].as_u64().unwrap() >= 36);
    let variables: BTreeMap<String, Value> = dashboard["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap().to_string(), v.clone()))
        .collect();
    assert_eq!(variables["datasource"]["type"], "datasource");
    assert_eq!(variables["datasource"]["query"], "prometheus");
    assert_eq!(
        variables["namespace"]["allValue"], ".*",
        "All matches series without a namespace label too"
    );
    let builtins = ["__rate_interval", "__interval", "__range"];

    let panels = monitoring::panels(&dashboard);
    let mut ids = BTreeSet::new();
    let mut cells: BTreeMap<(u64, u64), String> = BTreeMap::new();
    for panel in &panels {
        let title = panel["title"].as_str().unwrap().to_string();
        assert!(
            ids.insert(panel["id"].as_u64().unwrap()),
            "{title}: id reused"
        );
        let grid = &panel["gridPos"];
        let [x, y, w, h] = ["x", "y", "w", "h"].map(|k| grid[k].as_u64().unwrap());
        assert!(w > 0 && h > 0 && x + w <= 24, "{title}: gridPos {grid}");
        // No two panels cover the same grid cell.
        for cx in x..x + w {
            for cy in y..y + h {
                if let Some(other) = cells.insert((cx, cy), title.clone()) {
                    panic!("{title} overlaps {other} at ({cx}, {cy})");
                }
            }
        }
        if panel["type"] == "row" {
            continue;
        }
        assert_eq!(
            panel["datasource"],
            json!({"type": "prometheus", "uid": "${datasource}"}),
            "{title}"
        );
        assert!(panel["description"].is_string(), "{title}: a description");
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title}: no query");
        let mut refs = BTreeSet::new();
        for target in targets {
            assert!(refs.insert(target["refId"].as_str().unwrap()), "{title}");
            let expr = target["expr"].as_str().unwrap();
            assert!(
                !monitoring::metric_names(expr).is_empty(),
                "{title}: {expr}"
            );
            for var in monitoring::variables(expr) {
                assert!(
                    variables.contains_key(&var) || builtins.contains(&var.as_str()),
                    "{title}: unknown variable ${var} in {expr}"
                );
            }
        }
    }
}

#[test]
fn query_helpers_find_variables_and_metrics() {
    let expr = r#"sum(rate(clouddb_job_operator_x_total{namespace=~"$namespace"}[${__rate_interval}])) / clouddb_job_operator_y"#;
    assert_eq!(
        monitoring::variables(expr),
        ["__rate_interval", "namespace"].map(String::from).into()
    );
    assert_eq!(
        monitoring::substitute(expr, &[("namespace", ".*"), ("__rate_interval", "1m")]),
        r#"sum(rate(clouddb_job_operator_x_total{namespace=~".*"}[1m])) / clouddb_job_operator_y"#
    );
    assert_eq!(
        monitoring::metric_names(expr),
        ["clouddb_job_operator_x_total", "clouddb_job_operator_y"]
            .map(String::from)
            .into()
    );
}

/// `helm template` (the real helm) with `--set` values.
fn render(sets: &[&str]) -> Vec<Value> {
    let helm = common::required_tool("HELM", "helm");
    let chart = common::repo_root().join("charts/clouddb-job-operator");
    let mut cmd = Command::new(helm);
    cmd.args(["template", "rel"])
        .arg(&chart)
        .args(["--namespace", "ops"])
        .env("KUBECONFIG", "/dev/null")
        .env(
            "HELM_CONFIG_HOME",
            std::env::temp_dir().join("clouddb-helm-config"),
        )
        .env(
            "HELM_CACHE_HOME",
            std::env::temp_dir().join("clouddb-helm-cache"),
        )
        .env(
            "HELM_DATA_HOME",
            std::env::temp_dir().join("clouddb-helm-data"),
        );
    for set in sets {
        cmd.args(["--set", set]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "helm template {sets:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::parse_yaml_stream(&String::from_utf8(out.stdout).unwrap())
}

#[test]
fn the_chart_renders_the_rules_and_the_dashboard_unchanged_and_neither_by_default() {
    let default = render(&[]);
    assert!(default.iter().all(|d| d["kind"] != "PrometheusRule"));
    assert!(
        default.iter().all(|d| d["kind"] != "ConfigMap"),
        "no dashboard ConfigMap by default"
    );

    let docs = render(&[
        "prometheusRule.enabled=true",
        "prometheusRule.labels.release=kube-prometheus-stack",
        "grafanaDashboard.enabled=true",
        "grafanaDashboard.namespace=monitoring",
        "grafanaDashboard.annotations.grafana_folder=Databases",
    ]);
    let rule = docs
        .iter()
        .find(|d| d["kind"] == "PrometheusRule")
        .expect("a PrometheusRule");
    assert_eq!(rule["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(rule["metadata"]["namespace"], "ops");
    assert_eq!(
        rule["metadata"]["labels"]["release"],
        "kube-prometheus-stack"
    );
    assert_eq!(
        rule["spec"],
        monitoring::alerts(),
        "spec is alerts.yaml as is"
    );

    let map = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap")
        .expect("a dashboard ConfigMap");
    assert_eq!(
        map["metadata"]["name"],
        "rel-clouddb-job-operator-dashboard"
    );
    assert_eq!(map["metadata"]["namespace"], "monitoring");
    assert_eq!(map["metadata"]["labels"]["grafana_dashboard"], "1");
    assert_eq!(
        map["metadata"]["annotations"]["grafana_folder"],
        "Databases"
    );
    let json: Value =
        serde_json::from_str(map["data"]["clouddb-job-operator.json"].as_str().unwrap()).unwrap();
    assert_eq!(
        json,
        monitoring::dashboard(),
        "the data is dashboard.json as is"
    );

    // Another sidecar label; the chart still lints strictly with both on.
    let docs = render(&[
        "grafanaDashboard.enabled=true",
        "grafanaDashboard.sidecarLabel=dashboards.example.com/grafana",
        "grafanaDashboard.sidecarLabelValue=yes",
    ]);
    let map = docs.iter().find(|d| d["kind"] == "ConfigMap").unwrap();
    assert_eq!(
        map["metadata"]["labels"]["dashboards.example.com/grafana"],
        "yes"
    );
    assert!(map["metadata"]["labels"].get("grafana_dashboard").is_none());
    let helm = common::required_tool("HELM", "helm");
    let out = Command::new(helm)
        .args(["lint", "--strict"])
        .arg(common::repo_root().join("charts/clouddb-job-operator"))
        .args(["--set", "prometheusRule.enabled=true"])
        .args(["--set", "grafanaDashboard.enabled=true"])
        .env("KUBECONFIG", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "helm lint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
