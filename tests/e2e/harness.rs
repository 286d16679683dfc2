//! The end-to-end harness: the provider simulator and the fake Kubernetes API server run
//! in-process, the CRD is installed with the real `kubectl`, and the real operator binary
//! runs as a child process (killed on drop) with its stderr captured to a file.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use clouddb_job_operator::api::CloudDbJob;
use clouddb_job_operator::simulator::{ClockStart, JobSpec, SimConfig, SimCredentials, Simulator};
use clouddb_job_operator::testkit::apiserver::{FakeApiServer, FakeApiServerConfig};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::history::History;

/// Namespace of the examples (and so of every test object).
pub const NS: &str = "databases";
/// The operator binary under test.
pub const OPERATOR: &str = env!("CARGO_BIN_EXE_clouddb-job-operator");

static SEQ: AtomicU32 = AtomicU32::new(0);

/// The real kubectl (`$KUBECTL`, else `/usr/bin/kubectl`). Missing kubectl fails the suite:
/// these tests exist to drive the operator the way users do.
pub fn kubectl_path() -> PathBuf {
    let path =
        PathBuf::from(std::env::var("KUBECTL").unwrap_or_else(|_| "/usr/bin/kubectl".into()));
    assert!(
        path.exists(),
        "kubectl not found at {} (install it: `apt-get install kubectl`, or set $KUBECTL)",
        path.display()
    );
    path
}

/// A free loopback port (bound, read and released; fine for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A scratch directory, removed on drop unless the test panicked (kept for diagnostics).
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "clouddb-e2e-{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("keeping {} for diagnostics", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// How a harness starts.
pub struct Options {
    /// Simulator speed (scenario seconds per real second).
    pub speed: f64,
    /// Load the built-in scenarios.
    pub builtins: bool,
    /// Extra simulator jobs.
    pub jobs: Vec<JobSpec>,
    pub credentials: SimCredentials,
    /// Extra `run` arguments.
    pub operator_args: Vec<String>,
    /// `RUST_LOG` of the operator.
    pub rust_log: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            speed: 20.0,
            builtins: true,
            jobs: Vec::new(),
            credentials: SimCredentials::default(),
            operator_args: Vec::new(),
            rust_log: "info,clouddb_job_operator=debug".into(),
        }
    }
}

/// The operator child process. Dropping it kills it.
pub struct Operator {
    child: Child,
    pub stderr_path: PathBuf,
    pub metrics_port: u16,
}

impl Operator {
    /// Kills the process (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Simulator + fake API server + kubectl + operator.
pub struct Harness {
    pub sim: Simulator,
    pub api: FakeApiServer,
    pub client: Client,
    pub history: History,
    pub operator: Option<Operator>,
    kubectl: PathBuf,
    options: Options,
    runs: u32,
    // Last: removed after the processes above are gone.
    pub dir: Scratch,
}

impl Harness {
    /// Starts everything and installs the CRD with kubectl; the operator is started too.
    pub async fn start(tag: &str, options: Options) -> Harness {
        let mut h = Harness::start_without_operator(tag, options).await;
        h.start_operator().await;
        h
    }

    /// Like [`Harness::start`] but without the operator (for `track` tests and setups that
    /// create objects first).
    pub async fn start_without_operator(tag: &str, options: Options) -> Harness {
        let kubectl = kubectl_path();
        let dir = Scratch::new(tag);
        let mut config = if options.builtins {
            SimConfig::builtin().unwrap()
        } else {
            SimConfig::empty()
        };
        config.speed = options.speed;
        // Every job's clock starts at its first poll, so timelines do not run out while the
        // operator starts.
        config.clock = ClockStart::FirstRequest;
        config.credentials = options.credentials.clone();
        let sim = Simulator::start("127.0.0.1:0".parse().unwrap(), config)
            .await
            .unwrap();
        for job in &options.jobs {
            sim.add_job(job.clone()).unwrap();
        }
        // The CRD is installed below with kubectl, as users do.
        let api = FakeApiServer::start_with(
            "127.0.0.1:0".parse().unwrap(),
            FakeApiServerConfig {
                preregister_clouddbjobs: false,
                ..FakeApiServerConfig::default()
            },
        )
        .await
        .unwrap();
        std::fs::write(dir.0.join("kubeconfig"), api.kubeconfig_yaml()).unwrap();
        let kubeconfig = Kubeconfig::from_yaml(&api.kubeconfig_yaml()).unwrap();
        let client = Client::try_from(
            Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .unwrap(),
        )
        .unwrap();
        let mut h = Harness {
            sim,
            api,
            client,
            history: History::default(),
            operator: None,
            kubectl,
            options,
            runs: 0,
            dir,
        };
        let crd = h.write(
            "crd.yaml",
            &std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("crds/clouddbjob.yaml"),
            )
            .unwrap(),
        );
        h.kubectl_ok(&["apply", "--validate=false", "-f", crd.to_str().unwrap()])
            .await;
        h.kubectl_ok(&[
            "wait",
            "--for=condition=Established",
            "--timeout=10s",
            "crd/clouddbjobs.clouddb.io",
        ])
        .await;
        h.history = History::start(Api::<CloudDbJob>::all(h.client.clone()));
        h
    }

    /// Starts (or restarts) the operator and waits until it reports ready.
    pub async fn start_operator(&mut self) {
        self.start_operator_with(&[]).await;
    }

    /// Like [`Harness::start_operator`] with extra arguments (global ones such as
    /// `--log-format json` go before `run`).
    pub async fn start_operator_with(&mut self, global_args: &[&str]) {
        self.runs += 1;
        let port = free_port();
        let stderr_path = self.dir.0.join(format!("operator-{}.stderr", self.runs));
        let stdout_path = self.dir.0.join(format!("operator-{}.stdout", self.runs));
        let mut cmd = Command::new(OPERATOR);
        cmd.args(global_args)
            .arg("run")
            .args(["--allowed-endpoints", "127.0.0.1"])
            .args(["--metrics-addr", &format!("127.0.0.1:{port}")])
            .args(["--provider-timeout", "2s"])
            .args(&self.options.operator_args)
            .env("KUBECONFIG", self.dir.0.join("kubeconfig"))
            .env("RUST_LOG", &self.options.rust_log)
            .env("HOME", &self.dir.0)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout_path).unwrap())
            .stderr(std::fs::File::create(&stderr_path).unwrap());
        for var in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            cmd.env_remove(var);
        }
        let child = cmd.spawn().unwrap();
        let mut op = Operator {
            child,
            stderr_path,
            metrics_port: port,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok((200, _)) = http_get(port, "/readyz").await {
                break;
            }
            assert!(
                op.is_running(),
                "operator exited at start:\n{}",
                op.stderr()
            );
            assert!(
                Instant::now() < deadline,
                "operator not ready in 30s:\n{}",
                op.stderr()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.operator = Some(op);
    }

    /// Kills the operator (SIGKILL) and returns its stderr.
    pub fn kill_operator(&mut self) -> String {
        let mut op = self.operator.take().expect("operator running");
        op.kill();
        op.stderr()
    }

    /// All operator stderr captured so far (every run).
    pub fn operator_logs(&self) -> String {
        (1..=self.runs)
            .map(|i| {
                std::fs::read_to_string(self.dir.0.join(format!("operator-{i}.stderr")))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Asserts the operator is still alive (did not crash).
    pub fn assert_operator_alive(&mut self) {
        let logs = self.operator_logs();
        let op = self.operator.as_mut().expect("operator started");
        assert!(op.is_running(), "operator exited:\n{logs}");
    }

    /// `/metrics` of the running operator.
    pub async fn metrics(&self) -> String {
        let port = self.operator.as_ref().expect("operator").metrics_port;
        let (code, body) = http_get(port, "/metrics").await.unwrap();
        assert_eq!(code, 200, "{body}");
        body
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Runs kubectl against the fake server (bounded by `--request-timeout` and a 60 s cap).
    pub async fn kubectl(&self, args: &[&str]) -> Output {
        let run = tokio::process::Command::new(&self.kubectl)
            .args(args)
            .arg(format!(
                "--cache-dir={}",
                self.dir.0.join("cache").display()
            ))
            .env("KUBECONFIG", self.dir.0.join("kubeconfig"))
            .env("HOME", &self.dir.0)
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .kill_on_drop(true)
            .output();
        tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .expect("kubectl finished within 60s")
            .unwrap()
    }

    /// Runs kubectl and asserts success; returns stdout.
    pub async fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args).await;
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}",
            output_text(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `kubectl apply --validate=false -f` of a manifest.
    pub async fn apply(&self, name: &str, manifest: &str) -> String {
        let path = self.write(&format!("{name}.yaml"), manifest);
        self.kubectl_ok(&["apply", "--validate=false", "-f", path.to_str().unwrap()])
            .await
    }

    /// `kubectl wait --for=condition=<condition> --timeout=<secs>s cdbjob/<name>`; panics
    /// with diagnostics when it times out.
    pub async fn wait_for(&self, name: &str, condition: &str, secs: u64) {
        let out = self
            .kubectl(&[
                "wait",
                "-n",
                NS,
                &format!("--for=condition={condition}"),
                &format!("--timeout={secs}s"),
                &format!("cdbjob/{name}"),
            ])
            .await;
        assert!(
            out.status.success(),
            "cdbjob/{name} not {condition} in {secs}s: {}\nstatus: {}\noperator log tail:\n{}",
            output_text(&out),
            self.status(name),
            tail(&self.operator_logs(), 40)
        );
    }

    /// The stored object (`Value::Null` when absent).
    pub fn object(&self, name: &str) -> Value {
        self.api
            .object("clouddb.io", "clouddbjobs", Some(NS), name)
            .unwrap_or(Value::Null)
    }

    /// The stored status (`Value::Null` when absent).
    pub fn status(&self, name: &str) -> Value {
        self.object(name)["status"].clone()
    }

    /// `kubectl get cdbjob <name> -o jsonpath=<path>`.
    pub async fn jsonpath(&self, name: &str, path: &str) -> String {
        self.kubectl_ok(&[
            "get",
            "-n",
            NS,
            &format!("cdbjob/{name}"),
            "-o",
            &format!("jsonpath={path}"),
        ])
        .await
    }

    /// Provider requests the simulator served for a job ID.
    pub fn sim_requests(&self, job_id: &str) -> u64 {
        self.sim.counters().by_job.get(job_id).copied().unwrap_or(0)
    }

    /// Polls `check` every 100 ms until it returns true or `secs` pass (then panics).
    pub async fn eventually(&self, what: &str, secs: u64, mut check: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !check(self) {
            assert!(
                Instant::now() < deadline,
                "timed out after {secs}s waiting for {what}\noperator log tail:\n{}",
                tail(&self.operator_logs(), 40)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A minimal HTTP/1.0 GET against the operator's metrics server.
pub async fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let fetch = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
            .await?;
        let mut buf = Vec::new();
        stream.read_to_end(&mut buf).await?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let code = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        Ok((code, body))
    };
    tokio::time::timeout(Duration::from_secs(5), fetch)
        .await
        .unwrap_or_else(|_| Err(std::io::Error::other("timed out")))
}

pub fn output_text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The last `n` lines of a text.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
