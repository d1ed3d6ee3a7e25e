{{/* Chart name, truncated to 63 characters (DNS label). */}}
{{- define "plantserve.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart, or the release name when it already contains the chart name. */}}
{{- define "plantserve.fullname" -}}
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

{{/* Name of a sibling object: fullname-suffix, kept within 63 characters. */}}
{{- define "plantserve.componentName" -}}
{{- $root := index . 0 }}{{- $suffix := index . 1 }}
{{- printf "%s-%s" (include "plantserve.fullname" $root | trunc (sub 62 (len $suffix) | int)) $suffix | trimSuffix "-" }}
{{- end }}

{{- define "plantserve.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: only the two that never change, so upgrades never touch a selector. */}}
{{- define "plantserve.selectorLabels" -}}
app.kubernetes.io/name: {{ include "plantserve.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Common labels. */}}
{{- define "plantserve.labels" -}}
helm.sh/chart: {{ include "plantserve.chart" . }}
{{ include "plantserve.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: plantserve
{{- end }}

{{- define "plantserve.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "plantserve.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "plantserve.headlessServiceName" -}}
{{- include "plantserve.componentName" (list . "headless") }}
{{- end }}

{{/* TF Serving image: pinned tag, -gpu suffix when GPUs are on, or a digest. */}}
{{- define "plantserve.serverImage" -}}
{{- $img := .Values.server.image }}
{{- if $img.digest }}
{{- printf "%s@%s" $img.repository $img.digest }}
{{- else }}
{{- $tag := $img.tag | toString }}
{{- if .Values.gpu.enabled }}{{ $tag = printf "%s%s" $tag .Values.gpu.imageTagSuffix }}{{ end }}
{{- printf "%s:%s" $img.repository $tag }}
{{- end }}
{{- end }}

{{/* An image from {repository, tag, digest}, the tag defaulting to appVersion. Usage: include "plantserve.image" (list $ .Values.sidecar.image) */}}
{{- define "plantserve.image" -}}
{{- $root := index . 0 }}{{- $img := index . 1 }}
{{- if $img.digest }}
{{- printf "%s@%s" $img.repository $img.digest }}
{{- else }}
{{- printf "%s:%s" $img.repository (default $root.Chart.AppVersion ($img.tag | toString)) }}
{{- end }}
{{- end }}

{{/* In-cluster MinIO endpoint. */}}
{{- define "plantserve.minioEndpoint" -}}
{{- printf "http://%s:9000" (include "plantserve.componentName" (list . "minio")) }}
{{- end }}

{{/* S3 endpoint the sidecar and the training jobs use (empty: AWS). */}}
{{- define "plantserve.s3EndpointUrl" -}}
{{- if .Values.minio.enabled }}{{ include "plantserve.minioEndpoint" . }}{{ else }}{{ .Values.sidecar.s3EndpointUrl }}{{ end }}
{{- end }}

{{/* Store credentials as env entries (secretKeyRef only; never literal values). */}}
{{- define "plantserve.storeCredentialsEnv" -}}
{{- if .Values.storeCredentials.existingSecret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ .Values.storeCredentials.existingSecret }}
      key: {{ .Values.storeCredentials.keys.accessKeyId }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.storeCredentials.existingSecret }}
      key: {{ .Values.storeCredentials.keys.secretAccessKey }}
{{- else if .Values.minio.enabled }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ .Values.minio.existingSecret }}
      key: MINIO_ROOT_USER
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.minio.existingSecret }}
      key: MINIO_ROOT_PASSWORD
{{- end }}
{{- with (include "plantserve.s3EndpointUrl" .) }}
- name: AWS_ENDPOINT_URL
  value: {{ . | quote }}
{{- end }}
{{- end }}

{{/* Content of the TF Serving monitoring config. */}}
{{- define "plantserve.monitoringConfig" -}}
prometheus_config {
  enable: true
  path: {{ .Values.server.monitoring.path | quote }}
}
{{- end }}

{{/* Content of the TF Serving batching parameters (text BatchingParameters). */}}
{{- define "plantserve.batchingConfig" -}}
{{- $b := .Values.server.batching }}
max_batch_size { value: {{ $b.maxBatchSize | int }} }
batch_timeout_micros { value: {{ $b.batchTimeoutMicros | int }} }
max_enqueued_batches { value: {{ $b.maxEnqueuedBatches | int }} }
num_batch_threads { value: {{ $b.numBatchThreads | int }} }
{{- range $b.allowedBatchSizes }}
allowed_batch_sizes: {{ . | int }}
{{- end }}
pad_variable_length_inputs: {{ $b.padVariableLengthInputs }}
{{- end }}

{{/* Checks that fail the render with a message that says what to set. */}}
{{- define "plantserve.validate" -}}
{{- if not .Values.sidecar.store }}
{{- fail "sidecar.store is required: the model store URI, for example --set sidecar.store=s3://plant-models/prod" }}
{{- end }}
{{- if and .Values.server.tls.enabled (not .Values.server.tls.existingSecret) }}
{{- fail "server.tls.existingSecret is required when server.tls.enabled: a Secret with tls.crt, tls.key (and ca.crt for clientAuth)" }}
{{- end }}
{{- if and .Values.minio.enabled (not .Values.minio.existingSecret) }}
{{- fail "minio.existingSecret is required when minio.enabled: a Secret with MINIO_ROOT_USER and MINIO_ROOT_PASSWORD" }}
{{- end }}
{{- if and .Values.server.batching.enabled .Values.server.batching.allowedBatchSizes }}
{{- if ne (last .Values.server.batching.allowedBatchSizes | int) (.Values.server.batching.maxBatchSize | int) }}
{{- fail "server.batching.allowedBatchSizes: the last entry must equal server.batching.maxBatchSize" }}
{{- end }}
{{- end }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int .Values.server.preStopSleepSeconds) }}
{{- fail "terminationGracePeriodSeconds must be larger than server.preStopSleepSeconds" }}
{{- end }}
{{- end }}

{{/* Selector labels of a separate workload (minio, training, test): a name of its own, so the
serving selector never matches its pods. Usage: include "plantserve.selectorLabelsFor" (list $ "minio") */}}
{{- define "plantserve.selectorLabelsFor" -}}
{{- $root := index . 0 }}{{- $component := index . 1 -}}
app.kubernetes.io/name: {{ printf "%s-%s" (include "plantserve.name" $root) $component | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
{{- end }}

{{- define "plantserve.labelsFor" -}}
{{- $root := index . 0 }}{{- $component := index . 1 -}}
helm.sh/chart: {{ include "plantserve.chart" $root }}
{{ include "plantserve.selectorLabelsFor" . }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: plantserve
app.kubernetes.io/component: {{ $component }}
{{- end }}
