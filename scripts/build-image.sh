#!/usr/bin/env bash
# Builds the operator's OCI image without a container daemon: the release binary on a
# runtime base assembled from Debian's packages with the contents of distroless/cc (glibc,
# libgcc, CA certificates, a `nonroot` user 65532, no shell), written by crane
# (go-containerregistry, built by testenv/build.sh) through a registry it serves on loopback.
# Same layout, entrypoint, user and labels as the Dockerfile.
#
#   scripts/build-image.sh [OUT_DIR]     (default target/image)
#
# Writes OUT_DIR/oci (an OCI image layout) and OUT_DIR/clouddb-job-operator-VERSION.oci.tar
# (the same as an archive: `skopeo copy oci-archive:...`, `podman load -i ...`,
# `ctr images import ...`). Set CARGO_PROFILE=dev to package a debug build (faster; tests).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/target/image}"
profile="${CARGO_PROFILE:-release}"
log() { printf 'build-image: %s\n' "$*" >&2; }

version="$(awk -F'"' '/^version = / {print $2; exit}' "$root/Cargo.toml")"
tools="$(bash "$root/testenv/build.sh")"
crane="$tools/crane"

log "building the $profile binary"
(cd "$root" && cargo build --profile "$profile" --bin clouddb-job-operator)
dir="$profile"
[[ "$profile" == dev ]] && dir=debug
binary="$root/target/$dir/clouddb-job-operator"

work="$(mktemp -d)"
# shellcheck source=testenv/oci-registry.sh
source "$root/testenv/oci-registry.sh"
OCI_REGISTRY_PID=""
cleanup() {
  [[ -n "$OCI_REGISTRY_PID" ]] && kill "$OCI_REGISTRY_PID" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
rootfs="$work/rootfs"
mkdir -p "$rootfs" "$work/debs"

# distroless/cc's contents, from the same Debian release's packages.
packages=(libc6 libgcc-s1 ca-certificates)
fetch() { (cd "$work/debs" && apt-get download -o APT::Sandbox::User=root "${packages[@]}" >/dev/null); }
if ! fetch 2>/dev/null; then
  log "refreshing the package lists"
  apt-get update -qq
  fetch
fi
for deb in "$work"/debs/*.deb; do
  dpkg-deb -x "$deb" "$rootfs"
done
# What ca-certificates' postinst (update-ca-certificates) would write.
mkdir -p "$rootfs/etc/ssl/certs"
cat "$rootfs"/usr/share/ca-certificates/mozilla/*.crt >"$rootfs/etc/ssl/certs/ca-certificates.crt"
rm -rf "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/usr/share/lintian \
  "$rootfs"/usr/share/locale "$rootfs"/usr/sbin "$rootfs"/sbin "$rootfs"/usr/bin
# distroless's users: root and nonroot (65532), no login shells.
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$rootfs/etc/group"
mkdir -p "$rootfs/tmp" "$rootfs/home/nonroot" "$rootfs/usr/local/bin"
chmod 1777 "$rootfs/tmp"
install -m 0755 "$binary" "$rootfs/usr/local/bin/clouddb-job-operator"
for shell in bin/sh bin/bash bin/dash usr/bin/sh; do
  [[ ! -e "$rootfs/$shell" ]] || { log "a shell slipped into the image: $shell"; exit 1; }
done
# Owned by root, but nonroot's home.
if [[ "$(id -u)" == 0 ]]; then
  chown -R 0:0 "$rootfs"
  chown 65532:65532 "$rootfs/home/nonroot"
  owners=()
else
  owners=(--owner=0 --group=0)
fi
(cd "$rootfs" && tar --sort=name --mtime=@0 --numeric-owner "${owners[@]}" -cf "$work/layer.tar" .)

oci_registry_start "$crane" "$work"
ref="$OCI_REGISTRY/clouddb-job-operator:$version"
"$crane" append --oci-empty-base -f "$work/layer.tar" -t "$ref" >/dev/null 2>>"$work/crane.log"
"$crane" mutate "$ref" -t "$ref" \
  --set-platform linux/amd64 \
  --entrypoint /usr/local/bin/clouddb-job-operator,run \
  --user 65532:65532 --workdir / --exposed-ports 8080/tcp \
  --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  -l org.opencontainers.image.title=clouddb-job-operator \
  -l "org.opencontainers.image.description=Tracks long-running cloud database jobs (Tencent Cloud API 3.0 and CDB API 2.0, Huawei Cloud RDS/TaurusDB, Alibaba Cloud RDS/PolarDB, Amazon RDS/Aurora, Google Cloud SQL, Azure Database for PostgreSQL/MySQL) as Kubernetes CloudDbJob resources" \
  -l "org.opencontainers.image.version=$version" \
  -l org.opencontainers.image.licenses=Apache-2.0 >/dev/null 2>>"$work/crane.log"
rm -rf "$out/oci"
mkdir -p "$out"
"$crane" pull --format=oci "$ref" "$out/oci" 2>>"$work/crane.log"
oci_archive "$out/oci" "$out/clouddb-job-operator-$version.oci.tar"
log "wrote $out/oci and $out/clouddb-job-operator-$version.oci.tar ($(du -h "$out/clouddb-job-operator-$version.oci.tar" | cut -f1))"
