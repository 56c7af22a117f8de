#!/usr/bin/env bash
# Builds the real-server test harness and a kubectl of the same release into
# test/kube-apiserver/bin (git-ignored). Go's build cache makes a rebuild a
# matter of seconds; the first build downloads the modules and compiles
# Kubernetes (minutes).
set -euo pipefail
cd "$(dirname "$0")"
version=$(awk '$1 == "k8s.io/kubernetes" { print $2; exit }' go.mod)
minor=$(echo "$version" | cut -d. -f2)
ldflags="-X k8s.io/component-base/version.gitVersion=${version} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor}"
mkdir -p bin
go build -ldflags "$ldflags" -o bin/kube-apiserver .
go build -ldflags "$ldflags" -o bin/kubectl k8s.io/kubernetes/cmd/kubectl
