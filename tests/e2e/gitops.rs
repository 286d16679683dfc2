//! Flux's real controllers for the end-to-end suite: source-controller and
//! kustomize-controller built from their Go modules by testenv/build-flux.sh (into
//! `.tools/flux/<version>`, or `$FLUX_DIR`), a Git repository served on loopback by Debian
//! git's `git http-backend` behind Python's CGI server, and helpers to read what Flux
//! reports.
//!
//! The controllers run as host processes with a kubeconfig, not as pods: the test control
//! plane has no kubelet, so pods never start. Each test gets its own pair, watching only the
//! test's namespace (`RUNTIME_NAMESPACE`, `--watch-all-namespaces=false`), so tests running in
//! parallel never reconcile each other's objects. They run with the admin identity: Flux's
//! own install binds its reconcilers to `cluster-admin` too.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::OnceCell;

use super::cluster::{self, kubectl_sync, kubectl_sync_ok, root};
use super::harness::{free_port, http_get, output_text, tail, Harness};

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

/// Runs a command to completion (bounded by the caller's tools); panics when it fails.
fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.stdin(Stdio::null()).output().expect("the command runs");
    assert!(out.status.success(), "{cmd:?}: {}", output_text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A child process killed on drop, its output in a log file.
struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Process {
    fn spawn(name: &'static str, cmd: &mut Command, dir: &Path) -> Process {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts: {e}"));
        Process { name, child, log }
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `http://127.0.0.1:<port><path>` answers 200.
    async fn wait_http(&mut self, port: u16, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok((200, _)) = http_get(port, path).await {
                return;
            }
            assert!(
                matches!(self.child.try_wait(), Ok(None)),
                "{} exited at start:\n{}",
                self.name,
                tail(&self.logs(), 40)
            );
            assert!(
                Instant::now() < deadline,
                "{} not ready in 60s:\n{}",
                self.name,
                tail(&self.logs(), 40)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Git repository on loopback: a bare repository served read-only over smart HTTP by
/// `git http-backend` (Debian git) behind `python3 -m http.server --cgi`, and a working
/// copy the test commits to and pushes from.
pub struct GitServer {
    _server: Process,
    work: PathBuf,
    bare: PathBuf,
    /// The URL a GitRepository fetches.
    pub url: String,
}

impl GitServer {
    pub async fn start(dir: &Path) -> GitServer {
        let root_dir = dir.join("git");
        let repos = root_dir.join("repos");
        let cgi = root_dir.join("cgi-bin");
        std::fs::create_dir_all(&repos).unwrap();
        std::fs::create_dir_all(&cgi).unwrap();
        let bare = repos.join("platform.git");
        run_ok(
            Command::new("git")
                .args(["init", "-q", "--bare", "-b", "main"])
                .arg(&bare),
        );
        let backend = run_ok(Command::new("git").arg("--exec-path"));
        let backend = Path::new(backend.trim()).join("git-http-backend");
        // Python runs CGI scripts as `nobody` when it runs as root: the repository is then
        // owned by someone else, which git refuses unless safe.directory says otherwise.
        let wrapper = cgi.join("git");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nexport GIT_PROJECT_ROOT='{}'\nexport GIT_HTTP_EXPORT_ALL=1\n\
                 export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'\n\
                 exec '{}'\n",
                repos.display(),
                backend.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
        for d in [dir, &root_dir, &repos, &cgi] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let port = free_port();
        let mut server = Process::spawn(
            "git-http",
            Command::new("python3")
                .args(["-m", "http.server", "--cgi", "--bind", "127.0.0.1"])
                .arg(port.to_string())
                .current_dir(&root_dir),
            dir,
        );
        let url = format!("http://127.0.0.1:{port}/cgi-bin/git/platform.git");
        // Answers once the CGI wrapper runs (an empty repository has no refs yet).
        server
            .wait_http(
                port,
                "/cgi-bin/git/platform.git/info/refs?service=git-upload-pack",
            )
            .await;
        let work = root_dir.join("work");
        run_ok(
            Command::new("git")
                .args(["init", "-q", "-b", "main"])
                .arg(&work),
        );
        GitServer {
            _server: server,
            work,
            bare,
            url,
        }
    }

    /// The working copy's path of a file.
    pub fn path(&self, file: &str) -> PathBuf {
        self.work.join(file)
    }

    /// Copies a directory tree into the working copy (at `to`, relative).
    pub fn copy_dir(&self, from: &Path, to: &str) {
        let target = self.work.join(to);
        std::fs::create_dir_all(&target).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            if path.is_dir() {
                self.copy_dir(&path, &format!("{to}/{name}"));
            } else {
                std::fs::copy(&path, target.join(&name)).unwrap();
            }
        }
    }

    /// Commits everything in the working copy and pushes it; returns the commit's hash.
    pub fn commit_and_push(&self, message: &str) -> String {
        let git = |args: &[&str]| {
            run_ok(
                Command::new("git")
                    .args([
                        "-c",
                        "user.name=e2e",
                        "-c",
                        "user.email=e2e@example.invalid",
                    ])
                    .args(args)
                    .current_dir(&self.work)
                    .env("HOME", &self.work)
                    .env("GIT_CONFIG_NOSYSTEM", "1"),
            )
        };
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", message]);
        git(&["push", "-q", self.bare.to_str().unwrap(), "main"]);
        git(&["rev-parse", "HEAD"]).trim().to_string()
    }
}

/// Flux's source-controller and kustomize-controller for one test namespace, stopped on drop.
pub struct Flux {
    source: Process,
    kustomize: Process,
    pub git: GitServer,
    kubeconfig: PathBuf,
}

impl Flux {
    /// Installs Flux's CRDs (once per test process), starts a Git server and the two
    /// controllers watching `h.ns`, and waits until both are ready.
    pub async fn start(h: &Harness) -> Flux {
        let dir = flux_dir();
        let kubeconfig = h.kubeconfig.clone();
        install_crds(&h.cluster().kubeconfig, &dir).await;
        let scratch = h.dir.0.join("flux");
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
                .env("RUNTIME_NAMESPACE", &h.ns)
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
        source.wait_http(sp[1], "/readyz").await;
        kustomize.wait_http(kp[1], "/readyz").await;
        Flux {
            source,
            kustomize,
            git,
            kubeconfig,
        }
    }

    /// Both controllers' logs (for failure messages).
    pub fn logs(&self) -> String {
        format!(
            "source-controller:\n{}\nkustomize-controller:\n{}",
            tail(&self.source.logs(), 30),
            tail(&self.kustomize.logs(), 60)
        )
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
        let out = kubectl_sync(&self.kubeconfig, &["get", object, "-o", "json"]);
        if !out.status.success() {
            return None;
        }
        let obj: Value = serde_json::from_slice(&out.stdout).ok()?;
        let c = obj["status"]["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == type_)?
            .clone();
        let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
        Some((s("status"), s("reason"), s("message")))
    }
}

/// The Kustomization's full resource name, for kubectl.
pub fn kustomization(name: &str) -> String {
    format!("kustomizations.kustomize.toolkit.fluxcd.io/{name}")
}

/// Applies Flux's CRDs from the module zips (once per test process) and waits until the
/// apiserver serves them.
async fn install_crds(admin: &Path, dir: &Path) {
    let (admin, crds) = (admin.to_path_buf(), dir.join("crds"));
    CRDS_INSTALLED
        .get_or_init(|| async move {
            tokio::task::spawn_blocking(move || {
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
                for crd in [
                    "gitrepositories.source.toolkit.fluxcd.io",
                    "kustomizations.kustomize.toolkit.fluxcd.io",
                ] {
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
            })
            .await
            .expect("Flux CRDs installed")
        })
        .await;
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
