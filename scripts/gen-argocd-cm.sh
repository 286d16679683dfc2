#!/usr/bin/env bash
# Regenerates examples/gitops/argocd/argocd-cm.yaml, which embeds health.lua.
# tests/packaging/argocd_health.rs fails when the two differ; run this after editing health.lua.
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../examples/gitops/argocd" && pwd)"
{
  cat <<'YAML'
# Argo CD health check for CloudDbJob. Merge the `data` key below into your argocd-cm
# ConfigMap (or, with the Argo CD Helm chart, into `configs.cm`). Argo CD then reports a
# CloudDbJob as Healthy when its job completed, Degraded when it failed or stalled, and
# Progressing while it runs, so an Application syncing CloudDbJobs shows the job's outcome
# (and sync waves / hooks can wait on it).
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
  resource.customizations.health.clouddb.io_CloudDbJob: |
YAML
  sed 's/^\(.\)/    \1/' "$DIR/health.lua"
} > "$DIR/argocd-cm.yaml"
echo "wrote $DIR/argocd-cm.yaml" >&2
