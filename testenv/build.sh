#!/usr/bin/env bash
# Builds the test control plane (kube-apiserver, kubectl, etcd) of Kubernetes $K8S_VERSION
# from the official Go modules into .tools/k8s/$K8S_VERSION/bin, with the upstream version
# ldflags so `/version` and `kubectl version` report the real release; helm (helm.sh/helm/v4)
# gitops-health (kstatus and Argo CD's Lua VM) and crane from testenv/tools beside them. A second run with the
# binaries present rebuilds nothing. Prints the bin directory on stdout.
#   K8S_VERSION   v1.34.x-v1.37.x (default: the version testenv/go.mod pins)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
pinned="$(awk '$1 == "k8s.io/kubernetes" {print $2; exit}' "$here/go.mod")"
version="${K8S_VERSION:-$pinned}"
[[ "$version" =~ ^v1\.(3[4-7])\.[0-9]+$ ]] || { echo "testenv: K8S_VERSION must be v1.34.x-v1.37.x, not $version" >&2; exit 2; }
minor="${BASH_REMATCH[1]}"
cache="$root/.tools/k8s/$version"
bin="$cache/bin"
log() { printf 'testenv: %s\n' "$*" >&2; }

if [[ -x "$bin/kube-apiserver" && -x "$bin/kubectl" && -x "$bin/etcd" && -x "$bin/helm" &&
  -x "$bin/gitops-health" && -x "$bin/crane" && -f "$bin/.complete" ]]; then
  log "control plane $version cached in $bin"
  echo "$bin"
  exit 0
fi

# The pinned version builds from the committed module (go.sum checked in); any other
# version gets its go.mod generated the same way into the cache.
if [[ "$version" == "$pinned" ]]; then
  mod="$here"
  modflag=-mod=readonly
else
  mod="$cache/mod"
  "$here/gen-gomod.sh" "$version" "$mod"
  modflag=-mod=mod
fi
etcd_version="$(cd "$mod" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
helm_version="$(cd "$here/tools" && go list -m -f '{{.Version}}' helm.sh/helm/v4)"

# shellcheck source=testenv/k8s-ldflags.sh
. "$here/k8s-ldflags.sh"
ldflags="$(k8s_version_ldflags "$version" "$minor")"
mkdir -p "$bin"
rm -f "$bin/.complete"
start=$SECONDS
cd "$mod"
export CGO_ENABLED=0
log "building kube-apiserver $version"
go build "$modflag" -trimpath -ldflags "-s -w $ldflags" -o "$bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
log "building kubectl $version"
go build "$modflag" -trimpath -ldflags "-s -w $ldflags" -o "$bin/kubectl" k8s.io/kubernetes/cmd/kubectl
log "building etcd $etcd_version"
go build "$modflag" -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module" -o "$bin/etcd" go.etcd.io/etcd/server/v3
# helm and gitops-health build from their own module (testenv/tools), whatever control
# plane version was asked for.
cd "$here/tools"
log "building helm $helm_version"
go build -mod=readonly -trimpath -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$helm_version" \
  -o "$bin/helm" helm.sh/helm/v4/cmd/helm
log "building crane (go-containerregistry; scripts/build-image.sh)"
go build -mod=readonly -trimpath -ldflags "-s -w" -o "$bin/crane" github.com/google/go-containerregistry/cmd/crane
log "building gitops-health (kstatus, Flux's kstatus, Argo CD's Lua VM)"
go build -mod=readonly -trimpath -o "$bin/gitops-health" ./cmd/gitops-health
echo "$version etcd=$etcd_version helm=$helm_version built in $((SECONDS - start))s" >"$bin/.complete"
log "built in $((SECONDS - start))s into $bin"
echo "$bin"
