# syntax=docker/dockerfile:1
# trustgate's image: what the Helm chart runs by default (ghcr.io/trustgate/trustgate:<appVersion>).
#   docker build -t ghcr.io/trustgate/trustgate:0.1.0 .
# The release pushes it, then pins the chart to the pushed index digest (scripts/pin-chart-image.sh).
# Node 24 LTS, the line package.json's engines and the test runs use (docs/adr/0006-node-24.md).
# The base is pinned by digest. The project's machines have no Docker engine and no registry
# access, so the digest could NOT be checked here: it is the index digest of
# node:24-bookworm-slim as published in mid-2026 (Node 24.18.0), found in three unrelated public
# projects that build from it. Verify it, and refresh it to the newest 24.x, with
#   docker buildx imagetools inspect node:24-bookworm-slim
ARG NODE_IMAGE=node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.runtime.json ./
COPY cmd cmd
COPY src src
RUN npx tsc -p tsconfig.runtime.json && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# No shell needed at run time; a numeric non-root user (the chart runs as 65532 too).
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["node", "/app/dist/cmd/trustgate.js"]
CMD ["serve", "--config", "/etc/trustgate/config/config.yaml"]
