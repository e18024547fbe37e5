#!/usr/bin/env bash
# `npm run bench`: the benchmarks of bench/, each reporting a ratio against a baseline measured
# in the same run (the machines are shared; absolute times vary). Results: bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node 24 first on PATH: npm, the build, jest and every `node` child process run on it.
source scripts/node.sh
bash scripts/setup.sh
# cosign, the referrers registry and notation-tool, for the cosign and Notation benchmarks (built once into the binaries cache).
bash scripts/build-test-tools.sh
# wrk is the load generator of bench/webhook.ts (a C client does not compete in JavaScript).
command -v wrk >/dev/null 2>&1 || { [ "$(id -u)" -eq 0 ] && s="" || s=sudo; $s apt-get install -y -qq wrk >/dev/null; }
npm run --silent build
node dist/bench/verify-cpu.js
echo
node dist/bench/cosign-verify-cpu.js
echo
node dist/bench/notation-verify-cpu.js
echo
node dist/bench/cosign-cli-vs-cosign.js
echo
node dist/bench/cosign-review.js
echo
node dist/bench/notation-review.js
echo
node dist/bench/verify-vs-notary.js
echo
node dist/bench/cold-latency.js
echo
node dist/bench/first-review.js
echo
node dist/bench/rss-cached-images.js
echo
node dist/bench/cli-startup.js
echo
node dist/bench/audit-round.js
echo
node dist/bench/webhook.js
