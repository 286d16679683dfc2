#!/usr/bin/env bash
# Runs every check and test of the project: formatting, clippy, the whole cargo test suite
# (unit, mock-API, CEL admission, provider HTTP, simulator, Helm chart, Argo CD Lua, and the
# end-to-end suite against a real kube-apiserver + etcd with the real kubectl), then a short
# fuzz run of every target.
#
# Installs what the tests need first (idempotent): scripts/install-tools.sh (lua5.1,
# promtool) and testenv/build.sh (kube-apiserver, etcd and kubectl of the pinned Kubernetes
# release, helm, crane and gitops-health, built from the official Go modules and cached in
# .tools/k8s/), and testenv/build-flux.sh (Flux's source-controller and kustomize-controller
# from their Go modules, cached in .tools/flux/). It builds the container image (scripts/build-image.sh, for tests/packaging/image.rs),
# and starts a control plane of its own for the run (scripts/testenv.sh, state in
# .tools/testenv/test-sh), stopped at the end; its logs stay there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-tools.sh
echo "== cargo fmt --check"
cargo fmt --all -- --check
(cd testenv/tools && test -z "$(gofmt -l cmd)") || { echo "gofmt: testenv/tools/cmd needs formatting" >&2; exit 1; }

echo "== control plane (testenv/build.sh)"
start=$SECONDS
bash testenv/build.sh >/dev/null
echo "control plane binaries ready in $((SECONDS - start))s"
echo "== Flux's controllers (testenv/build-flux.sh, for tests/e2e/flux.rs)"
start=$SECONDS
FLUX_DIR="$(bash testenv/build-flux.sh)"
export FLUX_DIR
echo "Flux's controllers ready in $((SECONDS - start))s"
export TESTENV_DIR="$PWD/.tools/testenv/test-sh"
bash scripts/testenv.sh down >/dev/null 2>&1 || true
trap 'bash scripts/testenv.sh down >/dev/null 2>&1 || true' EXIT
eval "$(bash scripts/testenv.sh up)"

echo "== container image (scripts/build-image.sh: release binary, no Docker engine)"
start=$SECONDS
bash scripts/build-image.sh
echo "image built in $((SECONDS - start))s"

echo "== cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace --all-targets
if [[ "${FUZZ_SECONDS:-0}" != "0" ]]; then
  # scripts/fuzz.sh builds with the nightly toolchain when one is installed, and otherwise
  # unlocks the nightly-only flags on stable (RUSTC_BOOTSTRAP): it never skips.
  echo "== fuzz (${FUZZ_SECONDS}s per target)"
  bash scripts/fuzz.sh "$FUZZ_SECONDS"
fi
echo "all checks passed"
