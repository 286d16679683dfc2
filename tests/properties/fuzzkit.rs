//! Strategies and invariants shared by the property tests of the provider parsers
//! (`tests/properties/`): hostile JSON values, structure-aware mutations of the recorded
//! fixtures, and the checks every observation must pass.
#![allow(dead_code)]

use clouddb_job_operator::providers::http::HttpResponse;
use clouddb_job_operator::providers::JobObservation;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Value};

pub const TENCENT_SEED: &str = include_str!("../fixtures/tencent/describe_tasks_seed.json");
pub const TENCENT_TCCLI: &str = include_str!("../fixtures/tencent/describe_tasks_tccli.json");
pub const LEGACY_TASK: &str = include_str!("../fixtures/tencent_legacy/GetCdbTaskInfo.json");
pub const LEGACY_UPGRADE: &str =
    include_str!("../fixtures/tencent_legacy/GetCdbUpgradeJobInfo.json");
pub const LEGACY_ROLLBACK: &str =
    include_str!("../fixtures/tencent_legacy/GetCdbRollbackJobTask.json");
pub const HUAWEI_JOB: &str = include_str!("../fixtures/huawei/gaussdb-mysql-GetJob.json");
pub const GCP_RUNNING: &str = include_str!("../fixtures/gcp/operation-import-running.json");
pub const GCP_FAILED: &str = include_str!("../fixtures/gcp/operation-export-failed.json");
pub const ALIBABA_RDS: &str = include_str!("../fixtures/alibaba/rds-DescribeHistoryTasks.json");
pub const ALIBABA_POLARDB: &str =
    include_str!("../fixtures/alibaba/polardb-DescribeHistoryTasks.json");
pub const AZURE_PG: &str = include_str!("../fixtures/azure/postgresql-azureAsyncOperation.json");
pub const AZURE_MYSQL_FAILED: &str =
    include_str!("../fixtures/azure/mysql-azureAsyncOperation-failed.json");

/// Proptest settings: `PROPTEST_CASES` if set, else `default_cases` (kept small so the
/// whole suite runs in seconds on two cores). Failures are not persisted to files: the
/// seed printed on failure is enough to reproduce.
pub fn config(default_cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

pub fn fixture(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

/// A response as the shared HTTP client returns it.
pub fn response(status: u16, body: Vec<u8>, headers: &[(&'static str, String)]) -> HttpResponse {
    let mut map = http::HeaderMap::new();
    for (name, value) in headers {
        if let Ok(v) = http::HeaderValue::from_str(value) {
            map.insert(*name, v);
        }
    }
    HttpResponse {
        status,
        headers: map,
        body,
    }
}

/// Text that providers send, or that breaks naive parsers: numbers as text, progress forms,
/// dates, NaN/infinity, huge and negative values, blanks, unicode, very long strings.
pub fn hostile_string() -> BoxedStrategy<String> {
    prop_oneof![
        Just(String::new()),
        Just(" ".to_string()),
        Just("NaN".to_string()),
        Just("-NaN%".to_string()),
        Just("inf".to_string()),
        Just("-infinity".to_string()),
        Just("1e309".to_string()),
        Just("-1".to_string()),
        Just("101%".to_string()),
        Just("-5.5 %".to_string()),
        Just("99999999999999999999999".to_string()),
        Just("0000-00-00 00:00:00".to_string()),
        Just("9999-12-31 23:59:59".to_string()),
        Just("2018-08-06T10:41:14+9999".to_string()),
        Just("2017-06-27 15:05:33".to_string()),
        Just("(100004) incorrect projectId".to_string()),
        Just("APIGW.0301".to_string()),
        Just("\u{0}\u{7f}\u{feff}\u{202e}".to_string()),
        Just("初始化实例成功 ✓ 🚀".to_string()),
        (1usize..20_000).prop_map(|n| "x".repeat(n)),
        (1usize..2_000).prop_map(|n| "é🚀".repeat(n)),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f}%")),
        "[ -~]{0,24}",
        "\\PC{0,16}",
    ]
    .boxed()
}

/// A JSON leaf of any type, with edge values.
pub fn hostile_leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Non-finite floats are not JSON; serde_json turns them into null.
        any::<f64>().prop_map(|f| json!(f)),
        prop_oneof![
            Just(i64::MIN),
            Just(i64::MAX),
            Just(-1),
            Just(0),
            Just(100),
            Just(101)
        ]
        .prop_map(Value::from),
        Just(json!(1.0e300)),
        Just(json!(-0.5)),
        hostile_string().prop_map(Value::String),
    ]
    .boxed()
}

/// Any JSON value (up to a few levels deep), with hostile leaves.
pub fn arb_json() -> BoxedStrategy<Value> {
    hostile_leaf()
        .prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(key(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
        .boxed()
}

/// Object keys: the field names the providers use (so random objects reach the mapping
/// code) and random ones.
fn key() -> BoxedStrategy<String> {
    prop_oneof![
        prop::sample::select(vec![
            "Response",
            "Items",
            "TotalCount",
            "JobId",
            "Status",
            "TaskStatus",
            "Progress",
            "Data",
            "Message",
            "Code",
            "Error",
            "RequestId",
            "Info",
            "code",
            "message",
            "data",
            "status",
            "progress",
            "jobInfo",
            "taskDetail",
            "detail",
            "job",
            "process",
            "error_code",
            "error_msg",
            "request_id",
            "created",
            "ended",
            "instance",
            "entities",
        ])
        .prop_map(String::from),
        "[a-zA-Z_]{1,10}",
    ]
    .boxed()
}

/// One structure-aware edit of a JSON document.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Remove the field or array element.
    Drop,
    /// Replace the value (type swaps: number, string, null, array, object; edge values).
    Replace(Value),
    /// `v` → `[v]`.
    WrapInArray,
    /// `[v, ...]` → `v`, `{k: v, ...}` → `v`.
    Unwrap,
    /// Number → string, string → number (when numeric), bool → string.
    Retype,
    /// Insert a field (into an object) or element (into an array).
    Insert(String, Value),
}

pub fn mutation() -> BoxedStrategy<Mutation> {
    prop_oneof![
        2 => Just(Mutation::Drop),
        4 => arb_json().prop_map(Mutation::Replace),
        1 => Just(Mutation::WrapInArray),
        1 => Just(Mutation::Unwrap),
        2 => Just(Mutation::Retype),
        1 => (key(), arb_json()).prop_map(|(k, v)| Mutation::Insert(k, v)),
    ]
    .boxed()
}

/// Up to `max` mutations, each aimed at a node chosen by the index (modulo the node count).
pub fn mutations(max: usize) -> BoxedStrategy<Vec<(usize, Mutation)>> {
    prop::collection::vec((any::<usize>(), mutation()), 1..=max).boxed()
}

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Every node's path, except nodes under (or at) a protected key.
fn paths(value: &Value, protected: &[&str]) -> Vec<Vec<Seg>> {
    fn walk(v: &Value, here: &mut Vec<Seg>, protected: &[&str], out: &mut Vec<Vec<Seg>>) {
        out.push(here.clone());
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    if protected.contains(&k.as_str()) {
                        continue;
                    }
                    here.push(Seg::Key(k.clone()));
                    walk(child, here, protected, out);
                    here.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    here.push(Seg::Index(i));
                    walk(child, here, protected, out);
                    here.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut Vec::new(), protected, &mut out);
    out
}

/// Removes protected keys anywhere in a generated value, so a mutation never introduces one.
fn strip(value: &mut Value, protected: &[&str]) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !protected.contains(&k.as_str()));
            map.values_mut().for_each(|v| strip(v, protected));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip(v, protected)),
        _ => {}
    }
}

fn node_mut<'a>(root: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    path.iter().try_fold(root, |v, seg| match seg {
        Seg::Key(k) => v.get_mut(k.as_str()),
        Seg::Index(i) => v.get_mut(*i),
    })
}

fn retype(v: &Value) -> Value {
    match v {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::String(s) => serde_json::from_str::<Value>(s.trim())
            .ok()
            .filter(Value::is_number)
            .unwrap_or_else(|| Value::Array(vec![Value::String(s.clone())])),
        Value::Null => Value::String(String::new()),
        Value::Array(items) => items.first().cloned().unwrap_or(Value::Null),
        Value::Object(_) => Value::String(v.to_string()),
    }
}

/// Applies the mutations to `seed`. Values under keys in `protected` are never targeted,
/// and generated values never carry such keys: with a seed whose protected values all say
/// "running", no edit can make the document say anything else (it can only move or drop
/// those values along with their container).
pub fn apply(seed: &Value, edits: &[(usize, Mutation)], protected: &[&str]) -> Value {
    let mut doc = seed.clone();
    for (pick, edit) in edits {
        let all = paths(&doc, protected);
        let path = &all[pick % all.len()];
        let mut edit = edit.clone();
        match &mut edit {
            Mutation::Replace(v) | Mutation::Insert(_, v) => strip(v, protected),
            _ => {}
        }
        if let Mutation::Insert(k, _) = &edit {
            if protected.contains(&k.as_str()) {
                continue;
            }
        }
        if let Mutation::Drop = edit {
            if let Some((last, parent)) = path.split_last() {
                if let Some(p) = node_mut(&mut doc, parent) {
                    match (p, last) {
                        (Value::Object(m), Seg::Key(k)) => {
                            m.remove(k);
                        }
                        (Value::Array(a), Seg::Index(i)) if *i < a.len() => {
                            a.remove(*i);
                        }
                        _ => {}
                    }
                }
            }
            continue;
        }
        let Some(node) = node_mut(&mut doc, path) else {
            continue;
        };
        let next = match edit {
            Mutation::Replace(v) => v,
            Mutation::WrapInArray => Value::Array(vec![node.take()]),
            Mutation::Unwrap => match node.take() {
                Value::Array(a) => a.into_iter().next().unwrap_or(Value::Null),
                Value::Object(m) => m.into_iter().next().map_or(Value::Null, |(_, v)| v),
                other => other,
            },
            Mutation::Retype => retype(node),
            Mutation::Insert(k, v) => {
                let mut n = node.take();
                match &mut n {
                    Value::Object(m) => {
                        m.insert(k, v);
                    }
                    Value::Array(a) => a.push(v),
                    _ => {}
                }
                n
            }
            Mutation::Drop => continue,
        };
        *node = next;
    }
    doc
}

/// Bytes that are mostly JSON-like, to get past the first `{`.
pub fn json_like_bytes() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        "[{}\\[\\]\",:0-9a-zA-Z \\-.]{0,128}".prop_map(String::into_bytes),
        arb_json().prop_map(|v| {
            let mut bytes = v.to_string().into_bytes();
            let cut = bytes.len() / 2;
            bytes.truncate(cut);
            bytes
        }),
    ]
    .boxed()
}

/// Invariants every observation must satisfy, whatever the input.
pub fn check_observation(obs: &JobObservation) -> Result<(), TestCaseError> {
    prop_assert!(obs.phase.is_some(), "an observation always has a phase");
    if let Some(p) = obs.progress {
        prop_assert!(p <= 100, "progress {p} out of range");
    }
    if let Some(phase) = obs.phase {
        if phase.is_terminal() {
            prop_assert!(
                obs.provider_status.is_some(),
                "terminal phase {phase:?} without a provider status: {obs:?}"
            );
        }
    }
    if let Some(rollback) = &obs.detail.rollback {
        for task in &rollback.tasks {
            if let Some(p) = task.progress {
                prop_assert!((0..=100).contains(&p), "sub-task progress {p} out of range");
            }
            if task.phase.is_some_and(|ph| ph.is_terminal()) {
                prop_assert!(task.provider_status.is_some());
            }
        }
    }
    Ok(())
}

/// A terminal phase must not come out of a document whose status says it is running.
pub fn check_not_terminal(obs: &JobObservation) -> Result<(), TestCaseError> {
    check_observation(obs)?;
    prop_assert!(
        !obs.phase_or_pending().is_terminal(),
        "a running job became {:?}: {obs:?}",
        obs.phase
    );
    Ok(())
}
