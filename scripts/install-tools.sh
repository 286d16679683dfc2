#!/usr/bin/env bash
# Installs the Debian tools the tests need (the Go-built ones, kube-apiserver, etcd, kubectl,
# helm and gitops-health, come from testenv/build.sh):
#   * lua5.1, used to run the Argo CD health check's own Lua tests;
#   * promtool and prometheus (package prometheus): promtool validates the metrics exposition
#     and tests the alert rules; the end-to-end suite scrapes the operator with prometheus.
# Idempotent: re-running with everything present does nothing but print versions.
set -euo pipefail

log() { printf 'install-tools: %s\n' "$*" >&2; }

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

# promtool validates the /metrics exposition (tests/operator/ops.rs) and tests the alert
# rules (tests/packaging/monitoring.rs); the server runs the dashboard's queries
# (tests/e2e/monitoring.rs). Debian ships both in the `prometheus` package.
install_promtool() {
  if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
    log "promtool already installed: $(promtool --version 2>&1 | head -1)"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "promtool or prometheus is missing and apt-get is not available; install Prometheus by hand"
    exit 1
  fi
  local sudo=""
  if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
  log "installing prometheus (promtool and the server) with apt-get"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  log "installed $(promtool --version 2>&1 | head -1)"
}

install_lua
install_promtool
