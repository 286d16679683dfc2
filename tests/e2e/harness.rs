//! The end-to-end harness: the provider simulator runs in-process, the operator binary runs
//! as a child process (killed on drop, stderr captured to a file), and Kubernetes is a real
//! cluster (see `cluster.rs`): a namespace per test, the CRD applied with the real
//! `kubectl`, the operator running in namespaced mode with leader election under the chart's
//! own ServiceAccount and RBAC. The fake API server remains only for faults a real one cannot
//! produce on demand ([`Options::fake_apiserver`]).

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use clouddb_job_operator::api::CloudDbJob;
use clouddb_job_operator::simulator::{ClockStart, JobSpec, SimConfig, SimCredentials, Simulator};
use clouddb_testkit::apiserver::{FakeApiServer, FakeApiServerConfig};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::cluster::{self, Cluster, TestNamespace};
use super::history::{History, Snapshot};

/// The operator binary under test.
pub const OPERATOR: &str = env!("CARGO_BIN_EXE_clouddb-job-operator");

static SEQ: AtomicU32 = AtomicU32::new(0);

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
    /// Use the in-process fake API server instead of the real cluster: only for faults a
    /// real apiserver cannot produce at a chosen moment (injected 409s, expired watches).
    pub fake_apiserver: bool,
    /// Another cluster than the suite's (a private control plane).
    pub cluster: Option<Cluster>,
    /// Give the operator the chart's ServiceAccount and RBAC (rendered by `helm template`)
    /// in the test's namespace; off for tests that install the chart with helm themselves.
    pub chart_identity: bool,
    /// Run the operator as the chart's default install does: all namespaces, under the
    /// ClusterRole (only on a private control plane: it would poll other tests' jobs).
    pub cluster_wide: bool,
    /// More `--set` values for the chart's RBAC (with `chart_identity`).
    pub chart_sets: Vec<String>,
    /// Where the simulator listens; `None`: a free loopback port. A fixed address (such as
    /// `simulate`'s default, which the shipped manifests name) is waited for while another
    /// process holds it.
    pub sim_bind: Option<SocketAddr>,
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
            fake_apiserver: false,
            cluster: None,
            chart_identity: true,
            cluster_wide: false,
            chart_sets: Vec::new(),
            sim_bind: None,
        }
    }
}

/// The operator child process. Dropping it kills it.
pub struct Operator {
    pub child: Child,
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

/// Starts the simulator on `bind` (a free loopback port when `None`). A fixed address busy
/// with another test run's simulator is retried for up to 2 minutes.
async fn start_simulator(bind: Option<SocketAddr>, config: SimConfig) -> Simulator {
    let Some(addr) = bind else {
        return Simulator::start("127.0.0.1:0".parse().unwrap(), config)
            .await
            .unwrap();
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match Simulator::start(addr, config.clone()).await {
            Ok(sim) => return sim,
            Err(e) if Instant::now() < deadline => {
                eprintln!("simulator on {addr}: {e}; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => panic!("simulator on {addr} (stop whatever holds it): {e}"),
        }
    }
}

/// Where the Kubernetes API comes from.
pub enum Backend {
    /// A real cluster.
    Cluster(Cluster),
    /// The fake API server (fault injection only).
    Fake(FakeApiServer),
}

/// Simulator + Kubernetes API + kubectl + operator.
pub struct Harness {
    pub sim: Simulator,
    pub backend: Backend,
    /// The test's namespace: every object of the test lives there.
    pub ns: String,
    /// kubectl's kubeconfig (admin rights; the context defaults to [`Harness::ns`]).
    pub kubeconfig: PathBuf,
    /// The operator's kubeconfig (on a real cluster: only the chart's ServiceAccount token).
    pub operator_kubeconfig: PathBuf,
    /// Namespace of the operator's leader-election Lease (default: the test's namespace).
    pub lease_namespace: Option<String>,
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
        let sim = start_simulator(options.sim_bind, config).await;
        for job in &options.jobs {
            sim.add_job(job.clone()).unwrap();
        }
        let (backend, ns, kubeconfig, operator_kubeconfig) = if options.fake_apiserver {
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
            let kubeconfig = dir.0.join("kubeconfig");
            std::fs::write(&kubeconfig, api.kubeconfig_yaml()).unwrap();
            (
                Backend::Fake(api),
                "default".to_string(),
                kubeconfig.clone(),
                kubeconfig,
            )
        } else {
            let cluster = options.cluster.clone().unwrap_or_else(Cluster::shared);
            assert!(
                !options.cluster_wide || options.cluster.is_some(),
                "a cluster-wide operator needs a private control plane"
            );
            cluster.install_crd().await;
            let scratch = dir.0.clone();
            let tag = tag.to_string();
            let (cluster_wide, c) = (options.cluster_wide, cluster.clone());
            let chart_identity = options.chart_identity;
            let chart_sets = options.chart_sets.clone();
            let (ns, operator_kubeconfig) = tokio::task::spawn_blocking(move || {
                let ns = TestNamespace::create(&c, &tag, &scratch);
                let watch = format!("watchNamespace={}", ns.name);
                let mut sets: Vec<&str> = if cluster_wide { vec![] } else { vec![&watch] };
                sets.extend(chart_sets.iter().map(String::as_str));
                let identity = if chart_identity {
                    cluster::operator_identity(&c, &ns.name, &sets, &scratch)
                } else {
                    // Until the test sets one: the admin's.
                    ns.kubeconfig.clone()
                };
                (ns, identity)
            })
            .await
            .unwrap();
            (
                Backend::Cluster(cluster),
                ns.name,
                ns.kubeconfig,
                operator_kubeconfig,
            )
        };
        let client = client_for(&kubeconfig).await;
        let mut h = Harness {
            sim,
            backend,
            ns,
            kubeconfig,
            operator_kubeconfig,
            lease_namespace: None,
            client,
            history: History::default(),
            operator: None,
            kubectl: cluster::kubectl_path(),
            options,
            runs: 0,
            dir,
        };
        if let Backend::Fake(_) = h.backend {
            let crd = cluster::root().join("crds/clouddbjob.yaml");
            h.kubectl_ok(&["apply", "--validate=false", "-f", crd.to_str().unwrap()])
                .await;
            h.kubectl_ok(&[
                "wait",
                "--for=condition=Established",
                "--timeout=10s",
                "crd/clouddbjobs.clouddb.io",
            ])
            .await;
        }
        h.history = History::start(Api::<CloudDbJob>::namespaced(h.client.clone(), &h.ns));
        h
    }

    /// Starts (or restarts) the operator and waits until it reports ready.
    /// Adds `run` arguments for the operators started from now on.
    pub fn add_operator_args(&mut self, args: &[&str]) {
        self.options
            .operator_args
            .extend(args.iter().map(|a| a.to_string()));
    }

    pub async fn start_operator(&mut self) {
        self.start_operator_with(&[]).await;
    }

    /// Like [`Harness::start_operator`] with extra arguments (global ones such as
    /// `--log-format json` go before `run`).
    pub async fn start_operator_with(&mut self, global_args: &[&str]) {
        let op = self.spawn_operator(global_args, "operator").await;
        self.operator = Some(op);
    }

    /// Starts one more operator process with leader-election identity `pod_name` (the
    /// `POD_NAME` the chart's Deployment sets), waits until it is ready and returns it; the
    /// caller owns it. A restarted operator with the same identity takes its Lease back at
    /// once, as a restarted pod does.
    pub async fn spawn_operator(&mut self, global_args: &[&str], pod_name: &str) -> Operator {
        self.runs += 1;
        let port = free_port();
        let stderr_path = self.dir.0.join(format!("operator-{}.stderr", self.runs));
        let stdout_path = self.dir.0.join(format!("operator-{}.stdout", self.runs));
        let mut cmd = Command::new(OPERATOR);
        cmd.args(global_args)
            .arg("run")
            .args(["--allowed-endpoints", "127.0.0.1"])
            .args(["--metrics-addr", &format!("127.0.0.1:{port}")])
            .args(["--provider-timeout", "2s"]);
        if let Backend::Cluster(_) = self.backend {
            // As the chart runs it: leader election on a Lease in the release namespace,
            // and (namespaced mode) one watched namespace.
            let lease_ns = self.lease_namespace.as_deref().unwrap_or(&self.ns);
            cmd.args(["--leader-election", "--lease-namespace", lease_ns]);
            if !self.options.cluster_wide {
                cmd.args(["--namespace", &self.ns]);
            }
        }
        cmd.args(&self.options.operator_args)
            .env("KUBECONFIG", &self.operator_kubeconfig)
            .env("POD_NAME", pod_name)
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
        op
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

    /// Runs kubectl in the test's namespace (bounded by a 60 s cap).
    pub async fn kubectl(&self, args: &[&str]) -> Output {
        let run = tokio::process::Command::new(&self.kubectl)
            .args(args)
            .arg(format!(
                "--cache-dir={}",
                self.dir.0.join("cache").display()
            ))
            .env("KUBECONFIG", &self.kubeconfig)
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

    /// The stored object (`Value::Null` when absent), read from the API server.
    pub fn object(&self, name: &str) -> Value {
        match &self.backend {
            Backend::Fake(api) => api
                .object("clouddb.io", "clouddbjobs", Some(&self.ns), name)
                .unwrap_or(Value::Null),
            Backend::Cluster(_) => {
                let out = cluster::kubectl_sync(
                    &self.kubeconfig,
                    &[
                        "get",
                        &format!("cdbjob/{name}"),
                        "-o",
                        "json",
                        "--ignore-not-found",
                    ],
                );
                assert!(out.status.success(), "{}", output_text(&out));
                serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
            }
        }
    }

    /// The real cluster (panics on the fake API server).
    pub fn cluster(&self) -> &Cluster {
        match &self.backend {
            Backend::Cluster(c) => c,
            Backend::Fake(_) => panic!("this test needs a real cluster"),
        }
    }

    /// The fake API server (for the tests that inject its faults).
    pub fn fake(&self) -> &FakeApiServer {
        match &self.backend {
            Backend::Fake(api) => api,
            Backend::Cluster(_) => panic!("this test needs Options::fake_apiserver"),
        }
    }

    /// Successful status writes to one job so far. On a real cluster they are counted from
    /// the apiserver's audit log (only the test control plane has one).
    pub fn status_writes(&self, name: &str) -> usize {
        match &self.backend {
            Backend::Fake(api) => api.stats().count("patch", "clouddbjobs/status") as usize,
            Backend::Cluster(c) => {
                c.status_writes(&cluster::operator_user(&self.ns), &self.ns, name)
            }
        }
    }

    /// [`Harness::status_writes`] once it reaches `expected` (the audit log is written as
    /// the response completes, a moment after a watcher may have seen the change), or after
    /// 5 s: the caller compares.
    pub async fn status_writes_at_least(&self, name: &str, expected: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let writes = self.status_writes(name);
            if writes >= expected || Instant::now() > deadline {
                return writes;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// No status write of these jobs was a no-op. On a real cluster the audit log says so
    /// exactly: a no-op write is answered with a resourceVersion the object already had
    /// (a watch cannot tell, as it may miss events across an outage).
    pub async fn assert_no_noop_writes(&self, names: &[&str]) {
        let cluster = match &self.backend {
            Backend::Fake(api) => {
                assert_eq!(api.stats().noop_writes, 0, "no-op status writes");
                return;
            }
            Backend::Cluster(c) => c,
        };
        for name in names {
            let writes = self.settled_job_writes(cluster, name).await;
            let noops = cluster::noop_status_writes(&writes, &cluster::operator_user(&self.ns));
            assert!(noops.is_empty(), "{name}: no-op status writes: {noops:?}");
        }
    }

    /// The audited writes of one job, once the audit log holds the write that produced
    /// the object as it is now (the log trails the response by a moment), or after 5 s.
    pub async fn settled_job_writes(&self, cluster: &Cluster, name: &str) -> Vec<cluster::Request> {
        let current = self.object(name)["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let writes = cluster.job_writes(&self.ns, name);
            if writes.iter().any(|w| w.response_version == current) || Instant::now() > deadline {
                return writes;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// [`History::assert_sane`] once the recorded history has caught up with the stored
    /// object (the watch re-lists with a backoff after an outage), or after 30 s.
    pub async fn assert_sane(&self, name: &str, may_fail: bool) -> Vec<Snapshot> {
        let stored = self.object(name)["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|rv| rv.parse().ok())
            .unwrap_or(0);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.history.has_caught_up(name, stored) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.history.assert_sane(name, may_fail)
    }

    /// The stored status (`Value::Null` when absent).
    pub fn status(&self, name: &str) -> Value {
        self.object(name)["status"].clone()
    }

    /// `kubectl get <object> -o jsonpath=<path>` in the test's namespace, synchronously (for
    /// [`Harness::eventually`] checks); empty when it fails.
    pub fn kubectl_sync_jsonpath(&self, object: &str, path: &str) -> String {
        let out = cluster::kubectl_sync(
            &self.kubeconfig,
            &["get", object, "-o", &format!("jsonpath={path}")],
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `kubectl get cdbjob <name> -o jsonpath=<path>`.
    pub async fn jsonpath(&self, name: &str, path: &str) -> String {
        self.kubectl_ok(&[
            "get",
            &format!("cdbjob/{name}"),
            "-o",
            &format!("jsonpath={path}"),
        ])
        .await
    }

    /// The `events.k8s.io/v1` Events about one job, as the API serves them.
    pub async fn events_of(&self, name: &str) -> Vec<Value> {
        let list: Value = serde_json::from_str(
            &self
                .kubectl_ok(&[
                    "get",
                    "events.events.k8s.io",
                    "--field-selector",
                    &format!("regarding.name={name}"),
                    "-o",
                    "json",
                ])
                .await,
        )
        .unwrap();
        list["items"].as_array().cloned().unwrap_or_default()
    }

    /// The reasons of the Events about one job, sorted.
    pub async fn event_reasons(&self, name: &str) -> Vec<String> {
        let mut reasons: Vec<String> = self
            .events_of(name)
            .await
            .iter()
            .map(|e| e["reason"].as_str().unwrap_or("").to_string())
            .collect();
        reasons.sort();
        reasons
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

/// A kube client with the identity and server of `kubeconfig`.
pub async fn client_for(kubeconfig: &std::path::Path) -> Client {
    let yaml = std::fs::read_to_string(kubeconfig).unwrap();
    let config = Config::from_custom_kubeconfig(
        Kubeconfig::from_yaml(&yaml).unwrap(),
        &KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    Client::try_from(config).unwrap()
}
