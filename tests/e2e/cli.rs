//! Issue 6, test 7: `track` and `demo` end to end (the binary against the simulator).

use std::process::Output;
use std::time::Duration;

use clouddb_job_operator::simulator::auth::{
    DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY,
};
use clouddb_job_operator::simulator::{ClockStart, SimConfig, Simulator};
use serde_json::Value;

use super::harness::{output_text, OPERATOR};

async fn simulator(speed: f64) -> Simulator {
    let mut config = SimConfig::builtin().unwrap();
    config.speed = speed;
    config.clock = ClockStart::FirstRequest;
    Simulator::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap()
}

/// Runs the binary with Tencent credentials in the environment (bounded to 60 s).
async fn run(args: &[&str]) -> Output {
    let child = tokio::process::Command::new(OPERATOR)
        .args(args)
        .env("TENCENTCLOUD_SECRET_ID", DEFAULT_TENCENT_SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", DEFAULT_TENCENT_SECRET_KEY)
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("RUST_LOG")
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(60), child)
        .await
        .expect("finished within 60 s")
        .unwrap()
}

/// Every JSON document printed (a stream of objects, or arrays of them).
fn documents(out: &Output) -> Vec<Value> {
    let text = String::from_utf8_lossy(&out.stdout);
    let mut docs = Vec::new();
    for doc in serde_json::Deserializer::from_str(&text).into_iter::<Value>() {
        match doc.unwrap_or_else(|e| panic!("not JSON ({e}): {}", output_text(out))) {
            Value::Array(items) => docs.extend(items),
            other => docs.push(other),
        }
    }
    docs
}

fn track_args<'a>(endpoint: &'a str, job_id: &'a str, instance: &'a str) -> Vec<&'a str> {
    vec![
        "track",
        "--provider",
        "tencent",
        "--job-id",
        job_id,
        "--region",
        "ap-guangzhou",
        "--instance-id",
        instance,
        "--endpoint",
        endpoint,
        "--output",
        "json",
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn track_once_and_to_the_end() {
    let sim = simulator(20.0).await;
    let url = sim.url();

    let mut once = track_args(&url, "15964", "cdb-gt70m8aa");
    once.push("--once");
    let out = run(&once).await;
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let docs = documents(&out);
    assert_eq!(docs.len(), 1, "{}", output_text(&out));
    assert!(
        matches!(docs[0]["phase"].as_str(), Some("Pending" | "Running")),
        "{}",
        docs[0]
    );
    assert_eq!(docs[0]["jobType"], "initialize");
    assert_eq!(docs[0]["pollCount"], 1);
    assert_eq!(sim.request_count(), 1, "one poll");

    let mut full = track_args(&url, "15964", "cdb-gt70m8aa");
    full.extend(["--interval", "1s", "--timeout", "30s"]);
    let out = run(&full).await;
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let docs = documents(&out);
    let last = docs.last().unwrap();
    assert_eq!(last["phase"], "Succeeded", "{last}");
    assert_eq!(last["progress"], 100);
    assert!(last["endTime"].is_string());
    let progress: Vec<i64> = docs.iter().filter_map(|d| d["progress"].as_i64()).collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");

    let mut failing = track_args(&url, "51788", "cdb-atjl8gns");
    failing.extend(["--interval", "1s", "--timeout", "30s"]);
    let out = run(&failing).await;
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert_eq!(documents(&out).last().unwrap()["phase"], "Failed");

    let all = format!("{:?}", sim.requests());
    assert!(!all.contains(DEFAULT_TENCENT_SECRET_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn track_times_out_with_exit_code_3() {
    // The 90 s rollback at real speed.
    let sim = simulator(1.0).await;
    let url = sim.url();
    let args = [
        "track",
        "--provider",
        "tencent-legacy",
        "--api",
        "GetCdbRollbackJobTask",
        "--job-id",
        "12782",
        "--region",
        "ap-guangzhou",
        "--endpoint",
        &url,
        "--interval",
        "1s",
        "--timeout",
        "3s",
        "--output",
        "json",
    ];
    let started = std::time::Instant::now();
    let out = run(&args).await;
    assert_eq!(out.status.code(), Some(3), "{}", output_text(&out));
    assert!(started.elapsed() < Duration::from_secs(20));
    let last = documents(&out).pop().unwrap();
    assert_eq!(last["reason"], "TrackingTimeout", "{last}");
    assert_eq!(last["phase"], "Running", "{last}");
    assert!(sim.request_count() >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_prints_every_provider_api() {
    let out = run(&[
        "demo",
        "--output",
        "json",
        "--speed",
        "60",
        "--timeout",
        "45s",
    ])
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let docs = documents(&out);
    assert_eq!(docs.len(), 8, "{}", output_text(&out));
    for doc in &docs {
        let status = if doc["status"].is_object() {
            &doc["status"]
        } else {
            doc
        };
        assert!(
            matches!(status["phase"].as_str(), Some("Succeeded" | "Failed")),
            "{doc}"
        );
    }
}
