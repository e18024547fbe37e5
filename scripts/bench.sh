#!/usr/bin/env bash
# `npm run bench`: the benchmarks of bench/, each reporting a ratio against a baseline measured
# in the same run (the machines are shared; absolute times vary). Results: bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent build
node dist/bench/verify-cpu.js
echo
node dist/bench/verify-vs-notary.js
