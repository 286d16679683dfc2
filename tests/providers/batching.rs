//! Batched `DescribeTasks` polling against the in-process simulator: jobs on one instance
//! cost one call per round, not one per job.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use clouddb_job_operator::api::{JobPhase, ProviderKind};
use clouddb_job_operator::controller::batching::{batch_key, BatchingTencentProvider};
use clouddb_job_operator::controller::ratelimit::{RateLimitConfig, RateLimits};
use clouddb_job_operator::controller::rounds::Rounds;
use clouddb_job_operator::controller::Clock;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::tencent::TencentProvider;
use clouddb_job_operator::providers::{Credentials, ErrorReason, JobTarget, Provider};
use clouddb_job_operator::simulator::auth::{
    DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY,
};
use clouddb_job_operator::simulator::{JobSpec, SimConfig, Simulator};
use futures::future::join_all;

fn job(id: u64, instance: &str) -> JobSpec {
    serde_json::from_value(serde_json::json!({
        "provider": "tencent",
        "jobId": id.to_string(),
        "instanceId": instance,
        "type": "reboot",
        "timeline": [{"after": "0s", "status": "RUNNING", "progress": 10}],
    }))
    .unwrap()
}

fn creds() -> Credentials {
    Credentials::Tencent {
        secret_id: DEFAULT_TENCENT_SECRET_ID.into(),
        secret_key: SecretString::new(DEFAULT_TENCENT_SECRET_KEY),
        token: None,
    }
}

fn target(sim: &Simulator, id: u64, instance: &str) -> JobTarget {
    JobTarget::new(
        ProviderKind::Tencent,
        Some("DescribeTasks"),
        &id.to_string(),
        Some("ap-guangzhou"),
        Some(instance),
        None,
        Some(&sim.url()),
    )
    .unwrap()
}

fn describe_tasks_calls(sim: &Simulator) -> u64 {
    sim.counters()
        .by_api
        .get("DescribeTasks")
        .copied()
        .unwrap_or(0)
}

async fn simulator(instances: &[&str], per_instance: u64) -> Simulator {
    let sim = Simulator::start(([127, 0, 0, 1], 0).into(), SimConfig::empty())
        .await
        .unwrap();
    for (n, instance) in instances.iter().enumerate() {
        for j in 0..per_instance {
            sim.add_job(job(1000 * (n as u64 + 1) + j, instance))
                .unwrap();
        }
    }
    sim
}

fn batching(limits: Option<Arc<RateLimits>>, ttl: Duration) -> BatchingTencentProvider {
    let http = HttpClient::new(&HttpOptions::default()).unwrap();
    BatchingTencentProvider::new(TencentProvider::new(http), limits).with_cache_ttl(ttl)
}

/// A controllable clock: the batcher dates its sweeps on it, so the reuse window is
/// measured in test time, not in how fast the machine runs the test.
fn manual_clock(start: jiff::Timestamp) -> (Arc<std::sync::Mutex<jiff::Timestamp>>, Clock) {
    let now = Arc::new(std::sync::Mutex::new(start));
    let read = now.clone();
    (now, Arc::new(move || *read.lock().unwrap()))
}

fn t0() -> jiff::Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

#[tokio::test]
async fn jobs_on_one_instance_cost_one_call_per_round() {
    let sim = simulator(&["cdb-a", "cdb-b"], 20).await;
    let (now, clock) = manual_clock(t0());
    let ttl = Duration::from_millis(300);
    let provider = batching(None, ttl).with_clock(clock);
    let creds = creds();
    let targets: Vec<JobTarget> = (0..20)
        .map(|j| target(&sim, 1000 + j, "cdb-a"))
        .chain((0..20).map(|j| target(&sim, 2000 + j, "cdb-b")))
        .collect();
    for round in 1..=3u64 {
        let results = join_all(targets.iter().map(|t| provider.observe(t, &creds))).await;
        for r in &results {
            assert_eq!(r.as_ref().unwrap().phase, Some(JobPhase::Running), "{r:?}");
        }
        assert_eq!(
            describe_tasks_calls(&sim),
            2 * round,
            "40 jobs on 2 instances: 2 calls in round {round}"
        );
        // Just inside the window: every job is still answered from this round's sweeps.
        *now.lock().unwrap() += ttl - Duration::from_millis(1);
        join_all(targets.iter().map(|t| provider.observe(t, &creds))).await;
        assert_eq!(
            describe_tasks_calls(&sim),
            2 * round,
            "reused within the ttl"
        );
        // The window is over: the next round sweeps again.
        *now.lock().unwrap() += Duration::from_millis(1);
    }
    assert_eq!(provider.stats().sweeps.load(Ordering::Relaxed), 6);
}

#[tokio::test]
async fn late_polls_within_the_window_reuse_the_sweep_and_unknown_jobs_are_pending() {
    let sim = simulator(&["cdb-a"], 5).await;
    let (now, clock) = manual_clock(t0());
    let provider = batching(None, Duration::from_secs(30)).with_clock(clock);
    let creds = creds();
    for j in 0..5 {
        // Each poll 5 s after the previous one: the last is 20 s after the sweep.
        *now.lock().unwrap() = t0() + jiff::SignedDuration::from_secs(5 * j as i64);
        let obs = provider
            .observe(&target(&sim, 1000 + j, "cdb-a"), &creds)
            .await
            .unwrap();
        assert_eq!(obs.phase, Some(JobPhase::Running));
    }
    let unknown = provider
        .observe(&target(&sim, 999_999, "cdb-a"), &creds)
        .await
        .unwrap();
    assert_eq!(unknown.phase, Some(JobPhase::Pending));
    assert_eq!(describe_tasks_calls(&sim), 1);
}

#[tokio::test]
async fn the_rate_limit_refuses_sweeps_without_sending_them() {
    let sim = simulator(&["a", "b", "c"], 1).await;
    let limits = Arc::new(RateLimits::new(RateLimitConfig {
        tencent_tasks_per_second: 2,
        ..RateLimitConfig::default()
    }));
    let provider = batching(Some(limits), Duration::ZERO);
    let creds = creds();
    assert!(provider
        .observe(&target(&sim, 1000, "a"), &creds)
        .await
        .is_ok());
    assert!(provider
        .observe(&target(&sim, 2000, "b"), &creds)
        .await
        .is_ok());
    let refused = provider
        .observe(&target(&sim, 3000, "c"), &creds)
        .await
        .unwrap_err();
    assert_eq!(refused.reason, ErrorReason::LocalRateLimit);
    assert!(refused
        .retry_after
        .is_some_and(|w| w <= Duration::from_millis(500)));
    assert_eq!(
        describe_tasks_calls(&sim),
        2,
        "the refused sweep sent nothing"
    );
}

#[tokio::test]
async fn a_sweep_answers_its_whole_round_and_new_jobs_get_a_fresh_one() {
    let sim = simulator(&["cdb-a"], 5).await;
    let rounds = Arc::new(Rounds::default());
    let t0 = t0();
    let (now, clock) = manual_clock(t0);
    let set = |secs: i64| *now.lock().unwrap() = t0 + jiff::SignedDuration::from_secs(secs);
    // No time-based reuse at all: only the round keeps a sweep.
    let provider = batching(None, Duration::ZERO).with_rounds(rounds.clone(), clock);
    let creds = creds();
    let key = batch_key(&target(&sim, 1000, "cdb-a"), &creds).unwrap();
    let observe = |id: u64| {
        let t = target(&sim, id, "cdb-a");
        let p = &provider;
        let c = &creds;
        async move { p.observe(&t, c).await.unwrap() }
    };

    assert_eq!(observe(1000).await.phase, Some(JobPhase::Running));
    // The reconcile that polled schedules the batch's rounds: every 30 s from t0.
    rounds.schedule(&key, t0, Duration::from_secs(30), Duration::from_secs(30));
    set(10);
    assert_eq!(observe(1001).await.phase, Some(JobPhase::Running));
    assert_eq!(
        describe_tasks_calls(&sim),
        1,
        "same round: the sweep is reused"
    );

    sim.add_job(job(1005, "cdb-a")).unwrap();
    set(12);
    assert_eq!(
        observe(1005).await.phase,
        Some(JobPhase::Running),
        "a job the round's sweep does not list gets a fresh sweep"
    );
    assert_eq!(describe_tasks_calls(&sim), 2);
    set(20);
    observe(1002).await;
    assert_eq!(
        describe_tasks_calls(&sim),
        2,
        "the fresh sweep serves the round"
    );

    set(30);
    observe(1003).await;
    observe(1004).await;
    assert_eq!(describe_tasks_calls(&sim), 3, "next round: one new sweep");
    assert_eq!(provider.stats().sweeps.load(Ordering::Relaxed), 3);
}

/// The cross-tenant defect at the batcher: team B's Secret names team A's SecretId (public)
/// with a made-up key. Whether B polls while A's sweep is in flight or right after it, within
/// the reuse window and the same poll round, B's poll is a sweep of its own, which the
/// provider refuses; B never gets A's answer.
#[tokio::test]
async fn a_made_up_key_under_a_known_secret_id_never_shares_a_sweep() {
    let sim = simulator(&["cdb-x"], 1).await;
    let (_now, clock) = manual_clock(t0());
    let rounds = Arc::new(Rounds::default());
    let provider = batching(None, Duration::from_secs(60)).with_rounds(rounds, clock);
    let a = creds();
    let b = Credentials::Tencent {
        secret_id: DEFAULT_TENCENT_SECRET_ID.into(),
        secret_key: SecretString::new("team-b-made-up-secret-key"),
        token: None,
    };
    let t = target(&sim, 1000, "cdb-x");
    // Concurrently: B asks while A's sweep is in flight.
    let (ra, rb) = tokio::join!(provider.observe(&t, &a), provider.observe(&t, &b));
    assert_eq!(ra.unwrap().progress, Some(10));
    let err = rb.expect_err("B must not be answered with A's sweep");
    assert_eq!(err.reason, ErrorReason::AuthenticationFailed, "{err:?}");
    // Then: A's finished sweep is reusable for a minute, but not by B.
    let err = provider.observe(&t, &b).await.unwrap_err();
    assert_eq!(err.reason, ErrorReason::AuthenticationFailed, "{err:?}");
    // A still shares its own sweep: 1 call for A, 2 for B's refused sweeps.
    assert_eq!(provider.observe(&t, &a).await.unwrap().progress, Some(10));
    assert_eq!(describe_tasks_calls(&sim), 3);
    let stats = provider.stats();
    assert_eq!(stats.sweeps.load(Ordering::Relaxed), 3);
}
