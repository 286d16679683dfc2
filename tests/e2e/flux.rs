//! GitOps pipelines waiting on CloudDbJobs, proven with Flux's real controllers
//! (source-controller and kustomize-controller, see `gitops.rs`): they fetch
//! `examples/gitops/flux/` from a Git repository on loopback and apply it as written, with
//! only what differs per cluster patched in (`targetNamespace`, the simulator's endpoint, a
//! fast poll interval, shorter timeouts).
//!
//! The user story: Kustomization `db-upgrade` applies the CloudDbJob of a database upgrade
//! and waits for it (`wait: true`); Kustomization `app` (`dependsOn: [db-upgrade]`) applies
//! the application's manifests (a ConfigMap) only after the upgrade succeeded, never when it
//! failed.

use std::time::{Duration, Instant};

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::scenario::Phase;
use clouddb_job_operator::simulator::{FaultKind, FaultRule};
use serde_json::{json, Value};

use super::cluster::root;
use super::gitops::{apply_docs, doc_mut, exists, gitops_health, kustomization, pipeline, Flux};
use super::harness::{output_text, tail, Harness, Options};
use super::manifests::{secret_yaml, sim_job, tencent_creds};

/// The job `examples/gitops/flux/db-upgrade/` tracks.
const JOB: &str = "upgrade-cdb-pdn63pw5";
const JOB_ID: &str = "47258";
const APP: &str = "configmap/orders-app";

/// The simulator's job 47258 (Tencent CDB API 2.0 upgrade), going through `steps`
/// (seconds after the first poll).
fn upgrade(steps: &[(u64, Phase, Option<u8>)]) -> Options {
    let mut job = sim_job(
        ProviderKind::TencentLegacy,
        "GetCdbUpgradeJobInfo",
        JOB_ID,
        steps,
    );
    job.instance_id = Some("cdb-pdn63pw5".into());
    Options {
        speed: 1.0,
        builtins: false,
        jobs: vec![job],
        ..Options::default()
    }
}

/// A harness (operator started or not), Flux for its namespace, the example repository
/// pushed, and the example's pipeline applied with `db-upgrade` timing out after
/// `timeout` and `extra` patches applied to the CloudDbJob.
async fn start(
    tag: &str,
    options: Options,
    operator: bool,
    timeout: &str,
    extra: &[Value],
) -> (Harness, Flux) {
    let h = if operator {
        Harness::start(tag, options).await
    } else {
        Harness::start_without_operator(tag, options).await
    };
    // The credentials live outside Git (see the example's comment).
    h.apply(
        "credentials",
        &secret_yaml("tencent-cdb-credentials", &tencent_creds()),
    )
    .await;
    let flux = Flux::start(&h).await;
    let example = root().join("examples/gitops/flux");
    flux.git.copy_dir(&example.join("db-upgrade"), "db-upgrade");
    flux.git.copy_dir(&example.join("app"), "app");
    flux.git.commit_and_push("database upgrade and application");
    let docs = pipeline_docs(&h, &flux, timeout, extra);
    apply_docs(&h, "pipeline", &docs).await;
    (h, flux)
}

/// The example's Flux objects for this test: the simulator's endpoint, a 1 s poll interval
/// and `extra` patched into the CloudDbJob; retries after 5 s instead of 1 min.
fn pipeline_docs(h: &Harness, flux: &Flux, timeout: &str, extra: &[Value]) -> Vec<Value> {
    let mut docs = pipeline(h, &flux.git.url);
    let mut ops = vec![
        json!({"op": "add", "path": "/spec/endpoint", "value": h.sim.url()}),
        json!({"op": "replace", "path": "/spec/pollInterval", "value": "1s"}),
    ];
    ops.extend(extra.iter().cloned());
    let db = doc_mut(&mut docs, "Kustomization", "db-upgrade");
    db["spec"]["timeout"] = json!(timeout);
    db["spec"]["retryInterval"] = json!("5s");
    db["spec"]["patches"] = json!([{
        "target": {"kind": "CloudDbJob"},
        "patch": serde_json::to_string(&ops).unwrap(),
    }]);
    let app = doc_mut(&mut docs, "Kustomization", "app");
    app["spec"]["timeout"] = json!("90s");
    app["spec"]["retryInterval"] = json!("5s");
    docs
}

/// A condition of a Kustomization: `(status, reason, message)`.
fn ks(flux: &Flux, name: &str) -> Option<(String, String, String)> {
    flux.condition(&kustomization(name), "Ready")
}

fn ready(flux: &Flux, name: &str) -> bool {
    ks(flux, name).is_some_and(|(s, _, _)| s == "True")
}

/// Waits until the Kustomization's Ready condition satisfies `check`; returns it.
async fn wait_ks(
    h: &Harness,
    flux: &Flux,
    name: &str,
    what: &str,
    secs: u64,
    check: impl Fn(&str, &str, &str) -> bool,
) -> (String, String, String) {
    let context = || {
        format!(
            "job status: {}\noperator:\n{}",
            h.status(JOB),
            tail(&h.operator_logs(), 20)
        )
    };
    let every = Duration::from_millis(200);
    flux.wait_ready(&kustomization(name), what, secs, every, check, context)
        .await
}

async fn wait_exists(h: &Harness, flux: &Flux, object: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !exists(h, object) {
        assert!(
            Instant::now() < deadline,
            "{object} not applied in {secs}s\n{}",
            flux.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The condition of the job, `(status, reason)`.
fn job_condition(h: &Harness, type_: &str) -> Option<(String, String)> {
    let status = h.status(JOB);
    let c = status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)?
        .clone();
    Some((
        c["status"].as_str()?.to_string(),
        c["reason"].as_str()?.to_string(),
    ))
}

fn job_is(h: &Harness, type_: &str) -> bool {
    job_condition(h, type_).is_some_and(|(s, _)| s == "True")
}

/// While the job runs, `db-upgrade` is not Ready and the application is not applied; once
/// it is Complete, `db-upgrade` becomes Ready and then `app` applies the ConfigMap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_applies_the_app_only_after_the_upgrade_succeeded() {
    let steps = [(0, Phase::Running, Some(10)), (15, Phase::Succeed, None)];
    let (h, flux) = start("flux-ok", upgrade(&steps), true, "2m", &[]).await;
    wait_exists(&h, &flux, &format!("cdbjob/{JOB}"), 60).await;
    h.eventually("the job running", 30, |h| {
        h.status(JOB)["phase"] == "Running"
    })
    .await;
    // Until the job is Complete: never Ready, never applied. Checked in this order, a job
    // seen unfinished afterwards was unfinished at the check before it.
    let mut held = false;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let db_ready = ready(&flux, "db-upgrade");
        let app_applied = exists(&h, APP);
        let app_state = ks(&flux, "app");
        if job_is(&h, "Complete") {
            break;
        }
        assert!(!db_ready, "db-upgrade Ready before the job completed");
        assert!(!app_applied, "the app was applied before the job completed");
        held |= app_state.is_some_and(|(_, r, _)| r == "DependencyNotReady");
        assert!(Instant::now() < deadline, "the job never completed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        held,
        "app never reported DependencyNotReady while the job ran"
    );
    let done_at = Instant::now();
    let (_, reason, _) = wait_ks(&h, &flux, "db-upgrade", "Ready", 60, |s, _, _| s == "True").await;
    assert_eq!(reason, "ReconciliationSucceeded");
    eprintln!(
        "db-upgrade Ready {:.1}s after the job was seen Complete",
        done_at.elapsed().as_secs_f64()
    );
    wait_exists(&h, &flux, APP, 60).await;
    eprintln!(
        "app applied {:.1}s after the job was seen Complete",
        done_at.elapsed().as_secs_f64()
    );
    // The app's own health check on the CloudDbJob passes too.
    wait_ks(&h, &flux, "app", "Ready", 60, |s, _, _| s == "True").await;
    let healthy = flux.condition(&kustomization("db-upgrade"), "Healthy");
    eprintln!("db-upgrade Healthy: {healthy:?}");
    assert!(healthy.is_some_and(|(s, _, _)| s == "True"));
}

/// While the provider throttles the operator's polls, the job is in progress
/// (`Reconciling=True`, reason `Throttled`): Flux keeps waiting, and passes once the job
/// completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_waits_through_a_throttled_provider() {
    let steps = [(0, Phase::Running, Some(10)), (2, Phase::Succeed, None)];
    let mut options = upgrade(&steps);
    options.jobs[0].faults.push(FaultRule {
        first_requests: Some(4),
        ..FaultRule::always(FaultKind::Throttle)
    });
    let (h, flux) = start("flux-throttled", options, true, "2m", &[]).await;
    wait_exists(&h, &flux, &format!("cdbjob/{JOB}"), 60).await;
    h.eventually("the job throttled", 60, |h| {
        job_condition(h, "Reconciling").is_some_and(|(s, r)| s == "True" && r == "Throttled")
    })
    .await;
    let served = h
        .kubectl_ok(&["get", &format!("cdbjob/{JOB}"), "-o", "json"])
        .await;
    let v = &gitops_health(&served)[0];
    eprintln!("a throttled job: {v}");
    // Unless it already got through in between.
    if !job_is(&h, "Complete") {
        assert_eq!(v["flux"], "InProgress", "{v}");
        assert_eq!(v["argo"], "Progressing", "{v}");
        assert!(!ready(&flux, "db-upgrade"), "{:?}", ks(&flux, "db-upgrade"));
        assert!(!exists(&h, APP));
        eprintln!("db-upgrade while throttled: {:?}", ks(&flux, "db-upgrade"));
    }
    h.wait_for(JOB, "Complete", 90).await;
    wait_ks(&h, &flux, "db-upgrade", "Ready", 60, |s, _, _| s == "True").await;
    wait_exists(&h, &flux, APP, 60).await;
}

/// A failed upgrade fails `db-upgrade`'s health check without waiting for the timeout, and
/// the application is never applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_never_applies_the_app_when_the_upgrade_failed() {
    let steps = [(0, Phase::Running, Some(10)), (5, Phase::Failed, None)];
    let (h, flux) = start("flux-failed", upgrade(&steps), true, "2m", &[]).await;
    wait_exists(&h, &flux, &format!("cdbjob/{JOB}"), 60).await;
    h.wait_for(JOB, "Failed", 60).await;
    let failed_at = Instant::now();
    let (_, reason, message) = wait_ks(&h, &flux, "db-upgrade", "failed", 60, |s, _, _| {
        s == "False"
    })
    .await;
    eprintln!(
        "db-upgrade failed {:.1}s after the job was seen Failed (timeout 2m)",
        failed_at.elapsed().as_secs_f64()
    );
    assert_eq!(reason, "HealthCheckFailed", "{message}");
    assert!(
        message.contains(&format!("CloudDbJob/{}/{JOB}", h.ns)) && message.contains("Failed"),
        "{message}"
    );
    assert!(
        failed_at.elapsed() < Duration::from_secs(60),
        "failed fast, not at the timeout"
    );
    wait_ks(&h, &flux, "app", "held back", 30, |s, r, _| {
        s == "False" && r == "DependencyNotReady"
    })
    .await;
    // Several dependency re-checks (every 5 s): the application never appears.
    let until = Instant::now() + Duration::from_secs(12);
    while Instant::now() < until {
        assert!(
            !exists(&h, APP),
            "the app was applied after a failed upgrade"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (s, r, m) = ks(&flux, "app").unwrap();
    eprintln!("app after the failure: Ready={s} reason={r} message={m:?}");
    assert_eq!((s.as_str(), r.as_str()), ("False", "DependencyNotReady"));
}

/// A job no controller has written yet, exactly as the apiserver serves it (with the CRD's
/// default status), is in progress to kstatus, Flux's kstatus fork and the Argo CD health
/// check alike, and `kubectl wait` keeps waiting; the operator's first write replaces the
/// default. Needs no Flux controller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitops_engines_read_a_job_no_controller_has_written_as_in_progress() {
    let steps = [(0, Phase::Running, Some(10)), (600, Phase::Succeed, None)];
    let mut h = Harness::start_without_operator("gitops-fresh", upgrade(&steps)).await;
    let mut manifest = super::manifests::manifest_for(&upgrade(&steps).jobs[0], JOB, &h.sim.url());
    manifest.secret = None;
    h.apply(
        "credentials",
        &secret_yaml(&manifest.secret_name(), &tencent_creds()),
    )
    .await;
    let path = h.write("job.yaml", &manifest.yaml());
    // The create's own answer, and every read after it: the CRD's default status.
    let created = h
        .kubectl_ok(&["create", "-o", "json", "-f", path.to_str().unwrap()])
        .await;
    let served = h.kubectl_ok(&["get", "cdbjob", JOB, "-o", "json"]).await;
    for (what, text) in [("create", &created), ("get", &served)] {
        let obj: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            obj["status"],
            json!({"observedGeneration": 0}),
            "{what}: {text}"
        );
    }
    let v = &gitops_health(&served)[0];
    eprintln!("a job no controller has written: {v}");
    assert_eq!(v["kstatus"], "InProgress", "{v}");
    assert_eq!(v["flux"], "InProgress", "{v}");
    assert_eq!(
        v["fluxMessage"],
        "CloudDbJob generation is 1, but latest observed generation is 0"
    );
    assert_eq!(v["argo"], "Progressing", "{v}");
    assert_eq!(
        v["argoMessage"],
        "Waiting for the controller to observe generation 1"
    );
    for condition in ["Complete", "Ready", "Failed"] {
        let out = h
            .kubectl(&[
                "wait",
                &format!("--for=condition={condition}"),
                "--timeout=1s",
                &format!("cdbjob/{JOB}"),
            ])
            .await;
        assert!(!out.status.success(), "{condition}: {}", output_text(&out));
    }
    // The operator's first write owns observedGeneration and sets every condition.
    h.start_operator().await;
    h.eventually("the first write", 30, |h| {
        h.status(JOB)["phase"] == "Running"
    })
    .await;
    let served = h
        .kubectl_ok(&["get", "cdbjob", JOB, "-o", "json", "--show-managed-fields"])
        .await;
    let obj: Value = serde_json::from_str(&served).unwrap();
    assert_eq!(obj["status"]["observedGeneration"], 1);
    let v = &gitops_health(&served)[0];
    assert_eq!(v["kstatus"], "InProgress", "{v}");
    assert_eq!(v["argo"], "Progressing", "{v}");
    let fields = obj["metadata"]["managedFields"].as_array().unwrap();
    let status_owner = fields
        .iter()
        .find(|f| f["subresource"] == "status")
        .expect("a status manager");
    assert_eq!(
        status_owner["manager"], "clouddb-job-operator",
        "{fields:?}"
    );
    assert!(
        status_owner["fieldsV1"]["f:status"]["f:observedGeneration"].is_object(),
        "{status_owner}"
    );
}

/// The race on purpose: Flux applies the job while no operator runs. The object as the
/// apiserver serves it is in progress to kstatus, Flux's kstatus, Argo CD and `kubectl
/// wait`, so Flux does not pass it; once the operator runs, the pipeline completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_does_not_pass_a_job_the_operator_has_not_seen() {
    let steps = [(0, Phase::Running, Some(10)), (4, Phase::Succeed, None)];
    let (mut h, flux) = start("flux-race", upgrade(&steps), false, "2m", &[]).await;
    wait_exists(&h, &flux, &format!("cdbjob/{JOB}"), 60).await;
    // As served: the CRD's default status, nothing else.
    let served = h
        .kubectl_ok(&["get", &format!("cdbjob/{JOB}"), "-o", "json"])
        .await;
    let obj: Value = serde_json::from_str(&served).unwrap();
    assert_eq!(obj["status"], json!({"observedGeneration": 0}), "{served}");
    let verdicts = gitops_health(&served);
    let v = &verdicts[0];
    eprintln!("a job no operator has seen: {v}");
    assert_eq!(v["kstatus"], "InProgress", "{v}");
    assert_eq!(v["flux"], "InProgress", "{v}");
    assert_eq!(v["argo"], "Progressing", "{v}");
    let out = h
        .kubectl(&[
            "wait",
            "--for=condition=Complete",
            "--timeout=2s",
            &format!("cdbjob/{JOB}"),
        ])
        .await;
    assert!(
        !out.status.success(),
        "kubectl wait passed: {}",
        output_text(&out)
    );
    // Flux applied it and is running its health checks...
    let (s, r, m) = wait_ks(&h, &flux, "db-upgrade", "checking health", 60, |s, _, m| {
        s == "Unknown" && m.contains("progress")
    })
    .await;
    eprintln!("db-upgrade while no operator runs: Ready={s} reason={r} message={m:?}");
    // ...and does not pass: over 15 s (three of Flux's health polls), neither Ready nor the
    // app applied.
    let until = Instant::now() + Duration::from_secs(15);
    while Instant::now() < until {
        assert!(
            !ready(&flux, "db-upgrade"),
            "Flux passed a job no operator has seen: {:?}",
            ks(&flux, "db-upgrade")
        );
        assert!(
            !exists(&h, APP),
            "the app was applied before the upgrade ran"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    h.start_operator().await;
    h.wait_for(JOB, "Complete", 60).await;
    wait_ks(&h, &flux, "db-upgrade", "Ready", 60, |s, _, _| s == "True").await;
    wait_exists(&h, &flux, APP, 60).await;
}

/// A suspended job holds the pipeline: Flux reads it as in progress (Ready=False, nothing
/// in flight, outcome unknown) and fails the health check at `timeout`; resumed, it
/// completes and the application follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_holds_a_suspended_job_until_it_is_resumed() {
    let steps = [(0, Phase::Running, Some(10)), (4, Phase::Succeed, None)];
    let suspend = json!({"op": "add", "path": "/spec/suspend", "value": true});
    let (h, flux) = start("flux-suspended", upgrade(&steps), true, "20s", &[suspend]).await;
    h.eventually("the job suspended", 60, |h| {
        job_condition(h, "Reconciling").is_some_and(|(s, r)| s == "False" && r == "Suspended")
    })
    .await;
    let served = h
        .kubectl_ok(&["get", &format!("cdbjob/{JOB}"), "-o", "json"])
        .await;
    let v = &gitops_health(&served)[0];
    eprintln!("a suspended job: {v}");
    assert_eq!(v["kstatus"], "InProgress", "{v}");
    assert_eq!(v["flux"], "InProgress", "{v}");
    assert_eq!(v["argo"], "Suspended", "{v}");
    let (_, reason, message) = wait_ks(&h, &flux, "db-upgrade", "timed out", 90, |s, _, _| {
        s == "False"
    })
    .await;
    assert_eq!(reason, "HealthCheckFailed", "{message}");
    assert!(
        message.contains("timeout waiting for")
            && message.contains(&format!("CloudDbJob/{}/{JOB}", h.ns))
            && message.contains("InProgress"),
        "{message}"
    );
    assert!(
        !exists(&h, APP),
        "the app was applied while the job was suspended"
    );
    // Resumed in Git (the patch that suspended it is gone): Flux removes the field it set.
    let docs = pipeline_docs(&h, &flux, "20s", &[]);
    apply_docs(&h, "pipeline-resumed", &docs).await;
    h.wait_for(JOB, "Complete", 60).await;
    wait_ks(&h, &flux, "db-upgrade", "Ready", 60, |s, _, _| s == "True").await;
    wait_exists(&h, &flux, APP, 60).await;
}

/// `jobId` is immutable: a commit changing it makes Flux's apply fail with the CRD's own
/// message, and the job keeps tracking the old ID.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_reports_a_changed_job_id_as_an_apply_error() {
    let steps = [(0, Phase::Running, Some(10)), (3, Phase::Succeed, None)];
    let (h, flux) = start("flux-jobid", upgrade(&steps), true, "2m", &[]).await;
    wait_ks(&h, &flux, "db-upgrade", "Ready", 90, |s, _, _| s == "True").await;
    let file = flux.git.path(&format!("db-upgrade/{JOB}.yaml"));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&format!("jobId: \"{JOB_ID}\"")));
    std::fs::write(&file, text.replace(JOB_ID, "47259")).unwrap();
    let commit = flux.git.commit_and_push("track another upgrade job");
    flux.request_reconcile("gitrepositories.source.toolkit.fluxcd.io/platform");
    let (_, reason, message) = wait_ks(&h, &flux, "db-upgrade", "failed", 90, |s, _, m| {
        s == "False" && m.contains("immutable")
    })
    .await;
    assert_eq!(reason, "ReconciliationFailed", "{message}");
    assert!(
        message.contains("jobId is immutable; create a new CloudDbJob to track another job"),
        "{message}"
    );
    // It is the new commit that failed; the applied revision stays the old one.
    let attempted = h.kubectl_sync_jsonpath(
        &kustomization("db-upgrade"),
        "{.status.lastAttemptedRevision}",
    );
    assert_eq!(attempted, format!("main@sha1:{commit}"));
    let applied = h.kubectl_sync_jsonpath(
        &kustomization("db-upgrade"),
        "{.status.lastAppliedRevision}",
    );
    assert_ne!(applied, attempted);
    let job = h.object(JOB);
    assert_eq!(job["spec"]["jobId"], JOB_ID);
    assert!(job_is(&h, "Complete"));
}
