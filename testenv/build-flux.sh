#!/usr/bin/env bash
# Builds Flux's source-controller, kustomize-controller and helm-controller from their Go
# modules into .tools/flux/$FLUX_VERSION/, with their CRDs from the module zips
# (config/crd/bases) beside them, for the Flux end-to-end tests (tests/e2e/flux.rs and
# tests/e2e/flux_helm.rs). A second run with everything present rebuilds nothing (`.complete`).
# Prints the directory on stdout.
#
# `go install module@version` cannot build them: each module's go.mod has
# `replace github.com/fluxcd/<controller>/api => ./api`, and `./api` is not in the module
# zip. So the module is downloaded, copied out of the module cache, that one replace is
# dropped (the api module of the version go.mod requires comes from the proxy instead), and
# it is built in place. v1.10.x needs Go 1.27 and dependencies the proxy refuses; v1.9.6
# builds, with one more replace for source-controller: the proxy refuses
# github.com/fluxcd/pkg/artifact v0.18.3, and v0.18.0 builds.
# Cold: about 9 minutes on 2 idle cores for source-controller (about 4) and
# kustomize-controller (about 5; 22 minutes on a machine busy with other builds), plus
# helm-controller v1.4.5 (8 minutes of CPU with an empty Go build cache; 12 minutes on a
# machine busy with other builds); warm: nothing (under a second).
#   FLUX_VERSION   source-controller and kustomize-controller version (default v1.9.6)
#   FLUX_HELM      0: leave helm-controller out (default 1: build $FLUX_HELM_VERSION, default
#                  v1.4.5, for tests/e2e/flux_helm.rs)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
version="${FLUX_VERSION:-v1.9.6}"
helm_version="${FLUX_HELM_VERSION:-v1.4.5}"
cache="$root/.tools/flux/$version"
bin="$cache/bin"
log() { printf 'build-flux: %s\n' "$*" >&2; }

controllers=(source-controller kustomize-controller)
[[ "${FLUX_HELM:-1}" == 1 ]] && controllers+=(helm-controller)

# `.complete` lists the controllers built with their CRDs in place.
complete=1
for c in "${controllers[@]}"; do
  [[ -x "$bin/$c" ]] && grep -qw -- "$c" "$bin/.complete" 2>/dev/null || complete=0
done
if ((complete)); then
  log "Flux $version cached in $cache"
  echo "$cache"
  exit 0
fi

# Each binary is moved into place only once built, so the executables present are always
# whole, even if a build is interrupted.
mkdir -p "$bin" "$cache/crds" "$cache/src"
start=$SECONDS
export CGO_ENABLED=0 GOFLAGS=-mod=mod
for c in "${controllers[@]}"; do
  v="$version"
  [[ "$c" == helm-controller ]] && v="$helm_version"
  module="github.com/fluxcd/$c"
  dir="$(cd "$cache" && go mod download -json "$module@$v" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
  install -m 644 "$dir"/config/crd/bases/*.yaml "$cache/crds/"
  [[ -x "$bin/$c" ]] && { log "$c present"; continue; }
  src="$cache/src/$c"
  rm -rf "$src"
  cp -r "$dir" "$src"
  chmod -R u+w "$src"
  (
    cd "$src"
    go mod edit -dropreplace "$module/api"
    if [[ "$c" == source-controller ]]; then
      go mod edit -replace github.com/fluxcd/pkg/artifact=github.com/fluxcd/pkg/artifact@v0.18.0
    fi
    log "building $c $v"
    c_start=$SECONDS
    go build -trimpath -ldflags "-s -w" -o "$bin/$c.tmp" .
    mv "$bin/$c.tmp" "$bin/$c"
    log "built $c in $((SECONDS - c_start))s"
  )
  rm -rf "$src"
done
echo "flux $version (${controllers[*]}) built in $((SECONDS - start))s" >"$bin/.complete"
log "built in $((SECONDS - start))s into $cache"
echo "$cache"
