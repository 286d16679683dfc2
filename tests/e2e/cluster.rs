//! The Kubernetes side of the end-to-end suite: a real cluster named by `KUBECONFIG`
//! (normally the control plane that `scripts/testenv.sh up` started: real etcd, real
//! kube-apiserver, the real `kubectl` built with it), a namespace per test, the chart's own
//! RBAC as the operator's only rights, and the apiserver's audit log, which tells which verbs
//! a client used.
//!
//! Variables (printed by `scripts/testenv.sh env`):
//! - `KUBECONFIG`: the cluster, with rights to create namespaces, RBAC and CRDs;
//! - `KUBECTL`: the kubectl to drive it with (required: nothing falls back to whatever
//!   kubectl happens to be installed);
//! - `TESTENV_DIR`: set only for the test control plane; tests that read its audit log or
//!   restart it (named `testenv_*`) need it and fail without it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;
use tokio::sync::OnceCell;

use super::harness::output_text;

static NAMESPACE_SEQ: AtomicU32 = AtomicU32::new(0);
static SHARED_CRD_INSTALLED: OnceCell<()> = OnceCell::const_new();

/// Name of the chart's ServiceAccount (and so of the operator's identity) with the release
/// name the tests use.
pub const RELEASE: &str = "cdb";
pub const SERVICE_ACCOUNT: &str = "cdb-clouddb-job-operator";

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn required_env(name: &str) -> PathBuf {
    crate::common::required_path(
        name,
        "the end-to-end suite runs against a real cluster. Start the test control plane \
         with `eval \"$(scripts/testenv.sh up)\"` (or run ./scripts/test.sh), or point \
         KUBECONFIG and KUBECTL at a cluster and its kubectl",
    )
}

/// The cluster's kubeconfig (`$KUBECONFIG`).
pub fn admin_kubeconfig() -> PathBuf {
    required_env("KUBECONFIG")
}

/// The real kubectl (`$KUBECTL`).
pub fn kubectl_path() -> PathBuf {
    required_env("KUBECTL")
}

/// helm (`$HELM`: the one testenv/build.sh builds from helm.sh/helm/v4).
pub fn helm_path() -> PathBuf {
    required_env("HELM")
}

/// kubectl's discovery cache beside a kubeconfig: never shared with a kubectl that ran
/// before the CRD existed (a stale cache says "doesn't have a resource type").
fn cache_dir(kubeconfig: &Path) -> String {
    let parent = kubeconfig.parent().unwrap_or(Path::new("."));
    format!("--cache-dir={}", parent.join("kubectl-cache").display())
}

/// Runs kubectl synchronously with a kubeconfig; bounded by `--request-timeout`.
pub fn kubectl_sync(kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new(kubectl_path())
        .args(args)
        .arg("--request-timeout=30s")
        .arg(cache_dir(kubeconfig))
        .env("KUBECONFIG", kubeconfig)
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .stdin(Stdio::null())
        .output()
        .expect("kubectl runs")
}

/// Like [`kubectl_sync`], asserting success; returns stdout.
pub fn kubectl_sync_ok(kubeconfig: &Path, args: &[&str]) -> String {
    let out = kubectl_sync(kubeconfig, args);
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        output_text(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs kubectl with a manifest on standard input.
pub fn kubectl_stdin(kubeconfig: &Path, args: &[&str], input: &str) -> Output {
    let mut cmd = Command::new(kubectl_path());
    cmd.args(args)
        .arg("--request-timeout=30s")
        .arg(cache_dir(kubeconfig))
        .env("KUBECONFIG", kubeconfig);
    with_stdin(cmd, input)
}

/// Runs a command with `input` on its standard input; returns its output.
pub fn with_stdin(mut cmd: Command, input: &str) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("input written");
    child.wait_with_output().expect("the command finished")
}

/// A cluster the tests talk to.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// Kubeconfig with admin rights (namespaces, RBAC, CRDs).
    pub kubeconfig: PathBuf,
    /// The state directory of a control plane started by scripts/testenv.sh (audit log,
    /// processes); `None` for any other cluster.
    pub testenv_dir: Option<PathBuf>,
}

impl Cluster {
    /// The suite's cluster: `$KUBECONFIG`, with `$TESTENV_DIR` when it is the test control
    /// plane.
    pub fn shared() -> Cluster {
        Cluster {
            kubeconfig: admin_kubeconfig(),
            testenv_dir: std::env::var_os("TESTENV_DIR").map(PathBuf::from),
        }
    }

    /// The control plane's state directory; panics on a cluster that is not one.
    pub fn testenv_dir(&self) -> &Path {
        self.testenv_dir.as_deref().unwrap_or_else(|| {
            panic!(
                "$TESTENV_DIR is not set: this test needs the control plane of \
                 scripts/testenv.sh (its audit log or its processes); skip `testenv_` tests \
                 on other clusters"
            )
        })
    }

    /// Installs the CRD from `crds/` (once per test process on the shared cluster), as
    /// users do, and waits until the apiserver serves it.
    pub async fn install_crd(&self) {
        let install = {
            let kubeconfig = self.kubeconfig.clone();
            move || {
                // Both CRDs, as the chart installs them (the CloudDbInstance controller
                // starts only when its CRD is served).
                for (file, name) in [
                    ("crds/clouddbjob.yaml", "crd/clouddbjobs.clouddb.io"),
                    (
                        "crds/clouddbinstance.yaml",
                        "crd/clouddbinstances.clouddb.io",
                    ),
                ] {
                    let crd = root().join(file);
                    kubectl_sync_ok(
                        &kubeconfig,
                        &[
                            "apply",
                            "--server-side",
                            "--force-conflicts",
                            "-f",
                            crd.to_str().unwrap(),
                        ],
                    );
                    kubectl_sync_ok(
                        &kubeconfig,
                        &["wait", "--for=condition=Established", "--timeout=60s", name],
                    );
                }
                // Established comes before the apiserver publishes the new type in
                // discovery and OpenAPI (a real apiserver updates them asynchronously;
                // `kubectl explain` right after `wait` can fail): wait for both.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
                loop {
                    let out = kubectl_sync(&kubeconfig, &["explain", "cdbjob.spec.jobId"]);
                    if out.status.success() {
                        break;
                    }
                    assert!(
                        std::time::Instant::now() < deadline,
                        "CloudDbJob not served 60 s after Established: {}",
                        output_text(&out)
                    );
                    std::thread::sleep(std::time::Duration::from_millis(250));
                    // A fresh discovery cache for the next try.
                    let _ = std::fs::remove_dir_all(
                        kubeconfig
                            .parent()
                            .unwrap_or(Path::new("."))
                            .join("kubectl-cache"),
                    );
                }
            }
        };
        if std::env::var_os("KUBECONFIG").is_some_and(|k| self.kubeconfig == k) {
            SHARED_CRD_INSTALLED
                .get_or_init(|| async {
                    tokio::task::spawn_blocking(install)
                        .await
                        .expect("CRD installed")
                })
                .await;
        } else {
            tokio::task::spawn_blocking(install)
                .await
                .expect("CRD installed");
        }
    }

    /// Every resource request in the control plane's audit log (final stage), oldest first.
    pub fn audited(&self) -> Vec<Request> {
        let path = self.testenv_dir().join("audit.log");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("audit log {}: {e}", path.display()));
        text.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|e| e["stage"] == "ResponseComplete" && e["objectRef"].is_object())
            .map(|e| {
                let s = |v: &Value| v.as_str().unwrap_or("").to_string();
                Request {
                    user: s(&e["user"]["username"]),
                    verb: s(&e["verb"]),
                    group: s(&e["objectRef"]["apiGroup"]),
                    resource: s(&e["objectRef"]["resource"]),
                    subresource: s(&e["objectRef"]["subresource"]),
                    namespace: s(&e["objectRef"]["namespace"]),
                    name: s(&e["objectRef"]["name"]),
                    code: e["responseStatus"]["code"].as_u64().unwrap_or(0) as u16,
                    response_version: s(&e["responseObject"]["metadata"]["resourceVersion"]),
                    at: s(&e["stageTimestamp"]),
                    source_ip: s(&e["sourceIPs"][0]),
                }
            })
            .collect()
    }

    /// Every resource request of `user` in the control plane's audit log (final stage).
    pub fn audited_requests(&self, user: &str) -> Vec<Request> {
        let mut requests = self.audited();
        requests.retain(|r| r.user == user);
        requests
    }

    /// Successful status writes (`patch` of `clouddbjobs/status`) by `user` to one object.
    pub fn status_writes(&self, user: &str, ns: &str, name: &str) -> usize {
        self.audited_requests(user)
            .iter()
            .filter(|r| r.is_status_write_of(ns, name))
            .count()
    }

    /// The successful writes of one CloudDbJob by anyone, oldest first (their bodies are
    /// audited: see scripts/testenv.sh).
    pub fn job_writes(&self, ns: &str, name: &str) -> Vec<Request> {
        let mut writes = self.audited();
        writes.retain(|r| {
            r.group == "clouddb.io"
                && r.resource == "clouddbjobs"
                && r.namespace == ns
                && r.name == name
                && matches!(r.verb.as_str(), "create" | "update" | "patch")
                && (200..300).contains(&r.code)
        });
        writes
    }
}

/// The status writes of `user` in `writes` (one object's, oldest first) that changed
/// nothing: the apiserver answered with a resourceVersion the object already had.
pub fn noop_status_writes(writes: &[Request], user: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut noops = Vec::new();
    for (i, w) in writes.iter().enumerate() {
        assert!(
            !w.response_version.is_empty(),
            "the audit log holds no body for write #{i} of {}: a control plane started with an \
             older audit policy (restart it: scripts/testenv.sh down && up)",
            w.name
        );
        let new = seen.insert(w.response_version.clone());
        if !new && w.user == user && w.subresource == "status" {
            noops.push(format!(
                "write #{i} ({} {}) returned resourceVersion {} again",
                w.verb,
                w.full_resource(),
                w.response_version
            ));
        }
    }
    noops
}

/// A private control plane (scripts/testenv.sh with its own state directory) for tests that
/// stop, restart or compact it; stopped on drop, its logs kept in the directory.
pub struct ControlPlane {
    pub cluster: Cluster,
}

impl ControlPlane {
    /// Starts etcd and kube-apiserver (with `apiserver_args` added) under `dir`.
    pub fn start(dir: &Path, apiserver_args: &str) -> ControlPlane {
        let out = Command::new("bash")
            .arg(root().join("scripts/testenv.sh"))
            .arg("up")
            .env("TESTENV_DIR", dir)
            .env("TESTENV_APISERVER_ARGS", apiserver_args)
            .output()
            .expect("testenv.sh runs");
        assert!(out.status.success(), "testenv.sh up: {}", output_text(&out));
        ControlPlane {
            cluster: Cluster {
                kubeconfig: dir.join("kubeconfig"),
                testenv_dir: Some(dir.to_path_buf()),
            },
        }
    }

    fn script(&self, verb: &str) {
        let out = Command::new("bash")
            .arg(root().join("scripts/testenv.sh"))
            .arg(verb)
            .env("TESTENV_DIR", self.cluster.testenv_dir())
            .output()
            .expect("testenv.sh runs");
        assert!(
            out.status.success(),
            "testenv.sh {verb}: {}",
            output_text(&out)
        );
    }

    pub fn stop_apiserver(&self) {
        self.script("stop-apiserver");
    }

    pub fn start_apiserver(&self) {
        self.script("start-apiserver");
    }

    /// etcd's client URL.
    pub fn etcd_url(&self) -> String {
        let port = std::fs::read_to_string(self.cluster.testenv_dir().join("etcd.port"))
            .expect("etcd.port");
        format!("http://127.0.0.1:{}", port.trim())
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(root().join("scripts/testenv.sh"))
            .arg("down")
            .env("TESTENV_DIR", self.cluster.testenv_dir())
            .output();
    }
}

/// A fresh namespace for one test, and a kubeconfig whose context defaults to it.
pub struct TestNamespace {
    pub name: String,
    /// Admin kubeconfig with the namespace as the context's default.
    pub kubeconfig: PathBuf,
}

impl TestNamespace {
    pub fn create(cluster: &Cluster, tag: &str, dir: &Path) -> TestNamespace {
        let clean: String = tag
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .take(40)
            .collect();
        let name = format!(
            "e2e-{clean}-{}-{}",
            std::process::id(),
            NAMESPACE_SEQ.fetch_add(1, Ordering::SeqCst)
        );
        let admin = &cluster.kubeconfig;
        kubectl_sync_ok(admin, &["create", "namespace", &name]);
        let flat = kubectl_sync_ok(admin, &["config", "view", "--raw", "--minify", "--flatten"]);
        let kubeconfig = dir.join("kubeconfig");
        std::fs::write(&kubeconfig, flat).unwrap();
        kubectl_sync_ok(
            &kubeconfig,
            &[
                "config",
                "set-context",
                "--current",
                &format!("--namespace={name}"),
            ],
        );
        TestNamespace { name, kubeconfig }
    }
}

/// `helm template` of the chart with `--set` values (release [`RELEASE`], namespace `ns`),
/// limited to the given templates.
pub fn helm_template(ns: &str, sets: &[&str], templates: &[&str]) -> String {
    let mut cmd = Command::new(helm_path());
    cmd.args(["template", RELEASE])
        .arg(root().join("charts/clouddb-job-operator"))
        .args(["--namespace", ns]);
    for set in sets {
        cmd.args(["--set", set]);
    }
    for t in templates {
        cmd.args(["--show-only", &format!("templates/{t}")]);
    }
    let out = cmd.output().expect("helm runs");
    assert!(out.status.success(), "helm template: {}", output_text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Applies the chart's ServiceAccount and RBAC (rendered by helm with `sets`) in `ns` and
/// writes a kubeconfig holding only a token of that ServiceAccount: the operator then runs
/// with exactly the rights the chart grants, as it would in the cluster.
pub fn operator_identity(cluster: &Cluster, ns: &str, sets: &[&str], dir: &Path) -> PathBuf {
    let admin = cluster.kubeconfig.clone();
    let rendered = helm_template(ns, sets, &["serviceaccount.yaml", "rbac.yaml"]);
    let out = kubectl_stdin(&admin, &["apply", "-f", "-"], &rendered);
    assert!(
        out.status.success(),
        "chart RBAC applied: {}\n{rendered}",
        output_text(&out)
    );
    let token = kubectl_sync_ok(
        &admin,
        &[
            "create",
            "token",
            SERVICE_ACCOUNT,
            "-n",
            ns,
            "--duration=2h",
        ],
    );
    token_kubeconfig(cluster, token.trim(), ns, dir)
}

/// A kubeconfig for `cluster` that holds only `token` (default namespace `ns`).
pub fn token_kubeconfig(cluster: &Cluster, token: &str, ns: &str, dir: &Path) -> PathBuf {
    let admin = &cluster.kubeconfig;
    let server = kubectl_sync_ok(
        admin,
        &[
            "config",
            "view",
            "--minify",
            "-o",
            "jsonpath={.clusters[0].cluster.server}",
        ],
    );
    let ca = kubectl_sync_ok(
        admin,
        &[
            "config",
            "view",
            "--raw",
            "--minify",
            "--flatten",
            "-o",
            "jsonpath={.clusters[0].cluster.certificate-authority-data}",
        ],
    );
    // A cluster with a publicly trusted certificate has no CA data in its kubeconfig.
    let ca_line = if ca.trim().is_empty() {
        String::new()
    } else {
        format!("    certificate-authority-data: {}\n", ca.trim())
    };
    let path = dir.join("operator.kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n{ca_line}users:\n- name: operator\n  user:\n    token: {token}\ncontexts:\n- name: c\n  context: {{cluster: c, user: operator, namespace: {ns}}}\ncurrent-context: c\n"
        ),
    )
    .unwrap();
    path
}

/// The username the apiserver gives the operator's ServiceAccount token.
pub fn operator_user(ns: &str) -> String {
    format!("system:serviceaccount:{ns}:{SERVICE_ACCOUNT}")
}

/// One request, as the apiserver's audit log recorded it.
#[derive(Clone, Debug)]
pub struct Request {
    pub user: String,
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
    pub code: u16,
    /// The resourceVersion of the object in the response, where the body was audited.
    pub response_version: String,
    /// When the response completed (RFC 3339, microseconds).
    pub at: String,
    /// The client's address (which pod, on the test node).
    pub source_ip: String,
}

impl Request {
    /// A successful `patch` of `clouddbjobs/status` of one object.
    pub fn is_status_write_of(&self, ns: &str, name: &str) -> bool {
        self.verb == "patch"
            && self.full_resource() == "clouddbjobs/status"
            && self.namespace == ns
            && self.name == name
            && (200..300).contains(&self.code)
    }

    /// `resource` or `resource/subresource`.
    pub fn full_resource(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }
}

/// `(group, resource[/subresource], verb)` of every request, deduplicated.
pub fn verbs_used(requests: &[Request]) -> BTreeSet<(String, String, String)> {
    requests
        .iter()
        .map(|r| (r.group.clone(), r.full_resource(), r.verb.clone()))
        .collect()
}
