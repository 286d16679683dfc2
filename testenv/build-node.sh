#!/usr/bin/env bash
# Builds the test node (scripts/testenv.sh up --node) beside the control plane: kubelet,
# kube-controller-manager and kube-scheduler of Kubernetes $K8S_VERSION from the same Go
# module as testenv/build.sh (the pinned testenv/go.mod, which carries their `tool` lines),
# into .tools/k8s/$K8S_VERSION/bin, and the pod sandbox image (testenv/tools/cmd/pause, a
# static Go binary) as an OCI archive pause.oci.tar there, named $PAUSE_IMAGE, because the
# node has no registry to pull registry.k8s.io/pause from. containerd, runc and the CNI
# plugins come from Debian (.ci/run installs them). A second run rebuilds nothing.
# Prints the bin directory on stdout.
#   K8S_VERSION   see testenv/build.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
log() { printf 'build-node: %s\n' "$*" >&2; }
# The name containerd's CRI plugin is configured with (sandbox_image) by scripts/testenv.sh.
pause_image="registry.k8s.io/pause:3.10"

bin="$(bash "$here/build.sh")"
if [[ -x "$bin/kubelet" && -x "$bin/kube-controller-manager" && -x "$bin/kube-scheduler" &&
  -f "$bin/pause.oci.tar" && -f "$bin/.node-complete" ]]; then
  log "node cached in $bin"
  echo "$bin"
  exit 0
fi

pinned="$(awk '$1 == "k8s.io/kubernetes" {print $2; exit}' "$here/go.mod")"
version="${K8S_VERSION:-$pinned}"
[[ "$version" =~ ^v1\.(3[4-7])\.[0-9]+$ ]] || { echo "build-node: bad K8S_VERSION $version" >&2; exit 2; }
minor="${BASH_REMATCH[1]}"
if [[ "$version" == "$pinned" ]]; then
  mod="$here"
  modflag=-mod=readonly
else
  # testenv/build.sh generated it (testenv/gen-gomod.sh writes the node's tool lines too).
  mod="$root/.tools/k8s/$version/mod"
  modflag=-mod=mod
fi
# shellcheck source=testenv/k8s-ldflags.sh
. "$here/k8s-ldflags.sh"
ldflags="$(k8s_version_ldflags "$version" "$minor")"

rm -f "$bin/.node-complete"
start=$SECONDS
export CGO_ENABLED=0
for cmd in kubelet kube-controller-manager kube-scheduler; do
  [[ -x "$bin/$cmd" ]] && continue
  log "building $cmd $version"
  t=$SECONDS
  (cd "$mod" && go build "$modflag" -trimpath -ldflags "-s -w $ldflags" -o "$bin/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd")
  mv "$bin/$cmd.tmp" "$bin/$cmd"
  log "built $cmd in $((SECONDS - t))s"
done

# The pause image: one layer with /pause, entrypoint /pause, written by crane through a
# registry it serves on loopback (as scripts/build-image.sh does).
work="$(mktemp -d)"
# shellcheck source=testenv/oci-registry.sh
source "$here/oci-registry.sh"
OCI_REGISTRY_PID=""
cleanup() {
  [[ -n "$OCI_REGISTRY_PID" ]] && kill "$OCI_REGISTRY_PID" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/rootfs"
(cd "$here/tools" && go build -mod=readonly -trimpath -ldflags "-s -w" -o "$work/rootfs/pause" ./cmd/pause)
(cd "$work/rootfs" && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$work/layer.tar" .)
oci_registry_start "$bin/crane" "$work"
ref="$OCI_REGISTRY/pause:${pause_image##*:}"
"$bin/crane" append --oci-empty-base -f "$work/layer.tar" -t "$ref" >/dev/null 2>>"$work/crane.log"
"$bin/crane" mutate "$ref" -t "$ref" --set-platform linux/amd64 --entrypoint /pause \
  --user 65535:65535 >/dev/null 2>>"$work/crane.log"
"$bin/crane" pull --format=oci "$ref" "$work/oci" 2>>"$work/crane.log"
oci_archive "$work/oci" "$bin/pause.oci.tar"
echo "$pause_image" >"$bin/pause.image"

echo "$version node built in $((SECONDS - start))s" >"$bin/.node-complete"
log "built in $((SECONDS - start))s into $bin"
echo "$bin"
