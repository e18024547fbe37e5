#!/usr/bin/env bash
# Installs what the tests, the demo and the benchmarks need, on a fresh machine or an old one:
# npm packages from the lockfile, and Debian's notary, docker-registry, skopeo, PostgreSQL (plus
# docker-credential-pass, pass and gnupg for the credential-helper tests), and the project's Node
# (scripts/node.sh: the pinned Node 24, fetched once into ~/.cache/trustgate).
# Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node.sh

need_apt=()
for pair in notary:notary notary-server:notary docker-registry:docker-registry skopeo:skopeo openssl:openssl curl:curl \
  docker-credential-pass:golang-docker-credential-helpers pass:pass gpg:gnupg; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need_apt+=("${pair##*:}")
done
# PostgreSQL's server for the durable trust stack (notary-server and notary-signer keep their
# data there, so they can be killed and restarted: test/support/stack.ts `durable`).
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || need_apt+=(postgresql)
command -v psql >/dev/null 2>&1 || need_apt+=(postgresql-client)
if [ ${#need_apt[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${need_apt[@]}" | sort -u | tr '\n' ' ')
  echo "setup: installing Debian packages: $pkgs"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  # shellcheck disable=SC2086
  $sudo_cmd apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
fi

# npm ci when node_modules is missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
