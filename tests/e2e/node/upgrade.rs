//! Issue 28, upgrade in flight: `helm upgrade` to a second image tag while jobs run; the
//! rollout finishes (the new pod takes the Lease when the old one hands it over on SIGTERM),
//! every job reaches its end, nothing is lost or written twice.

use std::time::Instant;

use super::failover::lease_holder;
use super::{ctr, helm, image, install_release, jobs, operator_pods, SYSTEM_NS};
use crate::cluster;
use crate::harness::output_text;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_upgrade_to_another_image_while_jobs_run() {
    let installed = install_release(&[]).await;
    let (cluster, kc, ip, cert) = (
        &installed.cluster,
        &installed.kc,
        installed.ip,
        &installed.cert,
    );
    // The second tag: the same image under another name, as a release pipeline would push
    // it (there is no registry: tagged in the node's containerd).
    let tag = format!("{}-upgrade", env!("CARGO_PKG_VERSION"));
    let second = format!("docker.io/library/clouddb-job-operator:{tag}");
    let _ = ctr(cluster, &["images", "rm", &second]);
    ctr(cluster, &["images", "tag", &image(), &second]);

    let jobs = jobs::start("upgrade", cert, ip, &["883001", "883002", "883003"]).await;
    let before = lease_holder(cluster);

    let chart = cluster::root().join("charts/clouddb-job-operator");
    let set_tag = format!("image.tag={tag}");
    let started = Instant::now();
    let out = {
        let c = cluster.clone();
        let chart = chart.display().to_string();
        tokio::task::spawn_blocking(move || {
            helm(
                &c,
                &[
                    "upgrade",
                    cluster::RELEASE,
                    &chart,
                    "-n",
                    SYSTEM_NS,
                    "--reuse-values",
                    "--set",
                    &set_tag,
                    "--wait",
                    "--timeout",
                    "180s",
                ],
            )
        })
        .await
        .expect("helm upgrade")
    };
    assert!(out.status.success(), "helm upgrade: {}", output_text(&out));
    let rollout = started.elapsed();
    // helm --wait returns once the new pod is ready; the old one may still be terminating.
    let mut pods = Vec::new();
    jobs.h
        .eventually("the old pod gone", 60, |_| {
            pods = operator_pods(kc);
            pods.len() == 1
        })
        .await;
    let pod = &pods[0];
    // The spec names the new tag; the container status names the image by the first of
    // its names (the same digest), so it cannot tell.
    assert_eq!(
        pod["spec"]["containers"][0]["image"].as_str(),
        Some(format!("clouddb-job-operator:{tag}").as_str()),
        "{pod}"
    );
    assert_eq!(
        pod["status"]["containerStatuses"][0]["ready"], true,
        "{pod}"
    );
    let new_pod = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
    assert_ne!(new_pod, before, "the pod was replaced");
    jobs.h
        .eventually("the new pod holds the Lease", 60, |_| {
            lease_holder(cluster) == new_pod
        })
        .await;
    eprintln!("upgrade: helm upgrade --wait to {second} took {rollout:?}");
    jobs.assert_finished_once(cluster).await;
    drop(jobs);
    let cluster = cluster.clone();
    drop(installed);
    let _ = ctr(&cluster, &["images", "rm", &second]);
}
