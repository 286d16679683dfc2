//! Issue 17: `watch --output json --until-done` against the real control plane, as a user
//! with nothing but `list` and `watch` on clouddbjobs: the stream shows each job's changes
//! in order, each line naming its job; it exits 0 when every job succeeded, 1 when one
//! failed, 0 at once when no job matches, 2 when RBAC refuses; a job deleted while
//! watched is reported and leaves the set. Issue 30: CloudDbInstances are shown beside the
//! jobs (idle, busy with the jobs discovered on them, idle again), and a user without
//! rights on them sees the jobs alone.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use clouddb_job_operator::api::ProviderKind;
use clouddb_job_operator::simulator::scenario::Phase;
use clouddb_job_operator::simulator::JobSpec;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use super::cluster::{self, kubectl_stdin, kubectl_sync_ok};
use super::harness::{output_text, Harness, Options, OPERATOR};
use super::manifests::{manifest_for, sim_job};

/// Running 10% → 50% at 40 s → done at 80 s (2 s and 4 s at the suite's 20× speed).
fn three_steps(id: &str, last: Phase) -> JobSpec {
    sim_job(
        ProviderKind::Tencent,
        "DescribeTasks",
        id,
        &[
            (0, Phase::Running, Some(10)),
            (40, Phase::Running, Some(50)),
            (80, last, None),
        ],
    )
}

/// A ServiceAccount in the test's namespace bound to a Role with `verbs` on clouddbjobs and
/// clouddbinstances (none: no binding), and a kubeconfig holding only its token.
fn identity(h: &Harness, account: &str, verbs: &[&str]) -> PathBuf {
    identity_on(h, account, &["clouddbjobs", "clouddbinstances"], verbs)
}

/// [`identity`] with `verbs` on `resources` only.
fn identity_on(h: &Harness, account: &str, resources: &[&str], verbs: &[&str]) -> PathBuf {
    let admin = &h.cluster().kubeconfig;
    let ns = &h.ns;
    let mut manifest = format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {account}, namespace: {ns}}}\n"
    );
    if !verbs.is_empty() {
        manifest.push_str(&format!(
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n\
             metadata: {{name: {account}, namespace: {ns}}}\n\
             rules:\n- apiGroups: [clouddb.io]\n  resources: {resources:?}\n  verbs: {verbs:?}\n\
             ---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n\
             metadata: {{name: {account}, namespace: {ns}}}\n\
             roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {account}}}\n\
             subjects: [{{kind: ServiceAccount, name: {account}, namespace: {ns}}}]\n"
        ));
    }
    let out = kubectl_stdin(admin, &["apply", "-f", "-"], &manifest);
    assert!(out.status.success(), "{}\n{manifest}", output_text(&out));
    let token = kubectl_sync_ok(
        admin,
        &["create", "token", account, "-n", ns, "--duration=1h"],
    );
    let dir = h.dir.0.join(account);
    std::fs::create_dir_all(&dir).unwrap();
    cluster::token_kubeconfig(h.cluster(), token.trim(), ns, &dir)
}

/// A running `watch`: its stdout lines arrive on a channel as they are printed.
struct Watch {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    docs: Vec<Value>,
}

impl Watch {
    fn start(kubeconfig: &Path, home: &Path, args: &[&str]) -> Watch {
        let mut child = Command::new(OPERATOR)
            .arg("watch")
            .args(args)
            .env("KUBECONFIG", kubeconfig)
            .env("HOME", home)
            .env_remove("RUST_LOG")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watch {
            child,
            lines,
            docs: Vec::new(),
        }
    }

    /// Reads lines until one matches `wanted` (bounded to 60 s) and returns it.
    async fn until(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let line = tokio::time::timeout_at(deadline, self.lines.recv())
                .await
                .unwrap_or_else(|_| panic!("no {what} within 60 s; so far: {:#?}", self.docs))
                .unwrap_or_else(|| panic!("watch ended before {what}; so far: {:#?}", self.docs));
            let doc: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not one JSON document per line ({e}): {line}"));
            self.docs.push(doc.clone());
            if wanted(&doc) {
                return doc;
            }
        }
    }

    /// Waits for the process to exit (bounded to 60 s); returns its exit code, every
    /// document it printed and its stderr.
    async fn finish(mut self) -> (Option<i32>, Vec<Value>, String) {
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("watch did not exit within 60 s: {:#?}", self.docs))
            .unwrap();
        while let Some(line) = self.lines.recv().await {
            let doc = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not one JSON document per line ({e}): {line}"));
            self.docs.push(doc);
        }
        let mut stderr = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            let _ = err.read_to_string(&mut stderr).await;
        }
        (status.code(), self.docs, stderr)
    }
}

fn of<'a>(docs: &'a [Value], name: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["job"]["name"] == name).collect()
}

fn phase_rank(doc: &Value) -> u8 {
    match doc["phase"].as_str() {
        None | Some("Pending") => 0,
        Some("Running") => 1,
        Some(_) => 2,
    }
}

/// One job's documents: its identity on every line, and its changes in order (phase,
/// progress and poll count never go back); the last one in `last_phase`.
fn assert_in_order(docs: &[Value], ns: &str, name: &str, job: &JobSpec, last_phase: &str) {
    let mine = of(docs, name);
    assert!(!mine.is_empty(), "{name}: nothing shown: {docs:#?}");
    for doc in &mine {
        assert_eq!(
            doc["job"],
            json!({"namespace": ns, "name": name, "provider": job.provider.as_str(),
                "api": job.api(), "jobId": job.job_id}),
            "{name}: identity"
        );
    }
    for pair in mine.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        assert!(
            phase_rank(a) <= phase_rank(b),
            "{name}: phase went back: {a} → {b}"
        );
        let progress = |d: &Value| d["progress"].as_i64().unwrap_or(0);
        assert!(
            progress(a) <= progress(b),
            "{name}: progress went back: {a} → {b}"
        );
        let polls = |d: &Value| d["pollCount"].as_i64().unwrap_or(0);
        assert!(
            polls(a) <= polls(b),
            "{name}: pollCount went back: {a} → {b}"
        );
        assert_ne!(a, b, "{name}: a line without a change");
    }
    assert_eq!(
        mine.last().unwrap()["phase"],
        last_phase,
        "{name}: {mine:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_streams_each_jobs_changes_in_order_and_exits_when_all_are_done() {
    let h = Harness::start("watch", Options::default()).await;
    let url = h.sim.url();
    let reader = identity(&h, "watcher", &["list", "watch"]);
    let home = h.dir.0.clone();

    // 1. Two jobs that succeed and one that runs for long and is deleted while watched.
    let first = three_steps("170001", Phase::Succeed);
    let second = sim_job(
        ProviderKind::Huawei,
        "taurusdb",
        "17000000-0000-4000-8000-000000000002",
        &[
            (0, Phase::Running, Some(20)),
            (40, Phase::Running, Some(70)),
            (80, Phase::Succeed, None),
        ],
    );
    let long = sim_job(
        ProviderKind::Tencent,
        "DescribeTasks",
        "170003",
        &[(0, Phase::Running, Some(5)), (6000, Phase::Succeed, None)],
    );
    for (name, job) in [("first", &first), ("second", &second), ("long", &long)] {
        h.sim.add_job(job.clone()).unwrap();
        h.apply(name, &manifest_for(job, name, &url).yaml()).await;
    }
    let mut watch = Watch::start(&reader, &home, &["--output", "json", "--until-done"]);
    watch
        .until("the long job running", |d| {
            d["job"]["name"] == "long" && d["phase"] == "Running"
        })
        .await;
    h.kubectl_ok(&["delete", "cdbjob/long", "--wait=false"])
        .await;
    let (code, docs, stderr) = watch.finish().await;
    assert_eq!(
        code,
        Some(0),
        "all shown jobs succeeded: {docs:#?}\n{stderr}"
    );
    assert_in_order(&docs, &h.ns, "first", &first, "Succeeded");
    assert_in_order(&docs, &h.ns, "second", &second, "Succeeded");
    for name in ["first", "second"] {
        assert!(
            of(&docs, name).iter().any(|d| d["phase"] == "Running"),
            "{name}: the stream shows it running before it ends: {docs:#?}"
        );
    }
    let long_docs = of(&docs, "long");
    let deleted = long_docs.last().unwrap();
    assert_eq!(deleted["deleted"], true, "{long_docs:#?}");
    assert_eq!(deleted["job"]["jobId"], "170003");
    assert_eq!(deleted["phase"], "Running", "the last status rides along");
    assert!(
        docs.iter().filter(|d| d["deleted"] == true).count() == 1,
        "only the deleted job is marked deleted"
    );

    // 2. A job that fails: the same watch exits 1. The finished jobs show once, as they are.
    let failing = three_steps("170004", Phase::Failed);
    h.sim.add_job(failing.clone()).unwrap();
    h.apply("failing", &manifest_for(&failing, "failing", &url).yaml())
        .await;
    let watch = Watch::start(&reader, &home, &["-o", "json", "--until-done"]);
    let (code, docs, stderr) = watch.finish().await;
    assert_eq!(code, Some(1), "a job failed: {docs:#?}\n{stderr}");
    assert_in_order(&docs, &h.ns, "failing", &failing, "Failed");
    for name in ["first", "second"] {
        let shown = of(&docs, name);
        assert_eq!(shown.len(), 1, "{name}: shown once, unchanged: {shown:#?}");
        assert_eq!(shown[0]["phase"], "Succeeded");
    }
    assert!(of(&docs, "long").is_empty(), "the deleted job is gone");

    // 3. No job matches: nothing to wait for, exit 0 at once.
    let watch = Watch::start(
        &reader,
        &home,
        &["-o", "json", "--until-done", "-l", "matches=nothing"],
    );
    let (code, docs, stderr) = watch.finish().await;
    assert_eq!(code, Some(0), "{docs:#?}\n{stderr}");
    assert!(docs.is_empty(), "{docs:#?}");

    // 4. A user without the rights: a clear message and exit 2, whatever the output.
    let nobody = identity(&h, "nobody", &[]);
    for output in ["json", "text"] {
        let watch = Watch::start(&nobody, &home, &["-o", output, "--until-done"]);
        let (code, docs, stderr) = watch.finish().await;
        assert_eq!(code, Some(2), "{output}: {docs:#?}\n{stderr}");
        assert!(docs.is_empty(), "{docs:#?}");
        assert!(
            stderr.contains("403") && stderr.contains("list and watch"),
            "{stderr}"
        );
        assert!(stderr.contains(&h.ns), "names the namespace: {stderr}");
    }
}

/// `watch` follows changes through one list and then the watch: the audit log shows exactly
/// one `list` and `watch` requests by the watching user while it printed several changes
/// (polling would list again for each).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testenv_watch_lists_once_then_follows_the_watch() {
    let h = Harness::start("watch-audit", Options::default()).await;
    let reader = identity(&h, "watcher", &["list", "watch"]);
    let job = three_steps("172001", Phase::Succeed);
    h.sim.add_job(job.clone()).unwrap();
    h.apply(
        "audited",
        &manifest_for(&job, "audited", &h.sim.url()).yaml(),
    )
    .await;
    let watch = Watch::start(&reader, &h.dir.0, &["-o", "json", "--until-done"]);
    let (code, docs, stderr) = watch.finish().await;
    assert_eq!(code, Some(0), "{docs:#?}\n{stderr}");
    assert_in_order(&docs, &h.ns, "audited", &job, "Succeeded");
    assert!(docs.len() >= 3, "several changes streamed: {docs:#?}");

    let user = format!("system:serviceaccount:{}:watcher", h.ns);
    // A watch is audited when it ends, a moment after the process exited.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let requests = loop {
        let requests = h.cluster().audited_requests(&user);
        if requests.iter().any(|r| r.verb == "watch") || std::time::Instant::now() > deadline {
            break requests;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let used = cluster::verbs_used(&requests);
    let expected: std::collections::BTreeSet<(String, String, String)> =
        ["clouddbjobs", "clouddbinstances"]
            .iter()
            .flat_map(|r| ["list", "watch"].map(|v| (r.to_string(), v)))
            .map(|(r, v)| ("clouddb.io".to_string(), r, v.to_string()))
            .collect();
    // The jobs' watch is audited when it ends; the instances' one may still run.
    let jobs_only: std::collections::BTreeSet<_> = expected
        .iter()
        .filter(|(_, r, v)| r == "clouddbjobs" || v == "list")
        .cloned()
        .collect();
    assert!(
        used.is_subset(&expected) && jobs_only.is_subset(&used),
        "{used:?}\n{requests:#?}"
    );
    let lists = requests.iter().filter(|r| r.verb == "list").count();
    assert_eq!(
        lists, 2,
        "one listing of each kind, then the watches: {requests:#?}"
    );
}

/// A Tencent CloudDbInstance `orders` for `instance` at the simulator, listing every second.
fn instance_yaml(instance: &str, url: &str) -> String {
    format!(
        "apiVersion: clouddb.io/v1alpha1\nkind: CloudDbInstance\nmetadata: {{name: orders}}\n\
         spec:\n  provider: tencent\n  instanceId: {instance}\n  region: ap-guangzhou\n  \
         endpoint: {url}\n  pollInterval: 1s\n  credentialsSecretRef: {{name: tencent-creds}}\n  \
         jobTemplate: {{pollInterval: 1s}}\n"
    )
}

fn idle_of(doc: &Value) -> Option<&str> {
    doc["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Idle")?["status"]
        .as_str()
}

/// Issue 30: `watch` shows a CloudDbInstance beside the jobs: idle, then busy with the job
/// its provider started by itself (named, with the CloudDbJob discovered for it, which is
/// shown too), then idle again; a user allowed to see only CloudDbJobs is told once and
/// sees the jobs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_shows_instances_with_their_active_jobs() {
    use clouddb_job_operator::simulator::ClockStart;
    // The instance exists at the provider through a job finished before the test.
    let mut done = sim_job(
        ProviderKind::Tencent,
        "DescribeTasks",
        "175001",
        &[(0, Phase::Succeed, None)],
    );
    done.instance_id = Some("cdb-watch".into());
    let h = Harness::start(
        "watch-inst",
        Options {
            builtins: false,
            jobs: vec![done],
            ..Options::default()
        },
    )
    .await;
    let url = h.sim.url();
    h.apply(
        "creds",
        &super::manifests::secret_yaml("tencent-creds", &super::manifests::tencent_creds()),
    )
    .await;
    h.apply("orders", &instance_yaml("cdb-watch", &url)).await;
    let reader = identity(&h, "watcher", &["list", "watch"]);
    let mut watch = Watch::start(&reader, &h.dir.0, &["-o", "json"]);
    let is_orders = |d: &Value| d["instance"]["name"] == "orders";
    let idle = watch
        .until("the instance idle", |d| {
            is_orders(d) && idle_of(d) == Some("True")
        })
        .await;
    assert_eq!(
        idle["instance"],
        json!({"namespace": h.ns, "name": "orders", "provider": "tencent",
               "api": "DescribeTasks", "instanceId": "cdb-watch"})
    );
    assert!(idle.get("job").is_none(), "{idle}");

    // The provider starts a job on the instance by itself.
    let mut started = sim_job(
        ProviderKind::Tencent,
        "DescribeTasks",
        "175002",
        &[
            (0, Phase::Running, Some(20)),
            (100, Phase::Running, Some(60)),
            (200, Phase::Succeed, None),
        ],
    );
    started.instance_id = Some("cdb-watch".into());
    started.clock = Some(ClockStart::Added);
    h.sim.add_job(started).unwrap();
    let busy = watch
        .until("the instance busy", |d| {
            is_orders(d) && idle_of(d) == Some("False")
        })
        .await;
    let active = &busy["activeJobs"][0];
    assert_eq!(active["jobId"], "175002", "{busy}");
    assert_eq!(active["phase"], "Running", "{busy}");
    assert_eq!(busy["activeJobCount"], 1, "{busy}");
    watch
        .until("the discovered CloudDbJob", |d| {
            d["job"]["jobId"] == "175002" && d["phase"] == "Running"
        })
        .await;
    watch
        .until("the instance idle again", |d| {
            is_orders(d) && idle_of(d) == Some("True") && d["activeJobCount"] == 0
        })
        .await;
    drop(watch);

    // Rights on CloudDbJobs only: one warning, the jobs alone, the same exit.
    let jobs_only = identity_on(&h, "jobs-only", &["clouddbjobs"], &["list", "watch"]);
    let watch = Watch::start(&jobs_only, &h.dir.0, &["-o", "json", "--until-done"]);
    let (code, docs, stderr) = watch.finish().await;
    assert_eq!(code, Some(0), "{docs:#?}\n{stderr}");
    assert!(
        docs.iter().all(|d| d.get("instance").is_none()),
        "{docs:#?}"
    );
    assert!(
        docs.iter().any(|d| d["job"]["jobId"] == "175002"),
        "{docs:#?}"
    );
    // The instances' refusal may come after the jobs' listing ended the command.
    assert!(
        stderr.is_empty() || stderr.contains("not showing CloudDbInstances"),
        "{stderr}"
    );
}
