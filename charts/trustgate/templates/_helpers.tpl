{{- define "trustgate.name" -}}trustgate{{- end -}}
{{- define "trustgate.fullname" -}}
{{- if contains "trustgate" .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-trustgate" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}
{{- define "trustgate.labels" -}}
app.kubernetes.io/name: trustgate
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
{{- define "trustgate.selectorLabels" -}}
app.kubernetes.io/name: trustgate
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{/* The tag says which release, the digest which bytes: trustgate's own namespace is never reviewed, so only the digest pins it. */}}
{{- define "trustgate.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}{{ with .Values.image.digest }}@{{ . }}{{ end }}
{{- end -}}
{{- define "trustgate.tlsSecret" -}}{{ .Values.tls.existingSecret | default (printf "%s-tls" (include "trustgate.fullname" .)) }}{{- end -}}
{{/* Namespaces never reviewed: trustgate's own and kube-system, so trustgate can never block its own restart. */}}
{{- define "trustgate.excludedNamespaces" -}}
{{- $list := list .Release.Namespace "kube-system" -}}
{{- range .Values.excludedNamespaces }}{{ $list = append $list . }}{{ end -}}
{{- toJson (uniq $list) -}}
{{- end -}}
