#!/usr/bin/env bash
# `npm run demo`: installs what it needs, builds, and runs the narrated walk-through.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent build
exec node dist/scripts/demo.js "$@"
