#!/usr/bin/env bash
# Builds AWS Controllers for Kubernetes' RDS controller (the peer measured side by side with
# this operator: `cargo bench --bench scale -- --scenario peer`, BENCHMARKS.md) from the
# trimmed source in ../shared/peers/ (ack-rds-controller-$ACK_VERSION.tar.gz, see its
# README.md) into .tools/ack/$ACK_VERSION/bin/ack-rds-controller, with the DBSnapshot CRD
# (config/crd/bases/rds.services.k8s.aws_dbsnapshots.yaml) beside it in crds/. The module
# proxy does not serve the controller's own module but serves all its dependencies at the
# versions its go.mod names, so it builds in place with `-mod=mod`.
# Nothing of it goes into the project: it is only run by the benchmark.
# Cold: about 8 minutes on 2 cores and about 1 GB of memory (a 95 MB binary); warm (the
# `.complete` marker present): nothing. Prints the binary's path on stdout.
#   ACK_VERSION   default v1.11.1 (the tarball pinned in ../shared/peers)
#   ACK_TARBALL   default $root/../shared/peers/ack-rds-controller-$ACK_VERSION.tar.gz
#   ACK_SHA256    expected checksum of the tarball (default: the pinned v1.11.1 one)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
version="${ACK_VERSION:-v1.11.1}"
tarball="${ACK_TARBALL:-$root/../shared/peers/ack-rds-controller-$version.tar.gz}"
pinned_sha=5c937fd958e008e1ec484cab947c41e799004a5ee69e9763dcc15bcfadf9f7d2
cache="$root/.tools/ack/$version"
bin="$cache/bin"
crd="rds.services.k8s.aws_dbsnapshots.yaml"
log() { printf 'build-ack: %s\n' "$*" >&2; }

if [[ -x "$bin/ack-rds-controller" && -f "$cache/crds/$crd" && -f "$bin/.complete" ]]; then
  log "ack-rds-controller $version cached in $bin"
  echo "$bin/ack-rds-controller"
  exit 0
fi

[[ -f "$tarball" ]] || { log "no source tarball at $tarball (set ACK_TARBALL)"; exit 2; }
want="${ACK_SHA256:-}"
[[ -z "$want" && "$version" == v1.11.1 ]] && want="$pinned_sha"
if [[ -n "$want" ]]; then
  got="$(sha256sum "$tarball" | cut -d' ' -f1)"
  [[ "$got" == "$want" ]] || { log "checksum mismatch for $tarball: $got, expected $want"; exit 2; }
fi

mkdir -p "$bin" "$cache/crds"
rm -f "$bin/.complete"
src="$cache/src"
rm -rf "$src"
mkdir -p "$src"
tar xzf "$tarball" -C "$src"
dir="$src/ack-rds-controller-$version"
[[ -d "$dir" ]] || { log "the tarball has no ack-rds-controller-$version/"; exit 2; }
install -m 644 "$dir/config/crd/bases/$crd" "$cache/crds/$crd"

start=$SECONDS
log "building ack-rds-controller $version (about 8 minutes on 2 cores)"
(
  cd "$dir"
  # The binary is moved into place only once whole.
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" \
    -o "$bin/ack-rds-controller.tmp" ./cmd/controller
)
mv "$bin/ack-rds-controller.tmp" "$bin/ack-rds-controller"
rm -rf "$src"
echo "ack-rds-controller $version built in $((SECONDS - start))s" >"$bin/.complete"
log "built in $((SECONDS - start))s into $bin"
echo "$bin/ack-rds-controller"
