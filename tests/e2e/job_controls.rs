//! Issue 20, items 3 and 4, and issue 27, on the real control plane: `spec.suspend` stops
//! polling and resuming continues; `spec.timeout` still fails a suspended job at its
//! deadline, without a poll; the `clouddb.io/refresh-requested-at` annotation forces
//! exactly one poll per new value, across an operator restart too;
//! `spec.ttlSecondsAfterFinished` deletes a finished job, also across an operator restart,
//! and leaves jobs without it alone.
//!
//! Nothing here races the wall clock: the simulated jobs run for an hour unless the test
//! moves them on (`Simulator::add_job`), and every "nothing happened" is read after a fact
//! that would have shown it (another job's polls, a status write the same reconcile makes,
//! a reconcile of the restarted operator).

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::scenario::Phase;
use clouddb_job_operator::simulator::JobSpec;
use serde_json::json;

use super::harness::{output_text, Harness, Options};
use super::manifests::{manifest_for, sim_job};

const REFRESH: &str = "clouddb.io/refresh-requested-at";

/// Running at the provider for an hour: nothing ends before the test moves it on.
const HOUR_LONG: &[(u64, Phase, Option<u8>)] =
    &[(0, Phase::Running, Some(20)), (3600, Phase::Succeed, None)];

fn job_id(n: u8) -> String {
    format!("dddddddd-0000-4000-8000-0000000000{n:02}")
}

fn huawei(n: u8, steps: &[(u64, Phase, Option<u8>)]) -> JobSpec {
    sim_job(ProviderKind::Huawei, "rds", &job_id(n), steps)
}

async fn start(tag: &str, jobs: &[&JobSpec]) -> Harness {
    Harness::start(
        tag,
        Options {
            speed: 1.0,
            builtins: false,
            jobs: jobs.iter().map(|j| (*j).clone()).collect(),
            ..Options::default()
        },
    )
    .await
}

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

fn time(value: &serde_json::Value) -> jiff::Timestamp {
    value
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("not a time: {value}"))
}

/// The object's resourceVersion: unchanged, nobody (the controller included) wrote it.
fn version(h: &Harness, name: &str) -> String {
    h.object(name)["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

async fn patch_spec(h: &Harness, name: &str, spec: serde_json::Value) {
    let patch = json!({ "spec": spec }).to_string();
    h.kubectl_ok(&[
        "patch",
        &format!("cdbjob/{name}"),
        "--type=merge",
        "-p",
        &patch,
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_job_is_not_polled_and_resumes_where_it_stopped() {
    let job = huawei(1, HOUR_LONG);
    // Polled every second throughout, as the paused job would be: the clock the test waits on.
    let ticker = huawei(5, HOUR_LONG);
    let h = start("suspend", &[&job, &ticker]).await;
    let url = h.sim.url();
    h.apply("paused", &manifest_for(&job, "paused", &url).yaml())
        .await;
    h.apply("ticker", &manifest_for(&ticker, "ticker", &url).yaml())
        .await;
    h.eventually("the job running", 20, |h| {
        h.status("paused")["phase"] == "Running"
    })
    .await;
    patch_spec(&h, "paused", json!({"suspend": true})).await;
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
    assert_eq!(status["progress"], 20, "{status}");

    // While suspended the job ends at the provider; the operator must not ask. Every poll
    // before the suspension was counted before the write that said Suspended.
    h.sim
        .add_job(huawei(1, &[(0, Phase::Succeed, None)]))
        .unwrap();
    let polls = h.sim_requests(&job.job_id);
    let written = version(&h, "paused");
    let ticks = h.sim_requests(&ticker.job_id) + 5;
    h.eventually("five more polls of the other job", 30, |h| {
        h.sim_requests(&ticker.job_id) >= ticks
    })
    .await;
    assert_eq!(
        h.sim_requests(&job.job_id),
        polls,
        "a suspended job was polled"
    );
    assert_eq!(
        version(&h, "paused"),
        written,
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

    patch_spec(&h, "paused", json!({"suspend": false})).await;
    h.wait_for("paused", "Complete", 20).await;
    let done = h.status("paused");
    assert_eq!(done["progress"], 100);
    assert!(done["reason"].is_null(), "{done}");
    assert!(h.sim_requests(&job.job_id) > polls);
    h.assert_no_noop_writes(&["paused"]).await;
}

/// Issue 27: `spec.timeout` keeps counting while a job is suspended, and a pipeline waiting
/// on the job sees it fail at the deadline (not only once someone resumes it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_job_fails_at_its_timeout_without_a_poll() {
    let job = huawei(6, HOUR_LONG);
    let h = start("suspend-timeout", &[&job]).await;
    let manifest = manifest_for(&job, "late", &h.sim.url())
        .with_spec(json!({"suspend": true, "timeout": "8s"}));
    h.apply("late", &manifest.yaml()).await;
    h.wait_for("late", "Failed", 40).await;
    let object = h.object("late");
    let status = &object["status"];
    assert_eq!(status["phase"], "Failed", "{status}");
    assert_eq!(status["reason"], "TrackingTimeout", "{status}");
    assert_eq!(
        condition(status, "Failed"),
        ("True".into(), "TrackingTimeout".into())
    );
    assert_eq!(condition(status, "Ready").0, "False", "{status}");
    assert_eq!(condition(status, "Reconciling").0, "False", "{status}");
    let message = status["message"].as_str().unwrap_or("");
    assert!(message.contains("8s"), "{status}");
    assert_eq!(object["spec"]["suspend"], true, "still suspended");
    // At the deadline, not before it (creation + 8 s, both read from the object).
    let failed_at = object["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Failed"))
        .map(|c| time(&c["lastTransitionTime"]))
        .expect("a Failed condition");
    let created = time(&object["metadata"]["creationTimestamp"]);
    assert!(
        failed_at >= created + jiff::SignedDuration::from_secs(8),
        "failed at {failed_at}, created {created}"
    );
    assert_eq!(h.sim_requests(&job.job_id), 0, "a suspended job was polled");
    assert_eq!(h.sim.request_count(), 0, "the provider was asked something");
    h.assert_no_noop_writes(&["late"]).await;
}

async fn refresh(h: &Harness, name: &str, value: &str) {
    h.kubectl_ok(&[
        "annotate",
        "--overwrite",
        &format!("cdbjob/{name}"),
        &format!("{REFRESH}={value}"),
    ])
    .await;
}

/// Sets a new refresh value and waits until the controller recorded it as acted on: its
/// poll, if it made one, was counted before that write.
async fn refreshed(h: &Harness, name: &str, value: &str) {
    refresh(h, name, value).await;
    h.eventually(&format!("the refresh {value} acted on"), 20, |h| {
        h.status(name)["lastRefreshRequest"] == value
    })
    .await;
}

/// Changes `spec.pollInterval` of a suspended job and waits for the controller to say so
/// (`observedGeneration`): a reconcile that sees every earlier edit of the object and, the
/// job being suspended, polls nothing itself. Any poll an earlier edit caused was counted
/// before it.
async fn reconciled_while_suspended(h: &Harness, name: &str, interval: &str) {
    patch_spec(h, name, json!({"pollInterval": interval})).await;
    let generation = h.object(name)["metadata"]["generation"].clone();
    h.eventually("the new generation observed", 20, |h| {
        let status = h.status(name);
        status["observedGeneration"] == generation && status["reason"] == "Suspended"
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_request_polls_once_per_new_value() {
    let job = huawei(2, HOUR_LONG);
    let h = start("refresh", &[&job]).await;
    let manifest =
        manifest_for(&job, "slow", &h.sim.url()).with_spec(json!({"pollInterval": "1h"}));
    h.apply("slow", &manifest.yaml()).await;
    h.eventually("the job running", 20, |h| {
        h.status("slow")["phase"] == "Running"
    })
    .await;
    // The poll that found it running was counted before its write; the next is an hour off.
    let settled = h.sim_requests(&job.job_id);

    refreshed(&h, "slow", "2026-11-30T04:00:00Z").await;
    assert_eq!(
        h.sim_requests(&job.job_id),
        settled + 1,
        "one refresh request, one poll"
    );
    // The same value again (an unrelated annotation edit) asks for nothing: not before the
    // suspension below, nor in the reconcile that writes it (a refresh comes first there).
    h.kubectl_ok(&["annotate", "--overwrite", "cdbjob/slow", "team=dba"])
        .await;
    patch_spec(&h, "slow", json!({"suspend": true})).await;
    h.eventually("the suspension in status", 20, |h| {
        h.status("slow")["reason"] == "Suspended"
    })
    .await;
    assert_eq!(
        h.sim_requests(&job.job_id),
        settled + 1,
        "the same value polled"
    );
    // A new value asks for one more, even of a suspended job, and only one.
    refreshed(&h, "slow", "2026-11-30T04:05:00Z").await;
    assert_eq!(h.sim_requests(&job.job_id), settled + 2);
    reconciled_while_suspended(&h, "slow", "2h").await;
    assert_eq!(h.sim_requests(&job.job_id), settled + 2, "polled twice");
}

/// Issue 27: "each new value causes exactly one poll, across operator restarts too". A
/// suspended job is polled only on request, and a restart does not poll it either, so
/// every poll here is a refresh's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_value_polls_once_across_an_operator_restart() {
    let job = huawei(7, HOUR_LONG);
    let mut h = start("refresh-restart", &[&job]).await;
    let manifest = manifest_for(&job, "slow", &h.sim.url()).with_spec(json!({"suspend": true}));
    h.apply("slow", &manifest.yaml()).await;
    h.eventually("the suspension in status", 20, |h| {
        h.status("slow")["reason"] == "Suspended"
    })
    .await;
    assert_eq!(h.sim_requests(&job.job_id), 0);

    refreshed(&h, "slow", "2026-11-30T04:00:00Z").await;
    assert_eq!(
        h.sim_requests(&job.job_id),
        1,
        "one refresh request, one poll"
    );
    h.eventually("the suspension said again", 20, |h| {
        h.status("slow")["reason"] == "Suspended"
    })
    .await;

    // A new process knows only what the status says; its reconcile of a new generation sees
    // the same refresh value as the first operator left it.
    h.kill_operator();
    h.start_operator().await;
    reconciled_while_suspended(&h, "slow", "2s").await;
    assert_eq!(
        h.sim_requests(&job.job_id),
        1,
        "the restarted operator acted on the same value again"
    );

    refreshed(&h, "slow", "2026-11-30T04:05:00Z").await;
    assert_eq!(h.sim_requests(&job.job_id), 2, "a new value, one more poll");
    reconciled_while_suspended(&h, "slow", "3s").await;
    assert_eq!(h.sim_requests(&job.job_id), 2, "polled twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_jobs_are_deleted_after_their_ttl_even_across_a_restart() {
    let steps = [(0, Phase::Running, Some(50)), (1, Phase::Succeed, None)];
    let cleaned = huawei(3, &steps);
    let kept = huawei(4, &steps);
    let mut h = start("ttl", &[&cleaned, &kept]).await;
    let url = h.sim.url();
    // An hour: the first operator cannot delete it before it is killed, however slow.
    let with_ttl =
        manifest_for(&cleaned, "cleaned", &url).with_spec(json!({"ttlSecondsAfterFinished": 3600}));
    h.apply("cleaned", &with_ttl.yaml()).await;
    h.apply("kept", &manifest_for(&kept, "kept", &url).yaml())
        .await;
    h.wait_for("cleaned", "Complete", 30).await;
    h.wait_for("kept", "Complete", 30).await;
    // The deadline lives in the status, not in the operator's memory: with the operator
    // down, shorten the TTL to end a few seconds from now, counted from the Complete
    // condition the first operator wrote; a new operator must delete the job then.
    h.kill_operator();
    let status = h.status("cleaned");
    let finished = status["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Complete"))
        .map(|c| time(&c["lastTransitionTime"]))
        .expect("a Complete condition");
    let ttl = jiff::Timestamp::now().duration_since(finished).as_secs() + 5;
    patch_spec(&h, "cleaned", json!({"ttlSecondsAfterFinished": ttl})).await;
    let deadline = finished + jiff::SignedDuration::from_secs(ttl);
    h.start_operator().await;
    h.eventually("the finished job deleted after its TTL", 30, |h| {
        h.object("cleaned").is_null()
    })
    .await;
    assert!(
        jiff::Timestamp::now() >= deadline,
        "deleted before its TTL ran out at {deadline}"
    );
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
