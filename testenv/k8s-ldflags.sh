# Sourced by testenv/build.sh and testenv/build-node.sh: the version ldflags of a Kubernetes
# release build (hack/lib/version.sh), so `/version`, `kubectl version` and the node report
# the real release. The commit is left empty, as in source builds without git; the build
# date is SOURCE_DATE_EPOCH (default 0), so rebuilds are reproducible.
# Usage: ldflags="$(k8s_version_ldflags "$version" "$minor")"
k8s_version_ldflags() {
  local version="$1" minor="$2" build_date pkg flags=""
  build_date="$(date -u -d "@${SOURCE_DATE_EPOCH:-0}" +%Y-%m-%dT%H:%M:%SZ)"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
  done
  printf '%s' "$flags"
}
