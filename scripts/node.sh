#!/usr/bin/env bash
# The project's Node: 24 LTS, whatever Node the machine has (Debian's is 20, past its end of life).
# The official Node binary is published on the npm registry as node-linux-<arch>; it is fetched
# once into the binaries cache, keyed by version, and checked against the integrity pinned here.
#   source scripts/node.sh        puts it first on PATH (test.sh, demo.sh, bench.sh, setup.sh)
#   bash scripts/node.sh CMD ...  runs CMD with it (package.json's test:* scripts)
# With it first on PATH, `npm` (#!/usr/bin/env node), npm's scripts and every child process that
# spawns process.execPath run on the same Node. Idempotent and silent when cached.
# Sourced, it leaves the caller's shell options alone (the callers set -euo pipefail themselves).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then set -euo pipefail; fi

TRUSTGATE_NODE_VERSION=24.22.3
case "$(uname -m)" in
  x86_64 | amd64) _tg_arch=x64 _tg_integrity=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA== ;;
  aarch64 | arm64) _tg_arch=arm64 _tg_integrity=sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw== ;;
  *) echo "node.sh: no Node $TRUSTGATE_NODE_VERSION package for $(uname -m)" >&2; exit 1 ;;
esac
_tg_cache="${TRUSTGATE_CACHE:-$HOME/.cache/trustgate}"
TRUSTGATE_NODE_DIR="$_tg_cache/node/v$TRUSTGATE_NODE_VERSION-linux-$_tg_arch"

if [ ! -x "$TRUSTGATE_NODE_DIR/bin/node" ]; then
  echo "node.sh: fetching Node $TRUSTGATE_NODE_VERSION (node-linux-$_tg_arch from the npm registry) into $TRUSTGATE_NODE_DIR" >&2
  mkdir -p "$_tg_cache/node"
  _tg_tmp=$(mktemp -d "$_tg_cache/node/.fetch.XXXXXX")
  # npm pack checks the registry's integrity; the pin above also holds if the registry changes.
  (cd "$_tg_tmp" && npm pack "node-linux-$_tg_arch@$TRUSTGATE_NODE_VERSION" --silent --no-audit --no-fund >/dev/null)
  _tg_tgz="$_tg_tmp/node-linux-$_tg_arch-$TRUSTGATE_NODE_VERSION.tgz"
  # coreutils only: this runs before setup.sh has installed anything.
  _tg_want=$(printf '%s' "${_tg_integrity#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
  _tg_got=$(sha512sum "$_tg_tgz" | cut -d' ' -f1)
  if [ "$_tg_got" != "$_tg_want" ]; then
    rm -rf "$_tg_tmp"
    echo "node.sh: node-linux-$_tg_arch@$TRUSTGATE_NODE_VERSION has sha512 $_tg_got, expected $_tg_want ($_tg_integrity)" >&2
    exit 1
  fi
  mkdir "$_tg_tmp/node"
  tar xzf "$_tg_tgz" -C "$_tg_tmp/node" --strip-components=1 --no-same-owner package/bin package/LICENSE package/package.json
  "$_tg_tmp/node/bin/node" --version >/dev/null # runs on this machine (glibc, arch)
  # A rename is atomic: two runs fetching at once both end with one complete directory.
  mv -T "$_tg_tmp/node" "$TRUSTGATE_NODE_DIR" 2>/dev/null || [ -x "$TRUSTGATE_NODE_DIR/bin/node" ]
  rm -rf "$_tg_tmp"
fi
unset _tg_arch _tg_integrity _tg_cache _tg_tmp _tg_tgz _tg_got _tg_want

case ":$PATH:" in
  "$TRUSTGATE_NODE_DIR/bin:"*) ;;
  *) export PATH="$TRUSTGATE_NODE_DIR/bin:$PATH" ;;
esac
export TRUSTGATE_NODE_DIR

# Executed rather than sourced: run the command given.
if [ "${BASH_SOURCE[0]}" = "$0" ] && [ $# -gt 0 ]; then exec "$@"; fi
