//! What the GitOps engines make of a CloudDbInstance in each of its states, computed by
//! their own code (`$GITOPS_HEALTH`: kstatus, Flux's kstatus fork, Argo CD's Lua VM running
//! examples/gitops/argocd/health.lua) over the objects exactly as the apiserver serves them:
//! new (the CRD's default status, no operator yet), discovering (the first listing
//! throttled and retried), idle, busy (a job the simulator starts mid-run) and stalled (an
//! instance the provider does not know). A pipeline gates on "nothing runs on the
//! database": only idle may pass, only stalled may fail it.

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::scenario::Phase;
use clouddb_job_operator::simulator::{ClockStart, FaultKind, FaultRule};
use serde_json::{json, Value};

use super::gitops::gitops_health;
use super::harness::{output_text, Harness, Options};
use super::manifests::{secret_yaml, sim_job, tencent_creds};

const INSTANCE: &str = "cdb-gitops";

/// A Tencent CloudDbInstance `name` for `instance` at the simulator, listing every second.
fn instance_yaml(name: &str, instance: &str, url: &str) -> String {
    format!(
        "apiVersion: clouddb.io/v1alpha1\nkind: CloudDbInstance\nmetadata: {{name: {name}}}\n\
         spec:\n  provider: tencent\n  instanceId: {instance}\n  region: ap-guangzhou\n  \
         endpoint: {url}\n  pollInterval: 1s\n  credentialsSecretRef: {{name: tencent-creds}}\n"
    )
}

fn condition(h: &Harness, name: &str, type_: &str) -> (String, String) {
    let path = |field: &str| format!("{{.status.conditions[?(@.type==\"{type_}\")].{field}}}");
    let object = format!("cdbinst/{name}");
    (
        h.kubectl_sync_jsonpath(&object, &path("status")),
        h.kubectl_sync_jsonpath(&object, &path("reason")),
    )
}

/// The engines' verdicts on the instance as served now.
async fn verdict(h: &Harness, name: &str, state: &str) -> (Value, Value) {
    let served = h
        .kubectl_ok(&["get", &format!("cdbinst/{name}"), "-o", "json"])
        .await;
    let v = gitops_health(&served).remove(0);
    let obj: Value = serde_json::from_str(&served).unwrap();
    eprintln!("{state}: {v}\n  status: {}", obj["status"]);
    (v, obj)
}

fn engines(v: &Value) -> (&str, &str, &str) {
    (
        v["kstatus"].as_str().unwrap_or("?"),
        v["flux"].as_str().unwrap_or("?"),
        v["argo"].as_str().unwrap_or("?"),
    )
}

async fn wait_idle_fails(h: &Harness, name: &str) {
    let out = h
        .kubectl(&[
            "wait",
            "--for=condition=Idle",
            "--timeout=1s",
            &format!("cdbinst/{name}"),
        ])
        .await;
    assert!(!out.status.success(), "{}", output_text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitops_engines_read_each_instance_state() {
    // The instance exists at the provider through a job that finished before the test.
    let done = {
        let mut job = sim_job(
            ProviderKind::Tencent,
            "DescribeTasks",
            "9401",
            &[(0, Phase::Succeed, None)],
        );
        job.instance_id = Some(INSTANCE.into());
        job
    };
    let mut h = Harness::start_without_operator(
        "gitops-inst",
        Options {
            speed: 20.0,
            builtins: false,
            jobs: vec![done],
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    h.apply("creds", &secret_yaml("tencent-creds", &tencent_creds()))
        .await;
    h.apply("orders", &instance_yaml("orders", INSTANCE, &url))
        .await;

    // New: no controller has written it; the CRD's default status holds every engine.
    let (v, obj) = verdict(&h, "orders", "new").await;
    assert_eq!(obj["status"], json!({"observedGeneration": 0}));
    assert_eq!(
        engines(&v),
        ("InProgress", "InProgress", "Progressing"),
        "{v}"
    );
    assert_eq!(
        v["kstatusMessage"],
        "CloudDbInstance generation is 1, but latest observed generation is 0"
    );
    assert_eq!(
        v["argoMessage"],
        "Waiting for the controller to observe generation 1"
    );
    wait_idle_fails(&h, "orders").await;

    // Discovering: the first listings are throttled and retried.
    h.sim
        .add_fault(FaultRule {
            first_requests: Some(2),
            ..FaultRule::always(FaultKind::Throttle)
        })
        .unwrap();
    h.start_operator().await;
    h.eventually("the first listing retried", 30, |h| {
        condition(h, "orders", "Reconciling") == ("True".into(), "Throttled".into())
    })
    .await;
    let (v, obj) = verdict(&h, "orders", "discovering").await;
    // Unless the retry got through in between.
    if obj["status"]["reason"] == "Throttled" {
        assert_eq!(
            engines(&v),
            ("InProgress", "InProgress", "Progressing"),
            "{v}"
        );
        assert!(
            v["argoMessage"]
                .as_str()
                .is_some_and(|m| m.starts_with("Retrying discovery: Throttled")),
            "{v}"
        );
        wait_idle_fails(&h, "orders").await;
    }

    // Idle: the only job finished; the pipeline may pass.
    h.eventually("Idle", 30, |h| {
        condition(h, "orders", "Idle").0 == "True"
            && condition(h, "orders", "Reconciling").0 == "False"
    })
    .await;
    let (v, _) = verdict(&h, "orders", "idle").await;
    assert_eq!(engines(&v), ("Current", "Current", "Healthy"), "{v}");
    assert_eq!(
        v["argoMessage"],
        "Idle: no discovered job is Pending or Running"
    );

    // Busy: a job the provider starts by itself, mid-run.
    let mut maintenance = sim_job(
        ProviderKind::Tencent,
        "DescribeTasks",
        "9402",
        &[(0, Phase::Running, Some(30)), (300, Phase::Succeed, None)],
    );
    maintenance.instance_id = Some(INSTANCE.into());
    maintenance.clock = Some(ClockStart::Added);
    h.sim.add_job(maintenance).unwrap();
    h.eventually("Busy", 30, |h| condition(h, "orders", "Idle").0 == "False")
        .await;
    let (v, _) = verdict(&h, "orders", "busy").await;
    assert_eq!(
        engines(&v),
        ("InProgress", "InProgress", "Progressing"),
        "{v}"
    );
    assert!(
        v["argoMessage"]
            .as_str()
            .is_some_and(|m| m.starts_with("Busy, 1 active: 9402")),
        "{v}"
    );
    wait_idle_fails(&h, "orders").await;

    // Stalled: the provider does not know the instance; fails at once, with the message.
    h.apply("unknown", &instance_yaml("unknown", "cdb-nosuch", &url))
        .await;
    h.eventually("Stalled", 30, |h| {
        condition(h, "unknown", "Stalled").0 == "True"
    })
    .await;
    let (v, _) = verdict(&h, "unknown", "stalled").await;
    assert_eq!(engines(&v), ("Failed", "Failed", "Degraded"), "{v}");
    assert!(
        v["argoMessage"]
            .as_str()
            .is_some_and(|m| m.starts_with("Stalled: InstanceNotFound: ")),
        "{v}"
    );

    // And back: once the job finished, idle again.
    h.eventually("Idle again", 60, |h| {
        condition(h, "orders", "Idle").0 == "True"
    })
    .await;
    let (v, _) = verdict(&h, "orders", "idle again").await;
    assert_eq!(engines(&v), ("Current", "Current", "Healthy"), "{v}");
    h.kubectl_ok(&[
        "wait",
        "--for=condition=Idle",
        "--timeout=10s",
        "cdbinst/orders",
    ])
    .await;
}
