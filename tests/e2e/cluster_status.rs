//! Status as the real apiserver stores it: written by server-side apply under the operator's
//! field manager (the spec stays the applier's), no write while the provider says nothing
//! new, printer columns, and the transition Events through `events.k8s.io/v1`.

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::scenario::Phase;
use serde_json::Value;

use super::harness::{Harness, Options};
use super::manifests::{manifest_for, sim_job};

fn managers(object: &Value) -> Vec<(String, String, String, Value)> {
    object["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields shown")
        .iter()
        .map(|m| {
            let s = |k: &str| m[k].as_str().unwrap_or("").to_string();
            (
                s("manager"),
                s("operation"),
                s("subresource"),
                m["fieldsV1"].clone(),
            )
        })
        .collect()
}

fn resource_version(object: &Value) -> String {
    object["metadata"]["resourceVersion"]
        .as_str()
        .expect("a resourceVersion")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_is_applied_by_the_operator_once_per_change_and_shown_in_columns() {
    // Running at 40 % for long enough to be polled many times without a change.
    let steady = sim_job(
        ProviderKind::TencentLegacy,
        "GetCdbUpgradeJobInfo",
        "881001",
        &[(0, Phase::Running, Some(40)), (40, Phase::Succeed, None)],
    );
    let mut h = Harness::start(
        "ssa",
        Options {
            speed: 1.0,
            builtins: false,
            jobs: vec![steady.clone()],
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    h.apply("steady", &manifest_for(&steady, "steady", &url).yaml())
        .await;
    h.eventually("the job shown Running", 20, |h| {
        h.status("steady")["phase"] == "Running"
    })
    .await;

    // Field ownership: spec by kubectl's apply, status by the operator's server-side apply
    // through the status subresource.
    let shown: Value = serde_json::from_str(
        &h.kubectl_ok(&[
            "get",
            "cdbjob/steady",
            "--show-managed-fields",
            "-o",
            "json",
        ])
        .await,
    )
    .unwrap();
    let owners = managers(&shown);
    let status_owner = owners
        .iter()
        .find(|(_, _, sub, fields)| sub == "status" && fields.get("f:status").is_some())
        .unwrap_or_else(|| panic!("nobody owns status: {owners:?}"));
    assert_eq!(status_owner.0, "clouddb-job-operator", "{owners:?}");
    assert_eq!(status_owner.1, "Apply", "server-side apply: {owners:?}");
    for field in ["f:phase", "f:progress", "f:conditions"] {
        assert!(
            status_owner.3["f:status"].get(field).is_some(),
            "{field} not owned by the operator: {owners:?}"
        );
    }
    let spec_owner = owners
        .iter()
        .find(|(_, _, _, fields)| fields.get("f:spec").is_some())
        .unwrap_or_else(|| panic!("nobody owns spec: {owners:?}"));
    assert!(
        spec_owner.0.starts_with("kubectl"),
        "spec owned by the applier: {owners:?}"
    );
    assert!(
        owners
            .iter()
            .filter(|(m, _, _, _)| m == "clouddb-job-operator")
            .all(|(_, _, _, f)| f.get("f:spec").is_none()),
        "the operator owns no spec field: {owners:?}"
    );

    // No write while nothing changes: once the first observations are in (the second one
    // adds the rate-based ETA), the resourceVersion stays put over 5 more polls.
    h.eventually("three polls", 30, |h| h.sim_requests("881001") >= 3)
        .await;
    let rv = resource_version(&h.object("steady"));
    let writes = h.status_writes("steady");
    let polls = h.sim_requests("881001");
    h.eventually("5 more polls", 30, |h| {
        h.sim_requests("881001") >= polls + 5
    })
    .await;
    assert_eq!(
        resource_version(&h.object("steady")),
        rv,
        "the object was written while the provider reported no change"
    );
    assert_eq!(
        h.status_writes("steady"),
        writes,
        "no status patch, not even a no-op"
    );

    // Printer columns, as `kubectl get` shows them.
    let table = h.kubectl_ok(&["get", "cdbjob/steady"]).await;
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "PROVIDER", "JOB", "TYPE", "PHASE", "PROGRESS", "AGE"],
        "{table}"
    );
    let row: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        &row[..6],
        [
            "steady",
            "tencent-legacy",
            "881001",
            "upgrade",
            "Running",
            "40"
        ],
        "{table}"
    );
    let wide = h.kubectl_ok(&["get", "cdbjob/steady", "-o", "wide"]).await;
    let header: Vec<&str> = wide.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "PROVIDER", "JOB", "TYPE", "PHASE", "PROGRESS", "ETA", "REASON", "AGE"],
        "{wide}"
    );
    let eta = h.status("steady")["estimatedCompletionTime"].clone();
    let row: Vec<&str> = wide.lines().nth(1).unwrap().split_whitespace().collect();
    if let Some(eta) = eta.as_str() {
        assert_eq!(row[6], eta, "{wide}");
    }

    // To the end: the terminal status, then the Events of each transition, once each (the
    // first status, seen running, is no Event: the status says it).
    h.wait_for("steady", "Complete", 60).await;
    h.assert_no_noop_writes(&["steady"]).await;
    let events = h.events_of("steady").await;
    let mut reasons: Vec<String> = events
        .iter()
        .map(|e| {
            assert_eq!(e["regarding"]["kind"], "CloudDbJob", "{e}");
            assert_eq!(e["reportingController"], "clouddb-job-operator", "{e}");
            e["reason"].as_str().unwrap_or("").to_string()
        })
        .collect();
    reasons.sort();
    assert_eq!(reasons, ["Succeeded"], "{events:?}");
    h.assert_operator_alive();
}

/// A provider message longer than the apiserver accepts in an Event note (1 KiB for
/// `events.k8s.io/v1`) still yields the failure Event, cut on a character boundary, while
/// the status keeps the whole message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_with_a_long_message_is_still_published_as_an_event() {
    let mut job = sim_job(
        ProviderKind::Huawei,
        "rds",
        "dead0000-0000-4000-8000-000000000001",
        &[(0, Phase::Running, Some(10)), (1, Phase::Failed, None)],
    );
    // 3-byte characters, so a byte cut at 1024 would split one.
    let long = format!("磁盘空间不足 {}", "失败".repeat(400));
    job.timeline[1].message = Some(long.clone());
    let h = Harness::start(
        "long-message",
        Options {
            speed: 2.0,
            builtins: false,
            jobs: vec![job.clone()],
            ..Options::default()
        },
    )
    .await;
    h.apply(
        "verbose",
        &manifest_for(&job, "verbose", &h.sim.url()).yaml(),
    )
    .await;
    h.wait_for("verbose", "Failed", 30).await;
    assert_eq!(h.status("verbose")["message"].as_str(), Some(long.as_str()));
    let mut failure = None;
    for _ in 0..50 {
        failure = h
            .events_of("verbose")
            .await
            .into_iter()
            .find(|e| e["type"] == "Warning");
        if failure.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let failure = failure.expect("a Warning Event for the failure");
    let note = failure["note"].as_str().unwrap_or("");
    assert!(
        note.len() <= 1024 && note.len() > 1000,
        "{} bytes",
        note.len()
    );
    assert!(
        long.starts_with(note),
        "the note is the message's beginning"
    );
}
