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

{{/* The name the server's gRPC certificate carries: what in-cluster clients dial (the headless Service,
else the ClusterIP Service), unless server.tls.serverName says otherwise. */}}
{{- define "plantserve.tlsServerName" -}}
{{- if .Values.server.tls.serverName }}
{{- .Values.server.tls.serverName }}
{{- else if .Values.headlessService.enabled }}
{{- printf "%s.%s.svc" (include "plantserve.headlessServiceName" .) .Release.Namespace }}
{{- else }}
{{- printf "%s.%s.svc" (include "plantserve.fullname" .) .Release.Namespace }}
{{- end }}
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

{{/* Store credentials, as env entries (secretKeyRef only; never literal values). In `file` mode the keys
are a mounted AWS shared-credentials file (storeCredentials volume) and only its path is in the env. */}}
{{- define "plantserve.storeCredentialsEnv" -}}
{{- $c := .Values.storeCredentials }}
{{- if and $c.existingSecret (eq $c.mode "file") }}
- name: AWS_SHARED_CREDENTIALS_FILE
  value: /run/plantserve/store/credentials
{{- else if $c.existingSecret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ $c.existingSecret }}
      key: {{ $c.keys.accessKeyId }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $c.existingSecret }}
      key: {{ $c.keys.secretAccessKey }}
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

{{/* The shared-credentials file of `storeCredentials.mode: file`: a volume and its mount (empty otherwise). */}}
{{- define "plantserve.storeCredentialsVolume" -}}
{{- $c := .Values.storeCredentials }}
{{- if and $c.existingSecret (eq $c.mode "file") }}
- name: store-credentials
  secret:
    secretName: {{ $c.existingSecret }}
    items:
      - key: {{ $c.keys.credentialsFile }}
        path: credentials
    # Group-readable: with fsGroup the file belongs to the pod's group, not its user.
    defaultMode: 0440
{{- end }}
{{- end }}

{{- define "plantserve.storeCredentialsMount" -}}
{{- $c := .Values.storeCredentials }}
{{- if and $c.existingSecret (eq $c.mode "file") }}
- name: store-credentials
  mountPath: /run/plantserve/store
  readOnly: true
{{- end }}
{{- end }}

{{/* A Kubernetes quantity ("10Gi", "512Mi", "2G", bytes) in whole mebibytes (integer quantities only). */}}
{{- define "plantserve.mebibytes" -}}
{{- $q := toString . }}
{{- $digits := regexFind "^[0-9]+" $q }}
{{- $n := $digits | int64 }}
{{- $unit := trimPrefix $digits $q }}
{{- $mi := dict "" (div $n 1048576) "Ki" (div $n 1024) "Mi" $n "Gi" (mul $n 1024) "Ti" (mul $n 1048576) "k" (div (mul $n 1000) 1048576) "M" (div (mul $n 1000000) 1048576) "G" (div (mul $n 1000000000) 1048576) "T" (div (mul $n 1000000000000) 1048576) }}
{{- if not (hasKey $mi $unit) }}{{ fail (printf "cannot read the quantity %q: use an integer with Ki, Mi, Gi, Ti, k, M, G or T" $q) }}{{ end }}
{{- get $mi $unit }}
{{- end }}

{{/* Ephemeral storage of the sidecar, the container that fills the pod's disk volumes: the model volume
(unless it is in memory) plus /tmp, and 512Mi more in the limit for its logs. */}}
{{- define "plantserve.sidecarEphemeralMi" -}}
{{- $models := 0 }}
{{- if ne .Values.modelVolume.medium "Memory" }}{{ $models = include "plantserve.mebibytes" .Values.modelVolume.sizeLimit | int64 }}{{ end }}
{{- add $models (include "plantserve.mebibytes" .Values.tmpVolume.sizeLimit | int64) }}
{{- end }}

{{/* The service-account token, projected into the sidecar only (the pod itself mounts none). */}}
{{- define "plantserve.kubeApiAccessVolume" -}}
- name: kube-api-access
  projected:
    defaultMode: 0444
    sources:
      - serviceAccountToken:
          path: token
          expirationSeconds: 3607
      - configMap:
          name: kube-root-ca.crt
          items:
            - key: ca.crt
              path: ca.crt
      - downwardAPI:
          items:
            - path: namespace
              fieldRef:
                fieldPath: metadata.namespace
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
{{- fail "server.tls.existingSecret is required when server.tls.enabled: a Secret with tls.crt, tls.key and ca.crt (the sidecar and `helm test` verify the server with ca.crt)" }}
{{- end }}
{{- if and (hasPrefix "gs://" .Values.sidecar.store) (not .Values.storeCredentials.existingSecret) }}
{{- fail "a gs:// store is read through GCS's S3-compatible XML API, which takes HMAC keys: set storeCredentials.existingSecret (a Secret with an HMAC access id and secret; Workload Identity gives no HMAC keys)" }}
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

{{/* NetworkPolicy egress rules every workload of the chart needs: DNS, the store, the chart's MinIO. */}}
{{- define "plantserve.egressDnsAndStore" -}}
{{- $root := . }}{{- $np := $root.Values.networkPolicy }}
{{- $storePorts := $np.storeEgress.ports }}
{{- with $root.Values.sidecar.s3EndpointUrl }}
{{- $port := regexFind "[0-9]+$" (regexFind ":[0-9]+$" (urlParse .).host) }}
{{- if $port }}{{ $storePorts = append $storePorts ($port | int) | uniq }}{{ end }}
{{- end }}
# DNS.
- to:
    {{- toYaml $np.dnsPeers | nindent 4 }}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
# The model store (networkPolicy.storeEgress; the s3EndpointUrl's port is added).
- to:
    {{- toYaml $np.storeEgress.peers | nindent 4 }}
  ports:
    {{- range $storePorts }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
{{- if $root.Values.minio.enabled }}
# The chart's MinIO.
- to:
    - podSelector:
        matchLabels:
          {{- include "plantserve.selectorLabelsFor" (list $root "minio") | nindent 10 }}
  ports:
    - port: 9000
      protocol: TCP
{{- end }}
{{- end }}
