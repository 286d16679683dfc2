#!/usr/bin/env bash
# A real Kubernetes control plane for the tests: etcd and kube-apiserver built from the
# official Go modules (testenv/build.sh), on free loopback ports, with RBAC authorization.
#
#   scripts/testenv.sh up      start etcd + kube-apiserver, wait on /readyz, write a kubeconfig;
#                              prints `export KUBECONFIG=...` (and the other variables)
#   scripts/testenv.sh up --node
#                              the same plus a node that runs pods (root only; one per
#                              machine): containerd, kubelet, kube-controller-manager,
#                              kube-scheduler, a bridge cni0 10.88.0.1/16; the apiserver on
#                              10.88.0.1:6443 with ServiceAccount admission and Node,RBAC.
#                              Also prints TESTENV_NODE=1 and TESTENV_NODE_IP (where a pod
#                              reaches the host). See scripts/testenv-node.sh.
#   scripts/testenv.sh import OCI_ARCHIVE NAME
#                              import an image into the node's containerd as NAME (e.g.
#                              docker.io/library/clouddb-job-operator:0.1.0): no registry here
#   scripts/testenv.sh env     print those lines again for a running control plane
#   scripts/testenv.sh down    stop exactly the processes `up` started (by PID); logs are kept;
#                              with a node, undo everything up did and name any leftover
#   scripts/testenv.sh stop-apiserver | start-apiserver
#                              stop / start kube-apiserver alone, on the same etcd and port
#
# Variables:
#   TESTENV_DIR             state directory (default .tools/testenv/default): PIDs, logs,
#                           certificates, kubeconfig, audit log
#   TESTENV_APISERVER_ARGS  extra kube-apiserver flags (e.g. --watch-cache=false)
#   K8S_VERSION             see testenv/build.sh
#
# Identities (static token file): `admin` (system:masters, the kubeconfig's default context)
# and `developer` (no rights beyond discovery; context `developer`). A service-account signing
# key is configured, so `kubectl create token SA` works. Every request is written to
# audit.log (JSON; level Metadata, CloudDbJob writes with bodies) so tests can see which
# verbs a client used and which writes changed an object.
# Without --node there is no kubelet, scheduler or controller-manager: pods never run,
# namespaces are not finalized, garbage is not collected.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${TESTENV_DIR:-$root/.tools/testenv/default}"
log() { printf 'testenv: %s\n' "$*" >&2; }
# shellcheck source=scripts/testenv-node.sh
source "$root/scripts/testenv-node.sh"
# "node" when up --node started this control plane.
mode() { cat "$dir/mode" 2>/dev/null || echo plain; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pid() {
  local pidfile="$1" name="$2"
  if alive "$pidfile"; then
    local pid
    pid="$(cat "$pidfile")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    log "stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
}

print_env() {
  [[ -f "$dir/env" ]] || { log "no control plane in $dir (run: $0 up)"; exit 1; }
  cat "$dir/env"
}

wait_ready() {
  local url="$1" what="$2" logfile="$3" pidfile="$4"
  for _ in $(seq 1 600); do
    if curl -fsS --max-time 2 --cacert "$dir/pki/ca.crt" -H "Authorization: Bearer $(cat "$dir/admin.token")" \
      "$url" >/dev/null 2>&1 || curl -fsS --max-time 2 "$url" >/dev/null 2>&1; then
      return 0
    fi
    if ! alive "$pidfile"; then
      log "$what exited; last lines of $logfile:"
      tail -30 "$logfile" >&2
      return 1
    fi
    sleep 0.1
  done
  log "$what not ready in 60s; last lines of $logfile:"
  tail -30 "$logfile" >&2
  return 1
}

make_pki() {
  local pki="$dir/pki"
  local sans="IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc"
  # Pods reach the apiserver at the node's address and through the kubernetes Service.
  [[ "$(mode)" == node ]] &&
    sans+=",IP:$NODE_IP,IP:$SERVICE_IP,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc.cluster.local"
  mkdir -p "$pki"
  [[ -f "$pki/apiserver.crt" && "$(cat "$pki/apiserver.sans" 2>/dev/null || echo "IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc")" == "$sans" ]] &&
    return 0
  if [[ ! -f "$pki/ca.crt" ]]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=clouddb-testenv-ca" \
      -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
    openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  fi
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' "$sans" >"$pki/apiserver.ext"
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
    -CAcreateserial -days 3650 -extfile "$pki/apiserver.ext" -out "$pki/apiserver.crt" 2>/dev/null
  echo "$sans" >"$pki/apiserver.sans"
}

start_etcd() {
  local bin="$1" port peer
  port="$(free_port)"
  peer="$(free_port)"
  echo "$port" >"$dir/etcd.port"
  "$bin/etcd" --name testenv --data-dir "$dir/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "testenv=http://127.0.0.1:$peer" --unsafe-no-fsync \
    --log-level warn >"$dir/etcd.log" 2>&1 &
  echo $! >"$dir/etcd.pid"
  wait_ready "http://127.0.0.1:$port/health" etcd "$dir/etcd.log" "$dir/etcd.pid"
}

start_apiserver() {
  local bin etcd_port port address=127.0.0.1 mode_args
  bin="$(cat "$dir/bin")"
  etcd_port="$(cat "$dir/etcd.port")"
  port="$(cat "$dir/apiserver.port")"
  # Without a node: no endpoints, no service-account tokens mounted into pods that never run.
  mode_args=(--authorization-mode RBAC --service-cluster-ip-range 10.0.0.0/24
    --endpoint-reconciler-type none --disable-admission-plugins ServiceAccount)
  if [[ "$(mode)" == node ]]; then
    address="$NODE_IP"
    mapfile -t mode_args < <(node_apiserver_args)
  fi
  # The audit log is not rotated within a run (by default at 100 MB): the tests read
  # audit.log alone, and the node's tests write more than 100 MB of it.
  # shellcheck disable=SC2086
  "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address "$address" --advertise-address "$address" --secure-port "$port" \
    --tls-cert-file "$dir/pki/apiserver.crt" --tls-private-key-file "$dir/pki/apiserver.key" \
    --client-ca-file "$dir/pki/ca.crt" \
    --token-auth-file "$dir/tokens.csv" \
    "${mode_args[@]}" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$dir/pki/sa.pub" \
    --service-account-signing-key-file "$dir/pki/sa.key" \
    --api-audiences https://kubernetes.default.svc.cluster.local \
    --audit-policy-file "$dir/audit-policy.yaml" --audit-log-path "$dir/audit.log" \
    --audit-log-format json --audit-log-mode blocking \
    --audit-log-maxsize 8192 \
    --cert-dir "$dir/pki" \
    ${TESTENV_APISERVER_ARGS:-} >>"$dir/apiserver.log" 2>&1 &
  echo $! >"$dir/apiserver.pid"
  wait_ready "https://$address:$port/readyz" kube-apiserver "$dir/apiserver.log" "$dir/apiserver.pid"
  log "kube-apiserver ready on https://$address:$port (pid $(cat "$dir/apiserver.pid"))"
}

write_kubeconfig() {
  local address="$1" port="$2"
  cat >"$dir/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: testenv
  cluster:
    server: https://$address:$port
    certificate-authority: $dir/pki/ca.crt
users:
- name: admin
  user:
    token: $(cat "$dir/admin.token")
- name: developer
  user:
    token: $(cat "$dir/developer.token")
contexts:
- name: testenv
  context: {cluster: testenv, user: admin}
- name: developer
  context: {cluster: testenv, user: developer}
current-context: testenv
KC
}

up() {
  local want=plain
  [[ "${1:-}" == --node ]] && want=node
  if alive "$dir/apiserver.pid" && alive "$dir/etcd.pid"; then
    [[ "$(mode)" == "$want" ]] || { log "a control plane of another kind ($(mode)) runs in $dir: run down first"; exit 1; }
    log "already running in $dir"
    print_env
    return 0
  fi
  stop_pid "$dir/apiserver.pid" kube-apiserver
  stop_pid "$dir/etcd.pid" etcd
  local bin start
  if [[ "$want" == node ]]; then
    bin="$(bash "$root/testenv/build-node.sh")"
  else
    bin="$(bash "$root/testenv/build.sh")"
  fi
  mkdir -p "$dir"
  start=$SECONDS
  if [[ "$want" == node ]]; then
    node_preflight
    echo node >"$dir/mode"
    # Whatever fails from here on (errexit), undo what was done.
    trap 'rc=$?; if ((rc != 0)); then log "up --node failed; tearing down"; down || true; fi' EXIT
  else
    rm -f "$dir/mode"
  fi
  rm -rf "$dir/etcd-data"
  : >"$dir/apiserver.log"
  rm -f "$dir/audit.log"
  echo "$bin" >"$dir/bin"
  make_pki
  python3 -c 'import secrets; print(secrets.token_hex(24))' >"$dir/admin.token"
  python3 -c 'import secrets; print(secrets.token_hex(24))' >"$dir/developer.token"
  printf '%s,admin,admin-uid,"system:masters"\n%s,developer,developer-uid\n' \
    "$(cat "$dir/admin.token")" "$(cat "$dir/developer.token")" >"$dir/tokens.csv"
  chmod 600 "$dir/tokens.csv" "$dir/admin.token" "$dir/developer.token"
  [[ "$want" != node ]] || node_up "$bin"
  cat >"$dir/audit-policy.yaml" <<'POLICY'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  # Writes of CloudDbJobs with their bodies: the response's resourceVersion tells a real
  # write from a no-op one (the apiserver returns the stored object unchanged), which no
  # watch can tell once it has missed an event. CloudDbJobs hold no secrets.
  - level: RequestResponse
    verbs: ["create", "update", "patch"]
    resources:
      - group: clouddb.io
        resources: ["clouddbjobs", "clouddbjobs/status"]
  # Everything else: verb, user, objectRef, response code. Never bodies (Secrets).
  - level: Metadata
POLICY
  start_etcd "$bin"
  local address=127.0.0.1
  if [[ "$want" == node ]]; then
    address="$NODE_IP"
    echo "$NODE_APISERVER_PORT" >"$dir/apiserver.port"
  else
    free_port >"$dir/apiserver.port"
  fi
  start_apiserver
  write_kubeconfig "$address" "$(cat "$dir/apiserver.port")"
  if [[ "$want" == node ]]; then
    node_start "$bin"
    log "control plane and node up in $((SECONDS - start))s"
  fi
  cat >"$dir/env" <<ENV
export KUBECONFIG=$dir/kubeconfig
export KUBECTL=$bin/kubectl
export HELM=$bin/helm
export GITOPS_HEALTH=$bin/gitops-health
export TESTENV_DIR=$dir
export TESTENV_ETCD=http://127.0.0.1:$(cat "$dir/etcd.port")
ENV
  if [[ "$want" == node ]]; then
    printf 'export TESTENV_NODE=1\nexport TESTENV_NODE_IP=%s\n' "$NODE_IP" >>"$dir/env"
    trap - EXIT
  fi
  print_env
}

down() {
  local rc=0
  [[ "$(mode)" == node ]] && { node_down || rc=1; }
  stop_pid "$dir/apiserver.pid" kube-apiserver
  stop_pid "$dir/etcd.pid" etcd
  rm -f "$dir/env" "$dir/mode"
  log "logs kept in $dir (apiserver.log, etcd.log, audit.log$([[ -d "$dir/node" ]] && echo ", node/*.log"))"
  return "$rc"
}

# An OCI archive (scripts/build-image.sh writes one without a name in it) as image NAME.
import_image() {
  local archive="${1:?usage: $0 import OCI_ARCHIVE NAME}" name="${2:?usage: $0 import OCI_ARCHIVE NAME}"
  [[ "$(mode)" == node ]] && alive "$dir/node/containerd.pid" || { log "no node runs in $dir (up --node)"; exit 1; }
  node_ctr images import --index-name "$name" "$archive" >&2
  log "imported $archive as $name"
}

case "${1:-}" in
  up) up "${2:-}" ;;
  import) import_image "${2:-}" "${3:-}" ;;
  env) print_env ;;
  down) down ;;
  stop-apiserver) stop_pid "$dir/apiserver.pid" kube-apiserver ;;
  start-apiserver)
    alive "$dir/etcd.pid" || { log "etcd is not running in $dir"; exit 1; }
    alive "$dir/apiserver.pid" && { log "kube-apiserver already running"; exit 0; }
    start_apiserver
    ;;
  *)
    echo "usage: $0 up [--node]|env|down|import OCI_ARCHIVE NAME|stop-apiserver|start-apiserver" >&2
    exit 2
    ;;
esac
