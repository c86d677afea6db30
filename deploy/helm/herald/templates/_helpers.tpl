{{/*
The labels deploy/base puts on everything of one component. No helm.sh/chart or
app.kubernetes.io/managed-by labels: the default values render exactly deploy/herald.yaml
(test/helm_test.ts), and Helm tracks its objects by its own annotations.
*/}}
{{- define "herald.labels" -}}
app.kubernetes.io/name: herald
app.kubernetes.io/component: {{ . }}
{{- end }}

{{/* The image: repository@digest when a digest is set, else repository:tag (default appVersion). */}}
{{- define "herald.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}

{{/* Arguments both daemons take from the values: --log-level (info is their own default, so it is left out) and --class-only. */}}
{{- define "herald.commonArgs" -}}
{{- if ne .Values.logLevel "info" }}
- --log-level
- {{ .Values.logLevel }}
{{- end }}
{{- if .Values.classOnly }}
- --class-only
{{- end }}
{{- end }}
