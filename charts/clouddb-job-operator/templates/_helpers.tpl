{{/*
Chart name, truncated to 63 characters (the DNS label limit).
*/}}
{{- define "clouddb-job-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name, prefixed to the chart name unless it already
contains it. Truncated to 63 characters.
*/}}
{{- define "clouddb-job-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "clouddb-job-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every resource.
*/}}
{{- define "clouddb-job-operator.labels" -}}
helm.sh/chart: {{ include "clouddb-job-operator.chart" . }}
{{ include "clouddb-job-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: clouddb-job-operator
{{- end }}

{{/*
Labels that select the controller pods (immutable once deployed).
*/}}
{{- define "clouddb-job-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "clouddb-job-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end }}

{{/*
Name of the ServiceAccount to use.
*/}}
{{- define "clouddb-job-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "clouddb-job-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Container image reference: repository@digest when a digest is set, else repository:tag with
the tag defaulting to the chart's appVersion.
*/}}
{{- define "clouddb-job-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Where the extra CA bundle is mounted, and the file passed to --extra-ca-file.
*/}}
{{- define "clouddb-job-operator.extraCADir" -}}
/etc/clouddb-job-operator/extra-ca
{{- end }}

{{- define "clouddb-job-operator.extraCAEnabled" -}}
{{- if or .Values.extraCA.configMapName .Values.extraCA.secretName }}true{{ end }}
{{- end }}

{{/*
Rules the controller needs on CloudDbJobs, Secrets and Events. Bound cluster-wide with a
ClusterRole, or in watchNamespace only with a Role. Leases are granted separately, and only
in the release namespace.
*/}}
{{- define "clouddb-job-operator.controllerRules" -}}
{{- /* Exactly the requests the operator makes (tests/e2e/control_plane.rs compares them
with the real apiserver's audit log): the controller lists and watches jobs, deletes
finished ones whose spec.ttlSecondsAfterFinished elapsed, applies their status, reads the
Secrets they name and creates events.k8s.io Events. It creates CloudDbJobs only for the
jobs a CloudDbInstance discovers, and lists and watches instances and applies their
status. */ -}}
- apiGroups: ["clouddb.io"]
  resources: ["clouddbjobs"]
  verbs: ["list", "watch", "create", "delete"]
- apiGroups: ["clouddb.io"]
  resources: ["clouddbjobs/status"]
  verbs: ["patch"]
- apiGroups: ["clouddb.io"]
  resources: ["clouddbinstances"]
  verbs: ["list", "watch"]
- apiGroups: ["clouddb.io"]
  resources: ["clouddbinstances/status"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create"]
{{- with .Values.workloadIdentity.serviceAccountNames }}
{{- /* Workload identity: tokens of the listed ServiceAccounts only. */}}
- apiGroups: [""]
  resources: ["serviceaccounts/token"]
  verbs: ["create"]
  resourceNames: {{ toJson . }}
{{- end }}
{{- end }}

{{/*
Fails rendering on value combinations the schema cannot express.
*/}}
{{- define "clouddb-job-operator.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicaCount > 1 requires leaderElection.enabled=true: replicas would poll providers and write status concurrently" }}
{{- end }}
{{- if and .Values.extraCA.configMapName .Values.extraCA.secretName }}
{{- fail "set at most one of extraCA.configMapName and extraCA.secretName" }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.service.enabled) }}
{{- fail "metrics.serviceMonitor.enabled requires metrics.service.enabled" }}
{{- end }}
{{- end }}
