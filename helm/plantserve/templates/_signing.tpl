{{/* Signed models (OpenSSF model signing, offline): the sidecar's trust anchors, mounted from a
ConfigMap or Secret, and the training key, mounted from a Secret. */}}

{{/* The volume source of a {configMap, secret} pair (empty when neither is set). */}}
{{- define "plantserve.signingSource" -}}
{{- if .configMap }}
configMap:
  name: {{ .configMap }}
{{- else if .secret }}
secret:
  secretName: {{ .secret }}
  # Group-readable: with fsGroup the files belong to the pod's group, not its user.
  defaultMode: 0440
{{- end }}
{{- end }}

{{- define "plantserve.signingValidate" -}}
{{- $s := .Values.signing }}
{{- range $name, $src := dict "signing.trustedKeys" $s.trustedKeys "signing.trustedCA" $s.trustedCA "signing.pointerTrustedKeys" $s.pointerTrustedKeys }}
{{- if and $src.configMap $src.secret }}
{{- fail (printf "%s: set configMap or secret, not both" $name) }}
{{- end }}
{{- end }}
{{- $verifies := or $s.trustedKeys.configMap $s.trustedKeys.secret $s.trustedCA.configMap $s.trustedCA.secret }}
{{- if and $s.trustedIdentity (not (or $s.trustedCA.configMap $s.trustedCA.secret)) }}
{{- fail "signing.trustedIdentity names the owner of a signing certificate: it needs signing.trustedCA" }}
{{- end }}
{{- if and $s.required (not $verifies) }}
{{- fail "signing.required: give the sidecar a trust anchor, signing.trustedKeys (public keys) or signing.trustedCA (the plant's CA), from a ConfigMap or Secret; the chart README's \"Signed models\" section has the openssl commands" }}
{{- end }}
{{- if and $s.required (or .Values.training.job.enabled .Values.training.cronJob.enabled) (not $s.key.existingSecret) }}
{{- fail "signing.required with training enabled: set signing.key.existingSecret (the Secret holding the private key training signs with), or every version it publishes would be refused" }}
{{- end }}
{{- if and (or $s.key.certificateKey $s.key.chainKey) (not $s.key.existingSecret) }}
{{- fail "signing.key.certificateKey and chainKey are keys of signing.key.existingSecret: set it" }}
{{- end }}
{{- end }}

{{/* The sidecar's trust flags. */}}
{{- define "plantserve.signingSidecarArgs" -}}
{{- $s := .Values.signing }}
{{- if or $s.trustedKeys.configMap $s.trustedKeys.secret }}
- --trusted-keys=/run/plantserve/signing/trusted-keys
{{- end }}
{{- if or $s.trustedCA.configMap $s.trustedCA.secret }}
- --trusted-ca=/run/plantserve/signing/trusted-ca/{{ $s.trustedCA.key }}
{{- with $s.trustedIdentity }}
- --trusted-identity={{ . }}
{{- end }}
{{- end }}
{{- if or $s.pointerTrustedKeys.configMap $s.pointerTrustedKeys.secret }}
- --pointer-trusted-keys=/run/plantserve/signing/pointer-trusted-keys
{{- end }}
{{- end }}

{{- define "plantserve.signingSidecarMounts" -}}
{{- $s := .Values.signing }}
{{- range $name, $src := dict "trusted-keys" $s.trustedKeys "trusted-ca" $s.trustedCA "pointer-trusted-keys" $s.pointerTrustedKeys }}
{{- if or $src.configMap $src.secret }}
- name: signing-{{ $name }}
  mountPath: /run/plantserve/signing/{{ $name }}
  readOnly: true
{{- end }}
{{- end }}
{{- end }}

{{- define "plantserve.signingSidecarVolumes" -}}
{{- $s := .Values.signing }}
{{- range $name, $src := dict "trusted-keys" $s.trustedKeys "trusted-ca" $s.trustedCA "pointer-trusted-keys" $s.pointerTrustedKeys }}
{{- if or $src.configMap $src.secret }}
- name: signing-{{ $name }}
  {{- include "plantserve.signingSource" $src | trim | nindent 2 }}
{{- end }}
{{- end }}
{{- end }}

{{/* Training: --signing-key and friends from the key Secret, mounted as files. */}}
{{- define "plantserve.signingTrainingArgs" -}}
{{- $k := .Values.signing.key }}
{{- if $k.existingSecret }}
- --signing-key=/run/plantserve/signing-key/{{ $k.keyKey }}
{{- with $k.certificateKey }}
- --signing-cert=/run/plantserve/signing-key/{{ . }}
{{- end }}
{{- with $k.chainKey }}
- --signing-chain=/run/plantserve/signing-key/{{ . }}
{{- end }}
{{- end }}
{{- end }}

{{/* The key's password file, by its path in the env (a path, never the password). */}}
{{- define "plantserve.signingTrainingEnv" -}}
{{- $k := .Values.signing.key }}
{{- if and $k.existingSecret $k.passwordKey }}
- name: PLANTSERVE_SIGNING_KEY_PASSWORD_FILE
  value: /run/plantserve/signing-key/{{ $k.passwordKey }}
{{- end }}
{{- end }}

{{- define "plantserve.signingTrainingMount" -}}
{{- if .Values.signing.key.existingSecret }}
- name: signing-key
  mountPath: /run/plantserve/signing-key
  readOnly: true
{{- end }}
{{- end }}

{{- define "plantserve.signingTrainingVolume" -}}
{{- if .Values.signing.key.existingSecret }}
- name: signing-key
  secret:
    secretName: {{ .Values.signing.key.existingSecret }}
    # Readable by the pod's group only (fsGroup); the private key never reaches the serving pods.
    defaultMode: 0440
{{- end }}
{{- end }}
