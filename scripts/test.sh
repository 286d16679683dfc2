#!/usr/bin/env bash
# Runs every check and test of the project: formatting, clippy, the whole cargo test suite
# (unit, mock-API, CEL admission, provider HTTP, simulator, Helm chart, Argo CD Lua, and the
# end-to-end suite against a real kube-apiserver + etcd with the real kubectl), then a short
# fuzz run of every target.
#
# Installs what the tests need first (idempotent): scripts/install-tools.sh (lua5.1,
# promtool) and testenv/build.sh (kube-apiserver, etcd and kubectl of the pinned Kubernetes
# release, helm, crane and gitops-health, built from the official Go modules and cached in
# .tools/k8s/), and testenv/build-flux.sh (Flux's source-controller, kustomize-controller and
# helm-controller from their Go modules, cached in .tools/flux/), and the official cloud SDKs'
# venv (scripts/sdk-venv.sh, target/sdk-venv, for tests/providers/sdk_signatures.rs). It
# builds the container image (scripts/build-image.sh, for tests/packaging/image.rs),
# and starts a control plane of its own for the run (scripts/testenv.sh, state in
# .tools/testenv/test-sh), stopped at the end; its logs stay there. The node's tests
# (tests/e2e/node.rs) run last on a second control plane with a node (testenv/build-node.sh,
# `scripts/testenv.sh up --node`, state in .tools/testenv/node; root only).
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
# helm-controller too (FLUX_HELM defaults to 1): tests/e2e/flux_helm.rs installs the chart
# with a HelmRelease.
echo "== Flux's controllers (testenv/build-flux.sh, for tests/e2e/flux.rs and flux_helm.rs)"
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

# The official cloud SDKs (pinned in scripts/sdk-requirements.txt) for the SDK oracle tests
# (tests/providers/sdk_signatures.rs); from PyPI the first time, nothing after that. The test
# runs the same script and fails, never skips, when the venv cannot be created.
echo "== official SDKs (scripts/sdk-venv.sh: target/sdk-venv)"
start=$SECONDS
bash scripts/sdk-venv.sh >/dev/null
echo "SDK venv ready in $((SECONDS - start))s"
# The generated tables the providers ship (endpoints, SDK error codes) are what the pinned
# SDKs give: a bumped pin or a hand edit without a rerun fails here.
echo "== generated SDK tables (scripts/gen-endpoints.py --check, scripts/gen-error-codes.py --check)"
python3 scripts/gen-endpoints.py --check
python3 scripts/gen-error-codes.py --check

echo "== cargo clippy --workspace --all-targets -- -D warnings"
start=$SECONDS
cargo clippy --workspace --all-targets -- -D warnings
echo "clippy done in $((SECONDS - start))s"
# The node's binaries build meanwhile, at low priority: the end-to-end tests below mostly
# wait on simulated timelines, and the build takes the cores they leave idle (about 5
# minutes of CPU when cold).
node_build_log="$PWD/target/build-node.log"
mkdir -p target
# Then the fuzz targets (cargo-fuzz from crates.io, an AddressSanitizer build: minutes of
# CPU), also at low priority, so that the fuzz step at the end only runs them. Its exit
# status goes to a file: it outlives the subshell that waits for the node build.
fuzz_build_log="$PWD/target/fuzz-build.log"
fuzz_build_rc="$PWD/target/fuzz-build.rc"
rm -f "$fuzz_build_rc"
(
  nice -n 15 bash testenv/build-node.sh >/dev/null 2>"$node_build_log" || exit 1
  if [[ "${FUZZ_SECONDS:-0}" != "0" ]]; then
    (
      nice -n 15 bash scripts/fuzz.sh --build-only >"$fuzz_build_log" 2>&1
      echo $? >"$fuzz_build_rc"
    ) &
  fi
) &
node_build=$!
echo "== cargo test"
start=$SECONDS
# The node's tests (tests/e2e/node.rs) run below on a control plane with a node: this one has
# none, and its tests assume pods never run.
cargo test --workspace --all-targets -- --skip node:: || { kill "$node_build" 2>/dev/null; exit 1; }
echo "cargo test done in $((SECONDS - start))s"
echo "== the test node (testenv/build-node.sh, scripts/testenv.sh up --node; tests/e2e/node.rs)"
start=$SECONDS
wait "$node_build" || { cat "$node_build_log" >&2; exit 1; }
echo "node binaries ready $((SECONDS - start))s after the tests"
(
  # A control plane of its own: with a node, the chart's pods would start in the tests above.
  export TESTENV_DIR="$PWD/.tools/testenv/node"
  bash scripts/testenv.sh down >/dev/null 2>&1 || true
  trap 'bash scripts/testenv.sh down >/dev/null 2>&1 || true' EXIT
  start=$SECONDS
  node_env="$(bash scripts/testenv.sh up --node)"
  eval "$node_env"
  echo "control plane and node up in $((SECONDS - start))s"
  version="$(awk -F'"' '/^version = / {print $2; exit}' Cargo.toml)"
  bash scripts/testenv.sh import "target/image/clouddb-job-operator-$version.oci.tar" \
    "docker.io/library/clouddb-job-operator:$version"
  cargo test --test e2e -- node::
  start=$SECONDS
  trap - EXIT
  # Fails when it could not leave the machine as it was.
  bash scripts/testenv.sh down
  echo "node torn down in $((SECONDS - start))s"
)
if [[ "${FUZZ_SECONDS:-0}" != "0" ]]; then
  # scripts/fuzz.sh builds with the nightly toolchain when one is installed, and otherwise
  # unlocks the nightly-only flags on stable (RUSTC_BOOTSTRAP): it never skips.
  echo "== fuzz (${FUZZ_SECONDS}s per target)"
  start=$SECONDS
  for _ in $(seq 1 900); do [[ -s "$fuzz_build_rc" ]] && break; sleep 2; done
  [[ -s "$fuzz_build_rc" ]] || { cat "$fuzz_build_log" >&2; echo "the fuzz build did not finish in 30 min" >&2; exit 1; }
  [[ "$(cat "$fuzz_build_rc")" == 0 ]] || { cat "$fuzz_build_log" >&2; echo "the fuzz build failed" >&2; exit 1; }
  echo "fuzz targets ready $((SECONDS - start))s after the node's tests"
  bash scripts/fuzz.sh "$FUZZ_SECONDS"
  echo "fuzz done in $((SECONDS - start))s"
fi
echo "all checks passed"
