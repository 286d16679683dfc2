//! The chart installed the GitOps way: Flux's helm-controller (v1.4.5, beside
//! source-controller and kustomize-controller v1.9.6, see `gitops.rs`) installs
//! `charts/clouddb-job-operator` from a Git repository through a HelmRelease whose chart's
//! `sourceRef` is a GitRepository, upgrades it when its values change in Git, and reports a
//! value the chart's `values.schema.json` rejects as a failed upgrade, with helm's message.
//!
//! A private control plane, as the helm tests of `addon.rs` use: the chart creates
//! cluster-wide objects (the CRD the parallel tests share, which helm refuses to adopt from
//! another manager; a ValidatingAdmissionPolicy bound to every namespace; ClusterRoles).

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use super::cluster::{self, kubectl_sync_ok, root, ControlPlane, TestNamespace};
use super::gitops::{Flux, FluxTarget};
use super::harness::Scratch;

pub(crate) const HR: &str = "helmreleases.helm.toolkit.fluxcd.io/clouddb-job-operator";
const GIT: &str = "gitrepositories.source.toolkit.fluxcd.io/platform";
pub(crate) const CHART: &str = "charts/clouddb-job-operator";
/// The values file in Git, merged over the chart's own `values.yaml`.
pub(crate) const VALUES: &str = "release/values.yaml";
/// What the HelmRelease's `spec.values` set (they override both values files).
const IMAGE: &str = "registry.example.invalid/platform/clouddb-job-operator";
const TAG: &str = "0.1.0-e2e";
const LOG_LEVEL: &str = "clouddb_job_operator=debug,info";

/// The GitRepository and the HelmRelease, in `ns`, with the HelmRelease's `values`. Without
/// `wait`, helm-controller does not wait for the release's workloads: on a control plane
/// without a node (no kubelet, no controller-manager) the Deployment's pods never start, so
/// helm's wait would time out and fail every install. The node's test waits (`node::flux`).
pub(crate) fn release_docs(ns: &str, url: &str, values: Value, wait: bool) -> Vec<Value> {
    let mut release = json!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "clouddb-job-operator", "namespace": ns},
        "spec": {
            "interval": "1m",
            "releaseName": cluster::RELEASE,
            "chart": {"spec": {
                "chart": format!("./{CHART}"),
                "sourceRef": {"kind": "GitRepository", "name": "platform"},
                // A new chart version (0.1.0+<commit>) for every commit, so that a commit
                // changing only the values file is released too.
                "reconcileStrategy": "Revision",
                // Listed values files replace the chart's values.yaml: it comes first.
                "valuesFiles": [format!("{CHART}/values.yaml"), VALUES],
                "interval": "1m",
            }},
            "values": values,
        },
    });
    if !wait {
        release["spec"]["install"] = json!({"disableWait": true});
        release["spec"]["upgrade"] = json!({"disableWait": true});
    }
    vec![
        json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "platform", "namespace": ns},
            "spec": {"interval": "1m", "url": url, "ref": {"branch": "main"}},
        }),
        release,
    ]
}

fn get(kubeconfig: &Path, args: &[&str]) -> Option<Value> {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend(["-o", "json", "--ignore-not-found"]);
    let text = kubectl_sync_ok(kubeconfig, &all);
    (!text.trim().is_empty()).then(|| serde_json::from_str(&text).expect("kubectl's JSON"))
}

/// Waits until the HelmRelease's Ready condition satisfies `check`; returns
/// `(status, reason, message)`.
pub(crate) async fn wait_ready(
    flux: &Flux,
    what: &str,
    secs: u64,
    check: impl Fn(&str, &str, &str) -> bool,
) -> (String, String, String) {
    let context = || {
        let status = flux.get(HR).map(|o| o["status"].clone());
        format!("HelmRelease status: {}", status.unwrap_or_default())
    };
    let every = Duration::from_millis(500);
    flux.wait_ready(HR, what, secs, every, check, context).await
}

/// The chart version source-controller gives a commit: `reconcileStrategy: Revision` adds the
/// commit's first 12 digits, `valuesFiles` the HelmChart's generation (1: its spec never
/// changes here).
fn chart_version(commit: &str) -> String {
    format!("0.1.0+{}.1", &commit[..12])
}

/// Commits the values file and asks Flux to fetch it at once; returns the commit.
fn push_values(flux: &Flux, yaml: &str, message: &str) -> String {
    std::fs::write(flux.git.path(VALUES), yaml).expect("values file written");
    let commit = flux.git.commit_and_push(message);
    flux.request_reconcile(GIT);
    commit
}

/// The controller container's arguments in the release's Deployment.
fn args(deploy: &Value) -> Vec<String> {
    deploy["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// The document of `kind` in `helm template` output.
fn rendered(text: &str, kind: &str) -> Value {
    crate::common::parse_yaml_stream(text)
        .into_iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} rendered"))
}

/// Install, upgrade on a values change in Git, a value the chart's schema rejects, and the
/// fix: what helm-controller does and reports at each step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testenv_flux_helm_release_installs_and_upgrades_the_chart_from_git() {
    let dir = Scratch::new("cp-flux-helm");
    let cp = ControlPlane::start(&dir.0.join("cp"), "");
    let c = &cp.cluster;
    let ns = TestNamespace::create(c, "flux-helm", &dir.0);
    let (kc, n) = (&ns.kubeconfig, ns.name.as_str());
    let target = FluxTarget {
        admin: &c.kubeconfig,
        kubeconfig: kc,
        ns: n,
        dir: &dir.0,
    };
    let flux = Flux::start_on(&target, true).await;
    flux.git.copy_dir(&root().join(CHART), CHART);
    std::fs::create_dir_all(flux.git.path("release")).unwrap();
    std::fs::write(flux.git.path(VALUES), "replicaCount: 1\n").unwrap();
    let first = flux.git.commit_and_push("the operator's chart");
    let values = json!({"image": {"repository": IMAGE, "tag": TAG}, "logLevel": LOG_LEVEL});
    let docs = release_docs(n, &flux.git.url, values, false);
    let text: Vec<String> = docs.iter().map(Value::to_string).collect();
    let path = dir.0.join("release.json");
    std::fs::write(&path, text.join("\n")).unwrap();
    kubectl_sync_ok(
        kc,
        &["apply", "--server-side", "-f", path.to_str().unwrap()],
    );

    // Installed.
    let (_, reason, message) = wait_ready(&flux, "installed", 180, |s, _, _| s == "True").await;
    assert_eq!(reason, "InstallSucceeded", "{message}");
    let version = chart_version(&first);
    assert!(
        message.contains(&format!("{n}/cdb.v1")) && message.contains(&version),
        "{message}"
    );
    let status = flux.get(HR).expect("the HelmRelease")["status"].clone();
    eprintln!("HelmRelease status after the install: {status}");
    assert_eq!(
        status["lastAttemptedRevision"],
        version.as_str(),
        "{status}"
    );
    assert_eq!(status["lastAttemptedReleaseAction"], "install", "{status}");
    let history = status["history"].as_array().expect("status.history");
    assert_eq!(history.len(), 1, "{status}");
    assert_eq!(history[0]["version"], 1);
    assert_eq!(history[0]["status"], "deployed");
    assert_eq!(history[0]["chartVersion"], version.as_str());
    assert!(get(kc, &["secret", "sh.helm.release.v1.cdb.v1"]).is_some());

    // The release's objects, as the chart renders them with the HelmRelease's values.
    let crd_name = "crd/clouddbjobs.clouddb.io";
    kubectl_sync_ok(
        kc,
        &[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            crd_name,
        ],
    );
    let crd = get(kc, &[crd_name]).expect("the CRD");
    let annotations = &crd["metadata"]["annotations"];
    assert_eq!(
        annotations["meta.helm.sh/release-name"], "cdb",
        "{annotations}"
    );
    assert_eq!(annotations["meta.helm.sh/release-namespace"], n);
    assert_eq!(annotations["helm.sh/resource-policy"], "keep");
    let name = cluster::SERVICE_ACCOUNT;
    let deployment = format!("deployment/{name}");
    let deploy = get(kc, &[&deployment]).expect("the Deployment");
    assert_eq!(deploy["spec"]["replicas"], 1, "{deploy}");
    let container = &deploy["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], format!("{IMAGE}:{TAG}"));
    let env = container["env"].as_array().expect("env");
    assert!(
        env.iter()
            .any(|e| e["name"] == "RUST_LOG" && e["value"] == LOG_LEVEL),
        "{env:?}"
    );
    let a = args(&deploy);
    for flag in [
        "--log-format=json".to_string(),
        "--leader-election".to_string(),
        format!("--lease-namespace={n}"),
    ] {
        assert!(a.contains(&flag), "{flag} missing: {a:?}");
    }
    let label = format!("clouddb-job-operator-{}", version.replace('+', "_"));
    assert_eq!(
        deploy["metadata"]["labels"]["helm.sh/chart"],
        label.as_str()
    );
    assert!(
        get(kc, &["poddisruptionbudget", name]).is_none(),
        "one replica"
    );
    let sets = [
        format!("image.repository={IMAGE}"),
        format!("image.tag={TAG}"),
    ];
    let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
    let want = helm_render(
        n,
        &sets,
        "admissionpolicy.yaml",
        "ValidatingAdmissionPolicy",
    );
    let policy = get(kc, &[&format!("validatingadmissionpolicy/{name}")]).expect("the policy");
    for field in ["failurePolicy", "validations", "variables"] {
        assert_eq!(policy["spec"][field], want["spec"][field], "{field}");
    }
    let binding = get(kc, &[&format!("validatingadmissionpolicybinding/{name}")]);
    assert_eq!(binding.expect("its binding")["spec"]["policyName"], name);
    let want = helm_render(n, &sets, "rbac.yaml", "ClusterRole");
    let role = get(kc, &[&format!("clusterrole/{name}")]).expect("the ClusterRole");
    assert_eq!(role["rules"], want["rules"]);

    // A values change in Git: an upgrade.
    let second = push_values(&flux, "replicaCount: 2\n", "two replicas");
    let (_, reason, message) = wait_ready(&flux, "upgraded", 180, |s, r, _| {
        s == "True" && r != "InstallSucceeded"
    })
    .await;
    assert_eq!(reason, "UpgradeSucceeded", "{message}");
    let version2 = chart_version(&second);
    assert!(message.contains(&format!("{n}/cdb.v2")), "{message}");
    let status = flux.get(HR).expect("the HelmRelease")["status"].clone();
    assert_eq!(
        status["lastAttemptedRevision"],
        version2.as_str(),
        "{status}"
    );
    assert_eq!(status["lastAttemptedReleaseAction"], "upgrade", "{status}");
    let history = status["history"].as_array().expect("status.history");
    assert_eq!(history.len(), 2, "{status}");
    assert_eq!(history[0]["version"], 2, "newest first: {status}");
    assert_eq!(history[0]["chartVersion"], version2.as_str());
    assert_eq!(history[1]["status"], "superseded", "{status}");
    let deploy = get(kc, &[&deployment]).expect("the Deployment");
    assert_eq!(deploy["spec"]["replicas"], 2, "{deploy}");
    assert!(
        get(kc, &["poddisruptionbudget", name]).is_some(),
        "two replicas"
    );

    // A value the chart's schema rejects: the upgrade fails with helm's message, and the
    // release stays as it was.
    let bad = push_values(&flux, "replicaCount: 2\nlogFormat: yaml\n", "a bad value");
    let (_, reason, message) = wait_ready(&flux, "failed", 180, |s, _, _| s == "False").await;
    assert_eq!(reason, "UpgradeFailed", "{message}");
    assert!(
        message.contains("schema") && message.contains("logFormat"),
        "{message}"
    );
    let status = flux.get(HR).expect("the HelmRelease")["status"].clone();
    eprintln!("HelmRelease status after the bad value: {status}");
    assert_eq!(
        status["lastAttemptedRevision"],
        chart_version(&bad).as_str(),
        "{status}"
    );
    assert_eq!(
        status["history"][0]["version"], 2,
        "no new release: {status}"
    );
    let deploy = get(kc, &[&deployment]).expect("the Deployment");
    assert!(args(&deploy).contains(&"--log-format=json".to_string()));
    assert!(get(kc, &["secret", "sh.helm.release.v1.cdb.v3"]).is_none());

    // Fixed in Git: the next commit is released.
    push_values(&flux, "replicaCount: 2\nlogFormat: text\n", "text logs");
    let (_, reason, message) =
        wait_ready(&flux, "upgraded after the fix", 180, |s, _, _| s == "True").await;
    assert_eq!(reason, "UpgradeSucceeded", "{message}");
    assert!(message.contains(&format!("{n}/cdb.v3")), "{message}");
    let deploy = get(kc, &[&deployment]).expect("the Deployment");
    assert!(args(&deploy).contains(&"--log-format=text".to_string()));
}

/// One object of kind `kind` of a template, rendered by `helm template` with `sets`.
fn helm_render(ns: &str, sets: &[&str], template: &str, kind: &str) -> Value {
    rendered(&cluster::helm_template(ns, sets, &[template]), kind)
}
