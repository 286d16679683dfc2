# Sourced by scripts/build-image.sh and testenv/build-node.sh. There is no container daemon
# or registry here: crane writes an image through a registry it serves on loopback, and the
# image leaves as an OCI layout, packed as a reproducible archive.
#
#   oci_registry_start CRANE WORK   serve a registry (log in WORK/registry.log); sets
#                                   OCI_REGISTRY (127.0.0.1:PORT) and OCI_REGISTRY_PID, which
#                                   the caller's EXIT trap kills
#   oci_archive OCI_DIR ARCHIVE     pack an OCI layout as a tar archive (sorted, mtime 0,
#                                   owner 0), as `ctr images import` and skopeo take it

oci_registry_start() {
  local crane="$1" work="$2" port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  "$crane" registry serve --address "127.0.0.1:$port" >"$work/registry.log" 2>&1 &
  OCI_REGISTRY_PID=$!
  OCI_REGISTRY="127.0.0.1:$port"
  for _ in $(seq 1 100); do
    curl -fsS "http://$OCI_REGISTRY/v2/" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "crane's registry did not answer on $OCI_REGISTRY: $(tail -5 "$work/registry.log")" >&2
  return 1
}

oci_archive() {
  (cd "$1" && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$2" .)
}
