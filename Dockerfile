# syntax=docker/dockerfile:1
# trustgate's image: what the Helm chart runs by default (ghcr.io/trustgate/trustgate:<appVersion>).
#   docker build -t ghcr.io/trustgate/trustgate:0.1.0 .
# The base is pinned by digest. It was taken from public Dockerfiles and could NOT be checked on
# the project's machines (no Docker engine there): verify and refresh it with
#   docker buildx imagetools inspect node:22-bookworm-slim
# Node 22 (LTS): package.json's engines floor is Node 20, which is past its end of life.
ARG NODE_IMAGE=node:22-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c

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
