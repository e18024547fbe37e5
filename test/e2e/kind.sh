#!/usr/bin/env bash
# The end-to-end scenarios on kind, for machines with a Docker engine (the project's machines
# have none: there the suite runs on a real kube-apiserver instead, npm run test:e2e).
# Not run by CI. Needs: docker, kind, kubectl, helm, notary.
#   test/e2e/kind.sh            # create the cluster, run the scenarios, delete the cluster
#   KEEP=1 test/e2e/kind.sh     # leave the cluster running
set -euo pipefail
cd "$(dirname "$0")/../.."
CLUSTER=${CLUSTER:-trustgate-e2e}
IMAGE=ghcr.io/trustgate/trustgate:e2e
REG_PORT=5001

cleanup() { [ -n "${KEEP:-}" ] || { kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true; docker rm -f trustgate-registry trustgate-notary >/dev/null 2>&1 || true; }; }
trap cleanup EXIT

# A registry and a Notary server beside the cluster, on kind's network.
kind create cluster --name "$CLUSTER" --wait 120s
docker run -d --rm --name trustgate-registry --network kind -p "127.0.0.1:${REG_PORT}:5000" registry:2 >/dev/null
docker run -d --rm --name trustgate-notary --network kind -p 127.0.0.1:4443:4443 notary:server >/dev/null

docker build -t "$IMAGE" .
kind load docker-image "$IMAGE" --name "$CLUSTER"
helm upgrade --install trustgate charts/trustgate --namespace trustgate --create-namespace \
  --set image.repository="${IMAGE%:*}" --set image.tag=e2e --set image.pullPolicy=Never --wait --timeout 180s

# The scenarios of test/e2e/cluster.test.ts, by hand (see that file for what each asserts).
kubectl create namespace enforced
kubectl label namespace enforced trustgate.dev/enforce=true
if kubectl run unsigned --image=busybox:1.36 -n enforced --restart=Never 2>err.txt; then
  echo "FAIL: an image with no trust data was admitted in an opted-in namespace"; exit 1
fi
grep -q 'denied the request' err.txt && echo "ok: unsigned image denied"
kubectl run open --image=busybox:1.36 --restart=Never -n default && echo "ok: namespaces without the label are untouched"
echo "kind scenarios passed"
