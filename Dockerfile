# cxone-od-sync CLI image.
#
#   docker build -t cxone-od-sync .
#   docker run --rm -v "$PWD/cxone-od-sync.yaml:/config/cxone-od-sync.yaml:ro" \
#     -v cxone-od-sync-archive:/var/lib/cxone-od-sync \
#     -e CXONE_CLIENT_SECRET_FILE=/run/secrets/cxone_client_secret ... \
#     cxone-od-sync sync --config /config/cxone-od-sync.yaml --json
#
# Every ${VAR} in the config also reads the file named by VAR_FILE (Docker and Kubernetes
# secrets); the archive defaults to the volume /var/lib/cxone-od-sync/archive
# (CXONE_OD_SYNC_ARCHIVE_DIR), owned by the `node` user the process runs as.

# Node 24 (the active LTS) on Debian bookworm, slim, pinned by digest: the digest is what is
# pulled, the tag only says what it is. This one is node:24-bookworm-slim as it was at Node
# 24.18.0. No registry was reachable where this line was written, so it was taken from public
# projects that pin the same digest (github.com/cyanxxy/open-ocr-cli-mcp, Dockerfile, commit
# 9b9df545, and others, one of whose notes names it as 24.18.0). To move to the current image,
# print the tag's digest and put it here:
#   docker buildx imagetools inspect node:24-bookworm-slim   (the "Digest:" line)
ARG NODE_IMAGE=node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d

# Compiles the CLI, the connectors and the simulator (for `simulate` and `demo`); not bench/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.image.json ./
COPY src src
COPY connectors connectors
COPY schemas schemas
COPY migrations migrations
COPY simulator simulator
RUN npx tsc -p tsconfig.image.json

# Production dependencies only, installed apart from the build's dev dependencies.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
# tini as PID 1: forwards SIGTERM/SIGINT to the CLI (which finishes the request in flight and
# exits 75) and reaps zombies.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
# V8's heap, sized from `npm run bench` on Node 24 (README, Docker: memory): a young
# generation of 2 x 8 MiB (V8 picks 2 x 32 MiB on a large host, and a cgroup-derived size in a
# container) and the old generation capped at 128 MiB, inside the 256 MiB container limit the
# README gives, so that a leak fails as a V8 heap error rather than an OOM kill. Peak RSS of a
# 1M and a 5M-row sync into PostgreSQL: 126 and 131 MiB.
ENV NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=8"
# archive.dir when the config does not set it: the volume below, writable by `node`.
ENV CXONE_OD_SYNC_ARCHIVE_DIR=/var/lib/cxone-od-sync/archive
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
RUN ln -s /app/dist/src/cli/main.js /usr/local/bin/cxone-od-sync \
  && chmod +x /app/dist/src/cli/main.js \
  && mkdir -p /var/lib/cxone-od-sync/archive \
  && chown -R node:node /var/lib/cxone-od-sync
# The archive (raw exports for replay) and the local journal of accepted exports
# (<archive>/.journal) must outlive the container: mount a volume here.
VOLUME ["/var/lib/cxone-od-sync"]
USER node
ENTRYPOINT ["tini", "--", "cxone-od-sync"]
CMD ["--help"]
