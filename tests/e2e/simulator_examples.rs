//! The README's way to try `run`, `kubectl apply` and `kubectl wait` without a cloud:
//! `kubectl apply -k examples/` (the `examples/Kustomization` overlay: every example pointed
//! at the simulator's default address with its public credentials) against the simulator on
//! `simulate`'s default address, as it ships. Only the namespace changes (each test has its
//! own), through a kustomization in the scratch directory that takes `examples/` as its base.

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};

use clap::Parser;
use clouddb_job_operator::simulator::cli::SimulateArgs;
use serde::Deserialize;
use serde_json::Value;

use super::cluster;
use super::harness::{output_text, Harness, Options};

/// `clouddb-job-operator simulate`'s arguments, parsed as the command line parses them.
#[derive(Parser)]
struct Simulate {
    #[command(flatten)]
    args: SimulateArgs,
}

/// Where `simulate` listens without `--bind`.
fn simulate_default_bind() -> SocketAddr {
    Simulate::try_parse_from(["simulate"])
        .expect("simulate parses without arguments")
        .args
        .bind
}

/// `to` relative to the directory `from` (both absolute): kustomize refuses absolute bases.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to[common..] {
        out.push(c.as_os_str());
    }
    out
}

/// Names of the CloudDbJobs of `examples/*.yaml` that authenticate with a Secret: the ones
/// the simulator set must carry (workload identity needs a cloud's trust, not a Secret).
fn secret_based_example_jobs(examples: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(examples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for doc in serde_norway::Deserializer::from_str(&text) {
            let doc = Value::deserialize(doc).unwrap();
            if doc["kind"] == "CloudDbJob" && doc["spec"]["identity"].is_null() {
                names.push(doc["metadata"]["name"].as_str().unwrap().to_string());
            }
        }
    }
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_kustomization_completes_against_the_simulator_as_shipped() {
    let bind = simulate_default_bind();
    let h = Harness::start(
        "sim-examples",
        Options {
            sim_bind: Some(bind),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(h.sim.addr(), bind);

    let examples = cluster::root().join("examples").canonicalize().unwrap();
    let scratch = h.dir.0.canonicalize().unwrap();
    let overlay = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
         namespace: {}\nresources:\n  - {}\n",
        h.ns,
        relative(&scratch, &examples).display()
    );
    h.write("kustomization.yaml", &overlay);
    let out = h.kubectl(&["apply", "-k", scratch.to_str().unwrap()]).await;
    assert!(
        out.status.success(),
        "kubectl apply -k: {}",
        output_text(&out)
    );
    let applied = String::from_utf8_lossy(&out.stdout);
    let mut jobs: Vec<String> = applied
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|o| o.strip_prefix("clouddbjob.clouddb.io/"))
        .map(str::to_string)
        .collect();
    jobs.sort();
    assert_eq!(
        jobs,
        secret_based_example_jobs(&examples),
        "every example with a Secret, and nothing else:\n{applied}"
    );

    // The simulator's built-ins the set names all succeed: every job completes, none with
    // a refused credential or an unknown job on the way.
    for job in &jobs {
        h.wait_for(job, "Complete", 50).await;
    }
    for job in &jobs {
        let history = h.assert_sane(job, false).await;
        let reasons: Vec<&str> = history
            .iter()
            .filter_map(|s| s.status["reason"].as_str())
            .collect();
        for refused in [
            "AuthenticationFailed",
            "SecretNotFound",
            "JobNotFound",
            "EndpointNotAllowed",
        ] {
            assert!(
                !reasons.contains(&refused),
                "{job}: {refused} on the way: {reasons:?}"
            );
        }
        assert_eq!(h.status(job)["phase"], "Succeeded", "{job}");
    }
}
