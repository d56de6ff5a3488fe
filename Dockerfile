# cxone-od-sync CLI image: `docker run --rm -v $PWD/cxone-od-sync.yaml:/config/cxone-od-sync.yaml \
#   -e CXONE_CLIENT_SECRET=... image sync --config /config/cxone-od-sync.yaml --json`
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY connectors connectors
COPY schemas schemas
COPY migrations migrations
COPY simulator simulator
COPY bench bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# The load streams in bounded memory; without a cap V8 lets the heap grow lazily to ~240 MB.
ENV NODE_OPTIONS=--max-old-space-size=128
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
RUN ln -s /app/dist/src/cli/main.js /usr/local/bin/cxone-od-sync && chmod +x /app/dist/src/cli/main.js
USER node
ENTRYPOINT ["cxone-od-sync"]
CMD ["--help"]
