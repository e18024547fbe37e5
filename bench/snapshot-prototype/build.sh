#!/usr/bin/env bash
# Builds the start-up snapshot prototype (entry.ts) into dist/snapshot-prototype/: the bundle
# (trustgate.cjs), a blob with the warm-up (trustgate.blob) and one without (no-warm-up.blob).
# Needs `npm run build` first and esbuild, which is not a dependency of the project:
#   npm install --no-save esbuild@0.28.2
# The blobs run only on the Node that built them (same version, arch, platform, V8 flags).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/node.sh
out=dist/snapshot-prototype
mkdir -p "$out"
# CommonJS: a snapshot's entry is one script, without import(). import.meta.url becomes the
# bundle's own URL (sigstore-lib.ts and trusted-root.ts resolve packages from it).
# serve.js stays out: the webhook's graph (express, client-node) is not what is measured.
node_modules/.bin/esbuild dist/bench/snapshot-prototype/entry.js --bundle --platform=node --format=cjs \
  --target=node24 --outfile="$out/trustgate.cjs" --log-level=error \
  --define:import.meta.url=__bundleUrl --banner:js="var __bundleUrl = require('node:url').pathToFileURL(__filename).href;" \
  --external:./serve.js
node --snapshot-blob "$out/trustgate.blob" --build-snapshot "$out/trustgate.cjs" 2>"$out/build.log"
SNAPSHOT_NO_WARM_UP=1 node --snapshot-blob "$out/no-warm-up.blob" --build-snapshot "$out/trustgate.cjs" 2>>"$out/build.log"
ls -l "$out"
