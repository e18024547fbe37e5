#!/usr/bin/env bash
# `npm run soak`: the chaos soak (docs/soak.md). SOAK_MINUTES (default 10) and SOAK_SEED (default
# 1) choose its length and schedule; `npm run soak -- --record` writes the figures to
# bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node.sh
bash scripts/setup.sh
npm run --silent build
# kube-apiserver, etcd, kube-controller-manager, kubectl and helm (built once into ~/.cache/trustgate).
bash scripts/build-control-plane.sh >/dev/null
node dist/bench/soak.js "$@"
