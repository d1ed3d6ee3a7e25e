{{/* Pod template of a training run. Usage: include "plantserve.trainingPodTemplate" (list $ "fuel") */}}
{{- define "plantserve.trainingPodTemplate" -}}
{{- $root := index . 0 }}{{- $model := index . 1 }}
{{- $t := $root.Values.training }}
metadata:
  labels:
    {{- include "plantserve.labelsFor" (list $root "training") | nindent 4 }}
    plantserve.io/model: {{ $model }}
spec:
  restartPolicy: Never
  serviceAccountName: {{ include "plantserve.serviceAccountName" $root }}
  automountServiceAccountToken: false
  enableServiceLinks: false
  {{- with $t.runtimeClassName }}
  runtimeClassName: {{ . }}
  {{- end }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  containers:
    - name: train
      image: {{ include "plantserve.image" (list $root $t.image) }}
      imagePullPolicy: {{ $t.image.pullPolicy }}
      args:
        - train
        - {{ $model }}
        - --store={{ $root.Values.sidecar.store }}
        - --strategy={{ $t.strategy }}
        {{- if gt (int $t.epochs) 0 }}
        - --epochs={{ $t.epochs }}
        {{- end }}
        {{- if $t.dataPersistentVolumeClaim }}
        - --data-dir=/data
        {{- end }}
        {{- with (include "plantserve.signingTrainingArgs" $root | trim) }}
        # Signed at publish (OpenSSF model signing): model.sig goes up before manifest.json.
        {{- . | nindent 8 }}
        {{- end }}
      env:
        - name: HOME
          value: /tmp
        {{- include "plantserve.storeCredentialsEnv" $root | trim | nindent 8 }}
        {{- with (include "plantserve.signingTrainingEnv" $root | trim) }}
        {{- . | nindent 8 }}
        {{- end }}
      securityContext:
        {{- toYaml $root.Values.securityContext | nindent 8 }}
      resources:
        {{- $resources := deepCopy $t.resources }}
        {{- $tmpMi := include "plantserve.mebibytes" $t.tmpSizeLimit | int64 }}
        {{- $limits := merge (default (dict) $resources.limits) (dict "ephemeral-storage" (printf "%dMi" (add $tmpMi 512))) }}
        {{- if $t.gpu }}
        {{- $_ := set $limits $root.Values.gpu.resourceName 1 }}
        {{- end }}
        {{- $_ := set $resources "limits" $limits }}
        {{- $_ := set $resources "requests" (merge (default (dict) $resources.requests) (dict "ephemeral-storage" (printf "%dMi" $tmpMi))) }}
        {{- toYaml $resources | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- include "plantserve.storeCredentialsMount" $root | nindent 8 }}
        {{- with (include "plantserve.signingTrainingMount" $root | trim) }}
        {{- . | nindent 8 }}
        {{- end }}
        {{- if $t.dataPersistentVolumeClaim }}
        - name: data
          mountPath: /data
          readOnly: true
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: {{ $t.tmpSizeLimit }}
    {{- include "plantserve.storeCredentialsVolume" $root | nindent 4 }}
    {{- with (include "plantserve.signingTrainingVolume" $root | trim) }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- if $t.dataPersistentVolumeClaim }}
    - name: data
      persistentVolumeClaim:
        claimName: {{ $t.dataPersistentVolumeClaim }}
        readOnly: true
    {{- end }}
  {{- if $t.gpu }}
  {{- with $root.Values.gpu.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.gpu.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- end }}
{{- end }}
