#!/usr/bin/env bash
# `npm run bench`: the benchmarks of bench/, each reporting a ratio against a baseline measured
# in the same run (the machines are shared; absolute times vary). Results: bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# wrk is the load generator of bench/webhook.ts (a C client does not compete in JavaScript).
command -v wrk >/dev/null 2>&1 || { [ "$(id -u)" -eq 0 ] && s="" || s=sudo; $s apt-get install -y -qq wrk >/dev/null; }
npm run --silent build
node dist/bench/verify-cpu.js
echo
node dist/bench/verify-vs-notary.js
echo
node dist/bench/webhook.js
