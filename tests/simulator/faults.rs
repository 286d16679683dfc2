//! Every fault kind is produced, by request number, probability, first requests and time;
//! the clock and speed factor move jobs along.

use std::time::Duration;

use clouddb_job_operator::providers::tencent_legacy::sign::SignatureMethod;
use clouddb_job_operator::simulator::auth::DEFAULT_TENCENT_SECRET_KEY;
use clouddb_job_operator::simulator::faults::parse_flag;
use clouddb_job_operator::simulator::{Scenario, SimConfig, Simulator};
use serde_json::json;

use super::*;

const SCENARIO: &str = r#"
jobs:
  - {provider: tencent, jobId: "1", instanceId: cdb-1, type: init, timeline: [{after: 0s, status: RUNNING}]}
  - {provider: tencent-legacy, jobId: "2", timeline: [{after: 0s, status: RUNNING}]}
  - provider: huawei
    jobId: hw-1
    timeline: [{after: 0s, status: RUNNING, progress: 10}, {after: 10s, status: COMPLETED}]
  - provider: huawei
    jobId: hw-late
    clock: first-request
    faults: [{fault: unknown, firstRequests: 2}]
    timeline: [{after: 0s, status: RUNNING}]
  - provider: huawei
    jobId: hw-speed
    clock: first-request
    timeline: [{after: 0s, status: RUNNING, progress: 10}, {after: 60s, status: COMPLETED}]
"#;

fn config(faults: &[&str]) -> SimConfig {
    SimConfig {
        scenarios: vec![Scenario::from_yaml(SCENARIO).unwrap()],
        faults: faults.iter().map(|f| parse_flag(f).unwrap()).collect(),
        ..SimConfig::empty()
    }
}

fn request(
    http: &HttpClient,
    sim: &Simulator,
    provider: usize,
    n: usize,
) -> reqwest::RequestBuilder {
    match provider {
        0 => tencent(
            http,
            sim,
            "DescribeTasks",
            &json!({"InstanceId": "cdb-1"}),
            now(),
            DEFAULT_TENCENT_SECRET_KEY,
        ),
        1 => legacy(
            http,
            sim,
            "GetCdbTaskInfo",
            "2",
            &n.to_string(),
            SignatureMethod::HmacSha1,
            DEFAULT_TENCENT_SECRET_KEY,
        ),
        _ => huawei_ok(http, sim, "hw-1"),
    }
}

#[tokio::test]
async fn each_fault_by_request_number_for_each_provider() {
    let sim = start(config(&[
        "503@1",
        "reset@2",
        "malformed@3",
        "truncated@4",
        "throttle@5",
    ]))
    .await;
    let http = client(Duration::from_secs(5));
    for provider in 0..3 {
        sim.reset();
        let first = http.send(request(&http, &sim, provider, 1)).await.unwrap();
        assert_eq!(first.status, 503, "provider {provider}");
        assert!(
            http.send(request(&http, &sim, provider, 2)).await.is_err(),
            "reset {provider}"
        );
        for n in [3, 4] {
            let broken = http.send(request(&http, &sim, provider, n)).await.unwrap();
            assert_eq!(broken.status, 200);
            assert!(!broken.body.is_empty());
            assert!(
                serde_json::from_slice::<serde_json::Value>(&broken.body).is_err(),
                "{provider}/{n}"
            );
        }
        let throttled = http.send(request(&http, &sim, provider, 5)).await.unwrap();
        match provider {
            0 => assert_eq!(
                json(&throttled)["Response"]["Error"]["Code"],
                "RequestLimitExceeded"
            ),
            1 => assert_eq!(json(&throttled)["code"], 4400),
            _ => {
                assert_eq!(throttled.status, 429);
                assert_eq!(throttled.header("retry-after"), Some("1"));
                assert_eq!(json(&throttled)["error_code"], "APIGW.0308");
            }
        }
        let fine = http.send(request(&http, &sim, provider, 6)).await.unwrap();
        assert_eq!(fine.status, 200);
        json(&fine);
        assert_eq!(sim.request_count(), 6);
        let faults: Vec<Option<String>> = sim.requests().into_iter().map(|r| r.fault).collect();
        assert_eq!(faults[0].as_deref(), Some("status 503"));
        assert_eq!(faults[1].as_deref(), Some("reset"));
        assert_eq!(faults[5], None);
        assert_eq!(sim.requests()[1].status, None);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn slow_responses_outlast_the_client_timeout() {
    let sim = start(config(&["slow=2s@1"])).await;
    let http = client(Duration::from_millis(300));
    let err = http.send(huawei_ok(&http, &sim, "hw-1")).await.unwrap_err();
    assert!(format!("{err:?}").contains("Timeout"), "{err:?}");
    // The abandoned request is recorded too, without a status.
    let mut abandoned = Vec::new();
    for _ in 0..50 {
        abandoned = sim.requests();
        if !abandoned.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(abandoned.len(), 1, "{abandoned:?}");
    assert_eq!(abandoned[0].status, None);
    assert_eq!(abandoned[0].job_id.as_deref(), Some("hw-1"));
    assert!(abandoned[0].fault.as_deref().unwrap().starts_with("slow"));
    assert_eq!(
        http.send(huawei_ok(&http, &sim, "hw-1"))
            .await
            .unwrap()
            .status,
        200
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_job_unknown_for_its_first_requests() {
    let sim = start(config(&[])).await;
    let http = client(Duration::from_secs(5));
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(
            http.send(huawei_ok(&http, &sim, "hw-late"))
                .await
                .unwrap()
                .status,
        );
    }
    assert_eq!(statuses, vec![404, 404, 200]);
    let unknown = start(config(&["unknown@job=1,first=1"])).await;
    let first = tencent_ok(
        &http,
        &unknown,
        "DescribeTasks",
        json!({"InstanceId": "cdb-1"}),
    )
    .await;
    assert_eq!(first["Response"]["TotalCount"], 0);
    let second = tencent_ok(
        &http,
        &unknown,
        "DescribeTasks",
        json!({"InstanceId": "cdb-1"}),
    )
    .await;
    assert_eq!(second["Response"]["TotalCount"], 1);
    sim.shutdown().await;
    unknown.shutdown().await;
}

async fn statuses_with_seed(seed: u64) -> Vec<u16> {
    let sim = start(SimConfig {
        seed,
        ..config(&["503@p=0.5"])
    })
    .await;
    let http = client(Duration::from_secs(5));
    let mut out = Vec::new();
    for _ in 0..16 {
        out.push(
            http.send(huawei_ok(&http, &sim, "hw-1"))
                .await
                .unwrap()
                .status,
        );
    }
    sim.shutdown().await;
    out
}

#[tokio::test]
async fn probabilistic_faults_are_deterministic_per_seed() {
    let a = statuses_with_seed(7).await;
    let b = statuses_with_seed(7).await;
    assert_eq!(a, b);
    assert!(a.contains(&503) && a.contains(&200), "{a:?}");
}

#[tokio::test]
async fn speed_moves_jobs_along() {
    // A 60 s timeline from the first request, at speed 200: done 0.3 s later. The first
    // request sees it running (its clock starts there); it is then polled until it ends,
    // which at speed 1 could not happen within the 20 s allowed.
    let sim = start(SimConfig {
        speed: 200.0,
        ..config(&[])
    })
    .await;
    let http = client(Duration::from_secs(5));
    let status = |r: HttpResponse| json(&r)["job"]["status"].as_str().unwrap_or("").to_string();
    let early = http.send(huawei_ok(&http, &sim, "hw-speed")).await.unwrap();
    assert_eq!(status(early), "Running");
    let started = std::time::Instant::now();
    let mut requests = 1;
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let late = http.send(huawei_ok(&http, &sim, "hw-speed")).await.unwrap();
        requests += 1;
        if status(late) == "Completed" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "not completed after {requests} requests"
        );
    }
    assert_eq!(sim.counters().by_job["hw-speed"], requests);
    sim.shutdown().await;
}
