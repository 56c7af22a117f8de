{{/* The chart name, or nameOverride. */}}
{{- define "portcullis.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Object name prefix: fullnameOverride, else the release name, plus the chart name unless it is in it already. */}}
{{- define "portcullis.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels that pick this release's pods; never change them (a Deployment's selector is immutable). */}}
{{- define "portcullis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portcullis.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "portcullis.labels" -}}
{{ include "portcullis.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: portcullis
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "portcullis.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "portcullis.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "portcullis.secretName" -}}
{{- default (include "portcullis.fullname" .) .Values.secret.existingSecret -}}
{{- end -}}

{{- define "portcullis.proxyServiceName" -}}
{{- printf "%s-proxy" (include "portcullis.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "portcullis.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The rules of files/rbac-rules.yaml, the one source the kube-real tests use too. */}}
{{- define "portcullis.rbacRules" -}}
{{- $rules := .Files.Get "files/rbac-rules.yaml" | fromYaml -}}
{{- if or (not $rules.cluster) (not $rules.namespace) -}}
{{- fail "files/rbac-rules.yaml must have the lists cluster and namespace" -}}
{{- end -}}
{{- toYaml $rules -}}
{{- end -}}

{{/*
Kinds the controller always reads cluster-wide, whatever watchNamespaces says:
a RoleBinding cannot grant them, so with watchNamespaces their rules from the
cluster list are bound with a ClusterRoleBinding of their own.
*/}}
{{- define "portcullis.clusterScopedResources" -}}
{{- list "ingressclasses" "kongclusterplugins" | toJson -}}
{{- end -}}

{{/* Checks across values that the schema cannot express. */}}
{{- define "portcullis.validate" -}}
{{- $v := .Values -}}
{{- if and (not $v.controller.leaderElection) (or (gt (int $v.replicaCount) 1) $v.autoscaling.enabled) -}}
{{- fail "controller.leaderElection must be true with replicaCount > 1 or autoscaling.enabled: without it every replica writes status and Events" -}}
{{- end -}}
{{- if and $v.controller.publishService $v.watchNamespaces (not (has .Release.Namespace $v.watchNamespaces)) -}}
{{- fail (printf "controller.publishService reads the proxy Service from the watched namespaces: add the release namespace %q to watchNamespaces, or set controller.publishService=false (and controller.publishAddresses)" .Release.Namespace) -}}
{{- end -}}
{{- if ge (int $v.proxy.shutdownDelay) (int $v.proxy.drainTimeout) -}}
{{- fail "proxy.shutdownDelay must be less than proxy.drainTimeout" -}}
{{- end -}}
{{- if ge (div (int $v.proxy.drainTimeout) 1000) (int $v.terminationGracePeriodSeconds) -}}
{{- fail "terminationGracePeriodSeconds must be longer than proxy.drainTimeout (milliseconds), or Kubernetes kills the proxy before it drains" -}}
{{- end -}}
{{- if and $v.autoscaling.enabled (gt (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas)) -}}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" -}}
{{- end -}}
{{- if and $v.autoscaling.enabled (not $v.autoscaling.targetCPUUtilizationPercentage) (not $v.autoscaling.targetMemoryUtilizationPercentage) -}}
{{- fail "autoscaling needs targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage" -}}
{{- end -}}
{{- if not (or $v.service.ports.http.enabled $v.service.ports.https.enabled) -}}
{{- fail "service.ports: enable http, https or both" -}}
{{- end -}}
{{- end -}}
