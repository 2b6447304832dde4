{{/* The labels that select a component's pods: the same as `blockwork kubernetes` writes. */}}
{{- define "blockwork.selector" -}}
app.kubernetes.io/name: "blockwork"
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
app.kubernetes.io/component: {{ .component | quote }}
{{- end -}}

{{/* An object's metadata: its name, namespace and labels. */}}
{{- define "blockwork.metadata" -}}
metadata:
  name: {{ .name | quote }}
  namespace: {{ .root.Release.Namespace | quote }}
  labels:
    {{- include "blockwork.selector" . | nindent 4 }}
    app.kubernetes.io/managed-by: {{ .root.Release.Service | quote }}
    helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | quote }}
{{- end -}}

{{/* Whether TLS files were given (all three, or none). */}}
{{- define "blockwork.tls" -}}
{{- if or .Values.tls.ca .Values.tls.cert .Values.tls.key -}}
{{- if not (and .Values.tls.ca .Values.tls.cert .Values.tls.key) -}}
{{- fail "tls: give all three of tls.ca, tls.cert and tls.key (PEM text), or none" -}}
{{- end -}}
true
{{- end -}}
{{- end -}}

{{/* The TLS flags of the scheduler and workers. */}}
{{- define "blockwork.tlsArgs" -}}
{{- if include "blockwork.tls" . }}
- "--tls-ca-file"
- "/etc/blockwork/tls/ca.pem"
- "--tls-cert"
- "/etc/blockwork/tls/cert.pem"
- "--tls-key"
- "/etc/blockwork/tls/key.pem"
{{- end }}
{{- end -}}
