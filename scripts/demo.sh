#!/usr/bin/env bash
# `npm run demo`: installs what it needs (npm packages, Debian packages, the control-plane
# binaries, cosign), builds, and runs the narrated walk-through on a local cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node 24 first on PATH: npm, the build, jest and every `node` child process run on it.
source scripts/node.sh
bash scripts/setup.sh
npm run --silent build
echo "demo: control-plane binaries (built once into ~/.cache/trustgate; several minutes the first time)"
bash scripts/build-control-plane.sh >/dev/null
echo "demo: cosign and the referrers registry (built once into ~/.cache/trustgate)"
bash scripts/build-test-tools.sh >/dev/null
exec node dist/scripts/demo.js "$@"
