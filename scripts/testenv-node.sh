# shellcheck shell=bash
# The test control plane's node (`scripts/testenv.sh up --node`), sourced by testenv.sh:
# containerd + runc (Debian's) with a configuration, root and state of their own under
# $dir/node, the bridge CNI plugin on cni0 (10.88.0.1/16), and the pinned release's
# kubelet, kube-controller-manager and kube-scheduler (testenv/build-node.sh). Pods reach the
# apiserver at 10.88.0.1:6443 and through the `kubernetes` Service's IP, 10.96.0.1:443, by a
# DNAT (no kube-proxy); nothing leaves the machine: forwarding between cni0 and any other
# interface is dropped. No DNS server runs: in-cluster clients use KUBERNETES_SERVICE_HOST.
# What worked and why (cgroup v1, oom_score_adj, images without a registry):
# ../shared/reference/real-node.md. One node per machine (cni0, cgroups, ports 6443, 10250).
#
# node_down undoes everything node_up did (processes, mounts, cgroups, iptables rules and
# chains, routes, interfaces, kernel settings) and names whatever it could not undo.

NODE_NAME=testenv-node
NODE_IP=10.88.0.1
NODE_CIDR=10.88.0.0/16
SERVICE_CIDR=10.96.0.0/24
SERVICE_IP=10.96.0.1
NODE_APISERVER_PORT=6443
NODE_MARK="clouddb-testenv"
# Kernel settings the kubelet sets at start (setupKernelTunables: overcommit, panic on oops
# after 10 s...) and the bridge plugin (forwarding): saved at up, put back at down.
NODE_HOST_DIRS="/run/containerd /var/lib/cni /var/lib/kubelet /var/log/containers /run/mount
  /usr/libexec/kubernetes"
NODE_SYSCTLS=(vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops
  kernel/keys/root_maxkeys kernel/keys/root_maxbytes net/ipv4/ip_forward)
# Our iptables rules, as "table|chain|rule".
node_rules() {
  printf '%s\n' \
    "nat|PREROUTING|-d $SERVICE_IP/32 -p tcp -m tcp --dport 443 -m comment --comment $NODE_MARK -j DNAT --to-destination $NODE_IP:$NODE_APISERVER_PORT" \
    "nat|OUTPUT|-d $SERVICE_IP/32 -p tcp -m tcp --dport 443 -m comment --comment $NODE_MARK -j DNAT --to-destination $NODE_IP:$NODE_APISERVER_PORT" \
    "filter|FORWARD|-i cni0 ! -o cni0 -m comment --comment $NODE_MARK -j DROP" \
    "filter|FORWARD|! -i cni0 -o cni0 -m comment --comment $NODE_MARK -j DROP"
}

node_preflight() {
  [[ "$(id -u)" == 0 ]] || { log "--node needs root (containerd, kubelet, iptables, cni0)"; return 1; }
  local missing=()
  for c in containerd containerd-shim-runc-v2 runc ctr iptables ip6tables ip findmnt; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
  done
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local ]] || missing+=("/usr/lib/cni/{bridge,host-local}")
  ((${#missing[@]} == 0)) || {
    log "--node needs ${missing[*]} (apt-get install containerd runc containernetworking-plugins iptables)"
    return 1
  }
  node_wait_for_other_node || return 1
  local g
  for g in /sys/fs/cgroup/*/kubepods; do
    [[ -d "$g" ]] && { log "$g exists: another kubelet runs on this machine"; return 1; }
  done
  return 0
}

# A kubelet listening on 10250 is a live node (this machine's, or another run's sharing its
# network): wait up to TESTENV_NODE_WAIT seconds (default 600) for its down. cni0 without a
# kubelet is what a run killed before its down left behind (its processes died with it):
# cleared here, so that one killed run does not fail every later one.
node_wait_for_other_node() {
  local waited=0 limit="${TESTENV_NODE_WAIT:-600}"
  while ss -Hltn 'sport = :10250' 2>/dev/null | grep -q .; do
    if ((waited >= limit)); then
      log "a kubelet listens on :10250 and cni0 is in use: another test node runs on this machine; run its down (waited ${waited}s)"
      return 1
    fi
    ((waited == 0)) && log "a kubelet listens on :10250: waiting up to ${limit}s for that test node's down"
    sleep 5
    waited=$((waited + 5))
  done
  ip link show cni0 >/dev/null 2>&1 || return 0
  log "cni0 exists but no kubelet runs: clearing what a killed test node left (cni0, its veths, route and iptables rules, empty kubepods cgroups)"
  node_network_down
  node_remove_cgroups
  if ip link show cni0 >/dev/null 2>&1; then
    log "cni0 could not be removed; run scripts/testenv.sh down --node for the run that left it"
    return 1
  fi
}

# The apiserver's extra flags on a node.
node_apiserver_args() {
  printf '%s\n' --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --kubelet-preferred-address-types InternalIP \
    --kubelet-client-certificate "$dir/pki/kubelet-client.crt" \
    --kubelet-client-key "$dir/pki/kubelet-client.key"
}

node_pki() {
  local pki="$dir/pki"
  [[ -f "$pki/kubelet-client.crt" ]] && return 0
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" \
    -keyout "$pki/kubelet-client.key" -out "$pki/kubelet-client.csr" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >"$pki/client.ext"
  openssl x509 -req -in "$pki/kubelet-client.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
    -CAcreateserial -days 3650 -extfile "$pki/client.ext" -out "$pki/kubelet-client.crt" 2>/dev/null
}

# Tokens of the node's components, appended to tokens.csv: user,uid,groups.
node_tokens() {
  local who user groups token
  for who in kubelet controller-manager scheduler; do
    case "$who" in
      kubelet) user="system:node:$NODE_NAME" groups='"system:nodes"' ;;
      controller-manager) user=system:kube-controller-manager groups="" ;;
      scheduler) user=system:kube-scheduler groups="" ;;
    esac
    token="$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
    printf '%s,%s,%s-uid%s\n' "$token" "$user" "$who" "${groups:+,$groups}" >>"$dir/tokens.csv"
    cat >"$dir/node/$who.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: testenv
  cluster:
    server: https://$NODE_IP:$NODE_APISERVER_PORT
    certificate-authority: $dir/pki/ca.crt
users:
- name: $who
  user:
    token: $token
contexts:
- name: testenv
  context: {cluster: testenv, user: $who}
current-context: testenv
KC
    chmod 600 "$dir/node/$who.kubeconfig"
  done
}

node_network_up() {
  local n="$dir/node"
  iptables-save >"$n/iptables.before"
  ip6tables-save >"$n/ip6tables.before"
  local k
  for k in "${NODE_SYSCTLS[@]}"; do
    [[ -f "/proc/sys/$k" ]] && echo "$k $(cat "/proc/sys/$k")"
  done >"$n/sysctl.before"
  ls /run/netns 2>/dev/null >"$n/netns.before" || true
  # Directories the node's programs make outside $n whatever they are told: removed at
  # down when they were not there before (libcni's result cache /var/lib/cni, the kubelet's
  # /var/log/containers, libmount's /run/mount).
  local d
  for d in $NODE_HOST_DIRS /run/netns; do
    [[ -e "$d" ]] && echo "$d" >>"$n/dirs.before"
  done
  touch "$n/dirs.before"
  ip link add cni0 type bridge
  ip addr add "$NODE_IP/16" dev cni0
  ip link set cni0 up
  ip route add "$SERVICE_CIDR" dev cni0
  local line table chain rule
  while IFS= read -r line; do
    IFS='|' read -r table chain rule <<<"$line"
    # shellcheck disable=SC2086
    iptables -t "$table" -I "$chain" $rule
  done < <(node_rules)
  mkdir -p "$n/cni" "$n/cni-ipam"
  cat >"$n/cni/10-testenv.conflist" <<CNI
{"cniVersion": "0.4.0", "name": "testenv", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$n/cni-ipam",
            "ranges": [[{"subnet": "$NODE_CIDR", "gateway": "$NODE_IP"}]],
            "routes": [{"dst": "0.0.0.0/0"}]}}]}
CNI
}

node_containerd_up() {
  local bin="$1" n="$dir/node"
  local pause_image
  pause_image="$(cat "$bin/pause.image")"
  mkdir -p "$n/containerd"
  cat >"$n/containerd/config.toml" <<TOML
version = 2
root = "$n/containerd/root"
state = "$n/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$n/containerd/containerd.sock"
[debug]
  level = "warn"
[plugins."io.containerd.internal.v1.opt"]
  path = "$n/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  # root here lacks CAP_SYS_RESOURCE: a negative oom_score_adj would fail every sandbox.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".registry]
    # Per-registry hosts.toml, read at each pull: a test serving a registry on loopback
    # (plain http) writes its own there (tests/e2e/node/oci.rs).
    config_path = "$n/containerd/certs.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$n/cni"
TOML
  containerd --config "$n/containerd/config.toml" >>"$n/containerd.log" 2>&1 &
  echo $! >"$n/containerd.pid"
  local i
  for i in $(seq 1 100); do
    node_ctr version >/dev/null 2>&1 && break
    alive "$n/containerd.pid" || { log "containerd exited:"; tail -20 "$n/containerd.log" >&2; return 1; }
    sleep 0.1
  done
  ((i < 100)) || { log "containerd not ready in 10s"; return 1; }
  node_ctr images import --index-name "$pause_image" "$bin/pause.oci.tar" >/dev/null
}

node_ctr() { ctr --address "$dir/node/containerd/containerd.sock" --namespace k8s.io "$@"; }

node_kubelet_up() {
  local bin="$1" n="$dir/node"
  mkdir -p "$n/kubelet" "$n/pod-logs"
  : >"$n/resolv.conf"
  cat >"$n/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# cgroup v1 here (1.35+ refuses it unless told), no systemd.
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$n/containerd/containerd.sock
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $dir/pki/ca.crt}
authorization: {mode: Webhook}
failSwapOn: false
# A shared test machine: evict nothing, collect no images (they were imported, not pulled).
evictionHard: {memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
resolvConf: $n/resolv.conf
podLogsDir: $n/pod-logs
volumePluginDir: $n/volume-plugins
maxPods: 60
serializeImagePulls: false
# The operator's image is imported (testenv.sh import), and node::oci pulls the same image
# (same ID) from a registry. Once the kubelet has pulled an image ID itself, the default
# policy (NeverVerifyPreloadedImages, KubeletEnsureSecretPulledImages) re-verifies every
# other name of it by pulling: the imported name, from a registry that does not exist here
# (ErrImagePull for the next test). Names the kubelet never needs to verify:
imagePullCredentialsVerificationPolicy: NeverVerifyAllowlistedImages
preloadedImagesVerificationAllowlist: [clouddb-job-operator, docker.io/library/clouddb-job-operator]
YAML
  "$bin/kubelet" --config "$n/kubelet.yaml" --kubeconfig "$n/kubelet.kubeconfig" \
    --root-dir "$n/kubelet" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
    --v 1 >>"$n/kubelet.log" 2>&1 &
  echo $! >"$n/kubelet.pid"
}

node_controllers_up() {
  local bin="$1" n="$dir/node"
  "$bin/kube-controller-manager" --kubeconfig "$n/controller-manager.kubeconfig" \
    --service-account-private-key-file "$dir/pki/sa.key" --root-ca-file "$dir/pki/ca.crt" \
    --use-service-account-credentials --leader-elect=false --secure-port 0 \
    --cluster-name testenv --service-cluster-ip-range "$SERVICE_CIDR" \
    >>"$n/controller-manager.log" 2>&1 &
  echo $! >"$n/controller-manager.pid"
  "$bin/kube-scheduler" --kubeconfig "$n/scheduler.kubeconfig" --leader-elect=false \
    --secure-port 0 >>"$n/scheduler.log" 2>&1 &
  echo $! >"$n/scheduler.pid"
}

# Waits for the node to be Ready (kubectl with the admin kubeconfig).
node_wait_ready() {
  local bin="$1" n="$dir/node" i
  for i in $(seq 1 900); do
    if [[ "$("$bin/kubectl" --kubeconfig "$dir/kubeconfig" get node "$NODE_NAME" \
      -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]; then
      return 0
    fi
    local p
    for p in containerd kubelet controller-manager scheduler; do
      alive "$n/$p.pid" || { log "$p exited; last lines of $n/$p.log:"; tail -30 "$n/$p.log" >&2; return 1; }
    done
    sleep 0.2
  done
  log "node not Ready in 180s; last lines of $n/kubelet.log:"
  tail -30 "$n/kubelet.log" >&2
  return 1
}

node_up() {
  local bin="$1" n="$dir/node"
  node_preflight
  rm -rf "$n"
  mkdir -p "$n"
  node_pki
  node_tokens
  node_network_up
}

# After the apiserver is ready.
node_start() {
  local bin="$1"
  node_containerd_up "$bin"
  node_kubelet_up "$bin"
  node_controllers_up "$bin"
  node_wait_ready "$bin"
  log "node $NODE_NAME Ready (pods: $NODE_CIDR, kubernetes Service $SERVICE_IP -> $NODE_IP:$NODE_APISERVER_PORT)"
}

# shellcheck source=scripts/testenv-node-down.sh
source "$root/scripts/testenv-node-down.sh"
