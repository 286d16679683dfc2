//! Tests of the Tencent provider: mapping of recorded responses, error classification, and
//! the client against a local server that verifies signatures like Tencent's gateway.

mod errors;
mod gateway;
mod http;
mod real;
mod seed;

use std::path::PathBuf;

/// Reads a fixture from `tests/fixtures/tencent/`.
pub(super) fn fixture(name: &str) -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "tests",
        "fixtures",
        "tencent",
        name,
    ]
    .iter()
    .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
