//! Issue 9: provider faults (5xx, timeouts, resets, broken JSON, throttling, jobs not listed
//! yet), API server conflicts and expired watches, and an expired signature. A transient
//! fault never fails a job, progress never goes backwards, other jobs keep going and
//! backoff is bounded.

use std::sync::Arc;
use std::time::Duration;

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::tencent::TencentProvider;
use clouddb_job_operator::providers::{Credentials, ErrorClass, JobTarget, Provider};
use clouddb_job_operator::simulator::auth::{
    DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY,
};
use clouddb_job_operator::simulator::faults::RequestRange;
use clouddb_job_operator::simulator::scenario::Phase;
use clouddb_job_operator::simulator::{FaultKind, FaultRule, JobSpec, SimConfig, Simulator};

use super::harness::{tail, Harness, Options};
use super::history::condition;
use super::manifests::{manifest_for, sim_job};

/// Running 10% → 50% at 6 s → done at 12 s.
fn job(provider: ProviderKind, api: &str, id: &str) -> JobSpec {
    sim_job(
        provider,
        api,
        id,
        &[
            (0, Phase::Running, Some(10)),
            (6, Phase::Running, Some(50)),
            (12, Phase::Succeed, None),
        ],
    )
}

/// A fault on the job's 2nd and 3rd requests.
fn twice(kind: FaultKind) -> FaultRule {
    FaultRule {
        requests: Some(RequestRange::Text("2-3".into())),
        ..FaultRule::always(kind)
    }
}

fn with_fault(mut job: JobSpec, rule: FaultRule) -> JobSpec {
    job.faults.push(rule);
    job
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_provider_faults_never_fail_a_job() {
    use FaultKind::*;
    use ProviderKind::{Huawei, Tencent, TencentLegacy};
    let hw = |n: u32| format!("fa000000-0000-4000-8000-00000000000{n}");
    let slow = FaultRule {
        delay: Some(Duration::from_secs(4)),
        ..twice(Slow)
    };
    let hw_throttle = FaultRule {
        retry_after: Some(2),
        ..twice(Throttle)
    };
    let unknown = FaultRule {
        first_requests: Some(2),
        ..FaultRule::always(Unknown)
    };
    // (object name, job, fault label the simulator records)
    let cases: Vec<(&str, JobSpec, &str)> = vec![
        (
            "t-5xx",
            with_fault(job(Tencent, "DescribeTasks", "700001"), twice(Status)),
            "status",
        ),
        (
            "t-timeout",
            with_fault(job(Tencent, "DescribeTasks", "700002"), twice(Timeout)),
            "timeout",
        ),
        (
            "t-slow",
            with_fault(job(Tencent, "DescribeTasks", "700003"), slow),
            "slow",
        ),
        (
            "t-reset",
            with_fault(job(Tencent, "DescribeTasks", "700004"), twice(Reset)),
            "reset",
        ),
        (
            "t-malformed",
            with_fault(job(Tencent, "DescribeTasks", "700005"), twice(Malformed)),
            "malformed",
        ),
        (
            "t-truncated",
            with_fault(job(Tencent, "DescribeTasks", "700006"), twice(Truncated)),
            "truncated",
        ),
        (
            "t-throttle",
            with_fault(job(Tencent, "DescribeTasks", "700007"), twice(Throttle)),
            "throttle",
        ),
        (
            "v2-throttle",
            with_fault(
                job(TencentLegacy, "GetCdbTaskInfo", "700008"),
                twice(Throttle),
            ),
            "throttle",
        ),
        (
            "hw-throttle",
            with_fault(job(Huawei, "rds", &hw(1)), hw_throttle),
            "throttle",
        ),
        (
            "hw-5xx",
            with_fault(job(Huawei, "taurusdb", &hw(2)), twice(Status)),
            "status",
        ),
        (
            "t-unknown",
            with_fault(job(Tencent, "DescribeTasks", "700009"), unknown),
            "unknown",
        ),
        ("healthy", job(Tencent, "DescribeTasks", "700010"), ""),
    ];
    // Fails every request for its first 10 s: the backoff must space the retries.
    let hammered = with_fault(
        sim_job(
            Tencent,
            "DescribeTasks",
            "700011",
            &[(0, Phase::Running, Some(20)), (600, Phase::Succeed, None)],
        ),
        FaultRule {
            status: Some(502),
            first_seconds: Some(Duration::from_secs(10)),
            ..FaultRule::always(Status)
        },
    );
    let mut jobs: Vec<JobSpec> = cases.iter().map(|(_, j, _)| j.clone()).collect();
    jobs.push(hammered.clone());
    let mut h = Harness::start(
        "faults",
        Options {
            speed: 1.0,
            builtins: false,
            jobs,
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    h.apply(
        "hammered",
        &manifest_for(&hammered, "hammered", &url).yaml(),
    )
    .await;
    for (name, job, _) in &cases {
        h.apply(name, &manifest_for(job, name, &url).yaml()).await;
    }
    // The backoff spaces the retries of the hammered job: each gap between its failed
    // requests is at least the lower end of its backoff step, which doubles (1-2 s, 2-4 s,
    // ...). Measured between the requests themselves, so a slow machine only widens the
    // gaps. (Each delay is drawn within its step, so two gaps need not grow by any fixed
    // ratio: 1.9 s then 2.1 s is a correct backoff; only the steps' floors are guaranteed.)
    h.eventually("three failed requests of the hammered job", 30, |h| {
        failed_request_times(h, "700011").len() >= 3
    })
    .await;
    let times = failed_request_times(&h, "700011");
    let gaps: Vec<f64> = times
        .windows(2)
        .map(|w| w[1].duration_since(w[0]).as_secs_f64())
        .collect();
    assert!(
        gaps[0] >= 0.9,
        "first retry after {:.2}s: {gaps:?}",
        gaps[0]
    );
    assert!(
        gaps[1] >= 1.9,
        "the backoff grows between retries (second step 2-4 s): {gaps:?}"
    );
    let retrying = h.history.of("hammered");
    assert!(
        retrying.iter().any(|s| {
            s.status["consecutiveErrors"].as_i64() >= Some(2)
                && condition(&s.status, "Reconciling")
                    .is_some_and(|c| c["status"] == "True" && c["reason"] == "RetryingAfterError")
        }),
        "{retrying:?}"
    );

    for (name, _, _) in &cases {
        h.wait_for(name, "Complete", 40).await;
    }
    let recorded = h.sim.requests();
    for (name, job, label) in &cases {
        let list = h.assert_sane(name, false).await;
        assert_eq!(list.last().unwrap().progress(), Some(100), "{name}");
        let mine: Vec<_> = recorded
            .iter()
            .filter(|r| r.job_id.as_deref() == Some(job.job_id.as_str()))
            .collect();
        let faulted = mine
            .iter()
            .filter(|r| r.fault.as_deref().is_some_and(|f| f.starts_with(label)))
            .count();
        if label.is_empty() {
            assert!(mine.iter().all(|r| r.fault.is_none()), "{name}");
        } else {
            assert!(
                faulted >= 2,
                "{name}: the {label} fault was not applied: {mine:?}"
            );
        }
        // 12 s at one poll a second plus the retries: no hot loop.
        assert!(mine.len() <= 24, "{name}: {} requests", mine.len());
        let status = h.status(name);
        assert_eq!(status["consecutiveErrors"], 0, "{name}: {status}");
    }
    // Once the provider answers again, the hammered job is tracked again.
    h.eventually("the hammered job to recover", 30, |h| {
        h.status("hammered")["consecutiveErrors"] == 0
    })
    .await;
    let status = h.status("hammered");
    assert_eq!(status["phase"], "Running", "{status}");
    h.assert_sane("hammered", false).await;
    // Throttling is counted per provider API in metrics: each throttled job was answered
    // "throttled" at least twice.
    let metrics = h.metrics().await;
    for (provider, api) in [
        ("tencent", "DescribeTasks"),
        ("tencent-legacy", "GetCdbTaskInfo"),
        ("huawei", "rds"),
    ] {
        let series = format!(
            "clouddb_job_operator_provider_throttled_total{{provider=\"{provider}\",api=\"{api}\"}}"
        );
        let value = sample(&metrics, &series);
        assert!(value >= 2.0, "{series} = {value}:\n{}", tail(&metrics, 40));
    }
    h.assert_operator_alive();
    let mut names: Vec<&str> = cases.iter().map(|(name, _, _)| *name).collect();
    names.push("hammered");
    h.assert_no_noop_writes(&names).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_server_conflicts_and_expired_watches_are_survived() {
    let steady = job(
        ProviderKind::Huawei,
        "rds",
        "cf000000-0000-4000-8000-000000000001",
    );
    let later = job(ProviderKind::Tencent, "DescribeTasks", "710002");
    // The fake API server, because a real one cannot be made to answer 409 to the next three
    // status writes, or to expire every open watch, at a moment the test chooses. (A real
    // apiserver's 410 after etcd compaction is tested in `control_plane.rs`.)
    let mut h = Harness::start(
        "apiserver-faults",
        Options {
            speed: 1.0,
            builtins: false,
            fake_apiserver: true,
            jobs: vec![steady.clone(), later.clone()],
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    h.apply("steady", &manifest_for(&steady, "steady", &url).yaml())
        .await;
    h.eventually("steady running", 15, |h| {
        h.status("steady")["phase"] == "Running"
    })
    .await;
    h.fake().inject_conflicts_for("clouddbjobs", 3);
    h.eventually("the injected conflicts answered", 20, |h| {
        h.fake().stats().conflicts >= 3
    })
    .await;
    let lists = h.fake().stats().count("list", "clouddbjobs");
    h.fake().expire_watches();
    // A job created after the watches expired is still picked up.
    h.apply("later", &manifest_for(&later, "later", &url).yaml())
        .await;
    h.wait_for("steady", "Complete", 30).await;
    h.wait_for("later", "Complete", 30).await;
    assert!(
        h.fake().stats().count("list", "clouddbjobs") > lists,
        "the operator re-listed after its watch expired"
    );
    h.assert_sane("steady", false).await;
    h.assert_sane("later", false).await;
    h.assert_operator_alive();
    h.assert_no_noop_writes(&["steady", "later"]).await;
}

/// The simulator has no clock-skew switch, so an expired signature is tested at the
/// provider level: the real Tencent client, signing 10 minutes in the past, against the
/// simulator, which answers `AuthFailure.SignatureExpire` like the real gateway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_signature_is_a_permanent_error_naming_the_clock() {
    let sim = Simulator::start(
        "127.0.0.1:0".parse().unwrap(),
        SimConfig::builtin().unwrap(),
    )
    .await
    .unwrap();
    let http = HttpClient::new(&HttpOptions::default()).unwrap();
    let creds = Credentials::Tencent {
        secret_id: DEFAULT_TENCENT_SECRET_ID.into(),
        secret_key: SecretString::new(DEFAULT_TENCENT_SECRET_KEY),
        token: None,
    };
    let target = JobTarget::new(
        ProviderKind::Tencent,
        Some("DescribeTasks"),
        "15964",
        Some("ap-guangzhou"),
        Some("cdb-gt70m8aa"),
        None,
        Some(&sim.url()),
    )
    .unwrap();
    let in_time = TencentProvider::new(http.clone());
    // Signed in time, the same request is answered: the builtin job, just started.
    let seen = in_time.observe(&target, &creds).await.unwrap();
    assert_eq!(seen.provider_status.as_deref(), Some("INITIAL"), "{seen:?}");
    assert_eq!(seen.job_type.as_deref(), Some("initialize"), "{seen:?}");
    let skewed = TencentProvider::new(http).with_clock(Arc::new(|| {
        jiff::Timestamp::now() - jiff::SignedDuration::from_secs(600)
    }));
    let err = skewed.observe(&target, &creds).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent, "{err:?}");
    assert!(err.describe().contains("clock"), "{}", err.describe());
    assert!(!err.describe().contains(DEFAULT_TENCENT_SECRET_KEY));
}

/// Times of the requests for `job_id` that the simulator answered with a fault.
fn failed_request_times(h: &Harness, job_id: &str) -> Vec<jiff::Timestamp> {
    h.sim
        .requests()
        .into_iter()
        .filter(|r| r.job_id.as_deref() == Some(job_id) && r.fault.is_some())
        .map(|r| r.at)
        .collect()
}

/// The value of one sample line (`series value`) of a Prometheus text exposition; 0 when
/// the series is absent.
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}
