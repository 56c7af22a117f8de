#!/usr/bin/env bash
# End to end on a real cluster: a kind cluster, the image, the Helm chart, the
# demo's test IdP and an echo upstream, then the client-credentials, bearer and
# revoked-application flows with curl. Deletes the cluster at the end
# (KEEP_CLUSTER=1 keeps it to look around).
#
# Needs a running Docker engine, kind, kubectl and helm. Not part of npm test.
# Written for the machines that have them: it has not been run where it was
# written (no Docker engine there), see docs/image.md.
set -euo pipefail
cd "$(dirname "$0")/../../.."

CLUSTER=${CLUSTER:-portcullis-e2e}
IMAGE_REPO=portcullis
IMAGE_TAG=e2e
SUPPORT_IMAGE=portcullis-e2e-support:e2e
NS=portcullis
HERE=test/e2e/kind
# Host ports kubectl port-forward listens on: the proxy's HTTP port and the test IdP.
HTTP_PORT=${HTTP_PORT:-18000}
IDP_PORT=${IDP_PORT:-18900}
APPROVED=billing-app:billing-secret
PENDING=analytics-app:analytics-secret

STEP="start"
step() {
  STEP=$1
  echo "==> $STEP"
}
FORWARD_PID=""
cleanup() {
  local rc=$?
  [ -z "$FORWARD_PID" ] || kill "$FORWARD_PID" 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then
    echo "FAIL: $HERE/run.sh failed at step: $STEP" >&2
    kubectl --context "kind-$CLUSTER" get pods -A -o wide 2>/dev/null || true
    kubectl --context "kind-$CLUSTER" logs -n "$NS" --all-containers --tail 30 -l app.kubernetes.io/instance=portcullis 2>/dev/null || true
  fi
  if [ -n "${CREATED:-}" ] && [ -z "${KEEP_CLUSTER:-}" ]; then kind delete cluster --name "$CLUSTER" || true; fi
  exit "$rc"
}

if ! docker info >/dev/null 2>&1; then
  echo "SKIP: $HERE/run.sh needs a running Docker engine for kind, and there is none here"
  exit 0
fi
for tool in kind kubectl helm curl; do
  command -v "$tool" >/dev/null || { echo "$HERE/run.sh needs $tool on PATH" >&2; exit 1; }
done
trap cleanup EXIT

step "images"
docker build -t "$IMAGE_REPO:$IMAGE_TAG" .
# The build stage keeps the development dependencies the test IdP needs (oidc-provider).
docker build --target build -t "$SUPPORT_IMAGE" .

step "kind cluster $CLUSTER"
kind create cluster --name "$CLUSTER" --wait 120s
CREATED=1
kubectl config use-context "kind-$CLUSTER" >/dev/null
kind load docker-image --name "$CLUSTER" "$IMAGE_REPO:$IMAGE_TAG" "$SUPPORT_IMAGE"

step "helm install"
helm install portcullis charts/portcullis -n "$NS" --create-namespace \
  --set "image.repository=$IMAGE_REPO,image.tag=$IMAGE_TAG,image.pullPolicy=IfNotPresent" \
  --wait --timeout 180s
deploy=$(kubectl get deploy -n "$NS" -l app.kubernetes.io/instance=portcullis -o name | head -1)
[ -n "$deploy" ] || { echo "the chart made no Deployment labelled app.kubernetes.io/instance=portcullis" >&2; exit 1; }

step "test IdP in the Portcullis pod"
# The test IdP names 127.0.0.1:8900 in its issuer: only a container of the
# proxy's own pod can be it for the proxy and, through port-forward, for curl.
kubectl create configmap e2e-support -n "$NS" --from-file="$HERE/support.mjs"
kubectl patch "$deploy" -n "$NS" --type json -p "$(
  cat <<EOF
[
  {"op": "add", "path": "/spec/template/spec/volumes/-",
   "value": {"name": "e2e-support", "configMap": {"name": "e2e-support"}}},
  {"op": "add", "path": "/spec/template/spec/containers/-",
   "value": {"name": "idp", "image": "$SUPPORT_IMAGE", "imagePullPolicy": "IfNotPresent",
             "command": ["node", "/support/support.mjs", "idp"],
             "securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "allowPrivilegeEscalation": false},
             "volumeMounts": [{"name": "e2e-support", "mountPath": "/support"}]}}
]
EOF
)"
kubectl rollout status "$deploy" -n "$NS" --timeout 180s

step "echo upstream and the payments manifests"
kubectl create namespace payments
kubectl create configmap e2e-support -n payments --from-file="$HERE/support.mjs"
kubectl apply -f "$HERE/manifests.yaml"
kubectl rollout status deploy/echo -n payments --timeout 120s

step "port-forward"
kubectl port-forward -n "$NS" "$deploy" "$HTTP_PORT:8000" "$IDP_PORT:8900" >/dev/null &
FORWARD_PID=$!
PROXY=http://127.0.0.1:$HTTP_PORT
TOKEN_URL=http://127.0.0.1:$IDP_PORT/oauth2/default/v1/token

# Polls until the request answers the status (the config reaches the proxy asynchronously).
expect_status() {
  local want=$1 seconds=$2 code=""
  shift 2
  for _ in $(seq "$((seconds * 4))"); do
    code=$(curl -s -o /tmp/portcullis-kind-body -w '%{http_code}' "$@" || true)
    if [ "$code" = "$want" ]; then
      echo "  $want: curl $*"
      return 0
    fi
    sleep 0.25
  done
  echo "expected $want, got $code from curl $*" >&2
  cat /tmp/portcullis-kind-body >&2 2>/dev/null || true
  return 1
}

step "client credentials with Basic"
expect_status 200 120 -u "$APPROVED" "$PROXY/payments/hello"
grep -q '"x-consumer-id":"billing/billing"' /tmp/portcullis-kind-body \
  || { echo "the upstream was not told the Application" >&2; cat /tmp/portcullis-kind-body >&2; exit 1; }
expect_status 401 5 "$PROXY/payments/hello"
expect_status 403 10 -u "$PENDING" "$PROXY/payments/hello"
grep -q 'You cannot consume this service' /tmp/portcullis-kind-body

step "bearer token"
token=$(curl -sf -u "$APPROVED" -d grant_type=client_credentials -d scope=api:read "$TOKEN_URL" \
  | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || { echo "the test IdP gave no access token" >&2; exit 1; }
expect_status 200 10 -H "Authorization: Bearer $token" "$PROXY/payments/hello"

step "revoked application"
kubectl patch applicationregistration billing.billing.payments -n payments --type merge -p '{"spec":{"state":"Revoked"}}'
expect_status 403 10 -u "$APPROVED" "$PROXY/payments/hello"
expect_status 403 10 -H "Authorization: Bearer $token" "$PROXY/payments/hello"

STEP="done"
echo "PASS: $HERE/run.sh"
