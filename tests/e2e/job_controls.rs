//! Issue 20, items 3 and 4, on the real control plane: `spec.suspend` stops polling and
//! resuming continues; the `clouddb.io/refresh-requested-at` annotation forces exactly one
//! poll per new value; `spec.ttlSecondsAfterFinished` deletes a finished job, also across an
//! operator restart, and leaves jobs without it alone.

use std::time::Duration;

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::scenario::Phase;
use serde_json::json;

use super::harness::{output_text, Harness, Options};
use super::manifests::{manifest_for, sim_job};

const REFRESH: &str = "clouddb.io/refresh-requested-at";

fn condition(status: &serde_json::Value, type_: &str) -> (String, String) {
    status["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == type_))
        .map(|c| {
            (
                c["status"].as_str().unwrap_or("").to_string(),
                c["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_job_is_not_polled_and_resumes_where_it_stopped() {
    let job = sim_job(
        ProviderKind::Huawei,
        "rds",
        "dddddddd-0000-4000-8000-000000000001",
        &[
            (0, Phase::Running, Some(20)),
            (6, Phase::Running, Some(60)),
            (10, Phase::Succeed, None),
        ],
    );
    let h = Harness::start(
        "suspend",
        Options {
            speed: 1.0,
            builtins: false,
            jobs: vec![job.clone()],
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    h.apply("paused", &manifest_for(&job, "paused", &url).yaml())
        .await;
    h.eventually("the job running", 20, |h| {
        h.status("paused")["phase"] == "Running"
    })
    .await;
    h.kubectl_ok(&[
        "patch",
        "cdbjob/paused",
        "--type=merge",
        "-p",
        r#"{"spec":{"suspend":true}}"#,
    ])
    .await;
    h.eventually("the suspension in status", 20, |h| {
        h.status("paused")["reason"] == "Suspended"
    })
    .await;
    let status = h.status("paused");
    assert_eq!(
        condition(&status, "Reconciling"),
        ("False".into(), "Suspended".into())
    );
    assert_eq!(status["phase"], "Running", "{status}");
    let progress = status["progress"].as_i64().expect("progress kept");
    assert!((20..=60).contains(&progress), "{status}");

    // While suspended: no provider request, no status write, however long; the job moves
    // on at the provider meanwhile (it succeeds at 10 s).
    let polls = h.sim_requests(&job.job_id);
    let writes = h.status_writes("paused");
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(
        h.sim_requests(&job.job_id),
        polls,
        "a suspended job was polled"
    );
    assert_eq!(
        h.status_writes("paused"),
        writes,
        "a suspended job was written"
    );
    let ready = h
        .kubectl(&[
            "wait",
            "--for=condition=Ready",
            "--timeout=1s",
            "cdbjob/paused",
        ])
        .await;
    assert!(!ready.status.success(), "{}", output_text(&ready));

    h.kubectl_ok(&[
        "patch",
        "cdbjob/paused",
        "--type=merge",
        "-p",
        r#"{"spec":{"suspend":false}}"#,
    ])
    .await;
    h.wait_for("paused", "Complete", 20).await;
    let done = h.status("paused");
    assert_eq!(done["progress"], 100);
    assert!(done["reason"].is_null(), "{done}");
    assert!(h.sim_requests(&job.job_id) > polls);
    h.assert_no_noop_writes(&["paused"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_request_polls_once_per_new_value() {
    // Running with no progress, so no predicted end makes the controller poll early.
    let job = sim_job(
        ProviderKind::Huawei,
        "rds",
        "dddddddd-0000-4000-8000-000000000002",
        &[(0, Phase::Running, None), (3600, Phase::Succeed, None)],
    );
    let h = Harness::start(
        "refresh",
        Options {
            speed: 1.0,
            builtins: false,
            jobs: vec![job.clone()],
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    let manifest = manifest_for(&job, "slow", &url).with_spec(json!({"pollInterval": "1h"}));
    h.apply("slow", &manifest.yaml()).await;
    h.eventually("the job running", 20, |h| {
        h.status("slow")["phase"] == "Running"
    })
    .await;
    // Settled on the hour's interval.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let settled = h.sim_requests(&job.job_id);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(h.sim_requests(&job.job_id), settled, "not settled");

    refresh(&h, "2026-11-30T04:00:00Z").await;
    h.eventually("the refresh acted on", 20, |h| {
        h.status("slow")["lastRefreshRequest"] == "2026-11-30T04:00:00Z"
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        h.sim_requests(&job.job_id),
        settled + 1,
        "one refresh request, one poll"
    );
    // The same value again (an unrelated annotation edit) asks for nothing.
    h.kubectl_ok(&["annotate", "--overwrite", "cdbjob/slow", "team=dba"])
        .await;
    refresh(&h, "2026-11-30T04:00:00Z").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(h.sim_requests(&job.job_id), settled + 1);
    // A new value asks for one more.
    refresh(&h, "2026-11-30T04:05:00Z").await;
    h.eventually("the second refresh acted on", 20, |h| {
        h.status("slow")["lastRefreshRequest"] == "2026-11-30T04:05:00Z"
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(h.sim_requests(&job.job_id), settled + 2);
}

async fn refresh(h: &Harness, value: &str) {
    h.kubectl_ok(&[
        "annotate",
        "--overwrite",
        "cdbjob/slow",
        &format!("{REFRESH}={value}"),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_jobs_are_deleted_after_their_ttl_even_across_a_restart() {
    let steps = [(0, Phase::Running, Some(50)), (1, Phase::Succeed, None)];
    let cleaned = sim_job(
        ProviderKind::Huawei,
        "rds",
        "dddddddd-0000-4000-8000-000000000003",
        &steps,
    );
    let kept = sim_job(
        ProviderKind::Huawei,
        "rds",
        "dddddddd-0000-4000-8000-000000000004",
        &steps,
    );
    let mut h = Harness::start(
        "ttl",
        Options {
            speed: 1.0,
            builtins: false,
            jobs: vec![cleaned.clone(), kept.clone()],
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    let with_ttl =
        manifest_for(&cleaned, "cleaned", &url).with_spec(json!({"ttlSecondsAfterFinished": 6}));
    h.apply("cleaned", &with_ttl.yaml()).await;
    h.apply("kept", &manifest_for(&kept, "kept", &url).yaml())
        .await;
    h.wait_for("cleaned", "Complete", 30).await;
    h.wait_for("kept", "Complete", 30).await;
    // The deadline lives in the status, not in the operator's memory: restart it.
    h.kill_operator();
    assert!(!h.object("cleaned").is_null(), "deleted before its TTL");
    h.start_operator().await;
    h.eventually("the finished job deleted after its TTL", 30, |h| {
        h.object("cleaned").is_null()
    })
    .await;
    assert!(
        !h.object("kept").is_null(),
        "a job without a TTL was deleted"
    );
    let metrics = h.metrics().await;
    assert!(
        metrics.contains("clouddb_job_operator_ttl_deletions_total 1"),
        "{metrics}"
    );
}
