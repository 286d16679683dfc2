//! Leader election on a real `coordination.k8s.io/v1` Lease, under the chart's RBAC: two
//! operator processes, only the holder reconciles, and on SIGTERM the holder releases the
//! Lease so the standby takes it over before it would have expired.

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::scenario::Phase;
use serde_json::Value;

use super::harness::{http_get, output_text, Harness, Operator, Options};
use super::manifests::{manifest_for, sim_job};

/// Reconciles so far, from an instance's /metrics.
async fn reconciles(op: &Operator) -> u64 {
    let (_, body) = http_get(op.metrics_port, "/metrics")
        .await
        .unwrap_or_default();
    body.lines()
        .filter(|l| l.starts_with("clouddb_job_operator_reconciles_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

async fn lease(h: &Harness) -> Value {
    serde_json::from_str(
        &h.kubectl_ok(&["get", "lease/clouddb-job-operator", "-o", "json"])
            .await,
    )
    .unwrap()
}

fn time(lease: &Value, field: &str) -> jiff::Timestamp {
    lease["spec"][field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field}: {lease}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_lease_holder_reconciles_and_sigterm_hands_over() {
    let job = sim_job(
        ProviderKind::Tencent,
        "DescribeTasks",
        "882001",
        &[(0, Phase::Running, Some(10)), (600, Phase::Succeed, None)],
    );
    let mut h = Harness::start_without_operator(
        "leader",
        Options {
            speed: 1.0,
            builtins: false,
            jobs: vec![job.clone()],
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    h.apply("led", &manifest_for(&job, "led", &url).yaml())
        .await;
    let mut a = h.spawn_operator(&[], "operator-a").await;
    let mut b = h.spawn_operator(&[], "operator-b").await;
    h.eventually("the job tracked", 30, |h| {
        h.status("led")["phase"] == "Running"
    })
    .await;

    // The Lease names the one instance that reconciles; the other has done nothing.
    let held = lease(&h).await;
    let holder = held["spec"]["holderIdentity"].as_str().unwrap().to_string();
    assert_eq!(held["spec"]["leaseDurationSeconds"], 15, "{held}");
    let (leader, standby) = match holder.as_str() {
        "operator-a" => (&mut a, &mut b),
        "operator-b" => (&mut b, &mut a),
        other => panic!("unexpected holder {other:?}: {held}"),
    };
    assert!(reconciles(leader).await > 0, "the holder reconciles");
    assert_eq!(reconciles(standby).await, 0, "the standby does not");

    // SIGTERM: the leader releases the Lease on its way out.
    let last_renew = time(&lease(&h).await, "renewTime");
    let pid = leader.child.id().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .output()
        .unwrap();
    assert!(kill.status.success(), "{}", output_text(&kill));
    let exited = tokio::task::block_in_place(|| leader.child.wait()).unwrap();
    assert!(exited.success(), "clean exit after SIGTERM: {exited}");
    let standby_name = if holder == "operator-a" {
        "operator-b"
    } else {
        "operator-a"
    };
    h.eventually("the standby holds the Lease", 30, |h| {
        h.kubectl_sync_jsonpath("lease/clouddb-job-operator", "{.spec.holderIdentity}")
            == standby_name
    })
    .await;
    // Taken over through the release, not by waiting out the old holder's 15 s: the new
    // acquisition (stamped by the standby) precedes the old Lease's expiry.
    let taken = lease(&h).await;
    let acquired = time(&taken, "acquireTime");
    let expiry = last_renew + jiff::SignedDuration::from_secs(15);
    assert!(
        acquired < expiry,
        "acquired at {acquired}, the released Lease would have expired at {expiry}: {taken}"
    );
    let polls = h.sim_requests("882001");
    let before = reconciles(standby).await;
    h.eventually("the new leader polls the job", 30, |h| {
        h.sim_requests("882001") > polls
    })
    .await;
    assert!(
        reconciles(standby).await > before,
        "the new leader reconciles"
    );
}
