//! The real `kubectl` against the fake API server: apply the CRD and a CloudDbJob + Secret,
//! `get` (table and jsonpath) and `wait --for=condition=...`.
//!
//! The fake server remains for the end-to-end tests that inject faults a real apiserver
//! cannot produce on demand; these tests keep it compatible with the real kubectl.
//!
//! Needs `$KUBECTL`: the kubectl built by testenv/build.sh (`scripts/testenv.sh env` prints
//! it); without it the tests fail.

use crate::common;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use clouddb_job_operator::api::CloudDbJob;
use clouddb_testkit::apiserver::{FakeApiServer, FakeApiServerConfig};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::json;

const JOB_AND_SECRET: &str = "\
apiVersion: v1
kind: Secret
metadata:
  name: creds
type: Opaque
stringData:
  secretId: AKIDexample
---
apiVersion: clouddb.io/v1alpha1
kind: CloudDbJob
metadata:
  name: x
spec:
  provider: tencent
  jobId: \"12345\"
  region: ap-guangzhou
  credentialsSecretRef:
    name: creds
";

/// The kubectl of `$KUBECTL`; a missing one fails the test.
fn kubectl_path() -> PathBuf {
    common::required_tool("KUBECTL", "kubectl")
}

/// A server plus a scratch directory holding its kubeconfig and kubectl's discovery cache.
struct Harness {
    server: FakeApiServer,
    kubectl: PathBuf,
    dir: PathBuf,
}

impl Harness {
    async fn start(preregister: bool) -> Harness {
        let kubectl = kubectl_path();
        let config = FakeApiServerConfig {
            preregister_clouddbjobs: preregister,
            ..Default::default()
        };
        let server = FakeApiServer::start_with("127.0.0.1:0".parse().unwrap(), config)
            .await
            .unwrap();
        let dir = std::env::temp_dir().join(format!(
            "fake-apiserver-{}-{}",
            std::process::id(),
            server.local_addr().port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("kubeconfig"), server.kubeconfig_yaml()).unwrap();
        Harness {
            server,
            kubectl,
            dir,
        }
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    async fn kubectl(&self, args: &[&str]) -> Output {
        tokio::process::Command::new(&self.kubectl)
            .args(args)
            .arg(format!("--cache-dir={}", self.dir.join("cache").display()))
            .env("KUBECONFIG", self.dir.join("kubeconfig"))
            .env("HOME", &self.dir)
            .output()
            .await
            .unwrap()
    }

    async fn client(&self) -> Client {
        let kubeconfig = Kubeconfig::from_yaml(&self.server.kubeconfig_yaml()).unwrap();
        let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .unwrap();
        Client::try_from(config).unwrap()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn text(output: &Output) -> String {
    format!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_applies_the_crd_and_a_job_then_reads_it_back() {
    let h = Harness::start(false).await;
    let before = h.kubectl(&["get", "cdbjob"]).await;
    assert!(
        !before.status.success(),
        "the resource is unknown before the CRD: {}",
        text(&before)
    );

    let crd = h.write(
        "crd.yaml",
        &clouddb_job_operator::cli::crd::crd_yaml().unwrap(),
    );
    let out = h
        .kubectl(&["apply", "--validate=false", "-f", crd.to_str().unwrap()])
        .await;
    assert!(out.status.success(), "{}", text(&out));
    let established = h
        .kubectl(&[
            "wait",
            "--for=condition=Established",
            "--timeout=5s",
            "crd/clouddbjobs.clouddb.io",
        ])
        .await;
    assert!(established.status.success(), "{}", text(&established));

    let manifest = h.write("job.yaml", JOB_AND_SECRET);
    let out = h
        .kubectl(&[
            "apply",
            "--validate=false",
            "-f",
            manifest.to_str().unwrap(),
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("clouddbjob.clouddb.io/x created"),
        "{}",
        text(&out)
    );
    let again = h
        .kubectl(&[
            "apply",
            "--validate=false",
            "-f",
            manifest.to_str().unwrap(),
        ])
        .await;
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("clouddbjob.clouddb.io/x unchanged"),
        "{}",
        text(&again)
    );

    let table = h.kubectl(&["get", "cdbjob"]).await;
    let table_text = String::from_utf8_lossy(&table.stdout).to_string();
    assert!(table.status.success(), "{}", text(&table));
    let header: Vec<&str> = table_text
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(header[..3], ["NAME", "PROVIDER", "JOB"], "{table_text}");
    assert!(
        table_text.lines().nth(1).unwrap().starts_with("x "),
        "{table_text}"
    );
    assert!(table_text.contains("12345"), "{table_text}");

    let job_id = h
        .kubectl(&["get", "cdbjob", "x", "-o", "jsonpath={.spec.jobId}"])
        .await;
    assert_eq!(
        String::from_utf8_lossy(&job_id.stdout),
        "12345",
        "{}",
        text(&job_id)
    );

    let secrets: Api<Secret> = Api::namespaced(h.client().await, "default");
    let secret = secrets.get("creds").await.unwrap();
    assert_eq!(secret.data.unwrap()["secretId"].0, b"AKIDexample");
    assert!(h.server.stats().count("create", "clouddbjobs") >= 1);

    // kubectl reads lists in chunks (--chunk-size, 500 by default) through `continue`.
    let jobs: Api<CloudDbJob> = Api::namespaced(h.client().await, "default");
    let mut y = jobs.get("x").await.unwrap();
    y.metadata = kube::api::ObjectMeta {
        name: Some("y".into()),
        ..Default::default()
    };
    jobs.create(&Default::default(), &y).await.unwrap();
    let chunked = h
        .kubectl(&["get", "cdbjob", "--chunk-size=1", "-o", "name"])
        .await;
    assert_eq!(
        String::from_utf8_lossy(&chunked.stdout),
        "clouddbjob.clouddb.io/x\nclouddbjob.clouddb.io/y\n",
        "{}",
        text(&chunked)
    );
    let table = h.kubectl(&["get", "cdbjob", "--chunk-size=1"]).await;
    let table_text = String::from_utf8_lossy(&table.stdout).to_string();
    assert_eq!(
        table_text.lines().count(),
        3,
        "one header, two rows: {table_text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_wait_sees_a_status_condition_or_times_out() {
    let h = Harness::start(true).await;
    let api: Api<CloudDbJob> = Api::namespaced(h.client().await, "default");
    let job: CloudDbJob = serde_json::from_value(json!({
        "apiVersion": "clouddb.io/v1alpha1", "kind": "CloudDbJob", "metadata": {"name": "x"},
        "spec": {"provider": "tencent", "jobId": "1", "region": "ap-guangzhou", "credentialsSecretRef": {"name": "creds"}}
    }))
    .unwrap();
    api.create(&PostParams::default(), &job).await.unwrap();

    let timed_out = h
        .kubectl(&[
            "wait",
            "--for=condition=Complete",
            "--timeout=2s",
            "cdbjob/x",
        ])
        .await;
    assert!(!timed_out.status.success(), "{}", text(&timed_out));
    assert!(
        String::from_utf8_lossy(&timed_out.stderr).contains("timed out"),
        "{}",
        text(&timed_out)
    );

    let patcher = {
        let api = api.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let status = Patch::Apply(json!({
                "apiVersion": "clouddb.io/v1alpha1", "kind": "CloudDbJob",
                "status": {"phase": "Succeeded", "conditions": [
                    {"type": "Complete", "status": "True", "reason": "Succeeded", "message": "done", "lastTransitionTime": "2025-01-01T00:00:00Z"}
                ]}
            }));
            api.patch_status("x", &PatchParams::apply("test").force(), &status)
                .await
                .unwrap();
        })
    };
    let started = std::time::Instant::now();
    let waited = h
        .kubectl(&[
            "wait",
            "--for=condition=Complete",
            "--timeout=10s",
            "cdbjob/x",
        ])
        .await;
    patcher.await.unwrap();
    assert!(waited.status.success(), "{}", text(&waited));
    assert!(
        String::from_utf8_lossy(&waited.stdout).contains("condition met"),
        "{}",
        text(&waited)
    );
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "kubectl waited for the patch"
    );
    assert!(h.server.stats().count("watch", "clouddbjobs") >= 2);
}
