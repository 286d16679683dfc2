#!/usr/bin/env bash
# Runs every check and test of the project: formatting, clippy, the whole cargo test suite
# (unit, mock-API, CEL admission, provider HTTP, simulator, fake API server, kubectl, Helm
# chart, Argo CD Lua, end-to-end), and a short fuzz run when cargo-fuzz is available.
# Installs the test tools first (idempotent): see scripts/install-tools.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-tools.sh
export PATH="$PWD/.tools/bin:$PATH"
# Tests that need kubectl/helm/lua fail (not skip) when they are missing.
export CLOUDDB_REQUIRE_KUBECTL=1

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings
echo "== cargo test"
cargo test --all-targets
if [[ -x scripts/fuzz.sh && "${FUZZ_SECONDS:-0}" != "0" ]]; then
  echo "== fuzz (${FUZZ_SECONDS}s per target)"
  bash scripts/fuzz.sh "$FUZZ_SECONDS"
fi
echo "all checks passed"
