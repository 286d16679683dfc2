//! The monitoring the chart ships, read from its single sources: the alert rules
//! (`files/alerts.yaml`) and the Grafana dashboard (`files/dashboard.json`). Shared by the
//! packaging tests (promtool, structure) and the end-to-end test (a real Prometheus).

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

pub fn alerts_path() -> PathBuf {
    super::repo_root().join("charts/clouddb-job-operator/files/alerts.yaml")
}

pub fn dashboard_path() -> PathBuf {
    super::repo_root().join("charts/clouddb-job-operator/files/dashboard.json")
}

/// The rule file as JSON.
pub fn alerts() -> Value {
    let mut docs = super::read_yaml_stream(&alerts_path());
    assert_eq!(docs.len(), 1, "alerts.yaml is one document");
    docs.remove(0)
}

/// Every alerting rule (`alert`, `expr`, `for`, `labels`, `annotations`).
pub fn alert_rules() -> Vec<Value> {
    alerts()["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules").clone())
        .collect()
}

pub fn dashboard() -> Value {
    let text = std::fs::read_to_string(dashboard_path()).expect("dashboard.json");
    serde_json::from_str(&text).expect("dashboard.json is JSON")
}

/// Every panel (rows' nested panels included).
pub fn panels(dashboard: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        out.push(panel.clone());
        out.extend(panel["panels"].as_array().cloned().unwrap_or_default());
    }
    out
}

/// `(panel title, expr)` of every query of every panel.
pub fn dashboard_queries() -> Vec<(String, String)> {
    panels(&dashboard())
        .iter()
        .flat_map(|p| {
            let title = p["title"].as_str().unwrap_or("?").to_string();
            p["targets"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |t| (title.clone(), t["expr"].as_str().unwrap_or("").to_string()))
        })
        .collect()
}

/// The Grafana variables a query uses (`$name` or `${name}`).
pub fn variables(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = expr;
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        let name: String = rest
            .trim_start_matches('{')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        out.insert(name);
    }
    out
}

/// A query with Grafana's variables replaced by `values` (`name` → text); panics on a
/// variable without a value.
pub fn substitute(expr: &str, values: &[(&str, &str)]) -> String {
    let mut out = expr.to_string();
    // Longest names first: `$__rate_interval` before a hypothetical `$__rate`.
    let mut sorted = values.to_vec();
    sorted.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    for (name, value) in sorted {
        out = out
            .replace(&format!("${{{name}}}"), value)
            .replace(&format!("${name}"), value);
    }
    assert!(!out.contains('$'), "a variable without a value in {out}");
    out
}

/// The operator's metric names a PromQL expression reads.
pub fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = expr;
    while let Some(at) = rest.find("clouddb_job_operator_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        out.insert(name);
    }
    out
}
