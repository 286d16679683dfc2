//! Helpers shared by the integration tests that drive external tools (helm, lua5.1) and read
//! the repository's YAML files.
#![allow(dead_code)]

pub mod monitoring;
pub mod oci_registry;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Finds an external tool: the environment variable `env_var` if set, else
/// `.tools/bin/<name>` in the repository, else `<name>` on PATH. Panics with a message naming
/// `scripts/install-tools.sh` when none exists, so a missing tool fails the test rather than
/// skipping it.
pub fn find_tool(env_var: &str, name: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env_var) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "{env_var}={} does not exist", p.display());
        return p;
    }
    let local = repo_root().join(".tools/bin").join(name);
    if local.is_file() {
        return local;
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "{name} not found (set {env_var}, or put it in .tools/bin/ or on PATH): \
         run `scripts/install-tools.sh` to install it"
    );
}

/// A tool that only `$env_var` may name (kubectl, helm: the ones testenv/build.sh built,
/// never whatever happens to be installed); a missing one fails the test.
pub fn required_tool(env_var: &str, name: &str) -> PathBuf {
    required_path(
        env_var,
        &format!(
            "point it at {name} (`eval \"$(scripts/testenv.sh env)\"` sets KUBECTL and HELM to \
             the ones built with the test control plane)"
        ),
    )
}

/// The existing file that `$env_var` names; `hint` says how to set it when it is not set.
pub fn required_path(env_var: &str, hint: &str) -> PathBuf {
    let path = std::env::var_os(env_var)
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("${env_var} is not set: {hint}"));
    assert!(
        path.is_file(),
        "${env_var} points at {}, which does not exist",
        path.display()
    );
    path
}

/// Parses a multi-document YAML stream into JSON values, dropping empty documents.
pub fn parse_yaml_stream(text: &str) -> Vec<Value> {
    serde_norway::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).expect("valid YAML document"))
        .filter(|v| !v.is_null())
        .collect()
}

/// Reads and parses a multi-document YAML file.
pub fn read_yaml_stream(path: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    parse_yaml_stream(&text)
}

/// The CRD the binary generates (`clouddb_job_operator::cli::crd::crd_yaml()`), as JSON.
pub fn generated_crd() -> Value {
    let yaml = clouddb_job_operator::cli::crd::crd_yaml().expect("CRD serializes");
    let mut docs = parse_yaml_stream(&yaml);
    assert_eq!(docs.len(), 1, "crd_yaml() holds one document");
    docs.remove(0)
}
