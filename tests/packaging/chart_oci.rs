//! The chart as charts are shipped now: `helm package`, `helm push` to an OCI registry
//! (crane's, on loopback: no registry is reachable from here), then read back from
//! `oci://` with the same metadata and rendering the same objects as the chart in the tree.
//! (Installing it from there onto a node, with the image pulled by containerd from the same
//! registry, needs the test node: not done yet.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::chart::{chart_dir, render, NAMESPACE, RELEASE};
use crate::common;
use crate::common::oci_registry::Registry;

fn run(program: &Path, args: &[&str]) -> Output {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
    assert!(
        out.status.success(),
        "{} {args:?} failed:\n{}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chart-oci-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

#[test]
fn the_chart_pushed_to_an_oci_registry_reads_back_the_same() {
    let helm = common::required_tool("HELM", "helm");
    // crane is built beside helm (testenv/build.sh).
    let crane = helm.with_file_name("crane");
    assert!(crane.is_file(), "no crane beside {}", helm.display());
    let dir = scratch();
    let registry = Registry::start(&crane, &dir.join("registry.log"));
    let dir_text = dir.to_str().expect("a UTF-8 temp path");
    let chart = chart_dir();
    let local = common::read_yaml_stream(&chart.join("Chart.yaml"));
    let version = local[0]["version"].as_str().expect("Chart.yaml version");

    run(
        &helm,
        &["package", chart.to_str().expect("UTF-8"), "-d", dir_text],
    );
    let archive = dir.join(format!("clouddb-job-operator-{version}.tgz"));
    let repo = format!("oci://{}/charts", registry.address);
    let pushed = run(
        &helm,
        &[
            "push",
            archive.to_str().expect("UTF-8"),
            &repo,
            "--plain-http",
        ],
    );
    let said = String::from_utf8_lossy(&pushed.stdout).to_string()
        + &String::from_utf8_lossy(&pushed.stderr);
    assert!(said.contains("Digest: sha256:"), "{said}");

    let reference = format!("{repo}/clouddb-job-operator");
    let shown = run(
        &helm,
        &[
            "show",
            "chart",
            &reference,
            "--version",
            version,
            "--plain-http",
        ],
    );
    let remote = common::parse_yaml_stream(&String::from_utf8_lossy(&shown.stdout));
    for key in [
        "name",
        "version",
        "appVersion",
        "kubeVersion",
        "annotations",
    ] {
        assert_eq!(remote[0][key], local[0][key], "{key}");
    }

    // What users pull holds every file of the chart the repository tracks (a pattern in
    // `.helmignore` cannot drop a template, the schema or the alert rules unnoticed).
    let pulled = dir.join("pulled");
    std::fs::create_dir_all(&pulled).expect("pull directory");
    run(
        &helm,
        &[
            "pull",
            &reference,
            "--version",
            version,
            "--plain-http",
            "-d",
            pulled.to_str().expect("UTF-8"),
        ],
    );
    let listing = run(
        Path::new("tar"),
        &[
            "-tzf",
            pulled
                .join(format!("clouddb-job-operator-{version}.tgz"))
                .to_str()
                .expect("UTF-8"),
        ],
    );
    let mut shipped: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("clouddb-job-operator/"))
        .filter(|l| !l.is_empty() && !l.ends_with('/'))
        .map(str::to_string)
        .collect();
    shipped.sort();
    let tracked = run(
        Path::new("git"),
        &["-C", chart.to_str().expect("UTF-8"), "ls-files", "."],
    );
    let mut tracked: Vec<String> = String::from_utf8_lossy(&tracked.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    tracked.sort();
    assert_eq!(shipped, tracked, "the pushed chart's files");

    let rendered = run(
        &helm,
        &[
            "template",
            RELEASE,
            &reference,
            "--version",
            version,
            "--plain-http",
            "--namespace",
            NAMESPACE,
        ],
    );
    // The same objects, byte for byte, as the chart in the tree renders.
    let sorted = |mut docs: Vec<Value>| {
        docs.sort_by_key(|d| d.to_string());
        docs
    };
    let from_registry = common::parse_yaml_stream(&String::from_utf8_lossy(&rendered.stdout));
    assert!(!from_registry.is_empty());
    assert!(
        sorted(from_registry) == sorted(render(&[])),
        "the chart from the registry renders other objects than the chart in the tree"
    );
    drop(registry);
    let _ = std::fs::remove_dir_all(&dir);
}
