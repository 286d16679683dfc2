//! Batched AWS RDS polls against the in-process simulator: the jobs of one API, credential,
//! region and endpoint cost one describe call per 100 jobs per round; a job the answer does
//! not list gets what a single poll gets; a throttled or failed batched call is a
//! transient fault for every job in it; another credential never shares the answer.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use clouddb_job_operator::api::{JobPhase, ProviderKind};
use clouddb_job_operator::controller::batching::{batch_key, BatchingAwsProvider};
use clouddb_job_operator::controller::rounds::Rounds;
use clouddb_job_operator::controller::Clock;
use clouddb_job_operator::providers::aws::AwsProvider;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::{Credentials, ErrorClass, ErrorReason, JobTarget, Provider};
use clouddb_job_operator::simulator::auth::{
    DEFAULT_AWS_ACCESS_KEY_ID, DEFAULT_AWS_SECRET_ACCESS_KEY,
};
use clouddb_job_operator::simulator::faults::parse_flag;
use clouddb_job_operator::simulator::{JobSpec, SimConfig, Simulator};
use futures::future::join_all;

fn job(api: &str, id: &str) -> JobSpec {
    serde_json::from_value(serde_json::json!({
        "provider": "aws",
        "api": api,
        "jobId": id,
        "instanceId": "orders-db",
        "timeline": [{"after": "0s", "status": "RUNNING", "progress": 40}],
    }))
    .unwrap()
}

fn creds() -> Credentials {
    Credentials::Aws {
        access_key_id: DEFAULT_AWS_ACCESS_KEY_ID.into(),
        secret_access_key: SecretString::new(DEFAULT_AWS_SECRET_ACCESS_KEY),
        session_token: None,
    }
}

fn target(sim: &Simulator, api: &str, id: &str) -> JobTarget {
    JobTarget::new(
        ProviderKind::Aws,
        Some(api),
        id,
        Some("us-east-1"),
        None,
        None,
        Some(&sim.url()),
    )
    .unwrap()
}

fn http() -> HttpClient {
    HttpClient::new(&HttpOptions::default()).unwrap()
}

fn calls(sim: &Simulator, api: &str) -> u64 {
    sim.counters().by_api.get(api).copied().unwrap_or(0)
}

fn manual_clock(start: jiff::Timestamp) -> (Arc<std::sync::Mutex<jiff::Timestamp>>, Clock) {
    let now = Arc::new(std::sync::Mutex::new(start));
    let read = now.clone();
    (now, Arc::new(move || *read.lock().unwrap()))
}

fn t0() -> jiff::Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

async fn simulator(snapshots: usize, clusters: usize) -> Simulator {
    let sim = Simulator::start(([127, 0, 0, 1], 0).into(), SimConfig::empty())
        .await
        .unwrap();
    for n in 0..snapshots {
        sim.add_job(job("db-snapshot", &format!("snap-{n:04}")))
            .unwrap();
    }
    for n in 0..clusters {
        sim.add_job(job("cluster-snapshot", &format!("cluster-{n:04}")))
            .unwrap();
    }
    sim
}

/// 250 DB snapshots and 30 cluster snapshots of one credential: after the first round has
/// taught the batcher its members, a round costs 3 + 1 calls (chunks of 100), not 280.
#[tokio::test]
async fn a_round_costs_one_call_per_hundred_jobs_of_an_api() {
    let sim = simulator(250, 30).await;
    let rounds = Arc::new(Rounds::default());
    let (now, clock) = manual_clock(t0());
    let provider = BatchingAwsProvider::new(AwsProvider::new(http()), None)
        .with_cache_ttl(Duration::ZERO)
        .with_rounds(rounds.clone(), clock);
    let creds = creds();
    let targets: Vec<JobTarget> = (0..250)
        .map(|n| target(&sim, "db-snapshot", &format!("snap-{n:04}")))
        .chain((0..30).map(|n| target(&sim, "cluster-snapshot", &format!("cluster-{n:04}"))))
        .collect();
    let poll_all = || join_all(targets.iter().map(|t| provider.observe(t, &creds)));
    for r in poll_all().await {
        assert_eq!(r.unwrap().phase, Some(JobPhase::Running));
    }
    let first = (calls(&sim, "db-snapshot"), calls(&sim, "cluster-snapshot"));
    assert!(
        first.0 <= 6 && first.1 <= 3,
        "the first round learns the members as they come: {first:?}"
    );
    // The reconciles schedule their batches' rounds (every 30 s), as each job's reconcile
    // does: the 250 snapshots are three lanes of at most 100, each with its own rounds.
    for t in &targets {
        let key = rounds
            .lanes()
            .key_for(batch_key(t, &creds).unwrap(), &t.job_id, t0());
        rounds.schedule(&key, t0(), Duration::from_secs(30), Duration::from_secs(30));
    }
    *now.lock().unwrap() = t0() + jiff::SignedDuration::from_secs(30);
    for r in poll_all().await {
        assert_eq!(r.unwrap().progress, Some(40));
    }
    assert_eq!(
        (calls(&sim, "db-snapshot"), calls(&sim, "cluster-snapshot")),
        (first.0 + 3, first.1 + 1),
        "second round: 250 snapshots in 3 calls, 30 cluster snapshots in 1"
    );
    // Polled again within every lane's round (the next starts at 41.5 s): answered from it.
    *now.lock().unwrap() = t0() + jiff::SignedDuration::from_secs(35);
    poll_all().await;
    assert_eq!(calls(&sim, "db-snapshot"), first.0 + 3);
    assert_eq!(provider.stats().single.load(Ordering::Relaxed), 0);
}

/// A job the batched answer does not list gets exactly the single poll's observation.
#[tokio::test]
async fn a_job_missing_from_the_answer_gets_what_a_single_poll_gets() {
    let sim = simulator(3, 0).await;
    let provider = BatchingAwsProvider::new(AwsProvider::new(http()), None);
    let single = AwsProvider::new(http());
    let creds = creds();
    for id in ["snap-0001", "snap-missing"] {
        let t = target(&sim, "db-snapshot", id);
        let (batched, alone) =
            tokio::join!(provider.observe(&t, &creds), single.observe(&t, &creds));
        assert_eq!(batched.unwrap(), alone.unwrap(), "{id}");
    }
    let missing = provider
        .observe(&target(&sim, "db-snapshot", "snap-missing"), &creds)
        .await
        .unwrap();
    assert!(missing.is_not_found_yet(), "{missing:?}");
}

/// Throttled or failing batched calls are a transient fault for each job in the batch.
#[tokio::test]
async fn a_throttled_or_failed_batched_call_is_transient_for_every_job() {
    for (fault, class) in [
        ("throttle", ErrorClass::Throttled),
        ("503", ErrorClass::Transient),
    ] {
        let sim = simulator(5, 0).await;
        sim.add_fault(parse_flag(fault).unwrap()).unwrap();
        let provider = BatchingAwsProvider::new(AwsProvider::new(http()), None);
        let creds = creds();
        let targets: Vec<JobTarget> = (0..5)
            .map(|n| target(&sim, "db-snapshot", &format!("snap-{n:04}")))
            .collect();
        let results = join_all(targets.iter().map(|t| provider.observe(t, &creds))).await;
        for r in results {
            let e = r.expect_err(fault);
            assert_eq!(e.class, class, "{fault}: {e:?}");
            assert!(!e.is_permanent());
        }
        assert_eq!(
            provider.stats().single.load(Ordering::Relaxed),
            0,
            "{fault}"
        );
    }
}

/// Team B's Secret names team A's access key ID with a made-up secret: its poll is never
/// answered from A's batch, whether A's read is in flight or just done.
#[tokio::test]
async fn a_made_up_secret_under_a_known_key_id_never_shares_the_answer() {
    let sim = simulator(2, 0).await;
    let provider = BatchingAwsProvider::new(AwsProvider::new(http()), None)
        .with_cache_ttl(Duration::from_secs(60));
    let a = creds();
    let b = Credentials::Aws {
        access_key_id: DEFAULT_AWS_ACCESS_KEY_ID.into(),
        secret_access_key: SecretString::new("team-b-made-up-secret"),
        session_token: None,
    };
    let t = target(&sim, "db-snapshot", "snap-0000");
    let (ra, rb) = tokio::join!(provider.observe(&t, &a), provider.observe(&t, &b));
    assert_eq!(ra.unwrap().progress, Some(40));
    let e = rb.expect_err("B must not get A's answer");
    assert_eq!(e.reason, ErrorReason::AuthenticationFailed, "{e:?}");
    let e = provider.observe(&t, &b).await.unwrap_err();
    assert_eq!(e.reason, ErrorReason::AuthenticationFailed, "{e:?}");
    assert_eq!(provider.observe(&t, &a).await.unwrap().progress, Some(40));
}
