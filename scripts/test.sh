#!/usr/bin/env bash
# `npm test`: everything CI checks, from a clean checkout. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node 24 first on PATH: npm, the build, jest and every `node` child process run on it.
source scripts/node.sh
bash scripts/setup.sh
echo "== typecheck"; npm run --silent typecheck
echo "== lint"; npm run --silent lint
echo "== build"; npm run --silent build
echo "== control-plane binaries (built once into ~/.cache/trustgate; several minutes on a fresh machine)"
bash scripts/build-control-plane.sh
echo "== test tools: cosign, the referrers registry, notation-tool (built once into ~/.cache/trustgate)"
bash scripts/build-test-tools.sh
echo "== manifest linters: kube-score and checkov (built once into ~/.cache/trustgate)"
bash scripts/build-lint-tools.sh
echo "== tests (unit, integration, e2e)"
node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js --ci "$@"
