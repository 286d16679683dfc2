//! Issue 26's HelmRelease where pods run: Flux's helm-controller installs the chart from a
//! Git repository with helm's wait (the control plane without a node can only test it with
//! the wait disabled, `flux_helm.rs`), so the HelmRelease turns Ready only once the
//! Deployment is Available and its pod ready; then that pod, started from the project's
//! image, tracks jobs to their end.

use std::time::Instant;

use serde_json::json;

use super::tls::FrontCert;
use super::{
    check_node, get_json, jobs, node_ip, operator_pods, prepare_release_namespace, Release,
    CA_CONFIGMAP, RELEASE_LOCK, SYSTEM_NS,
};
use crate::cluster::{self, kubectl_sync_ok, root, Cluster};
use crate::flux_helm::{release_docs, wait_ready, CHART, HR, VALUES};
use crate::gitops::{Flux, FluxTarget};
use crate::harness::Scratch;

/// `lastTransitionTime` of the condition `type_` in `conditions` (RFC 3339, whole seconds,
/// UTC: ordered as text).
fn transition(object: &serde_json::Value, type_: &str) -> String {
    object["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == type_ && c["status"] == "True")
        .and_then(|c| c["lastTransitionTime"].as_str())
        .unwrap_or_else(|| panic!("no {type_}=True: {}", object["status"]))
        .to_string()
}

/// Flux's objects in the release's namespace, gone on drop: the HelmRelease deleted while
/// helm-controller still runs (it uninstalls the release and removes its finalizer), and any
/// finalizer left removed, so that the namespace's deletion never hangs on a controller
/// that has stopped.
struct FluxObjects<'a> {
    kubeconfig: &'a std::path::Path,
}

/// The chart's own `version` (`Chart.yaml`).
fn chart_version() -> String {
    let text = std::fs::read_to_string(root().join(CHART).join("Chart.yaml")).expect("Chart.yaml");
    text.lines()
        .find_map(|l| l.strip_prefix("version:"))
        .map(|v| v.trim().trim_matches('"').to_string())
        .expect("Chart.yaml has a version")
}

impl Drop for FluxObjects<'_> {
    fn drop(&mut self) {
        let kc = self.kubeconfig;
        let kinds = "helmreleases.helm.toolkit.fluxcd.io,helmcharts.source.toolkit.fluxcd.io,\
                     gitrepositories.source.toolkit.fluxcd.io";
        let _ = crate::cluster::kubectl_sync(
            kc,
            &[
                "-n",
                SYSTEM_NS,
                "delete",
                HR,
                "--ignore-not-found",
                "--timeout=120s",
            ],
        );
        // Then the sources, while source-controller still runs to release their finalizers
        // (patched away below, it would put them back at its next reconcile).
        let _ = crate::cluster::kubectl_sync(
            kc,
            &["-n", SYSTEM_NS, "delete", kinds, "--all", "--timeout=60s"],
        );
        let out = crate::cluster::kubectl_sync(kc, &["-n", SYSTEM_NS, "get", kinds, "-o", "name"]);
        // The CRDs stay (`crds.keep`) with the `helm.sh/chart` label helm-controller applied,
        // which carries the Git commit's chart version: the next `helm install`'s
        // server-side apply of another value would conflict with that owner. The label is set
        // to the value the chart applies, as a cluster moving from Flux to helm would have to
        // (equal values never conflict).
        let label = format!("helm.sh/chart=clouddb-job-operator-{}", chart_version());
        for crd in [
            "crd/clouddbjobs.clouddb.io",
            "crd/clouddbinstances.clouddb.io",
        ] {
            let _ = crate::cluster::kubectl_sync(kc, &["label", "--overwrite", crd, &label]);
        }
        for object in String::from_utf8_lossy(&out.stdout).lines() {
            let _ = crate::cluster::kubectl_sync(
                kc,
                &[
                    "-n",
                    SYSTEM_NS,
                    "patch",
                    object,
                    "--type=merge",
                    "-p",
                    r#"{"metadata":{"finalizers":null}}"#,
                ],
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helm_release_from_git_is_ready_once_its_pod_is_and_the_pod_tracks_jobs() {
    let _slot = RELEASE_LOCK.lock().await;
    let ip = node_ip();
    let cluster = Cluster::shared();
    let kc = cluster.kubeconfig.clone();
    check_node(&kc);
    let cert = FrontCert::generate(ip);
    let dir = Scratch::new("node-flux-helm");
    prepare_release_namespace(&kc, &cert.ca_pem);
    // Dropped after Flux: uninstalls whatever is left and deletes the namespace.
    let _release = Release {
        cluster: cluster.clone(),
    };
    // Flux's controllers and `Flux::get` read names relative to their kubeconfig's namespace.
    let ns_kc = dir.0.join("kubeconfig");
    std::fs::copy(&kc, &ns_kc).expect("kubeconfig copied");
    kubectl_sync_ok(
        &ns_kc,
        &[
            "config",
            "set-context",
            "--current",
            "--namespace",
            SYSTEM_NS,
        ],
    );
    let target = FluxTarget {
        admin: &kc,
        kubeconfig: &ns_kc,
        ns: SYSTEM_NS,
        dir: &dir.0,
    };
    let flux = Flux::start_on(&target, true).await;
    // Dropped before Flux stops, even when the test fails.
    let _flux_objects = FluxObjects { kubeconfig: &kc };
    flux.git.copy_dir(&root().join(CHART), CHART);
    std::fs::create_dir_all(flux.git.path("release")).expect("release dir");
    // The chart's defaults (the image's default reference, imported on the node) but what
    // every install here sets: the simulator front's address and CA.
    let values =
        format!("allowedEndpoints: [\"{ip}\"]\nextraCA:\n  configMapName: {CA_CONFIGMAP}\n");
    std::fs::write(flux.git.path(VALUES), values).expect("values written");
    flux.git.commit_and_push("the operator's chart");
    let docs = release_docs(SYSTEM_NS, &flux.git.url, json!({}), true);
    let text: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
    let path = dir.0.join("release.json");
    std::fs::write(&path, text.join("\n")).expect("release written");
    let started = Instant::now();
    kubectl_sync_ok(
        &kc,
        &[
            "apply",
            "--server-side",
            "-f",
            path.to_str().expect("UTF-8"),
        ],
    );

    let (_, reason, message) = wait_ready(&flux, "installed", 240, |s, _, _| s == "True").await;
    let took = started.elapsed();
    assert_eq!(reason, "InstallSucceeded", "{message}");
    eprintln!("flux: HelmRelease Ready {took:?} after the apply");
    // helm's wait, as helm-controller runs it: the release was called ready only after the
    // Deployment was Available and its pod ready.
    let hr = flux.get(HR).expect("the HelmRelease");
    let release_ready = transition(&hr, "Ready");
    let name = cluster::SERVICE_ACCOUNT;
    let deploy = get_json(&kc, &["-n", SYSTEM_NS, &format!("deployment/{name}")]);
    let available = transition(&deploy, "Available");
    let pods = operator_pods(&kc);
    assert_eq!(pods.len(), 1, "{pods:?}");
    let pod_ready = transition(&pods[0], "Ready");
    assert!(
        available <= release_ready && pod_ready <= release_ready,
        "the HelmRelease was Ready at {release_ready}, before its Deployment was Available \
         ({available}) or its pod ready ({pod_ready})"
    );
    assert_eq!(
        pods[0]["status"]["containerStatuses"][0]["image"],
        super::image(),
        "{}",
        pods[0]["status"]
    );

    // The pod Flux started tracks jobs to their end, each transition once.
    let running = jobs::start("flux-helm", &cert, ip, &["884001", "884002"]).await;
    running.assert_finished_once(&cluster).await;
    drop(running);

    // Removing the HelmRelease uninstalls the release (helm-controller's finalizer).
    kubectl_sync_ok(
        &kc,
        &["delete", HR, "-n", SYSTEM_NS, "--wait", "--timeout=120s"],
    );
    let out = crate::cluster::kubectl_sync(
        &kc,
        &["-n", SYSTEM_NS, "get", &format!("deployment/{name}")],
    );
    assert!(
        !out.status.success(),
        "the release's Deployment outlived its HelmRelease"
    );
    // Dropped in reverse order of declaration: Flux's objects (while Flux runs), Flux, the
    // release and its namespace, then the release slot.
}
