#!/usr/bin/env bash
# Installs the Helm CLI that test/kube/helm.test.ts uses into
# test/kube-apiserver/bin (git-ignored), built from the Go module proxy. Does
# nothing when that version is there already; a first build takes a few
# minutes, a rebuild from Go's cache seconds.
set -euo pipefail
HELM_VERSION=v4.3.2
bin="$(cd "$(dirname "$0")/../kube-apiserver" && pwd)/bin"
# `helm version` prints only major.minor for a `go install` build; the module version is exact.
if [[ -x "$bin/helm" ]] && go version -m "$bin/helm" 2>/dev/null | grep -q "^[[:space:]]*mod[[:space:]]*helm.sh/helm/v4[[:space:]]*$HELM_VERSION[[:space:]]"; then
  exit 0
fi
mkdir -p "$bin"
GOBIN="$bin" go install "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
echo "helm $HELM_VERSION installed in $bin"
