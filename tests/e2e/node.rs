//! Issue 28: the add-on as it really runs. On the test node (`scripts/testenv.sh up --node`:
//! a kubelet, containerd and runc, a bridge network on this machine) `helm install --wait`
//! starts the chart's pod from the project's image (`scripts/build-image.sh`, imported with
//! `scripts/testenv.sh import`), and that pod, through its in-cluster configuration and
//! mounted ServiceAccount token, tracks one job of every provider API to its end. Also:
//! failover between two replicas (`failover`), `helm upgrade` to another image while jobs
//! run (`upgrade`), Prometheus scraping the pod as the chart's ServiceMonitor selects it and
//! the chart's alert rules evaluated on it (`metrics`), workload identity exchanged by the
//! pod at every cloud's STS (`identity`), and the pod's memory at 1,000 jobs against the
//! chart's limit (`memory`). The simulator is reached over HTTPS on the node's host address
//! (`tls`).
//!
//! Only with a node: `TESTENV_NODE=1` (printed by `up --node`). Without it these tests fail
//! and say so; the rest of the suite runs without a node (its tests assume pods never run),
//! so `cargo test --test e2e` there needs `-- --skip node::`. ./scripts/test.sh runs them on
//! a control plane of their own (`TESTENV_DIR=.tools/testenv/node`).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::cluster::{self, kubectl_stdin, kubectl_sync, kubectl_sync_ok, Cluster};
use super::harness::{output_text, Harness, Options};
use super::providers::cases;
use tls::{FrontCert, TlsFront};

mod failover;
mod flux;
mod gc;
mod identity;
mod jobs;
mod memory;
mod metrics;
mod oci;
mod tls;
mod upgrade;

/// The release namespace, as users install it.
pub(super) const SYSTEM_NS: &str = "clouddb-system";
/// One release at a time: the node's tests install the same cluster-wide release.
pub(super) static RELEASE_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
/// The ConfigMap holding the simulator front's CA (the chart's `extraCA`).
pub(super) const CA_CONFIGMAP: &str = "simulator-ca";
/// The image `scripts/testenv.sh import` names the archive of `scripts/build-image.sh`: the
/// chart's default reference (`image.repository`, tag = appVersion).
pub(super) fn image() -> String {
    format!(
        "docker.io/library/clouddb-job-operator:{}",
        env!("CARGO_PKG_VERSION")
    )
}

/// What each node test starts with: the node checked, the one release slot taken, the
/// simulator front's certificate, and the chart installed with `helm install --wait`
/// (default values plus `extra`). Dropping it uninstalls the release before the slot is
/// given back (fields drop in order).
pub(super) struct Installed {
    /// Held for its `Drop`: uninstalls the release.
    _release: Release,
    pub cert: FrontCert,
    pub cluster: Cluster,
    pub kc: PathBuf,
    pub ip: IpAddr,
    /// How long `helm install --wait` took.
    pub took: Duration,
    _one: tokio::sync::MutexGuard<'static, ()>,
}

pub(super) async fn install_release(extra: &[&str]) -> Installed {
    let slot = RELEASE_LOCK.lock().await;
    install_release_with(slot, FrontCert::generate(node_ip()), extra).await
}

/// [`install_release`] for tests that set up before the install, because the values name
/// what they set up (the namespace to watch, the front's address): they take the release
/// slot first (`RELEASE_LOCK`), so that no other test installs meanwhile, and make the front's
/// certificate themselves.
pub(super) async fn install_release_with(
    slot: tokio::sync::MutexGuard<'static, ()>,
    cert: FrontCert,
    extra: &[&str],
) -> Installed {
    let ip = node_ip();
    let one = slot;
    let cluster = Cluster::shared();
    let kc = cluster.kubeconfig.clone();
    check_node(&kc);
    let release = Release {
        cluster: cluster.clone(),
    };
    let (c, ca) = (cluster.clone(), cert.ca_pem.clone());
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let took = tokio::task::spawn_blocking(move || {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        install(&c, ip, &ca, &extra)
    })
    .await
    .expect("install");
    Installed {
        _release: release,
        cert,
        cluster,
        kc,
        ip,
        took,
        _one: one,
    }
}

/// The node's host address (where pods reach the host), after checking this is a test node.
pub(super) fn node_ip() -> IpAddr {
    let hint = "this test needs the test node: `eval \"$(scripts/testenv.sh up --node)\"` \
                (root; see scripts/testenv-node.sh), then `scripts/testenv.sh import \
                target/image/clouddb-job-operator-VERSION.oci.tar \
                docker.io/library/clouddb-job-operator:VERSION`; ./scripts/test.sh does both. \
                Without a node, skip these tests: `-- --skip node::`";
    assert_eq!(
        std::env::var("TESTENV_NODE").ok().as_deref(),
        Some("1"),
        "$TESTENV_NODE is not 1: {hint}"
    );
    let ip = std::env::var("TESTENV_NODE_IP")
        .unwrap_or_else(|_| panic!("$TESTENV_NODE_IP is not set: {hint}"));
    ip.parse()
        .unwrap_or_else(|e| panic!("$TESTENV_NODE_IP {ip:?}: {e}"))
}

pub(super) fn helm(cluster: &Cluster, args: &[&str]) -> std::process::Output {
    let dir = cluster.testenv_dir();
    Command::new(cluster::helm_path())
        .args(args)
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .env("HELM_CONFIG_HOME", dir.join("helm-config"))
        .env("HELM_CACHE_HOME", dir.join("helm-cache"))
        .env("HELM_DATA_HOME", dir.join("helm-data"))
        .output()
        .expect("helm runs")
}

pub(super) fn get_json(kubeconfig: &Path, args: &[&str]) -> Value {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend(["-o", "json"]);
    let text = kubectl_sync_ok(kubeconfig, &all);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("kubectl get {args:?}: {e}: {text}"))
}

/// The release, uninstalled (and its namespace deleted) on drop, whatever the test did. The
/// CRD stays (`crds.keep`, the default): the next install adopts it.
pub(super) struct Release {
    pub cluster: Cluster,
}

impl Drop for Release {
    fn drop(&mut self) {
        let out = helm(
            &self.cluster,
            &[
                "uninstall",
                cluster::RELEASE,
                "-n",
                SYSTEM_NS,
                "--wait",
                "--timeout",
                "60s",
            ],
        );
        if !out.status.success() {
            eprintln!("helm uninstall: {}", output_text(&out));
        }
        // Gone before the next test installs the release again.
        let _ = kubectl_sync(
            &self.cluster.kubeconfig,
            &[
                "delete",
                "namespace",
                SYSTEM_NS,
                "--ignore-not-found",
                "--wait=false",
            ],
        );
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            let out = kubectl_sync(&self.cluster.kubeconfig, &["get", "namespace", SYSTEM_NS]);
            if !out.status.success() {
                return;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        eprintln!("namespace {SYSTEM_NS} not deleted in 90 s");
    }
}

/// The node is Ready and holds the operator's image (imported: there is no registry). The
/// kubelet reports a new image at its next status update (10 s): waited for up to 30 s.
pub(super) fn check_node(kubeconfig: &Path) {
    let image = image();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let node = get_json(kubeconfig, &["node", "testenv-node"]);
        let ready = node["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True");
        assert!(ready, "the test node is not Ready: {}", node["status"]);
        let present = node["status"]["images"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|i| i["names"].as_array().into_iter().flatten())
            .any(|n| n.as_str() == Some(image.as_str()));
        if present {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{image} is not on the node: build it (scripts/build-image.sh) and import it \
             (scripts/testenv.sh import target/image/clouddb-job-operator-{v}.oci.tar {image})",
            v = env!("CARGO_PKG_VERSION")
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Installs the chart with its default values but `allowedEndpoints` (the simulator front's
/// address) and `extraCA` (its CA), and waits as `helm install --wait` does.
pub(super) fn install(cluster: &Cluster, ip: IpAddr, ca_pem: &str, extra: &[&str]) -> Duration {
    let chart = cluster::root().join("charts/clouddb-job-operator");
    install_chart(
        cluster,
        ip,
        ca_pem,
        chart.to_str().expect("UTF-8 path"),
        extra,
    )
}

/// `install` of the chart at `chart`: a directory or an `oci://` reference.
pub(super) fn install_chart(
    cluster: &Cluster,
    ip: IpAddr,
    ca_pem: &str,
    chart: &str,
    extra: &[&str],
) -> Duration {
    let kc = &cluster.kubeconfig;
    prepare_release_namespace(kc, ca_pem);
    let endpoints = format!("allowedEndpoints={{{ip}}}");
    let ca = format!("extraCA.configMapName={CA_CONFIGMAP}");
    let mut args = vec![
        "install",
        cluster::RELEASE,
        chart,
        "-n",
        SYSTEM_NS,
        "--set",
        &endpoints,
        "--set",
        &ca,
        "--wait",
        "--timeout",
        "180s",
    ];
    args.extend_from_slice(extra);
    let start = Instant::now();
    let out = helm(cluster, &args);
    let took = start.elapsed();
    if !out.status.success() {
        let pods = kubectl_sync(kc, &["-n", SYSTEM_NS, "describe", "pods"]);
        panic!(
            "helm install --wait failed after {took:?}: {}\n{}",
            output_text(&out),
            output_text(&pods)
        );
    }
    took
}

/// The release's namespace with the ConfigMap of the simulator front's CA (the chart's
/// `extraCA`), and the CRD ready to be adopted: what every install of the release needs first.
pub(super) fn prepare_release_namespace(kc: &Path, ca_pem: &str) {
    kubectl_sync_ok(kc, &["create", "namespace", SYSTEM_NS]);
    let cm = serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": CA_CONFIGMAP, "namespace": SYSTEM_NS},
        "data": {"ca.crt": ca_pem},
    });
    let out = kubectl_stdin(kc, &["apply", "-f", "-"], &cm.to_string());
    assert!(out.status.success(), "{}", output_text(&out));
    adopt_crd(kc);
}

/// A CRD applied with kubectl before the first install (the harness applies `crds/` when a
/// test sets up before installing) is marked as the release's, the way Helm adopts an
/// existing object (its label and annotations); one a release installed and kept has them.
fn adopt_crd(kc: &Path) {
    let crd = "crd/clouddbjobs.clouddb.io";
    if !kubectl_sync(kc, &["get", crd]).status.success() {
        return;
    }
    kubectl_sync_ok(
        kc,
        &[
            "label",
            "--overwrite",
            crd,
            "app.kubernetes.io/managed-by=Helm",
        ],
    );
    let name = format!("meta.helm.sh/release-name={}", cluster::RELEASE);
    let ns = format!("meta.helm.sh/release-namespace={SYSTEM_NS}");
    kubectl_sync_ok(kc, &["annotate", "--overwrite", crd, &name, &ns]);
}

pub(super) fn operator_pods(kubeconfig: &Path) -> Vec<Value> {
    let pods = get_json(
        kubeconfig,
        &[
            "pods",
            "-n",
            SYSTEM_NS,
            "-l",
            "app.kubernetes.io/name=clouddb-job-operator",
        ],
    );
    pods["items"].as_array().cloned().unwrap_or_default()
}

/// The host PID of a container (`containerd://ID`), from the node's containerd.
pub(super) fn container_pid(cluster: &Cluster, container_id: &str) -> u32 {
    let id = container_id
        .strip_prefix("containerd://")
        .unwrap_or_else(|| panic!("not a containerd container: {container_id}"));
    let text = ctr(cluster, &["tasks", "ls"]);
    text.lines()
        .find_map(|l| {
            let mut cols = l.split_whitespace();
            (cols.next() == Some(id)).then(|| cols.next()?.parse().ok())?
        })
        .unwrap_or_else(|| panic!("no task {id} in:\n{text}"))
}

/// `ctr` on the node's containerd, in the CRI's namespace; returns stdout.
pub(super) fn ctr(cluster: &Cluster, args: &[&str]) -> String {
    let socket: PathBuf = cluster
        .testenv_dir()
        .join("node/containerd/containerd.sock");
    let out = Command::new("ctr")
        .arg("--address")
        .arg(&socket)
        .args(["-n", "k8s.io"])
        .args(args)
        .output()
        .expect("ctr runs");
    assert!(out.status.success(), "ctr {args:?}: {}", output_text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What the kernel says about the container's process: its user and its root mount.
fn assert_runs_as_nonroot_read_only(pid: u32) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let uids = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .expect("Uid line");
    assert!(
        uids.split_whitespace().skip(1).all(|u| u == "65532"),
        "the operator's process runs as {uids}"
    );
    let mounts = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).expect("mountinfo");
    let root = mounts
        .lines()
        .find(|l| l.split_whitespace().nth(4) == Some("/"))
        .expect("a root mount");
    let options = root.split_whitespace().nth(5).unwrap_or("");
    assert!(
        options.split(',').any(|o| o == "ro"),
        "the root filesystem is not read-only: {root}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_install_runs_the_pod_that_tracks_every_provider_api() {
    let installed = install_release(&[]).await;
    let (cluster, kc, ip, cert, took) = (
        &installed.cluster,
        &installed.kc,
        installed.ip,
        &installed.cert,
        installed.took,
    );
    eprintln!("helm install --wait took {took:?}");

    // The Deployment is Available; its one pod is ready, never restarted, and runs as the
    // chart says: user 65532, read-only root filesystem (as the kernel sees the process).
    let name = cluster::SERVICE_ACCOUNT;
    let deploy = get_json(kc, &["-n", SYSTEM_NS, &format!("deployment/{name}")]);
    let available = deploy["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Available" && c["status"] == "True");
    assert!(available, "Deployment not Available: {}", deploy["status"]);
    let pods = operator_pods(kc);
    assert_eq!(pods.len(), 1, "{pods:?}");
    let container = &pods[0]["status"]["containerStatuses"][0];
    assert_eq!(container["ready"], true, "{container}");
    assert_eq!(container["restartCount"], 0, "{container}");
    assert_eq!(container["image"], image(), "{container}");
    let container_id = container["containerID"].as_str().expect("containerID");
    assert_runs_as_nonroot_read_only(container_pid(cluster, container_id));

    // Jobs of every provider API in a namespace of their own; the simulator behind its HTTPS
    // front on the node's host address.
    let h = Harness::start_without_operator(
        "node",
        Options {
            chart_identity: false,
            ..Options::default()
        },
    )
    .await;
    let front = TlsFront::start(cert, ip, h.sim.addr()).await;
    let cases = cases(&front.url);
    for case in &cases {
        h.apply(&case.manifest.name, &case.manifest.yaml()).await;
    }
    for case in &cases {
        h.wait_for(&case.manifest.name, case.condition, 90).await;
    }
    let user = format!("system:serviceaccount:{SYSTEM_NS}:{name}");
    for case in &cases {
        let job = &case.manifest.name;
        let status = h.status(job);
        let failed = case.condition == "Failed";
        assert_eq!(
            status["phase"],
            if failed { "Failed" } else { "Succeeded" },
            "{job}: {status}"
        );
        assert_eq!(status["jobType"].as_str(), case.job_type, "{job}: {status}");
        assert_eq!(
            status["providerStatus"], case.provider_status,
            "{job}: {status}"
        );
        // Written by the pod, under the release's ServiceAccount token.
        assert!(
            cluster.status_writes(&user, &h.ns, job) > 0,
            "{job}: no status write by {user}"
        );
    }
    drop(front);
    drop(h);
    drop(installed);
}
