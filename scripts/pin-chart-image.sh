#!/usr/bin/env bash
# The release step that pins trustgate's own image in the chart: writes image.digest (the
# sha256 of the image index just pushed, e.g. from `docker buildx imagetools inspect
# ghcr.io/trustgate/trustgate:<appVersion>`) into charts/trustgate/values.yaml, so the packaged
# chart runs repository:tag@digest by default. trustgate's namespace is never reviewed: nothing
# else pins what runs as the gate.
#   bash scripts/pin-chart-image.sh sha256:<64 hex> [values.yaml]
set -euo pipefail
digest="${1:-}"
values="${2:-$(dirname "$0")/../charts/trustgate/values.yaml}"
if [[ ! "$digest" =~ ^sha256:[a-f0-9]{64}$ ]]; then
  echo "pin-chart-image: expected sha256:<64 lowercase hex>, got '${digest}'" >&2
  exit 2
fi
if [[ $(grep -c '^  digest: ' "$values") != 1 ]]; then
  echo "pin-chart-image: ${values} has no single 'image.digest' line to set" >&2
  exit 2
fi
sed -i -E "s|^  digest: .*$|  digest: \"${digest}\"|" "$values"
echo "image.digest = ${digest} in ${values}"
