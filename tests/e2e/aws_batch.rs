//! Batched AWS polls end to end: 30 DB snapshots of one AWS credential (a Secret each,
//! the same keys), tracked by the operator binary on the real apiserver, all reach
//! `Complete` with at most half as many `DescribeDBSnapshots` calls as polls: one call
//! names many of them in its `db-snapshot-id` filter. Polls that find nothing new write
//! nothing.

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::scenario::Phase;
use serde_json::json;

use super::harness::{Harness, Options};
use super::manifests::{aws_creds, sim_job, JobManifest};

const JOBS: usize = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_snapshots_of_one_credential_share_their_describe_calls() {
    let ids: Vec<String> = (0..JOBS).map(|n| format!("batch-snap-{n:02}")).collect();
    let jobs = ids
        .iter()
        .map(|id| {
            sim_job(
                ProviderKind::Aws,
                "db-snapshot",
                id,
                &[(0, Phase::Running, Some(20)), (160, Phase::Succeed, None)],
            )
        })
        .collect();
    let h = Harness::start(
        "aws-batch",
        Options {
            builtins: false,
            jobs,
            ..Options::default()
        },
    )
    .await;
    let endpoint = h.sim.url();
    let manifests: Vec<JobManifest> = ids
        .iter()
        .map(|id| {
            JobManifest::new("aws-db-snapshot.yaml", id, id, &endpoint, aws_creds())
                .with_spec(json!({"pollInterval": "3s"}))
        })
        .collect();
    let all: Vec<String> = manifests.iter().map(JobManifest::yaml).collect();
    h.apply("aws-batch", &all.join("\n---\n")).await;
    for id in &ids {
        h.wait_for(id, "Complete", 90).await;
    }
    for id in &ids {
        let status = h.status(id);
        assert_eq!(status["phase"], "Succeeded", "{id}: {status}");
        assert_eq!(status["providerStatus"], "available", "{id}: {status}");
    }
    let calls = h
        .sim
        .counters()
        .by_api
        .get("db-snapshot")
        .copied()
        .unwrap_or(0);
    let polls: u64 = ids
        .iter()
        .map(|id| h.status(id)["pollCount"].as_u64().unwrap_or(0))
        .sum();
    eprintln!("{JOBS} snapshots: {polls} polls answered by {calls} DescribeDBSnapshots calls");
    assert!(polls >= JOBS as u64 * 2, "{polls} polls");
    // Unbatched, every poll is a call of its own (or more, with retries). How many calls
    // a batched run makes depends on how spread out the jobs' first polls arrive (a job
    // no answer covers gets a read at once), which is machine load, so the bound is on
    // the polls each call answers, not on a count of calls.
    assert!(
        calls * 2 <= polls,
        "{calls} calls for {polls} polls of {JOBS} jobs: fewer than two polls answered per call, not batched"
    );
    h.assert_no_noop_writes(&ids.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    // A poll that finds nothing new writes nothing, although RDS gives times to the
    // millisecond and the cluster keeps whole seconds: at most one write per state the job
    // was seen in (not yet listed, running, succeeded), and fewer writes than polls.
    let mut writes = 0;
    for id in &ids {
        let polled = h.status(id)["pollCount"].as_u64().unwrap_or(0) as usize;
        let written = h.status_writes_at_least(id, 2).await;
        assert!(
            written <= 3,
            "{id}: {written} status writes for {polled} polls of three states at most"
        );
        writes += written;
    }
    eprintln!("{JOBS} snapshots: {writes} status writes for {polls} polls");
    assert!(
        (writes as u64) < polls,
        "{writes} status writes for {polls} polls: polls that changed nothing wrote"
    );
}
