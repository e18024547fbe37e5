#!/usr/bin/env bash
# Builds the real control-plane binaries the e2e tests and the demo run, from the Go module proxy,
# into a cache keyed by version (only a fresh machine pays for the build):
#   kube-apiserver, kube-controller-manager, kubectl  (k8s.io/kubernetes $KUBE_VERSION)
#   etcd                                              (go.etcd.io/etcd/server/v3 $ETCD_VERSION)
#   helm                                              (helm.sh/helm/v3 $HELM_VERSION)
# k8s.io/kubernetes cannot be required as is: its go.mod replaces every k8s.io/* staging module
# with ./staging/src/...; a wrapper module replaces each with its published v0.X.Y instead.
# Prints the bin directory on its last line.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
CACHE="${TRUSTGATE_CACHE:-$HOME/.cache/trustgate}"
BIN="$CACHE/bin/kube-$KUBE_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION"
export GOFLAGS="${GOFLAGS:-} -mod=mod" CGO_ENABLED=0 GOTOOLCHAIN=local

have() { [ -x "$BIN/$1" ]; }
if have kube-apiserver && have kube-controller-manager && have kubectl && have etcd && have helm; then
  echo "$BIN"; exit 0
fi
mkdir -p "$BIN" "$CACHE/build"
log() { echo "build-control-plane: $*" >&2; }

build_kube() {
  local dir="$CACHE/build/kube-$KUBE_VERSION" staging="v0.${KUBE_VERSION#v1.}"
  mkdir -p "$dir" && cd "$dir"
  [ -f go.mod ] || go mod init trustgate.dev/build/kube >/dev/null 2>&1
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  # Every `k8s.io/x => ./staging/src/k8s.io/x` of the release becomes `k8s.io/x => k8s.io/x v0.Y.Z`.
  local replaces
  replaces=$(grep -oE 'k8s\.io/[a-z0-9-]+ => \./staging/src/k8s\.io/[a-z0-9-]+' "$gomod" | awk '{print $1}' | sort -u)
  [ -n "$replaces" ] || { log "no staging replaces found in $gomod"; exit 1; }
  go mod edit -require="k8s.io/kubernetes@$KUBE_VERSION"
  for m in $replaces; do go mod edit -replace="$m=$m@$staging"; done
  cat > tools.go <<GO
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  go mod tidy >/dev/null 2>&1 || true
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${staging#v0.}"
  ld="$ld -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
  for cmd in kube-apiserver kube-controller-manager kubectl; do
    have "$cmd" && continue
    log "building $cmd $KUBE_VERSION (several minutes on a fresh machine)"
    go build -trimpath -ldflags "$ld" -o "$BIN/$cmd" "k8s.io/kubernetes/cmd/$cmd"
  done
}

build_simple() { # name module-path version package
  local name=$1 module=$2 version=$3 pkg=$4 dir="$CACHE/build/$1-$3"
  have "$name" && return 0
  mkdir -p "$dir" && cd "$dir"
  [ -f go.mod ] || go mod init "trustgate.dev/build/$name" >/dev/null 2>&1
  go mod edit -require="$module@$version"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" > tools.go
  go mod tidy >/dev/null 2>&1 || true
  log "building $name $version"
  go build -trimpath -ldflags "-s -w $5" -o "$BIN/$name" "$pkg"
}

build_kube
build_simple etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3 ""
build_simple helm helm.sh/helm/v3 "$HELM_VERSION" helm.sh/helm/v3/cmd/helm "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
echo "$BIN"
