//! Issue 6, tests 3 and 4: the operator killed and restarted mid-job; a job deleted
//! mid-flight.

use std::time::Duration;

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::scenario::Phase;

use super::harness::{tail, Harness, Options};
use super::manifests::{manifest_for, sim_job};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_job_keeps_status_and_polls_on() {
    let long = sim_job(
        ProviderKind::Tencent,
        "DescribeTasks",
        "880001",
        &[
            (0, Phase::Running, Some(10)),
            (4, Phase::Running, Some(30)),
            (8, Phase::Running, Some(50)),
            (12, Phase::Running, Some(70)),
            (16, Phase::Running, Some(90)),
            (20, Phase::Succeed, None),
        ],
    );
    let short = sim_job(
        ProviderKind::TencentLegacy,
        "GetCdbTaskInfo",
        "880002",
        &[(0, Phase::Running, Some(50)), (2, Phase::Succeed, None)],
    );
    let mut h = Harness::start(
        "restart",
        Options {
            speed: 2.0,
            builtins: false,
            jobs: vec![long.clone(), short.clone()],
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    h.apply("long", &manifest_for(&long, "long", &url).yaml())
        .await;
    h.apply("short", &manifest_for(&short, "short", &url).yaml())
        .await;
    h.wait_for("short", "Complete", 20).await;
    h.eventually("the long job at 30% or more", 20, |h| {
        h.status("long")["progress"].as_i64().unwrap_or(0) >= 30
    })
    .await;

    let long_before = h.object("long");
    let before = long_before["status"].clone();
    let rv_before: u64 = long_before["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("a resourceVersion");
    let short_before = h.object("short");
    let short_statuses_before = h.history.of("short").len();
    let writes_before = h.status_writes("long");
    h.kill_operator();
    assert_eq!(before["phase"], "Running", "{before}");
    let polls_before = h.sim_requests("880001");
    let polls_of_short = h.sim_requests("880002");
    // The job moves on while no operator watches it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(h.sim_requests("880001"), polls_before, "nobody polls");
    h.start_operator().await;
    h.wait_for("long", "Complete", 30).await;

    let list = h.assert_sane("long", false).await;
    let after = h.status("long");
    assert_eq!(after["progress"], 100);
    // The first status written after the restart continues from the old one.
    let resumed = list
        .iter()
        .find(|s| s.resource_version > rv_before)
        .expect("a status written after the restart");
    assert!(
        resumed.progress() >= before["progress"].as_i64(),
        "{list:?}"
    );
    assert!(
        after["pollCount"].as_i64() > before["pollCount"].as_i64(),
        "pollCount continues: {before} -> {after}"
    );
    assert_eq!(
        after["startTime"], before["startTime"],
        "startTime kept across the restart"
    );
    // Exactly one terminal write per job, and nothing for the job that ended before.
    assert_eq!(
        list.iter().filter(|s| s.is_terminal()).count(),
        1,
        "{list:?}"
    );
    assert_eq!(
        h.object("short")["metadata"]["resourceVersion"],
        short_before["metadata"]["resourceVersion"],
        "a finished job is not written again after a restart"
    );
    assert_eq!(
        h.assert_sane("short", false).await.len(),
        short_statuses_before,
        "no status of the finished job was recorded after the restart"
    );
    // Counted since before the restart: the new operator reconciled the finished job when
    // it started, then polled the long one to its end, and never asked about this one.
    assert_eq!(
        h.sim_requests("880002"),
        polls_of_short,
        "finished jobs are not polled"
    );
    assert!(
        resumed.poll_count() > before["pollCount"].as_i64(),
        "the first status after the restart counts on: {before} -> {:?}",
        resumed.status
    );
    assert!(h.status_writes("long") > writes_before);
    h.assert_no_noop_writes(&["long", "short"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_job_mid_flight_stops_its_polls_only() {
    let doomed = sim_job(
        ProviderKind::Huawei,
        "rds",
        "dddddddd-0000-4000-8000-000000000001",
        &[(0, Phase::Running, Some(5)), (600, Phase::Succeed, None)],
    );
    let other = sim_job(
        ProviderKind::Huawei,
        "taurusdb",
        "dddddddd-0000-4000-8000-000000000002",
        &[
            (0, Phase::Running, Some(5)),
            (16, Phase::Running, Some(50)),
            (30, Phase::Succeed, None),
        ],
    );
    let third = sim_job(
        ProviderKind::Tencent,
        "DescribeTasks",
        "990003",
        &[(0, Phase::Running, Some(5)), (12, Phase::Succeed, None)],
    );
    let mut h = Harness::start(
        "delete",
        Options {
            speed: 2.0,
            builtins: false,
            jobs: vec![doomed.clone(), other.clone(), third.clone()],
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    for (job, name) in [(&doomed, "doomed"), (&other, "other"), (&third, "third")] {
        h.apply(name, &manifest_for(job, name, &url).yaml()).await;
    }
    h.eventually("two polls of the doomed job", 20, |h| {
        h.sim_requests(&doomed.job_id) >= 2 && h.status("doomed")["phase"] == "Running"
    })
    .await;
    h.kubectl_ok(&["delete", "cdbjob/doomed", "--wait=false"])
        .await;
    h.eventually("the doomed job gone", 20, |h| h.object("doomed").is_null())
        .await;
    // A poll already in flight may still land: counted from two polls of the other job
    // (1 s apart) after the deletion, so every poll started before it has ended.
    let settled = h.sim_requests(&other.job_id) + 2;
    h.eventually("two more polls of the other job", 20, |h| {
        h.sim_requests(&other.job_id) >= settled
    })
    .await;
    let after_delete = h.sim_requests(&doomed.job_id);
    // Three more polls of the other job: the doomed one would have been polled again.
    let later = h.sim_requests(&other.job_id) + 3;
    h.eventually("three more polls of the other job", 20, |h| {
        h.sim_requests(&other.job_id) >= later
    })
    .await;
    assert_eq!(
        h.sim_requests(&doomed.job_id),
        after_delete,
        "the deleted job is still polled"
    );
    h.wait_for("other", "Complete", 20).await;
    h.wait_for("third", "Complete", 20).await;
    h.assert_sane("other", false).await;
    h.assert_sane("third", false).await;
    h.assert_operator_alive();
    let logs = h.operator_logs();
    assert!(!logs.contains("panicked"), "{}", tail(&logs, 40));
    assert!(!logs.contains("ERROR"), "{}", tail(&logs, 40));
}

/// A `spec.endpoint` outside `--allowed-endpoints` is refused by the running operator: the
/// job stalls with reason `EndpointNotAllowed` and not one connection reaches the endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_outside_the_allow_list_is_never_contacted() {
    let job = sim_job(
        ProviderKind::Tencent,
        "DescribeTasks",
        "886001",
        &[(0, Phase::Running, Some(10))],
    );
    let h = Harness::start(
        "endpoint-policy",
        Options {
            builtins: false,
            jobs: vec![job.clone()],
            ..Options::default()
        },
    )
    .await;
    // A listener that counts connections, named by a host the allow list (127.0.0.1) does
    // not match.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = connections.clone();
    let accept = tokio::spawn(async move {
        while let Ok((_socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let endpoint = format!("http://localhost:{port}");
    h.apply("outside", &manifest_for(&job, "outside", &endpoint).yaml())
        .await;
    h.wait_for("outside", "Stalled", 30).await;
    let status = h.status("outside");
    assert_eq!(status["reason"], "EndpointNotAllowed", "{status}");
    assert!(
        status["message"]
            .as_str()
            .unwrap_or("")
            .contains("localhost"),
        "the message names the refused host: {status}"
    );
    // The same job at an allowed endpoint is tracked: the refusal was the policy's.
    h.apply("inside", &manifest_for(&job, "inside", &h.sim.url()).yaml())
        .await;
    h.eventually("the allowed job polled", 30, |h| {
        h.sim_requests("886001") > 0
    })
    .await;
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a refused endpoint was contacted"
    );
    accept.abort();
}

/// `spec.ttlSecondsAfterFinished` deletes the job that finished, never one re-created under
/// its name: the deletion carries the finished object's UID as a precondition, which the
/// apiserver enforces. A job finishes with a TTL running; it is deleted and re-created
/// (same name, another provider job) before the TTL ends. The running operator leaves the
/// new one alone past the old deadline, and so does a reconcile of the finished object as
/// a stale cache would hand it over, at a time past its TTL: the apiserver refuses that
/// deletion (409) and the reconcile ends without error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_re_created_under_the_same_name_is_never_deleted_in_its_place() {
    use std::sync::Arc;

    use clouddb_job_operator::api::CloudDbJob;
    use clouddb_job_operator::controller::memory::JobMemory;
    use clouddb_job_operator::controller::metrics::Metrics;
    use clouddb_job_operator::controller::{reconcile, Context};
    use clouddb_job_operator::providers::endpoints::EndpointPolicy;
    use clouddb_job_operator::providers::scripted::ScriptedProvider;

    let finished = sim_job(
        ProviderKind::Tencent,
        "DescribeTasks",
        "887001",
        &[(0, Phase::Running, Some(50)), (2, Phase::Succeed, None)],
    );
    let running = sim_job(
        ProviderKind::Tencent,
        "DescribeTasks",
        "887002",
        &[(0, Phase::Running, Some(5)), (3600, Phase::Succeed, None)],
    );
    let mut h = Harness::start(
        "ttl-uid",
        Options {
            speed: 2.0,
            builtins: false,
            jobs: vec![finished.clone(), running.clone()],
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    let ttl = 20;
    let first = manifest_for(&finished, "ttl", &url)
        .with_spec(serde_json::json!({"ttlSecondsAfterFinished": ttl}));
    h.apply("ttl", &first.yaml()).await;
    h.wait_for("ttl", "Complete", 60).await;
    let old: CloudDbJob = serde_json::from_value(h.object("ttl")).unwrap();
    let old_uid = old.metadata.uid.clone().unwrap();
    let done_at = old
        .status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Complete"))
        .map(|c| c.last_transition_time.0)
        .expect("a Complete condition");
    let deadline = done_at + jiff::SignedDuration::from_secs(ttl);

    // Re-created under the same name, with the TTL still running.
    h.kubectl_ok(&["delete", "cdbjob/ttl", "--wait=true"]).await;
    let second = manifest_for(&running, "ttl", &url)
        .with_spec(serde_json::json!({"ttlSecondsAfterFinished": ttl}));
    h.apply("ttl", &second.yaml()).await;
    let new_uid = h.object("ttl")["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_uid, old_uid);
    assert!(
        jiff::Timestamp::now() < deadline,
        "re-created after the TTL ended"
    );
    h.eventually("the re-created job polled", 30, |h| {
        h.status("ttl")["phase"] == "Running"
    })
    .await;

    // The finished object, reconciled at a time past its TTL: the deletion names its UID.
    let ctx = Arc::new(Context {
        client: h.client.clone(),
        provider: Arc::new(ScriptedProvider::new()),
        memory: Arc::new(JobMemory::default()),
        metrics: Arc::new(Metrics::new()),
        recorder: None,
        endpoints: EndpointPolicy::default(),
        clock: Arc::new(move || deadline + jiff::SignedDuration::from_secs(1)),
        sampler: Arc::new(|| 0.5),
        schedule: Default::default(),
        secrets: Default::default(),
    });
    reconcile(Arc::new(old), ctx.clone())
        .await
        .expect("a refused deletion is not an error");
    assert_eq!(
        h.object("ttl")["metadata"]["uid"],
        new_uid.as_str(),
        "the re-created job was deleted in place of the finished one"
    );

    // And the running operator, past the old deadline and a few polls of the new job.
    h.eventually("the old TTL over", 60, |_| {
        jiff::Timestamp::now() > deadline + jiff::SignedDuration::from_secs(2)
    })
    .await;
    let polls = h.sim_requests(&running.job_id) + 2;
    h.eventually("two more polls of the re-created job", 30, |h| {
        h.sim_requests(&running.job_id) >= polls
    })
    .await;
    let now = h.object("ttl");
    assert_eq!(now["metadata"]["uid"], new_uid.as_str(), "{now}");
    assert_eq!(now["status"]["phase"], "Running", "{now}");
    let logs = h.operator_logs();
    assert!(
        !logs.contains("deleted finished job"),
        "{}",
        tail(&logs, 40)
    );
    h.assert_operator_alive();
}
