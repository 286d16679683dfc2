//! The container image as scripts/build-image.sh writes it (no Docker engine: a Debian-built
//! distroless/cc base and crane): its config says what the Dockerfile says, its filesystem
//! has no shell, and unpacked it runs the binary with nothing else around it.
//!
//! Needs the image: `scripts/build-image.sh` (./scripts/test.sh builds it first), or
//! `$CLOUDDB_IMAGE` pointing at an OCI layout directory.

use crate::common;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn layout() -> PathBuf {
    let dir = std::env::var_os("CLOUDDB_IMAGE")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::repo_root().join("target/image/oci"));
    assert!(
        dir.join("index.json").is_file(),
        "no OCI image layout at {} (run scripts/build-image.sh, or set $CLOUDDB_IMAGE)",
        dir.display()
    );
    dir
}

fn blob(layout: &Path, digest: &str) -> PathBuf {
    let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
    layout.join("blobs/sha256").join(hex)
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The image's manifest and config.
fn manifest_and_config() -> (PathBuf, Value, Value) {
    let layout = layout();
    let index = json(&layout.join("index.json"));
    let manifests = index["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 1, "{index}");
    let manifest = json(&blob(&layout, manifests[0]["digest"].as_str().unwrap()));
    let config = json(&blob(
        &layout,
        manifest["config"]["digest"].as_str().unwrap(),
    ));
    (layout, manifest, config)
}

/// The root filesystem, unpacked into a fresh directory.
fn unpack() -> (tempdir::Dir, Value) {
    let (layout, manifest, _) = manifest_and_config();
    let dir = tempdir::Dir::new("image-rootfs");
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "one layer: {manifest}");
    for layer in layers {
        let path = blob(&layout, layer["digest"].as_str().unwrap());
        let out = Command::new("tar")
            .arg("-xzf")
            .arg(&path)
            .arg("-C")
            .arg(&dir.0)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (dir, manifest)
}

/// Runs a command inside the unpacked filesystem (chroot; in a user namespace when not root).
fn in_image(rootfs: &Path, user: &str, args: &[&str]) -> std::process::Output {
    let root = std::env::var("USER").map(|u| u == "root").unwrap_or(false)
        || Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
    let mut cmd = if root {
        let mut c = Command::new(tool("chroot"));
        c.arg(format!("--userspec={user}"));
        c
    } else {
        let mut c = Command::new(tool("unshare"));
        c.args(["--user", "--map-root-user", "chroot"]);
        c
    };
    // Nothing from this machine's environment either.
    cmd.arg(rootfs).args(args).env_clear().output().unwrap()
}

/// A tool on this machine's PATH (resolved here: the command itself runs with no PATH).
fn tool(name: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} not found on PATH"))
}

#[test]
fn the_image_config_matches_the_dockerfile() {
    let (_, _, config) = manifest_and_config();
    assert_eq!(config["os"], "linux");
    assert_eq!(config["architecture"], "amd64");
    let c = &config["config"];
    assert_eq!(
        c["Entrypoint"],
        serde_json::json!(["/usr/local/bin/clouddb-job-operator", "run"])
    );
    assert_eq!(c["User"], "65532:65532");
    assert!(c["ExposedPorts"].get("8080/tcp").is_some(), "{c}");
    let labels = &c["Labels"];
    assert_eq!(
        labels["org.opencontainers.image.title"],
        "clouddb-job-operator"
    );
    assert_eq!(
        labels["org.opencontainers.image.version"],
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(labels["org.opencontainers.image.licenses"], "Apache-2.0");
    // The Dockerfile states the same.
    let dockerfile = std::fs::read_to_string(common::repo_root().join("Dockerfile")).unwrap();
    for line in [
        "USER 65532:65532",
        "ENTRYPOINT [\"/usr/local/bin/clouddb-job-operator\", \"run\"]",
        "EXPOSE 8080",
    ] {
        assert!(dockerfile.contains(line), "Dockerfile lacks {line}");
    }
}

#[test]
fn the_root_filesystem_is_distroless_and_runs_the_binary_alone() {
    let (rootfs, _) = unpack();
    let root = &rootfs.0;
    for shell in [
        "bin/sh",
        "bin/bash",
        "bin/dash",
        "usr/bin/sh",
        "usr/bin/bash",
    ] {
        assert!(!root.join(shell).exists(), "a shell in the image: {shell}");
    }
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    assert!(passwd.contains("nonroot:x:65532:65532:"), "{passwd}");
    let bundle = std::fs::read_to_string(root.join("etc/ssl/certs/ca-certificates.crt")).unwrap();
    assert!(
        bundle.matches("BEGIN CERTIFICATE").count() > 100,
        "a CA bundle"
    );
    assert!(root.join("usr/local/bin/clouddb-job-operator").is_file());

    // Nothing but the image's files: glibc and libgcc from the image, as user 65532.
    let version = in_image(
        root,
        "65532:65532",
        &["/usr/local/bin/clouddb-job-operator", "--version"],
    );
    assert!(
        version.status.success(),
        "{}",
        String::from_utf8_lossy(&version.stderr)
    );
    assert!(
        String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")),
        "{}",
        String::from_utf8_lossy(&version.stdout)
    );
    let crd = in_image(
        root,
        "65532:65532",
        &["/usr/local/bin/clouddb-job-operator", "crd"],
    );
    assert!(
        crd.status.success(),
        "{}",
        String::from_utf8_lossy(&crd.stderr)
    );
    let shipped =
        std::fs::read_to_string(common::repo_root().join("crds/clouddbjob.yaml")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&crd.stdout),
        shipped,
        "the image's binary prints the shipped CRD"
    );
}

mod tempdir {
    use std::path::PathBuf;

    /// A scratch directory removed on drop.
    pub struct Dir(pub PathBuf);

    impl Dir {
        pub fn new(tag: &str) -> Dir {
            let dir = std::env::temp_dir().join(format!("clouddb-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Dir(dir)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The text after `key` up to the next `"`, in the file `path` of the repository.
fn quoted_after(path: &str, key: &str) -> String {
    let text = std::fs::read_to_string(common::repo_root().join(path)).unwrap();
    let start = text.find(key).unwrap_or_else(|| panic!("{path}: no {key}")) + key.len();
    let len = text[start..].find('"').expect("a closing quote");
    text[start..start + len].to_string()
}

/// Every description that ships (the image's, in the Dockerfile and in the crane build,
/// the crate's and the chart's) names every provider family the operator tracks: they once
/// named only the first two or four. Read from the files, so no image is needed.
#[test]
fn every_shipped_description_names_every_provider_family() {
    use clouddb_job_operator::api::ProviderKind;
    let chart: Value = serde_norway::from_str(
        &std::fs::read_to_string(
            common::repo_root().join("charts/clouddb-job-operator/Chart.yaml"),
        )
        .unwrap(),
    )
    .unwrap();
    let descriptions = [
        (
            "Dockerfile",
            quoted_after("Dockerfile", "org.opencontainers.image.description=\""),
        ),
        (
            "scripts/build-image.sh",
            quoted_after(
                "scripts/build-image.sh",
                "org.opencontainers.image.description=",
            ),
        ),
        (
            "Cargo.toml",
            quoted_after("Cargo.toml", "\ndescription = \""),
        ),
        (
            "Chart.yaml",
            chart["description"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ),
    ];
    for (file, description) in &descriptions {
        for kind in ProviderKind::ALL {
            let family = match kind {
                ProviderKind::Tencent => "Tencent Cloud API 3.0",
                ProviderKind::TencentLegacy => "CDB API 2.0",
                ProviderKind::Huawei => "Huawei Cloud",
                ProviderKind::Alibaba => "Alibaba Cloud",
                ProviderKind::Aws => "Amazon RDS",
                ProviderKind::Gcp => "Google Cloud SQL",
                ProviderKind::Azure => "Azure Database",
            };
            assert!(
                description.contains(family),
                "{file}: {kind:?}: {description}"
            );
        }
    }
}
