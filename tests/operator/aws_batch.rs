//! The reconciler with batched AWS polls: CloudDbJobs on the in-process fake API server,
//! the real AWS client batched (`BatchingAwsProvider`, on the context's poll rounds)
//! against the simulator. Jobs of one credential share one `DescribeDBSnapshots` per
//! round; a missing snapshot is `Pending` exactly as a single poll makes it; a throttled
//! batched call leaves every job's phase alone.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clouddb_job_operator::api::{CloudDbJob, JobPhase};
use clouddb_job_operator::controller::batching::BatchingAwsProvider;
use clouddb_job_operator::controller::memory::JobMemory;
use clouddb_job_operator::controller::metrics::Metrics;
use clouddb_job_operator::controller::{reconcile, Context, Schedule};
use clouddb_job_operator::providers::aws::AwsProvider;
use clouddb_job_operator::providers::endpoints::EndpointPolicy;
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::simulator::auth::{
    DEFAULT_AWS_ACCESS_KEY_ID, DEFAULT_AWS_SECRET_ACCESS_KEY,
};
use clouddb_job_operator::simulator::faults::parse_flag;
use clouddb_job_operator::simulator::{JobSpec, SimConfig, Simulator};
use clouddb_testkit::apiserver::FakeApiServerConfig;
use futures::future::join_all;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use kube::runtime::controller::Action;
use kube::{Client, ResourceExt};
use serde_json::json;

use crate::support;

const JOBS: usize = 40;

struct World {
    _server: clouddb_testkit::apiserver::FakeApiServer,
    sim: Simulator,
    api: Api<CloudDbJob>,
    ctx: Arc<Context>,
    clock: Arc<Mutex<Timestamp>>,
}

fn snapshot(id: &str) -> JobSpec {
    serde_json::from_value(json!({
        "provider": "aws",
        "api": "db-snapshot",
        "jobId": id,
        "instanceId": "orders-db",
        "timeline": [{"after": "0s", "status": "RUNNING", "progress": 40}],
    }))
    .unwrap()
}

fn job(name: &str, snapshot: &str, endpoint: &str) -> CloudDbJob {
    serde_json::from_value(json!({
        "apiVersion": "clouddb.io/v1alpha1",
        "kind": "CloudDbJob",
        "metadata": {"name": name},
        "spec": {
            "provider": "aws", "api": "db-snapshot", "jobId": snapshot,
            "region": "us-east-1", "endpoint": endpoint,
            "credentialsSecretRef": {"name": "aws"},
        }
    }))
    .unwrap()
}

async fn world(faults: &[&str]) -> World {
    world_of(JOBS, faults).await
}

async fn world_of(jobs: usize, faults: &[&str]) -> World {
    let sim = Simulator::start(
        ([127, 0, 0, 1], 0).into(),
        SimConfig {
            faults: faults.iter().map(|f| parse_flag(f).unwrap()).collect(),
            ..SimConfig::empty()
        },
    )
    .await
    .unwrap();
    for n in 0..jobs {
        sim.add_job(snapshot(&format!("snap-{n:03}"))).unwrap();
    }
    let (server, client) = support::start(FakeApiServerConfig::default()).await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "aws"},
                "stringData": {
                    "accessKeyId": DEFAULT_AWS_ACCESS_KEY_ID,
                    "secretAccessKey": DEFAULT_AWS_SECRET_ACCESS_KEY,
                },
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    let api: Api<CloudDbJob> = Api::namespaced(client.clone(), "default");
    for n in 0..jobs {
        let name = format!("snap-{n:03}");
        api.create(&PostParams::default(), &job(&name, &name, &sim.url()))
            .await
            .unwrap();
    }
    api.create(
        &PostParams::default(),
        &job("missing", "snap-missing", &sim.url()),
    )
    .await
    .unwrap();
    let start: Timestamp = Timestamp::now();
    let clock = Arc::new(Mutex::new(start));
    let read = clock.clone();
    let clock_fn: clouddb_job_operator::controller::Clock = Arc::new(move || *read.lock().unwrap());
    let schedule = Schedule::default();
    let http = HttpClient::new(&HttpOptions::default()).unwrap();
    let provider = BatchingAwsProvider::new(AwsProvider::new(http), None)
        .with_cache_ttl(Duration::ZERO)
        .with_rounds(schedule.rounds.clone(), clock_fn.clone());
    let ctx = Arc::new(context(client, Arc::new(provider), clock_fn, schedule));
    World {
        _server: server,
        sim,
        api,
        ctx,
        clock,
    }
}

fn context(
    client: Client,
    provider: Arc<BatchingAwsProvider>,
    clock: clouddb_job_operator::controller::Clock,
    schedule: Schedule,
) -> Context {
    Context {
        recorder: None,
        client,
        provider,
        memory: Arc::new(JobMemory::default()),
        metrics: Arc::new(Metrics::new()),
        endpoints: EndpointPolicy::new(["127.0.0.1".to_string()]),
        clock,
        sampler: Arc::new(|| 0.5),
        schedule,
        secrets: Default::default(),
    }
}

impl World {
    /// Reconciles every job at once (as the controller's 64 workers do).
    async fn round(&self) -> Vec<CloudDbJob> {
        let jobs = self.api.list(&Default::default()).await.unwrap().items;
        self.reconcile_all(jobs).await;
        self.api.list(&Default::default()).await.unwrap().items
    }

    /// Reconciles `jobs` at once; what each asked for next, by name.
    async fn reconcile_all(&self, jobs: Vec<CloudDbJob>) -> Vec<(String, Action)> {
        let names: Vec<String> = jobs.iter().map(|j| j.name_any()).collect();
        let done = join_all(
            jobs.into_iter()
                .map(|j| reconcile(Arc::new(j), self.ctx.clone())),
        )
        .await;
        names
            .into_iter()
            .zip(done.into_iter().map(Result::unwrap))
            .collect()
    }

    /// The jobs named `names`, as stored.
    async fn named(&self, names: &[String]) -> Vec<CloudDbJob> {
        let all = self.api.list(&Default::default()).await.unwrap().items;
        all.into_iter()
            .filter(|j| names.contains(&j.name_any()))
            .collect()
    }

    fn advance(&self, seconds: i64) {
        self.advance_ms(seconds * 1000);
    }

    fn advance_ms(&self, millis: i64) {
        let mut now = self.clock.lock().unwrap();
        *now = now
            .checked_add(jiff::SignedDuration::from_millis(millis))
            .unwrap();
    }

    fn calls(&self) -> u64 {
        self.sim
            .counters()
            .by_api
            .get("db-snapshot")
            .copied()
            .unwrap_or(0)
    }
}

fn phase(job: &CloudDbJob) -> Option<JobPhase> {
    job.status.as_ref().and_then(|s| s.phase)
}

#[tokio::test]
async fn jobs_of_one_credential_share_one_describe_per_round() {
    let w = world(&[]).await;
    let jobs = w.round().await;
    let first = w.calls();
    assert!(
        first <= 4,
        "first round: {first} calls for {} jobs",
        JOBS + 1
    );
    for j in &jobs {
        let status = j.status.as_ref().unwrap();
        if j.metadata.name.as_deref() == Some("missing") {
            assert_eq!(status.phase, Some(JobPhase::Pending));
            assert_eq!(status.reason.as_deref(), Some("NotFoundYet"), "{status:?}");
            assert!(
                status.message.as_deref().is_some_and(
                    |m| m.contains("DB snapshot snap-missing is not listed by AWS RDS yet")
                ),
                "{status:?}"
            );
        } else {
            assert_eq!(status.phase, Some(JobPhase::Running), "{j:?}");
            assert_eq!(status.progress, Some(40));
        }
    }
    // The next round: every job, the missing one included, from one call.
    w.advance(30);
    w.round().await;
    assert_eq!(w.calls(), first + 1, "41 jobs, one call");
}

#[tokio::test]
async fn a_throttled_batched_call_leaves_every_phase_alone() {
    // Every AWS request after the first round is throttled.
    let w = world(&["throttle@first=1000,provider=aws"]).await;
    let jobs = w.round().await;
    for j in &jobs {
        assert_ne!(phase(j), Some(JobPhase::Failed), "{j:?}");
        let status = j.status.as_ref().unwrap();
        assert_eq!(status.consecutive_errors, Some(1), "{status:?}");
        assert!(
            status
                .conditions
                .iter()
                .any(|c| c.type_ == "Reconciling" && c.reason == "Throttled"),
            "{status:?}"
        );
    }
    assert!(w.calls() <= 4, "throttled once per read, not per job");
}

/// 250 jobs of one credential are three lanes of at most 100 (one call each), polled at
/// three phases of the interval rather than all at one boundary: each lane's round is
/// one call, and only its own jobs are due then.
#[tokio::test]
async fn a_large_batch_polls_in_lanes_spread_over_the_interval() {
    let w = world_of(250, &[]).await;
    let jobs = w.api.list(&Default::default()).await.unwrap().items;
    let first = w.reconcile_all(jobs).await;
    let firsts = w.calls();
    assert!(firsts <= 8, "first pass: {firsts} calls for 251 jobs");
    // The lanes' next rounds (the default 15 s interval): 15 s for lane 0, as a batch
    // always had, 5.729 s for lane 1 (phase 0.618) and 11.459 s for lane 2 (phase 0.236).
    let due = |after: Duration| -> Vec<String> {
        first
            .iter()
            .filter(|(_, a)| *a == Action::requeue(after))
            .map(|(n, _)| n.clone())
            .collect()
    };
    let lanes = [
        due(Duration::from_secs(15)),
        due(Duration::from_millis(5_729)),
        due(Duration::from_millis(11_459)),
    ];
    let sizes: Vec<usize> = lanes.iter().map(Vec::len).collect();
    assert_eq!(sizes, [100, 100, 51], "{first:?}");

    // Lane 1's round: its 100 jobs, one call; they come round again 15 s later.
    w.advance_ms(5_729);
    let before = w.calls();
    let next = w.reconcile_all(w.named(&lanes[1]).await).await;
    assert_eq!(w.calls(), before + 1, "one lane, one call");
    assert!(
        next.iter()
            .all(|(_, a)| *a == Action::requeue(Duration::from_secs(15))),
        "{next:?}"
    );
    // Lane 2's round, 5.730 s later: one call for its 51.
    w.advance_ms(5_730);
    w.reconcile_all(w.named(&lanes[2]).await).await;
    assert_eq!(w.calls(), before + 2);
}
