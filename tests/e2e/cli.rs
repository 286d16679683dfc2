//! Issue 6, test 7: `track` and `demo` end to end (the binary against the simulator).

use std::process::Output;
use std::time::Duration;

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::auth::{
    DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET, DEFAULT_AWS_ACCESS_KEY_ID,
    DEFAULT_AWS_SECRET_ACCESS_KEY, DEFAULT_AZURE_CLIENT_ID, DEFAULT_AZURE_CLIENT_SECRET,
    DEFAULT_AZURE_SUBSCRIPTION_ID, DEFAULT_AZURE_TENANT_ID, DEFAULT_TENCENT_SECRET_ID,
    DEFAULT_TENCENT_SECRET_KEY,
};
use clouddb_job_operator::simulator::scenario::Phase;
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
    run_with_key(args, DEFAULT_TENCENT_SECRET_KEY).await
}

/// Runs the binary with the simulator's SecretId and `secret_key`.
async fn run_with_key(args: &[&str], secret_key: &str) -> Output {
    let child = tokio::process::Command::new(OPERATOR)
        .args(args)
        .env("TENCENTCLOUD_SECRET_ID", DEFAULT_TENCENT_SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", secret_key)
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
    // Every byte between `track` and the simulator passes through the tap.
    let tap = WireTap::start(sim.addr()).await;
    let url = tap.url();
    let mut printed = Vec::new();

    let mut once = track_args(&url, "15964", "cdb-gt70m8aa");
    once.push("--once");
    let out = run(&once).await;
    printed.push(output_text(&out));
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
    assert_eq!(
        docs[0]["job"],
        serde_json::json!({"provider": "tencent", "api": "DescribeTasks", "jobId": "15964"}),
        "each document names its job"
    );
    assert_eq!(sim.request_count(), 1, "one poll");

    let mut full = track_args(&url, "15964", "cdb-gt70m8aa");
    full.extend(["--interval", "1s", "--timeout", "30s"]);
    let out = run(&full).await;
    printed.push(output_text(&out));
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let docs = documents(&out);
    let last = docs.last().unwrap();
    assert_eq!(last["phase"], "Succeeded", "{last}");
    assert_eq!(last["progress"], 100);
    assert!(last["endTime"].is_string());
    let progress: Vec<i64> = docs.iter().filter_map(|d| d["progress"].as_i64()).collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    assert!(
        docs.iter().all(|d| d["job"]["jobId"] == "15964"),
        "{docs:?}"
    );

    let mut failing = track_args(&url, "51788", "cdb-atjl8gns");
    failing.extend(["--interval", "1s", "--timeout", "30s"]);
    let out = run(&failing).await;
    printed.push(output_text(&out));
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    let last = documents(&out).pop().unwrap();
    assert_eq!(last["phase"], "Failed");
    assert_eq!(last["job"]["jobId"], "51788");

    // The secret key never crossed the wire (the signature is derived from it) and was
    // never printed; the tap saw the requests, including the SecretId they are signed for.
    let wire = tap.bytes();
    assert!(
        contains(&wire, DEFAULT_TENCENT_SECRET_ID.as_bytes()),
        "the tap saw no signed request"
    );
    assert!(!contains(&wire, DEFAULT_TENCENT_SECRET_KEY.as_bytes()));
    for text in &printed {
        assert!(text.contains(DEFAULT_TENCENT_SECRET_ID) || text.contains("jobType"));
        assert!(!text.contains(DEFAULT_TENCENT_SECRET_KEY), "{text}");
    }
}

/// Exit code 2: the provider refused the request for good (a wrong secret key), and the
/// message says why without the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn track_exits_2_on_a_permanent_provider_error() {
    let sim = simulator(20.0).await;
    let url = sim.url();
    let wrong = "not-the-simulators-key-0123456789";
    let out = run_with_key(&track_args(&url, "15964", "cdb-gt70m8aa"), wrong).await;
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    let text = output_text(&out);
    assert!(text.contains("AuthFailure"), "{text}");
    assert!(!text.contains(wrong), "{text}");
}

/// `track` follows a job of every Alibaba Cloud and AWS API to its end, with credentials
/// (and, for AWS, the region) from the official tools' variables.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn track_follows_every_alibaba_and_aws_api_to_the_end() {
    let sim = simulator(20.0).await;
    let url = sim.url();
    let steps = [
        (0, Phase::Running, Some(20)),
        (10, Phase::Running, Some(60)),
        (20, Phase::Succeed, None),
    ];
    for (provider, api, id) in [
        (ProviderKind::Alibaba, "rds", "t-e2etrack0000001"),
        (ProviderKind::Alibaba, "polardb", "t-e2etrack0000002"),
        (ProviderKind::Aws, "export-task", "e2e-track-export"),
        (ProviderKind::Aws, "db-snapshot", "e2e-track-snapshot"),
        (
            ProviderKind::Aws,
            "cluster-snapshot",
            "e2e-track-cluster-snapshot",
        ),
        (ProviderKind::Aws, "blue-green", "bgd-e2etrack000001"),
        (
            ProviderKind::Aws,
            "blue-green-switchover",
            "bgd-e2etrack000002",
        ),
    ] {
        sim.add_job(super::manifests::sim_job(provider, api, id, &steps))
            .unwrap();
        let instance = format!("cdb-{id}");
        let mut args = vec![
            "track",
            "--provider",
            provider.as_str(),
            "--api",
            api,
            "--job-id",
            id,
            "--instance-id",
            &instance,
            "--endpoint",
            &url,
            "--interval",
            "1s",
            "--timeout",
            "40s",
            "--output",
            "json",
        ];
        if provider == ProviderKind::Alibaba {
            args.extend(["--region", "cn-hangzhou"]);
        }
        let child = tokio::process::Command::new(OPERATOR)
            .args(&args)
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", DEFAULT_ALIBABA_ACCESS_KEY_ID)
            .env(
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
            )
            .env("AWS_ACCESS_KEY_ID", DEFAULT_AWS_ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", DEFAULT_AWS_SECRET_ACCESS_KEY)
            .env("AWS_REGION", "us-east-1")
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env_remove("RUST_LOG")
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(Duration::from_secs(60), child)
            .await
            .expect("finished within 60 s")
            .unwrap();
        let text = output_text(&out);
        assert_eq!(out.status.code(), Some(0), "{provider} {api}: {text}");
        let docs = documents(&out);
        let last = docs.last().unwrap();
        assert_eq!(last["phase"], "Succeeded", "{provider} {api}: {last}");
        assert_eq!(last["progress"], 100, "{provider} {api}: {last}");
        assert_eq!(
            last["job"],
            serde_json::json!({"provider": provider.as_str(), "api": api, "jobId": id}),
            "{last}"
        );
        assert!(
            docs.iter().any(|d| d["phase"] == "Running"),
            "{provider} {api}: never seen running: {text}"
        );
        for secret in [
            DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
            DEFAULT_AWS_SECRET_ACCESS_KEY,
        ] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}

/// `track` follows both Azure APIs to the end with credentials, the token host and the
/// subscription from the official tools' variables (`AZURE_*`), one token per process; a
/// wrong client secret exits 2 without echoing it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn track_follows_both_azure_apis_with_the_sdk_variables() {
    let sim = simulator(20.0).await;
    let url = sim.url();
    let steps = [
        (0, Phase::Running, Some(20)),
        (10, Phase::Running, Some(60)),
        (20, Phase::Succeed, None),
    ];
    let azure = |args: &[&str], secret: &str| {
        tokio::process::Command::new(OPERATOR)
            .args(args)
            .env("AZURE_TENANT_ID", DEFAULT_AZURE_TENANT_ID)
            .env("AZURE_CLIENT_ID", DEFAULT_AZURE_CLIENT_ID)
            .env("AZURE_CLIENT_SECRET", secret)
            .env("AZURE_AUTHORITY_HOST", &url)
            .env("AZURE_SUBSCRIPTION_ID", DEFAULT_AZURE_SUBSCRIPTION_ID)
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env_remove("RUST_LOG")
            .kill_on_drop(true)
            .output()
    };
    for (api, id) in [
        (
            "postgresql-flexible",
            "e2e7ac00-0000-4000-8000-000000000001",
        ),
        ("mysql-flexible", "e2e7ac00-0000-4000-8000-000000000002"),
    ] {
        sim.add_job(super::manifests::sim_job(
            ProviderKind::Azure,
            api,
            id,
            &steps,
        ))
        .unwrap();
        let args = [
            "track",
            "--provider",
            "azure",
            "--api",
            api,
            "--job-id",
            id,
            "--region",
            "westeurope",
            "--endpoint",
            &url,
            "--interval",
            "1s",
            "--timeout",
            "40s",
            "--output",
            "json",
        ];
        let tokens_before = sim.azure_tokens_issued();
        let out = tokio::time::timeout(
            Duration::from_secs(60),
            azure(&args, DEFAULT_AZURE_CLIENT_SECRET),
        )
        .await
        .expect("finished within 60 s")
        .unwrap();
        let text = output_text(&out);
        assert_eq!(out.status.code(), Some(0), "{api}: {text}");
        let docs = documents(&out);
        let last = docs.last().unwrap();
        assert_eq!(
            (&last["phase"], &last["progress"]),
            (&Value::from("Succeeded"), &Value::from(100)),
            "{api}: {last}"
        );
        assert_eq!(
            last["job"],
            serde_json::json!({"provider": "azure", "api": api, "jobId": id}),
            "{last}"
        );
        assert!(
            docs.iter().any(|d| d["phase"] == "Running"),
            "{api}: {text}"
        );
        assert!(last["azure"]["resourceProvider"].is_string(), "{last}");
        assert_eq!(
            sim.azure_tokens_issued(),
            tokens_before + 1,
            "one token per process"
        );
        assert!(!text.contains(DEFAULT_AZURE_CLIENT_SECRET), "{text}");
    }
    let wrong = "Wrong~Azure.Secret+/=e2e";
    let args = [
        "track",
        "--provider",
        "azure",
        "--job-id",
        "e2e7ac00-0000-4000-8000-000000000001",
        "--region",
        "westeurope",
        "--endpoint",
        &url,
        "--once",
        "--output",
        "json",
    ];
    let out = tokio::time::timeout(Duration::from_secs(60), azure(&args, wrong))
        .await
        .expect("finished within 60 s")
        .unwrap();
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("AuthenticationFailed") || text.contains("invalid_client"),
        "{text}"
    );
    assert!(!text.contains(wrong), "{text}");
}

/// `track` follows a Cloud SQL operation to its end with the official Google variables: the
/// key file from `GOOGLE_APPLICATION_CREDENTIALS` (its `token_uri` the simulator's), the
/// project from `GOOGLE_CLOUD_PROJECT` (the operation is served for that project only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn track_follows_a_gcp_operation_with_the_official_variables() {
    let sim = simulator(20.0).await;
    let url = sim.url();
    let steps = [
        (0, Phase::Initial, None),
        (5, Phase::Running, None),
        (100, Phase::Succeed, None),
    ];
    let mut job = super::manifests::sim_job(ProviderKind::Gcp, "cloudsql", "e2e-track-op", &steps);
    job.project_id = Some("e2e-track-project".into());
    job.name = Some("BACKUP_VOLUME".into());
    sim.add_job(job).unwrap();
    let dir = std::env::temp_dir().join(format!("gcp-track-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("key.json");
    std::fs::write(
        &key_file,
        clouddb_job_operator::simulator::auth::default_gcp_key_json(&url),
    )
    .unwrap();
    let child = tokio::process::Command::new(OPERATOR)
        .args([
            "track",
            "--provider",
            "gcp",
            "--job-id",
            "e2e-track-op",
            "--endpoint",
            &url,
            "--interval",
            "1s",
            "--timeout",
            "40s",
            "--output",
            "json",
        ])
        .env("GOOGLE_APPLICATION_CREDENTIALS", &key_file)
        .env("GOOGLE_CLOUD_PROJECT", "e2e-track-project")
        .env_remove("HUAWEICLOUD_SDK_PROJECT_ID")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("RUST_LOG")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), child)
        .await
        .expect("finished within 60 s")
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let docs = documents(&out);
    let last = docs.last().unwrap();
    assert_eq!(last["phase"], "Succeeded", "{last}");
    assert_eq!(last["progress"], 100, "{last}");
    assert_eq!(last["jobType"], "backup", "{last}");
    assert_eq!(last["gcp"]["targetProject"], "e2e-track-project", "{last}");
    assert!(
        docs.iter()
            .any(|d| d["phase"] == "Running" && d.get("progress").is_none()),
        "never seen running without progress: {text}"
    );
    assert_eq!(sim.gcp_token_requests(), 1, "one token for the whole run");
    for line in clouddb_job_operator::simulator::auth::DEFAULT_GCP_PRIVATE_KEY
        .lines()
        .filter(|l| !l.starts_with("-----"))
    {
        assert!(!text.contains(line), "{text}");
    }
}

/// Exit code 4: `--once` against an endpoint nobody answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn track_once_exits_4_when_the_provider_is_unreachable() {
    // A port that was just free: nothing listens on it.
    let port = super::harness::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut args = track_args(&url, "15964", "cdb-gt70m8aa");
    args.push("--once");
    let out = run(&args).await;
    assert_eq!(out.status.code(), Some(4), "{}", output_text(&out));
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A TCP relay on loopback that records every byte sent through it (both directions).
struct WireTap {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    task: tokio::task::JoinHandle<()>,
}

impl WireTap {
    async fn start(upstream: std::net::SocketAddr) -> WireTap {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                    continue;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let (up, down) = (sink.clone(), sink.clone());
                tokio::spawn(async move {
                    let mut buf = [0u8; 8192];
                    while let Ok(n @ 1..) = cr.read(&mut buf).await {
                        up.lock().unwrap().extend_from_slice(&buf[..n]);
                        if sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = sw.shutdown().await;
                });
                tokio::spawn(async move {
                    let mut buf = [0u8; 8192];
                    while let Ok(n @ 1..) = sr.read(&mut buf).await {
                        down.lock().unwrap().extend_from_slice(&buf[..n]);
                        if cw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = cw.shutdown().await;
                });
            }
        });
        WireTap { port, seen, task }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn bytes(&self) -> Vec<u8> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for WireTap {
    fn drop(&mut self) {
        self.task.abort();
    }
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

/// `demo --output json`: one final document per row, each naming its job: one job of every
/// provider API with built-in jobs, the job that fails as designed and the one that
/// recovers from injected 503s; then the instance on which the provider started a
/// maintenance operation by itself, discovered and finished.
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
    let mut docs = documents(&out);
    let instance = docs.pop().expect("the instance's document comes last");
    // Written out rather than taken from `demo_jobs()`, the code under test: the 18
    // provider APIs with built-in jobs, in order, then the job that fails as designed and
    // the one that recovers from two injected 503s.
    let expected = [
        ("tencent", "DescribeTasks", "Succeeded"),
        ("tencent", "DescribeAsyncRequestInfo", "Succeeded"),
        ("tencent-legacy", "GetCdbTaskInfo", "Succeeded"),
        ("tencent-legacy", "GetCdbUpgradeJobInfo", "Succeeded"),
        ("tencent-legacy", "GetCdbRollbackJobTask", "Succeeded"),
        ("huawei", "rds", "Succeeded"),
        ("huawei", "taurusdb", "Succeeded"),
        ("huawei", "taurusdb-legacy", "Succeeded"),
        ("alibaba", "rds", "Succeeded"),
        ("alibaba", "polardb", "Succeeded"),
        ("aws", "export-task", "Succeeded"),
        ("aws", "db-snapshot", "Succeeded"),
        ("aws", "cluster-snapshot", "Succeeded"),
        ("aws", "blue-green", "Succeeded"),
        ("aws", "blue-green-switchover", "Succeeded"),
        ("gcp", "cloudsql", "Succeeded"),
        ("azure", "postgresql-flexible", "Succeeded"),
        ("azure", "mysql-flexible", "Succeeded"),
        // Fails, as designed.
        ("tencent", "DescribeTasks", "Failed"),
        // HTTP 503 twice, retried.
        ("huawei", "rds", "Succeeded"),
    ];
    let got: Vec<(&str, &str, &str)> = docs
        .iter()
        .map(|d| {
            (
                d["job"]["provider"].as_str().unwrap_or("none"),
                d["job"]["api"].as_str().unwrap_or("none"),
                d["phase"].as_str().unwrap_or("none"),
            )
        })
        .collect();
    assert_eq!(got, expected, "{}", output_text(&out));
    let failed = &docs[18];
    assert_eq!(failed["job"]["jobId"], "51788", "{failed}");
    assert_eq!(failed["reason"], "JobFailed", "{failed}");
    let recovered = &docs[19];
    assert_eq!(recovered["consecutiveErrors"], 0, "{recovered}");
    assert!(recovered.get("reason").is_none(), "{recovered}");
    let rows = clouddb_job_operator::cli::demo::demo_jobs(&SimConfig::builtin().unwrap()).unwrap();
    let last = rows.last().unwrap();
    assert_eq!(recovered["job"]["jobId"], last.job.job_id, "{recovered}");
    assert!(
        last.job
            .faults
            .iter()
            .any(|f| f.fault == clouddb_job_operator::simulator::FaultKind::Status),
        "the last row recovers from provider errors"
    );

    // The instance: Cloud SQL `inventory-db`, maintenance announced for later, and an
    // operation the provider ran by itself (3f9c1a7e-...: nobody gave the demo its ID),
    // discovered once, finished: idle again.
    assert_eq!(
        instance["instance"],
        serde_json::json!({"namespace": "demo", "name": "inventory", "provider": "gcp",
                           "api": "cloudsql", "instanceId": "inventory-db"}),
        "{instance}"
    );
    let condition = |t: &str| {
        instance["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == t))
            .map(|c| c["status"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(condition("Idle").as_deref(), Some("True"), "{instance}");
    assert_eq!(condition("Ready").as_deref(), Some("True"), "{instance}");
    assert_eq!(
        instance["discoveredJobIds"][0]["jobId"], "3f9c1a7e-5d2b-4e8f-9a61-7c0d4b2e8f15",
        "{instance}"
    );
    assert_eq!(
        instance["discoveredJobIds"].as_array().map(Vec::len),
        Some(1),
        "{instance}"
    );
    assert_eq!(instance["activeJobCount"], 0, "{instance}");
    assert_eq!(
        instance["upcomingMaintenance"][0]["action"], "scheduled-maintenance",
        "{instance}"
    );
}
