#!/usr/bin/env bash
# Builds the independent manifest linters the chart test runs over `helm template` output, into
# a cache keyed by version (only a fresh machine pays for the build):
#   kube-score  github.com/zegl/kube-score/cmd/kube-score $KUBE_SCORE_VERSION, from the Go
#               module proxy (`go install pkg@version`: the dependency versions its go.mod names)
#   checkov     PyPI `checkov` $CHECKOV_VERSION in a virtualenv of its own
# A lock keeps two runs from building at once. Prints `kube-score=<path>` and `checkov=<path>`.
set -euo pipefail
cd "$(dirname "$0")/.."

KUBE_SCORE_VERSION="${KUBE_SCORE_VERSION:-v1.20.0}"
CHECKOV_VERSION="${CHECKOV_VERSION:-3.3.30}"
CACHE="${TRUSTGATE_CACHE:-$HOME/.cache/trustgate}"
KUBE_SCORE="$CACHE/bin/kube-score-$KUBE_SCORE_VERSION/kube-score"
CHECKOV_VENV="$CACHE/venv/checkov-$CHECKOV_VERSION"
CHECKOV="$CHECKOV_VENV/bin/checkov"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-trimpath -buildvcs=false"

report() { echo "kube-score=$KUBE_SCORE"; echo "checkov=$CHECKOV"; }
if [ -x "$KUBE_SCORE" ] && [ -x "$CHECKOV" ]; then report; exit 0; fi

log() { echo "build-lint-tools: $*" >&2; }
mkdir -p "$CACHE/build"
exec 9>"$CACHE/build/lint-tools.lock"
flock 9 # another run may have built them while this one waited

if [ ! -x "$KUBE_SCORE" ]; then
  log "building kube-score $KUBE_SCORE_VERSION"
  tmp=$(mktemp -d "$CACHE/build/kube-score-$KUBE_SCORE_VERSION.XXXXXX")
  (cd "$tmp" && GOBIN="$tmp/bin" go install -ldflags "-s -w -buildid=" "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION")
  mkdir -p "$(dirname "$KUBE_SCORE")"
  mv "$tmp/bin/kube-score" "$KUBE_SCORE"
  rm -rf "$tmp"
fi

if [ ! -x "$CHECKOV" ]; then
  log "installing checkov $CHECKOV_VERSION into $CHECKOV_VENV"
  rm -rf "$CHECKOV_VENV"
  python3 -m venv "$CHECKOV_VENV"
  if ! "$CHECKOV_VENV/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"; then
    rm -rf "$CHECKOV_VENV"
    echo "build-lint-tools: checkov $CHECKOV_VERSION did not install" >&2
    exit 1
  fi
fi
report
