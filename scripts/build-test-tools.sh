#!/usr/bin/env bash
# Builds the real tools the cosign and Notation tests run, from the Go module proxy, into a cache keyed by
# version (only a fresh machine pays for the build):
#   cosign              github.com/sigstore/cosign/v3/cmd/cosign $COSIGN_VERSION (`go install
#                       pkg@version`: exactly the dependency versions cosign's go.mod names)
#   referrers-registry  test/tools/referrers-registry: go-containerregistry's pkg/registry with
#                       the referrers API made to follow the OCI distribution spec; keyed by the
#                       go-containerregistry version and a hash of its source
#   notation-tool       test/tools/notation-tool: notation-go's signing and verifier (the Notation
#                       tests' reference verdicts); keyed by the notation-go version and a hash of
#                       its source
# A lock keeps two runs (parallel jest workers, a test and the demo) from building at once.
# Prints `cosign=<path>`, `referrers-registry=<path>` and `notation-tool=<path>`, one a line.
set -euo pipefail
cd "$(dirname "$0")/.."

COSIGN_VERSION="${COSIGN_VERSION:-v3.1.3}"
CACHE="${TRUSTGATE_CACHE:-$HOME/.cache/trustgate}"
SRC=test/tools/referrers-registry
GGCR_VERSION=$(sed -n 's/^require github.com\/google\/go-containerregistry \(v[^ ]*\).*/\1/p' "$SRC/go.mod")
[ -n "$GGCR_VERSION" ] || { echo "build-test-tools: no go-containerregistry version in $SRC/go.mod" >&2; exit 1; }
SRC_HASH=$(cat "$SRC/go.mod" "$SRC/go.sum" "$SRC"/*.go | sha256sum | cut -c1-12)
NOTATION_SRC=test/tools/notation-tool
NOTATION_VERSION=$(sed -n 's/^\s*github.com\/notaryproject\/notation-go \(v[^ ]*\).*/\1/p' "$NOTATION_SRC/go.mod")
[ -n "$NOTATION_VERSION" ] || { echo "build-test-tools: no notation-go version in $NOTATION_SRC/go.mod" >&2; exit 1; }
NOTATION_HASH=$(cat "$NOTATION_SRC/go.mod" "$NOTATION_SRC/go.sum" "$NOTATION_SRC"/*.go | sha256sum | cut -c1-12)
COSIGN="$CACHE/bin/cosign-$COSIGN_VERSION/cosign"
REGISTRY="$CACHE/bin/referrers-registry-ggcr-$GGCR_VERSION-$SRC_HASH/referrers-registry"
NOTATION_TOOL="$CACHE/bin/notation-tool-$NOTATION_VERSION-$NOTATION_HASH/notation-tool"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-trimpath -buildvcs=false"

report() { echo "cosign=$COSIGN"; echo "referrers-registry=$REGISTRY"; echo "notation-tool=$NOTATION_TOOL"; }
if [ -x "$COSIGN" ] && [ -x "$REGISTRY" ] && [ -x "$NOTATION_TOOL" ]; then report; exit 0; fi

log() { echo "build-test-tools: $*" >&2; }
mkdir -p "$CACHE/build"
exec 9>"$CACHE/build/test-tools.lock"
flock 9 # another run may have built them while this one waited

if [ ! -x "$COSIGN" ]; then
  log "building cosign $COSIGN_VERSION (a few minutes on a fresh machine)"
  start=$SECONDS
  tmp=$(mktemp -d "$CACHE/build/cosign-$COSIGN_VERSION.XXXXXX")
  # Outside any module, `go install pkg@version` builds with cosign's own go.mod; the version
  # variables are the ones cosign's Makefile sets (sigs.k8s.io/release-utils/version).
  (cd "$tmp" && GOBIN="$tmp/bin" go install -ldflags "-s -w -buildid= \
    -X sigs.k8s.io/release-utils/version.gitVersion=$COSIGN_VERSION \
    -X sigs.k8s.io/release-utils/version.gitTreeState=clean" \
    "github.com/sigstore/cosign/v3/cmd/cosign@$COSIGN_VERSION")
  mkdir -p "$(dirname "$COSIGN")"
  mv "$tmp/bin/cosign" "$COSIGN"
  rm -rf "$tmp"
  log "cosign $COSIGN_VERSION built in $((SECONDS - start)) s"
fi

if [ ! -x "$REGISTRY" ]; then
  log "building referrers-registry (go-containerregistry $GGCR_VERSION)"
  start=$SECONDS
  tmp=$(mktemp -d "$CACHE/build/referrers-registry.XXXXXX")
  (cd "$SRC" && go build -mod=readonly -ldflags "-s -w -buildid=" -o "$tmp/referrers-registry" .)
  mkdir -p "$(dirname "$REGISTRY")"
  mv "$tmp/referrers-registry" "$REGISTRY"
  rm -rf "$tmp"
  log "referrers-registry built in $((SECONDS - start)) s"
fi

if [ ! -x "$NOTATION_TOOL" ]; then
  log "building notation-tool (notation-go $NOTATION_VERSION)"
  start=$SECONDS
  tmp=$(mktemp -d "$CACHE/build/notation-tool.XXXXXX")
  (cd "$NOTATION_SRC" && go build -mod=readonly -ldflags "-s -w -buildid=" -o "$tmp/notation-tool" .)
  mkdir -p "$(dirname "$NOTATION_TOOL")"
  mv "$tmp/notation-tool" "$NOTATION_TOOL"
  rm -rf "$tmp"
  log "notation-tool built in $((SECONDS - start)) s"
fi
report
