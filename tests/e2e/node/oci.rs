//! Issue 28, installed the way charts are shipped now: the chart (`helm package` +
//! `helm push`) and the image (`crane push`) in an OCI registry on loopback (crane's: no
//! registry is reachable from here), `helm install oci://...`, and containerd pulling the
//! image from that registry (no `ctr import`). The registry speaks plain http, so the test
//! writes its `hosts.toml` where the node's containerd looks for one (`config_path`).

use std::path::Path;
use std::process::Command;

use super::tls::FrontCert;
use super::{check_node, helm, install_chart, jobs, node_ip, operator_pods, Release, RELEASE_LOCK};
use crate::cluster::{self, Cluster};
use crate::common::oci_registry::Registry;
use crate::harness::output_text;

fn run(program: &Path, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        program.display(),
        output_text(&out)
    );
    output_text(&out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_installs_the_chart_from_an_oci_registry_and_the_node_pulls_the_image() {
    let _one = RELEASE_LOCK.lock().await;
    let ip = node_ip();
    let cluster = Cluster::shared();
    let kc = cluster.kubeconfig.clone();
    check_node(&kc);
    let state = cluster.testenv_dir();
    let crane = cluster::helm_path().with_file_name("crane");
    let registry = Registry::start(&crane, &state.join("oci-registry.log"));
    let address = registry.address.clone();

    // The node's containerd pulls from it over plain http.
    let hosts = state.join("node/containerd/certs.d").join(&address);
    std::fs::create_dir_all(&hosts).expect("certs.d");
    std::fs::write(
        hosts.join("hosts.toml"),
        format!(
            "server = \"http://{address}\"\n\n[host.\"http://{address}\"]\n  capabilities = [\"pull\", \"resolve\"]\n"
        ),
    )
    .expect("hosts.toml");

    // The image from scripts/build-image.sh's OCI layout, and the packaged chart.
    let version = env!("CARGO_PKG_VERSION");
    let layout = cluster::root().join("target/image/oci");
    assert!(
        layout.join("index.json").is_file(),
        "no image at {}: run scripts/build-image.sh",
        layout.display()
    );
    let repository = format!("{address}/clouddb-job-operator");
    let layout_text = layout.to_str().expect("UTF-8 path");
    run(
        &crane,
        &["push", layout_text, &format!("{repository}:{version}")],
    );
    let packaged = state.join("oci-chart");
    let _ = std::fs::remove_dir_all(&packaged);
    std::fs::create_dir_all(&packaged).expect("package directory");
    let chart = cluster::root().join("charts/clouddb-job-operator");
    let helm_bin = cluster::helm_path();
    let packaged_text = packaged.to_str().expect("UTF-8 path");
    run(
        &helm_bin,
        &[
            "package",
            chart.to_str().expect("UTF-8"),
            "-d",
            packaged_text,
        ],
    );
    let archive = packaged.join(format!("clouddb-job-operator-{version}.tgz"));
    run(
        &helm_bin,
        &[
            "push",
            archive.to_str().expect("UTF-8"),
            &format!("oci://{address}/charts"),
            "--plain-http",
        ],
    );

    // What the registry served before the install: the pushes only.
    let log_path = state.join("oci-registry.log");
    let pushed = std::fs::read_to_string(&log_path).unwrap_or_default().len();
    let cert = FrontCert::generate(ip);
    let release = Release {
        cluster: cluster.clone(),
    };
    let reference = format!("oci://{address}/charts/clouddb-job-operator");
    let set_repository = format!("image.repository={repository}");
    let took = {
        let (c, ca, reference) = (cluster.clone(), cert.ca_pem.clone(), reference.clone());
        tokio::task::spawn_blocking(move || {
            install_chart(
                &c,
                ip,
                &ca,
                &reference,
                &[
                    "--version",
                    version,
                    "--plain-http",
                    "--set",
                    &set_repository,
                    "--set",
                    "image.pullPolicy=Always",
                ],
            )
        })
        .await
        .expect("install")
    };
    eprintln!("oci: helm install --wait from {reference} took {took:?}");

    // The pod runs the registry's image, which the node resolved there (pullPolicy
    // Always: the manifest is asked for even when the layers are already on the node).
    let pods = operator_pods(&kc);
    assert_eq!(pods.len(), 1, "{pods:?}");
    let spec_image = pods[0]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(spec_image, format!("{repository}:{version}"));
    let served = std::fs::read_to_string(&log_path).unwrap_or_default();
    let after_install = served.get(pushed..).unwrap_or_default();
    assert!(
        after_install.lines().any(|l| {
            (l.contains(" GET ") || l.contains(" HEAD "))
                && l.contains("/v2/clouddb-job-operator/manifests/")
        }),
        "the node never asked the registry for the image:\n{after_install}"
    );
    let history = helm(
        &cluster,
        &["history", cluster::RELEASE, "-n", super::SYSTEM_NS],
    );
    assert!(history.status.success(), "{}", output_text(&history));

    // And it works: jobs tracked to their end.
    let jobs = jobs::start("oci", &cert, ip, &["884001", "884002"]).await;
    jobs.assert_finished_once(&cluster).await;
    drop(jobs);
    drop(release);
    drop(registry);
    let _ = std::fs::remove_dir_all(&hosts);
}
