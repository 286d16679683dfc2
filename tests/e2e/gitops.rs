//! Flux's real controllers for the end-to-end suite: source-controller and
//! kustomize-controller (and helm-controller, for `flux_helm.rs`) built from their Go modules
//! by testenv/build-flux.sh (into `.tools/flux/<version>`, or `$FLUX_DIR`), a Git repository
//! served on loopback (`git_server.rs`), and helpers to read what Flux reports.
//!
//! The controllers run as host processes with a kubeconfig, not as pods: the test control
//! plane has no kubelet, so pods never start. Each test gets its own set, watching only the
//! test's namespace (`RUNTIME_NAMESPACE`, `--watch-all-namespaces=false`), so tests running in
//! parallel never reconcile each other's objects. They run with the admin identity: Flux's
//! own install binds its reconcilers to `cluster-admin` too.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tokio::sync::OnceCell;

use super::cluster::{self, kubectl_sync, kubectl_sync_ok, root};
use super::git_server::{GitServer, Process};
use super::harness::{free_port, output_text, tail, Harness};

/// The Flux release testenv/build-flux.sh builds.
pub const FLUX_VERSION: &str = "v1.9.6";

static CRDS_INSTALLED: OnceCell<()> = OnceCell::const_new();

/// Where build-flux.sh put the controllers and their CRDs.
pub fn flux_dir() -> PathBuf {
    let dir = std::env::var_os("FLUX_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".tools/flux").join(FLUX_VERSION));
    assert!(
        dir.join("bin/.complete").is_file(),
        "Flux's controllers are not built in {}: run testenv/build-flux.sh (scripts/test.sh \
         does), or set FLUX_DIR",
        dir.display()
    );
    dir
}

/// Where Flux's controllers run: the cluster (its admin kubeconfig installs the CRDs), the
/// kubeconfig the controllers use, the one namespace they watch, and a scratch directory.
pub struct FluxTarget<'a> {
    pub admin: &'a Path,
    pub kubeconfig: &'a Path,
    pub ns: &'a str,
    pub dir: &'a Path,
}

/// Flux's source-controller and kustomize-controller (and helm-controller when asked for)
/// for one test namespace, stopped on drop.
pub struct Flux {
    source: Process,
    kustomize: Process,
    helm: Option<Process>,
    pub git: GitServer,
    kubeconfig: PathBuf,
}

impl Flux {
    /// Installs Flux's CRDs (once per test process), starts a Git server and the two
    /// controllers watching `h.ns`, and waits until both are ready.
    pub async fn start(h: &Harness) -> Flux {
        let target = FluxTarget {
            admin: &h.cluster().kubeconfig,
            kubeconfig: &h.kubeconfig,
            ns: &h.ns,
            dir: &h.dir.0,
        };
        Flux::start_on(&target, false).await
    }

    /// Installs Flux's CRDs (once per test process on the shared cluster, every time on
    /// another), starts a Git server and the controllers (helm-controller too with `helm`)
    /// watching `t.ns`, and waits until they are ready.
    pub async fn start_on(t: &FluxTarget<'_>, helm: bool) -> Flux {
        let dir = flux_dir();
        if helm {
            assert!(
                dir.join("bin/helm-controller").is_file(),
                "helm-controller is not built in {}: run testenv/build-flux.sh without \
                 FLUX_HELM=0 (scripts/test.sh does)",
                dir.display()
            );
        }
        let kubeconfig = t.kubeconfig.to_path_buf();
        install_crds(t.admin, &dir, helm).await;
        let scratch = t.dir.join("flux");
        std::fs::create_dir_all(&scratch).unwrap();
        let git = GitServer::start(&scratch).await;
        let bin = dir.join("bin");
        let ports = |n| (0..n).map(|_| free_port()).collect::<Vec<u16>>();
        let common_args = |p: &[u16]| {
            vec![
                format!("--metrics-addr=127.0.0.1:{}", p[0]),
                format!("--health-addr=127.0.0.1:{}", p[1]),
                "--enable-leader-election=false".to_string(),
                "--watch-all-namespaces=false".to_string(),
                "--events-addr=".to_string(),
                "--log-level=debug".to_string(),
            ]
        };
        let env = |cmd: &mut Command| {
            cmd.env("KUBECONFIG", &kubeconfig)
                .env("RUNTIME_NAMESPACE", t.ns)
                .env("HOME", &scratch)
                .env_remove("HTTP_PROXY")
                .env_remove("HTTPS_PROXY")
                .env_remove("http_proxy")
                .env_remove("https_proxy");
        };
        let sp = ports(3);
        let storage = scratch.join("storage");
        std::fs::create_dir_all(&storage).unwrap();
        let mut cmd = Command::new(bin.join("source-controller"));
        cmd.args(common_args(&sp))
            .arg(format!("--storage-path={}", storage.display()))
            .arg(format!("--storage-addr=127.0.0.1:{}", sp[2]))
            .arg(format!("--storage-adv-addr=127.0.0.1:{}", sp[2]));
        env(&mut cmd);
        let mut source = Process::spawn("source-controller", &mut cmd, &scratch);
        let kp = ports(2);
        let mut cmd = Command::new(bin.join("kustomize-controller"));
        cmd.args(common_args(&kp))
            .arg("--requeue-dependency=5s")
            .arg("--no-remote-bases=true");
        env(&mut cmd);
        let mut kustomize = Process::spawn("kustomize-controller", &mut cmd, &scratch);
        // helm-controller fetches the chart source-controller built from the storage
        // address above (the HelmChart's `status.artifact.url`), and installs with its own
        // kubeconfig (no `serviceAccountName` in the HelmReleases).
        let mut helm = helm.then(|| {
            let hp = ports(2);
            let mut cmd = Command::new(bin.join("helm-controller"));
            cmd.args(common_args(&hp));
            env(&mut cmd);
            (Process::spawn("helm-controller", &mut cmd, &scratch), hp[1])
        });
        source.wait_http(sp[1], "/readyz").await;
        kustomize.wait_http(kp[1], "/readyz").await;
        if let Some((p, port)) = helm.as_mut() {
            p.wait_http(*port, "/readyz").await;
        }
        Flux {
            source,
            kustomize,
            helm: helm.map(|(p, _)| p),
            git,
            kubeconfig,
        }
    }

    /// The controllers' logs (for failure messages).
    pub fn logs(&self) -> String {
        let mut text = format!(
            "source-controller:\n{}\nkustomize-controller:\n{}",
            tail(&self.source.logs(), 30),
            tail(&self.kustomize.logs(), 60)
        );
        if let Some(helm) = &self.helm {
            text.push_str(&format!("\nhelm-controller:\n{}", tail(&helm.logs(), 60)));
        }
        text
    }

    /// Asks Flux to fetch the repository and reconcile at once (as `flux reconcile` does).
    pub fn request_reconcile(&self, object: &str) {
        let now = format!("{:?}", std::time::SystemTime::now());
        kubectl_sync_ok(
            &self.kubeconfig,
            &[
                "annotate",
                "--overwrite",
                object,
                &format!("reconcile.fluxcd.io/requestedAt={now}"),
            ],
        );
    }

    /// A condition of a Flux object (`kustomizations.kustomize.toolkit.fluxcd.io/NAME`):
    /// `(status, reason, message)`, or `None`.
    pub fn condition(&self, object: &str, type_: &str) -> Option<(String, String, String)> {
        let obj = self.get(object)?;
        let c = obj["status"]["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == type_)?
            .clone();
        let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
        Some((s("status"), s("reason"), s("message")))
    }

    /// Waits until the Ready condition of a Flux object satisfies `check(status, reason,
    /// message)`, polling every `every`; returns it. On timeout, fails with the condition,
    /// `context()` (what the caller knows of the object under test) and the controllers' logs.
    pub async fn wait_ready(
        &self,
        object: &str,
        what: &str,
        secs: u64,
        every: std::time::Duration,
        check: impl Fn(&str, &str, &str) -> bool,
        context: impl Fn() -> String,
    ) -> (String, String, String) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            if let Some((s, r, m)) = self.condition(object, "Ready") {
                if check(&s, &r, &m) {
                    eprintln!("{object}: Ready={s} reason={r} message={m:?}");
                    return (s, r, m);
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{object} not {what} in {secs}s: {:?}\n{}\n{}",
                self.condition(object, "Ready"),
                context(),
                self.logs()
            );
            tokio::time::sleep(every).await;
        }
    }

    /// A Flux object as the apiserver serves it, or `None`.
    pub fn get(&self, object: &str) -> Option<Value> {
        let out = kubectl_sync(&self.kubeconfig, &["get", object, "-o", "json"]);
        if !out.status.success() {
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    }
}

/// The Kustomization's full resource name, for kubectl.
pub fn kustomization(name: &str) -> String {
    format!("kustomizations.kustomize.toolkit.fluxcd.io/{name}")
}

/// Applies Flux's CRDs from the module zips (once per test process on the shared cluster)
/// and waits until the apiserver serves them (helm-controller's too with `helm`).
async fn install_crds(admin: &Path, dir: &Path, helm: bool) {
    let (admin, crds) = (admin.to_path_buf(), dir.join("crds"));
    let shared = std::env::var_os("KUBECONFIG").is_some_and(|k| admin == k);
    let install = move || {
        kubectl_sync_ok(
            &admin,
            &[
                "apply",
                "--server-side",
                "--force-conflicts",
                "-f",
                crds.to_str().unwrap(),
            ],
        );
        let mut names = vec![
            "gitrepositories.source.toolkit.fluxcd.io",
            "kustomizations.kustomize.toolkit.fluxcd.io",
        ];
        if helm {
            names.extend([
                "helmcharts.source.toolkit.fluxcd.io",
                "helmreleases.helm.toolkit.fluxcd.io",
            ]);
        }
        for crd in names {
            kubectl_sync_ok(
                &admin,
                &[
                    "wait",
                    "--for=condition=Established",
                    "--timeout=60s",
                    &format!("crd/{crd}"),
                ],
            );
        }
    };
    if shared && !helm {
        CRDS_INSTALLED
            .get_or_init(|| async move {
                tokio::task::spawn_blocking(install)
                    .await
                    .expect("Flux CRDs installed")
            })
            .await;
    } else {
        tokio::task::spawn_blocking(install)
            .await
            .expect("Flux CRDs installed");
    }
}

/// The documents of `examples/gitops/flux/pipeline.yaml` (GitRepository, Kustomizations),
/// moved into the test's namespace and pointed at the loopback repository.
pub fn pipeline(h: &Harness, repo_url: &str) -> Vec<Value> {
    let path = root().join("examples/gitops/flux/pipeline.yaml");
    let mut docs = crate::common::read_yaml_stream(&path);
    for d in &mut docs {
        d["metadata"]["namespace"] = Value::from(h.ns.clone());
        if d["kind"] == "GitRepository" {
            d["spec"]["url"] = Value::from(repo_url);
        }
        let spec = d["spec"].as_object_mut().expect("a spec");
        if spec.contains_key("targetNamespace") {
            spec.insert("targetNamespace".into(), Value::from(h.ns.clone()));
        }
        if let Some(checks) = spec.get_mut("healthChecks").and_then(Value::as_array_mut) {
            for c in checks {
                c["namespace"] = Value::from(h.ns.clone());
            }
        }
    }
    docs
}

/// The document of `kind`/`name` in a pipeline.
pub fn doc_mut<'a>(docs: &'a mut [Value], kind: &str, name: &str) -> &'a mut Value {
    docs.iter_mut()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name} in the pipeline"))
}

/// Applies documents with kubectl (server-side, as Flux's own objects are usually applied).
pub async fn apply_docs(h: &Harness, name: &str, docs: &[Value]) {
    let text = docs
        .iter()
        .map(|d| serde_json::to_string(d).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let path = h.write(&format!("{name}.json"), &text);
    h.kubectl_ok(&["apply", "--server-side", "-f", path.to_str().unwrap()])
        .await;
}

/// `kubectl get` of an object in the test's namespace exists.
pub fn exists(h: &Harness, object: &str) -> bool {
    let out = kubectl_sync(
        &h.kubeconfig,
        &["get", object, "--ignore-not-found", "-o", "name"],
    );
    out.status.success() && !out.stdout.is_empty()
}

/// What the GitOps engines' own code makes of the objects as the apiserver serves them
/// (`$GITOPS_HEALTH`: kstatus, Flux's kstatus fork and Argo CD's Lua VM running
/// examples/gitops/argocd/health.lua): one verdict per object.
pub fn gitops_health(objects_json: &str) -> Vec<Value> {
    let health = std::env::var_os("GITOPS_HEALTH")
        .expect("$GITOPS_HEALTH (built by testenv/build.sh; `scripts/testenv.sh env` prints it)");
    let script = cluster::root().join("examples/gitops/argocd/health.lua");
    let mut cmd = Command::new(health);
    cmd.arg(&script);
    let out = cluster::with_stdin(cmd, objects_json);
    assert!(out.status.success(), "{}", output_text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
