# shellcheck shell=bash
# Tears the test node down (sourced by scripts/testenv-node.sh): leaves the machine as it
# was before `scripts/testenv.sh up --node` and names what it could not restore.

# Pods first, while the kubelet runs, so that it stops their containers and the CNI plugin
# releases their addresses and network namespaces; the controllers stop before, so that
# nothing recreates them.
node_drain() {
  local n="$dir/node" bin
  stop_pid "$n/controller-manager.pid" kube-controller-manager
  stop_pid "$n/scheduler.pid" kube-scheduler
  alive "$dir/apiserver.pid" && alive "$n/kubelet.pid" || return 0
  bin="$(cat "$dir/bin")"
  "$bin/kubectl" --kubeconfig "$dir/kubeconfig" delete pods --all --all-namespaces \
    --grace-period=1 --wait=true --timeout=60s >/dev/null 2>&1 ||
    log "some pods were not deleted in 60s"
  local i
  for i in $(seq 1 100); do
    [[ -z "$(node_ctr tasks ls -q 2>/dev/null)" ]] && break
    sleep 0.2
  done
}

# Containers the kubelet left (sandboxes it had no time to remove), then containerd and
# its shims (they outlive containerd by design; ours name our containerd's socket).
node_stop_runtime() {
  local n="$dir/node" sock="$dir/node/containerd/containerd.sock" id
  stop_pid "$n/kubelet.pid" kubelet
  if alive "$n/containerd.pid"; then
    for id in $(node_ctr tasks ls -q 2>/dev/null); do
      node_ctr tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    done
    sleep 0.3
    for id in $(node_ctr tasks ls -q 2>/dev/null); do
      node_ctr tasks delete -f "$id" >/dev/null 2>&1 || true
    done
    for id in $(node_ctr containers ls -q 2>/dev/null); do
      node_ctr containers rm "$id" >/dev/null 2>&1 || true
    done
  fi
  stop_pid "$n/containerd.pid" containerd
  local pid
  for pid in $(pgrep -f -- "containerd-shim-runc-v2 .*-address $sock( |$)" || true); do
    kill -KILL "$pid" 2>/dev/null && log "killed a leftover containerd shim (pid $pid)"
  done
}

node_unmount() {
  local n="$dir/node" target
  # Deepest first; network namespaces the CNI plugin made for our pods too.
  local targets
  targets="$(findmnt -rn -o TARGET | awk -v d="$n/" -v r=/run/containerd/ \
    'index($0, d) == 1 || index($0, r) == 1' | sort -r)"
  local ns
  for ns in $(ls /run/netns 2>/dev/null); do
    grep -qxF "$ns" "$n/netns.before" 2>/dev/null && continue
    targets+=$'\n'"/run/netns/$ns"
  done
  while IFS= read -r target; do
    [[ -n "$target" ]] || continue
    umount "$target" 2>/dev/null || umount -l "$target" 2>/dev/null || true
    [[ "$target" == /run/netns/* ]] && rm -f "$target"
  done <<<"$targets"
  local d
  for d in $NODE_HOST_DIRS; do
    [[ -f "$n/dirs.before" ]] && ! grep -qxF "$d" "$n/dirs.before" && rm -rf "$d"
  done
  [[ -f "$n/dirs.before" ]] && ! grep -qxF /run/netns "$n/dirs.before" && rmdir /run/netns 2>/dev/null
  return 0
}

node_remove_cgroups() {
  local g
  for g in /sys/fs/cgroup/*/kubepods; do
    [[ -d "$g" ]] || continue
    find "$g" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

# Our rules, then every chain that appeared since up (the kubelet's KUBE-FIREWALL,
# KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT...), with the rules that jump to them.
node_iptables_clean() {
  local n="$dir/node" line table chain rule
  while IFS= read -r line; do
    IFS='|' read -r table chain rule <<<"$line"
    # shellcheck disable=SC2086
    while iptables -t "$table" -D "$chain" $rule 2>/dev/null; do :; done
  done < <(node_rules)
  local fam save cmd
  for fam in iptables ip6tables; do
    cmd="$fam"
    save="$n/$fam.before"
    [[ -f "$save" ]] || continue
    local new
    new="$(python3 - "$save" <(${fam}-save) <<'PY'
import sys
def chains(path):
    out, table = set(), None
    for line in open(path):
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith(":"):
            out.add((table, line[1:].split()[0]))
    return out
for table, chain in sorted(chains(sys.argv[2]) - chains(sys.argv[1])):
    print(table, chain)
PY
)"
    [[ -n "$new" ]] || continue
    local t c jumps
    while read -r t c; do
      # Rules (in any chain of the table) that jump to the new chain.
      jumps="$(${fam}-save -t "$t" | awk -v c="$c" '$1 == "-A" && / -j / { for (i = 1; i <= NF; i++) if ($i == "-j" && $(i+1) == c) print }')"
      while IFS= read -r line; do
        [[ -n "$line" ]] || continue
        # shellcheck disable=SC2086
        eval "$cmd -t $t -D ${line#-A }" 2>/dev/null || true
      done <<<"$jumps"
    done <<<"$new"
    while read -r t c; do
      $cmd -t "$t" -F "$c" 2>/dev/null || true
    done <<<"$new"
    while read -r t c; do
      $cmd -t "$t" -X "$c" 2>/dev/null || true
    done <<<"$new"
  done
}

node_network_down() {
  local n="$dir/node" link
  # Veths left on the bridge (their namespaces are gone with the pods, normally).
  for link in $(ip -o link show master cni0 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip link del "$link" 2>/dev/null || true
  done
  ip route del "$SERVICE_CIDR" dev cni0 2>/dev/null || true
  ip link del cni0 2>/dev/null || true
  local k v
  if [[ -f "$n/sysctl.before" ]]; then
    while read -r k v; do
      echo "$v" >"/proc/sys/$k" 2>/dev/null || true
    done <"$n/sysctl.before"
  fi
  node_iptables_clean
}

# What is still there; prints one line per leftover, returns 1 if any.
node_leftovers() {
  local n="$dir/node" left=() g
  pgrep -f -- "containerd-shim-runc-v2 .*-address $n/containerd/containerd.sock" >/dev/null &&
    left+=("containerd shims still run")
  [[ -n "$(findmnt -rn -o TARGET | awk -v d="$n/" 'index($0, d) == 1')" ]] &&
    left+=("mounts under $n: $(findmnt -rn -o TARGET | awk -v d="$n/" 'index($0, d) == 1' | tr '\n' ' ')")
  for g in /sys/fs/cgroup/*/kubepods; do [[ -d "$g" ]] && left+=("cgroup $g"); done
  ip link show cni0 >/dev/null 2>&1 && left+=("interface cni0")
  [[ -z "$(ip -o link show type veth 2>/dev/null | grep -F 'master cni0')" ]] || left+=("veths on cni0")
  local fam diff d
  # Rules and chains; not the tables (iptables-nft cannot delete a table, and an empty one
  # with built-in chains that accept changes nothing).
  rules() { grep -Ev '^(#|\*|COMMIT|:(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) ACCEPT)' | sed 's/\[[0-9:]*\]//'; }
  for fam in iptables ip6tables; do
    [[ -f "$n/$fam.before" ]] || continue
    diff="$(diff <(rules <"$n/$fam.before") <(${fam}-save | rules) | grep '^[<>]' || true)"
    [[ -z "$diff" ]] || left+=("$fam differs from before up: $(tr '\n' ';' <<<"$diff")")
  done
  for d in $NODE_HOST_DIRS /run/netns; do
    [[ -f "$n/dirs.before" && -e "$d" ]] && ! grep -qxF "$d" "$n/dirs.before" && left+=("$d")
  done
  local k v
  while read -r k v; do
    [[ "$(cat "/proc/sys/$k")" == "$v" ]] || left+=("sysctl $k: $(cat "/proc/sys/$k"), was $v")
  done < <(cat "$n/sysctl.before" 2>/dev/null)
  ((${#left[@]} == 0)) && return 0
  local l
  for l in "${left[@]}"; do log "could not clean: $l"; done
  return 1
}

# Everything up --node did, undone; returns 1 (after trying everything) if something stays.
node_down() {
  local start=$SECONDS
  node_drain
  node_stop_runtime
  node_unmount
  node_remove_cgroups
  node_network_down
  # The apiserver and etcd are stopped by the caller; the node's files stay for the logs.
  if node_leftovers; then
    log "node torn down in $((SECONDS - start))s; the machine is as before up --node"
  else
    log "node torn down in $((SECONDS - start))s, with the leftovers above"
    return 1
  fi
}
