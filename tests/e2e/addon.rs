//! The add-on as users install it: the chart installed, upgraded and uninstalled by the real
//! helm into the real apiserver; the operator run under the release's own ServiceAccount
//! with nothing but the release's RBAC; `kubectl auth can-i` proving those rights are no
//! more than enough; and GitOps health computed by kstatus, Flux's kstatus and Argo CD's Lua
//! VM from the objects the operator wrote.
//!
//! There is no kubelet, so the Deployment's pods never start: the tests look at the objects
//! the release created and run the operator binary beside the cluster instead.

use std::path::Path;
use std::process::Command;

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::scenario::Phase;
use serde_json::Value;

use super::cluster::{self, kubectl_sync, kubectl_sync_ok, Cluster, ControlPlane};
use super::harness::{output_text, Harness, Options, Scratch};
use super::manifests::{manifest_for, sim_job};

const SYSTEM_NS: &str = "clouddb-system";

fn helm(cluster: &Cluster, args: &[&str]) -> String {
    let out = Command::new(cluster::helm_path())
        .args(args)
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .env(
            "HELM_CONFIG_HOME",
            cluster.testenv_dir().join("helm-config"),
        )
        .env("HELM_CACHE_HOME", cluster.testenv_dir().join("helm-cache"))
        .env("HELM_DATA_HOME", cluster.testenv_dir().join("helm-data"))
        .output()
        .expect("helm runs");
    assert!(out.status.success(), "helm {args:?}: {}", output_text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn chart() -> String {
    cluster::root()
        .join("charts/clouddb-job-operator")
        .display()
        .to_string()
}

fn get(kubeconfig: &Path, args: &[&str]) -> Option<Value> {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend(["-o", "json", "--ignore-not-found"]);
    let text = kubectl_sync_ok(kubeconfig, &all);
    (!text.trim().is_empty()).then(|| serde_json::from_str(&text).unwrap())
}

/// `kubectl auth can-i` as the release's ServiceAccount.
fn can_i(kubeconfig: &Path, args: &[&str]) -> bool {
    let user = format!(
        "--as=system:serviceaccount:{SYSTEM_NS}:{}",
        cluster::SERVICE_ACCOUNT
    );
    let mut all = vec!["auth", "can-i", user.as_str()];
    all.extend_from_slice(args);
    let out = kubectl_sync(kubeconfig, &all);
    String::from_utf8_lossy(&out.stdout).trim() == "yes"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testenv_helm_installs_upgrades_and_uninstalls_the_chart() {
    let dir = Scratch::new("cp-helm");
    let cp = ControlPlane::start(&dir.0.join("cp"), "");
    let c = &cp.cluster;
    let kc = &c.kubeconfig;
    let chart = chart();

    // Default values (but for crds.keep, opted out of here; kept by default, see
    // `testenv_helm_uninstall_keeps_every_job_and_its_status`): cluster-wide, CRD
    // installed, leader election on, the admission policy bound to every namespace.
    helm(
        c,
        &[
            "install",
            cluster::RELEASE,
            &chart,
            "-n",
            SYSTEM_NS,
            "--create-namespace",
            "--set",
            "crds.keep=false",
        ],
    );
    let crd = get(kc, &["crd/clouddbjobs.clouddb.io"]).expect("the CRD installed");
    assert_eq!(
        crd["metadata"]["annotations"]["meta.helm.sh/release-name"],
        "cdb"
    );
    kubectl_sync_ok(
        kc,
        &[
            "wait",
            "--for=condition=Established",
            "--timeout=30s",
            "crd/clouddbjobs.clouddb.io",
        ],
    );
    let name = cluster::SERVICE_ACCOUNT;
    let deploy = get(kc, &["-n", SYSTEM_NS, &format!("deployment/{name}")]).expect("Deployment");
    assert_eq!(deploy["spec"]["replicas"], 1);
    let container = &deploy["spec"]["template"]["spec"]["containers"][0];
    // The image's entrypoint is `clouddb-job-operator run`; the chart passes run's flags.
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for flag in ["--leader-election", "--lease-namespace=clouddb-system"] {
        assert!(args.contains(&flag), "{flag} missing: {args:?}");
    }
    assert!(
        !args.iter().any(|a| a.starts_with("--namespace")),
        "cluster-wide by default: {args:?}"
    );
    assert!(get(kc, &["-n", SYSTEM_NS, &format!("serviceaccount/{name}")]).is_some());
    assert!(get(kc, &[&format!("clusterrole/{name}")]).is_some());
    assert!(get(kc, &[&format!("clusterrolebinding/{name}")]).is_some());
    let lease_role = format!("role/{name}-leader-election");
    assert!(get(kc, &["-n", SYSTEM_NS, &lease_role]).is_some());
    let vap = format!("validatingadmissionpolicy/{name}");
    let vap_binding = format!("validatingadmissionpolicybinding/{name}");
    let policy = get(kc, &[&vap]).expect("the admission policy installed");
    assert_eq!(policy["spec"]["failurePolicy"], "Fail");
    let binding = get(kc, &[&vap_binding]).expect("its binding installed");
    assert_eq!(binding["spec"]["policyName"], name);
    assert!(
        binding["spec"]["matchResources"]["namespaceSelector"]
            .as_object()
            .is_none_or(|s| s.is_empty()),
        "cluster-wide: every namespace: {binding}"
    );

    // Upgrade with changed values: two replicas (safe with leader election) and JSON logs.
    helm(
        c,
        &[
            "upgrade",
            cluster::RELEASE,
            &chart,
            "-n",
            SYSTEM_NS,
            "--reuse-values",
            "--set",
            "replicaCount=2",
            "--set",
            "logFormat=json",
        ],
    );
    let deploy = get(kc, &["-n", SYSTEM_NS, &format!("deployment/{name}")]).unwrap();
    assert_eq!(deploy["spec"]["replicas"], 2, "{deploy}");
    assert!(
        get(kc, &["-n", SYSTEM_NS, "poddisruptionbudget", name]).is_some(),
        "two replicas come with a PodDisruptionBudget"
    );

    // Uninstall with crds.keep=false: the CRD goes with the release.
    helm(
        c,
        &["uninstall", cluster::RELEASE, "-n", SYSTEM_NS, "--wait"],
    );
    assert!(get(kc, &["-n", SYSTEM_NS, &format!("deployment/{name}")]).is_none());
    assert!(get(kc, &[&format!("clusterrole/{name}")]).is_none());
    assert!(get(kc, &[&vap]).is_none() && get(kc, &[&vap_binding]).is_none());
    let gone = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        get(kc, &["crd/clouddbjobs.clouddb.io"]).is_none()
    });
    assert!(gone, "the CRD is removed with crds.keep=false");

    // By default (crds.keep=true) the CRD (and so every job) survives the uninstall.
    helm(c, &["install", cluster::RELEASE, &chart, "-n", SYSTEM_NS]);
    helm(
        c,
        &["uninstall", cluster::RELEASE, "-n", SYSTEM_NS, "--wait"],
    );
    assert!(
        get(kc, &["crd/clouddbjobs.clouddb.io"]).is_some(),
        "crds.keep leaves the CRD"
    );
}

/// `helm uninstall` with default values keeps the CRD, and with it every CloudDbJob and its
/// status; a later `helm install` of the same release adopts the kept CRD and changes no job.
/// Removing the CRD is a deliberate step of its own (`kubectl delete crd`), which takes every
/// job with it. A private control plane: the chart's CRD would collide with the one the
/// parallel tests share (helm refuses to adopt an object another manager created, and an
/// uninstall of a CRD would delete their jobs), and its admission policy would bind every
/// namespace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testenv_helm_uninstall_keeps_every_job_and_its_status() {
    let dir = Scratch::new("cp-helm-keep");
    let cp = ControlPlane::start(&dir.0.join("cp"), "");
    let c = &cp.cluster;
    let kc = &c.kubeconfig;
    let chart = chart();
    let install = || {
        helm(
            c,
            &[
                "install",
                cluster::RELEASE,
                &chart,
                "-n",
                SYSTEM_NS,
                "--create-namespace",
            ],
        )
    };
    let uninstall = || {
        helm(
            c,
            &["uninstall", cluster::RELEASE, "-n", SYSTEM_NS, "--wait"],
        )
    };
    let crd_name = "crd/clouddbjobs.clouddb.io";

    install();
    let crd = get(kc, &[crd_name]).expect("the CRD installed");
    assert_eq!(
        crd["metadata"]["annotations"]["helm.sh/resource-policy"], "keep",
        "kept by default: {}",
        crd["metadata"]
    );
    kubectl_sync_ok(
        kc,
        &[
            "wait",
            "--for=condition=Established",
            "--timeout=30s",
            crd_name,
        ],
    );

    // A job with a status, as the operator would have written it (no operator pod runs:
    // the admin writes it through the status subresource).
    let team = "orders";
    kubectl_sync_ok(kc, &["create", "namespace", team]);
    kubectl_sync_ok(
        kc,
        &[
            "create",
            "secret",
            "generic",
            "creds",
            "-n",
            team,
            "--from-literal=secretId=AKIDexample",
            "--from-literal=secretKey=example",
        ],
    );
    let job = serde_json::json!({
        "apiVersion": "clouddb.io/v1alpha1",
        "kind": "CloudDbJob",
        "metadata": {"name": "upgrade-orders", "namespace": team},
        "spec": {
            "provider": "tencent",
            "api": "DescribeTasks",
            "jobId": "15964",
            "region": "ap-guangzhou",
            "credentialsSecretRef": {"name": "creds"},
        },
    });
    // Established comes a moment before the type is served everywhere: retry briefly.
    let created = (0..100).any(|_| {
        let out = cluster::kubectl_stdin(kc, &["create", "-f", "-"], &job.to_string());
        out.status.success() || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            false
        }
    });
    assert!(created, "the job created");
    let status = serde_json::json!({"status": {
        "phase": "Succeeded",
        "progress": 100,
        "message": "upgrade finished",
        "providerStatus": "SUCCESS",
        "startTime": "2026-01-02T03:04:05Z",
        "endTime": "2026-01-02T04:05:06Z",
        "conditions": [{
            "type": "Complete",
            "status": "True",
            "reason": "Succeeded",
            "message": "upgrade finished",
            "lastTransitionTime": "2026-01-02T04:05:06Z",
        }],
    }});
    kubectl_sync_ok(
        kc,
        &[
            "patch",
            "cdbjob/upgrade-orders",
            "-n",
            team,
            "--subresource=status",
            "--type=merge",
            "-p",
            &status.to_string(),
        ],
    );
    let job_ref = ["-n", team, "cdbjob/upgrade-orders"];
    let before = get(kc, &job_ref).expect("the job");
    assert_eq!(before["status"]["phase"], "Succeeded", "{before}");

    let assert_unchanged = |when: &str| {
        let after = get(kc, &job_ref).unwrap_or_else(|| panic!("the job is gone {when}"));
        for field in ["uid", "creationTimestamp", "generation"] {
            assert_eq!(
                after["metadata"][field], before["metadata"][field],
                "{field} {when}"
            );
        }
        assert_eq!(after["spec"], before["spec"], "spec {when}");
        assert_eq!(after["status"], before["status"], "status {when}");
    };

    // Uninstalled: the release's objects go, the CRD and the job stay as they were.
    uninstall();
    let name = cluster::SERVICE_ACCOUNT;
    assert!(get(kc, &["-n", SYSTEM_NS, &format!("deployment/{name}")]).is_none());
    assert!(get(kc, &[&format!("clusterrole/{name}")]).is_none());
    assert!(get(kc, &[&format!("validatingadmissionpolicy/{name}")]).is_none());
    // Had helm deleted it, the CRD would be gone or carry a deletionTimestamp by now (helm
    // waited for its deletions, and a CRD's finalizer is what keeps it a moment longer).
    let crd = get(kc, &[crd_name]).expect("the CRD survives helm uninstall");
    assert!(
        crd["metadata"]["deletionTimestamp"].is_null(),
        "the CRD is not being deleted: {}",
        crd["metadata"]
    );
    assert_unchanged("after helm uninstall");

    // Installed again (same release and namespace): the kept CRD is adopted, nothing changes.
    install();
    let crd = get(kc, &[crd_name]).expect("the CRD");
    assert_eq!(
        crd["metadata"]["annotations"]["meta.helm.sh/release-name"],
        cluster::RELEASE
    );
    assert!(get(kc, &[&format!("validatingadmissionpolicy/{name}")]).is_some());
    assert_unchanged("after helm install again");

    // Removing the CRD is a deliberate step: it takes every job with it.
    uninstall();
    assert_unchanged("after the second helm uninstall");
    kubectl_sync_ok(kc, &["delete", crd_name, "--wait=true", "--timeout=60s"]);
    assert!(get(kc, &[crd_name]).is_none(), "the CRD deleted");
    let out = cluster::kubectl_sync(kc, &["get", "cdbjob", "-A", "-o", "name"]);
    assert!(
        !out.status.success() || String::from_utf8_lossy(&out.stdout).trim().is_empty(),
        "jobs left without their CRD: {}",
        output_text(&out)
    );
}

/// Namespaced mode installed by helm; the operator runs under the release's ServiceAccount
/// (a token from the TokenRequest API, nothing else) and tracks jobs to Complete and Failed
/// in the watched namespace; `kubectl auth can-i` shows the rights stop there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testenv_the_namespaced_release_is_enough_and_no_more() {
    let dir = Scratch::new("cp-helm-ns");
    let cp = ControlPlane::start(&dir.0.join("cp"), "");
    let c = &cp.cluster;
    let kc = &c.kubeconfig;
    let ok = sim_job(
        ProviderKind::TencentLegacy,
        "GetCdbTaskInfo",
        "887001",
        &[(0, Phase::Running, Some(20)), (2, Phase::Succeed, None)],
    );
    let bad = sim_job(
        ProviderKind::Tencent,
        "DescribeTasks",
        "887002",
        &[(0, Phase::Running, Some(20)), (2, Phase::Failed, None)],
    );
    // The harness creates the watched namespace; the release brings the operator's rights.
    let mut h = Harness::start_without_operator(
        "helm-ns",
        Options {
            speed: 2.0,
            builtins: false,
            jobs: vec![ok.clone(), bad.clone()],
            cluster: Some(c.clone()),
            chart_identity: false,
            ..Options::default()
        },
    )
    .await;
    let team = h.ns.clone();
    helm(
        c,
        &[
            "install",
            "cdb",
            &chart(),
            "-n",
            SYSTEM_NS,
            "--create-namespace",
            "--set",
            &format!("watchNamespace={team}"),
            "--set",
            "crds.install=false",
        ],
    );
    let name = cluster::SERVICE_ACCOUNT;
    assert!(
        get(kc, &[&format!("clusterrole/{name}")]).is_none(),
        "no ClusterRole"
    );
    assert!(get(kc, &["-n", &team, &format!("role/{name}")]).is_some());

    // The operator with the release's identity only.
    let token = kubectl_sync_ok(kc, &["create", "token", name, "-n", SYSTEM_NS]);
    h.operator_kubeconfig = cluster::token_kubeconfig(c, token.trim(), SYSTEM_NS, &h.dir.0);
    h.lease_namespace = Some(SYSTEM_NS.to_string());
    h.start_operator().await;
    let url = h.sim.url();
    h.apply("ok", &manifest_for(&ok, "ok", &url).yaml()).await;
    h.apply("bad", &manifest_for(&bad, "bad", &url).yaml())
        .await;
    h.wait_for("ok", "Complete", 60).await;
    h.wait_for("bad", "Failed", 60).await;
    assert!(!h.event_reasons("ok").await.is_empty(), "Events published");
    let lease = get(kc, &["-n", SYSTEM_NS, "lease/clouddb-job-operator"]).expect("the Lease");
    assert!(lease["spec"]["holderIdentity"].is_string(), "{lease}");

    // Enough...
    for (args, what) in [
        (
            vec!["get", "secrets", "-n", &team],
            "read Secrets in the watched namespace",
        ),
        (
            vec!["patch", "clouddbjobs", "--subresource=status", "-n", &team],
            "write job status",
        ),
        (vec!["watch", "clouddbjobs", "-n", &team], "watch jobs"),
        (
            vec!["create", "events.events.k8s.io", "-n", &team],
            "publish Events",
        ),
        (vec!["patch", "leases", "-n", SYSTEM_NS], "renew its Lease"),
        (
            vec!["delete", "clouddbjobs", "-n", &team],
            "delete finished jobs (spec.ttlSecondsAfterFinished)",
        ),
    ] {
        assert!(can_i(kc, &args), "the operator cannot {what}");
    }
    // ...and no more.
    let other = "kube-system";
    for (args, what) in [
        (
            vec!["get", "secrets", "-n", other],
            "read Secrets in another namespace",
        ),
        (vec!["list", "secrets", "-A"], "list Secrets cluster-wide"),
        (
            vec!["list", "secrets", "-n", &team],
            "list Secrets (it reads them by name)",
        ),
        (
            vec!["update", "clouddbjobs", "-n", &team],
            "write a job's spec",
        ),
        (
            vec!["patch", "clouddbjobs", "-n", &team],
            "patch a job's spec",
        ),
        (
            vec!["delete", "clouddbjobs", "-n", other],
            "delete jobs outside its namespace",
        ),
        (vec!["delete", "leases", "-n", SYSTEM_NS], "delete Leases"),
        (
            vec!["watch", "clouddbjobs", "-n", other],
            "watch jobs outside its namespace",
        ),
        (vec!["create", "pods", "-n", &team], "create pods"),
        (
            vec!["create", "serviceaccounts/token", "-n", &team],
            "mint tokens",
        ),
    ] {
        assert!(!can_i(kc, &args), "the operator can {what}");
    }
}

/// What GitOps tools make of the objects the operator writes, by their own code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kstatus_flux_and_argo_cd_read_every_state_as_intended() {
    let steps_ok = [(0, Phase::Running, Some(30)), (2, Phase::Succeed, None)];
    let steps_bad = [(0, Phase::Running, Some(30)), (2, Phase::Failed, None)];
    let steps_long = [(0, Phase::Running, Some(30)), (600, Phase::Succeed, None)];
    let job = |id: &str, steps: &[(u64, Phase, Option<u8>)]| {
        sim_job(ProviderKind::Tencent, "DescribeTasks", id, steps)
    };
    let (done, failed, running, stalled, changed) = (
        job("888001", &steps_ok),
        job("888002", &steps_bad),
        job("888003", &steps_long),
        job("888004", &steps_long),
        job("888005", &steps_long),
    );
    let mut h = Harness::start(
        "gitops",
        Options {
            speed: 2.0,
            builtins: false,
            jobs: vec![
                done.clone(),
                failed.clone(),
                running.clone(),
                stalled.clone(),
                changed.clone(),
            ],
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    for (j, name) in [
        (&done, "done"),
        (&failed, "failed"),
        (&running, "running"),
        (&changed, "changed"),
    ] {
        h.apply(name, &manifest_for(j, name, &url).yaml()).await;
    }
    let mut wrong = manifest_for(&stalled, "stalled", &url);
    wrong.secret = Some(vec![
        ("secretId".into(), "AKIDnotknowntothesimulator".into()),
        ("secretKey".into(), "wrong-key".into()),
    ]);
    h.apply("stalled", &wrong.yaml()).await;
    h.wait_for("done", "Complete", 30).await;
    h.wait_for("failed", "Failed", 30).await;
    h.wait_for("stalled", "Stalled", 30).await;
    h.eventually("running and changed tracked", 30, |h| {
        h.status("running")["phase"] == "Running" && h.status("changed")["phase"] == "Running"
    })
    .await;
    // A spec change the controller has not observed yet: stop it, then change the spec.
    h.kill_operator();
    h.kubectl_ok(&[
        "patch",
        "cdbjob/changed",
        "--type=merge",
        "-p",
        r#"{"spec":{"pollInterval":"2s"}}"#,
    ])
    .await;

    let objects = h.kubectl_ok(&["get", "cdbjob", "-o", "json"]).await;
    let health = std::env::var_os("GITOPS_HEALTH")
        .expect("$GITOPS_HEALTH (built by testenv/build.sh; `scripts/testenv.sh env` prints it)");
    let script = cluster::root().join("examples/gitops/argocd/health.lua");
    let mut cmd = Command::new(health);
    cmd.arg(&script);
    let out = cluster::with_stdin(cmd, &objects);
    assert!(out.status.success(), "{}", output_text(&out));
    let verdicts: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of = |name: &str| {
        verdicts
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no verdict for {name}: {verdicts:?}"))
            .clone()
    };
    for (name, kstatus, argo) in [
        ("running", "InProgress", "Progressing"),
        ("done", "Current", "Healthy"),
        ("failed", "Failed", "Degraded"),
        ("stalled", "Failed", "Degraded"),
        ("changed", "InProgress", "Progressing"),
    ] {
        let v = of(name);
        assert_eq!(v["kstatus"], kstatus, "kstatus of {name}: {v}");
        assert_eq!(v["flux"], kstatus, "Flux's kstatus of {name}: {v}");
        assert_eq!(v["argo"], argo, "Argo CD health of {name}: {v}");
        assert!(
            !v["argoMessage"].as_str().unwrap_or("").is_empty(),
            "Argo CD shows a message for {name}: {v}"
        );
    }
}
