#!/usr/bin/env bash
# Regenerates examples/gitops/argocd/argocd-cm.yaml, which embeds health.lua.
# tests/packaging/argocd_health.rs fails when the two differ; run this after editing health.lua.
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../examples/gitops/argocd" && pwd)"
# The one script serves both kinds (it reads obj.kind): each key embeds the same copy.
{
  cat <<'YAML'
# Argo CD health checks for CloudDbJob and CloudDbInstance. Merge the `data` keys below into
# your argocd-cm ConfigMap (or, with the Argo CD Helm chart, into `configs.cm`). Argo CD then
# reports a CloudDbJob as Healthy when its job completed, Degraded when it failed or stalled,
# and Progressing while it runs; and a CloudDbInstance as Healthy when nothing runs on the
# database (Ready and Idle), Progressing while a discovered job runs or before the first
# discovery, and Degraded when discovery stalled. An Application syncing them shows the
# outcome, and sync waves / hooks can wait on it.
# Generated from health.lua by scripts/gen-argocd-cm.sh; edit health.lua instead.
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  namespace: argocd
  labels:
    app.kubernetes.io/name: argocd-cm
    app.kubernetes.io/part-of: argocd
data:
YAML
  for kind in CloudDbJob CloudDbInstance; do
    echo "  resource.customizations.health.clouddb.io_${kind}: |"
    sed 's/^\(.\)/    \1/' "$DIR/health.lua"
  done
} > "$DIR/argocd-cm.yaml"
echo "wrote $DIR/argocd-cm.yaml" >&2
