//! CloudDbInstance on the real control plane: jobs the simulator starts mid-run on one
//! Tencent instance get exactly one CloudDbJob each, `Idle` flips False then True, and a
//! deleted discovered job is not created again; a second team watching the same instance
//! with a key of its own making learns nothing of it.

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::scenario::Phase;

use super::cluster::{self, ControlPlane, TestNamespace};
use super::harness::{Harness, Options, Scratch};
use super::manifests::{secret_yaml, sim_job, tencent_creds};
use clouddb_job_operator::simulator::auth::DEFAULT_TENCENT_SECRET_ID;

pub(crate) fn on_instance(
    id: &str,
    steps: &[(u64, Phase, Option<u8>)],
) -> clouddb_job_operator::simulator::JobSpec {
    let mut job = sim_job(ProviderKind::Tencent, "DescribeTasks", id, steps);
    job.instance_id = Some("cdb-disc".into());
    job
}

/// A CloudDbInstance `name` watching Tencent instance `instance` at the simulator's `url`
/// with the keys of Secret `secret`, listing every second.
pub(crate) fn instance_yaml(name: &str, instance: &str, url: &str, secret: &str) -> String {
    format!(
        "apiVersion: clouddb.io/v1alpha1\nkind: CloudDbInstance\nmetadata: {{name: {name}}}\nspec:\n  provider: tencent\n  instanceId: {instance}\n  region: ap-guangzhou\n  endpoint: {url}\n  pollInterval: 1s\n  credentialsSecretRef: {{name: {secret}}}\n  jobTemplate: {{pollInterval: 1s}}\n"
    )
}

fn idle(h: &Harness) -> String {
    h.kubectl_sync_jsonpath(
        "cdbinst/orders",
        "{.status.conditions[?(@.type==\"Idle\")].status}",
    )
}

fn discovered(h: &Harness) -> Vec<String> {
    let out = super::cluster::kubectl_sync(
        &h.kubeconfig,
        &[
            "get",
            "cdbjob",
            "-l",
            "clouddb.io/instance=orders",
            "-o",
            "jsonpath={.items[*].spec.jobId}",
        ],
    );
    let mut ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testenv_discovery_tracks_jobs_started_mid_run_and_flips_idle() {
    // At speed 20: 9301 runs from the start for 3 s; 9302 starts 2 s in, runs 3 s.
    let first = on_instance(
        "9301",
        &[(0, Phase::Running, Some(10)), (60, Phase::Succeed, None)],
    );
    let later = on_instance(
        "9302",
        &[(40, Phase::Running, Some(5)), (100, Phase::Succeed, None)],
    );
    let h = Harness::start(
        "disc",
        Options {
            speed: 20.0,
            builtins: false,
            jobs: vec![first, later],
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    h.apply("creds", &secret_yaml("tencent-creds", &tencent_creds()))
        .await;
    h.apply(
        "orders",
        &instance_yaml("orders", "cdb-disc", &url, "tencent-creds"),
    )
    .await;
    h.eventually("Idle False while 9301 runs", 30, |h| idle(h) == "False")
        .await;
    h.eventually("both jobs discovered", 30, |h| {
        discovered(h) == ["9301", "9302"]
    })
    .await;
    h.eventually("Idle True once both finished", 60, |h| idle(h) == "True")
        .await;
    assert_eq!(
        discovered(&h),
        ["9301", "9302"],
        "exactly one CloudDbJob per job"
    );

    h.kubectl_ok(&[
        "delete",
        "cdbjob",
        "-l",
        "clouddb.io/instance=orders",
        "--wait=true",
    ])
    .await;
    // Five more listings (the only DescribeTasks calls left: the jobs are gone), none of
    // which re-creates a deleted job.
    let listings = |h: &Harness| {
        let counters = h.sim.counters();
        counters.by_api.get("DescribeTasks").copied().unwrap_or(0)
    };
    let before = listings(&h);
    h.eventually("five more listings", 30, |h| listings(h) >= before + 5)
        .await;
    assert!(
        discovered(&h).is_empty(),
        "re-created: {:?}",
        discovered(&h)
    );
    assert_eq!(idle(&h), "True");
}

/// Tenant isolation for discovery, tried as a hostile second team would: team B watches
/// team A's instance (same endpoint, region and instance ID) with A's public SecretId and a
/// key of its own making. B's instance stalls on the provider's refusal, B gets no
/// CloudDbJob and its status names none of A's jobs, while A's instance keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testenv_another_team_watching_the_same_instance_learns_nothing() {
    let dir = Scratch::new("disc-tenants");
    let cp = ControlPlane::start(&dir.0.join("cp"), "");
    let mut job = on_instance(
        "9401",
        &[(0, Phase::Running, Some(37)), (600, Phase::Succeed, None)],
    );
    job.instance_id = Some("cdb-shared".into());
    let h = Harness::start(
        "disc-a",
        Options {
            speed: 1.0,
            builtins: false,
            jobs: vec![job],
            cluster: Some(cp.cluster.clone()),
            cluster_wide: true,
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    h.apply("creds", &secret_yaml("tencent-creds", &tencent_creds()))
        .await;
    h.apply(
        "orders",
        &instance_yaml("orders", "cdb-shared", &url, "tencent-creds"),
    )
    .await;
    h.eventually("A discovers its job", 30, |h| discovered(h) == ["9401"])
        .await;

    let b_dir = dir.0.join("team-b");
    std::fs::create_dir_all(&b_dir).unwrap();
    let b = TestNamespace::create(h.cluster(), "disc-b", &b_dir);
    let forged = vec![
        (
            "secretId".to_string(),
            DEFAULT_TENCENT_SECRET_ID.to_string(),
        ),
        (
            "secretKey".to_string(),
            "team-b-made-this-key-up-000000000".to_string(),
        ),
    ];
    for (name, yaml) in [
        ("creds", secret_yaml("tencent-creds", &forged)),
        (
            "orders",
            instance_yaml("orders", "cdb-shared", &url, "tencent-creds"),
        ),
    ] {
        let path = b_dir.join(format!("{name}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        cluster::kubectl_sync_ok(&b.kubeconfig, &["apply", "-f", path.to_str().unwrap()]);
    }
    let b_status = || -> serde_json::Value {
        let out = cluster::kubectl_sync_ok(&b.kubeconfig, &["get", "cdbinst/orders", "-o", "json"]);
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["status"].clone()
    };
    h.eventually("B's instance stalled", 60, |_| {
        super::history::condition(&b_status(), "Stalled").is_some_and(|c| c["status"] == "True")
    })
    .await;
    // A's instance keeps being listed meanwhile: any of those listings could have been shared.
    let listings = |h: &Harness| {
        let counters = h.sim.counters();
        counters.by_api.get("DescribeTasks").copied().unwrap_or(0)
    };
    let before = listings(&h);
    h.eventually("more listings", 30, |h| listings(h) >= before + 6)
        .await;

    let status = b_status();
    assert_eq!(status["reason"], "AuthenticationFailed", "{status}");
    let text = status.to_string();
    assert!(!text.contains("9401"), "B's status names A's job: {text}");
    assert!(
        status["activeJobs"].as_array().is_none_or(|a| a.is_empty()),
        "{status}"
    );
    let b_jobs = cluster::kubectl_sync_ok(&b.kubeconfig, &["get", "cdbjob", "-o", "name"]);
    assert!(b_jobs.trim().is_empty(), "B got CloudDbJobs: {b_jobs}");
    // A was never disturbed.
    assert_eq!(discovered(&h), ["9401"]);
    assert_eq!(idle(&h), "False");
}
