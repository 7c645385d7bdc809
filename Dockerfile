# syntax=docker/dockerfile:1
# Gatehouse server image: the esbuild bundle (npm run build) on Node.js, production dependencies only,
# running as the unprivileged `node` user. Not built by CI (no Docker engine there): see docs/deploy.md.
#
#   docker build -t gatehouse .
#   docker run --rm -e GATEHOUSE_SECRET=... -e GATEHOUSE_DATABASE_URL=postgres://... \
#     -e GATEHOUSE_ISSUER=https://auth.example.com -e GATEHOUSE_TRUST_PROXY=10.0.0.5 -p 8080:8080 gatehouse

ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS base
WORKDIR /app

# Build: every dependency, then the bundle (packages/server/dist/gatehouse.mjs and its static files).
FROM base AS build
COPY package.json package-lock.json ./
COPY packages/server/package.json packages/server/
COPY packages/sdk/package.json packages/sdk/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Runtime dependencies only (better-sqlite3 and pg among them), installed from the same lockfile.
FROM base AS production-dependencies
COPY package.json package-lock.json ./
COPY packages/server/package.json packages/server/
COPY packages/sdk/package.json packages/sdk/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM base AS runtime
ENV NODE_ENV=production \
    GATEHOUSE_HOST=0.0.0.0 \
    GATEHOUSE_PORT=8080
# The manifests locate the project folder (and so the default SQLite path, /app/data/gatehouse.db).
COPY --from=production-dependencies /app ./
COPY --from=build /app/packages/server/dist packages/server/dist
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
EXPOSE 8080
# Liveness only (no I/O); readiness (/readyz) is for rollouts and alerts (docs/deploy.md). Slim images have
# no curl: Node's fetch.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.GATEHOUSE_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The bundle is also the CLI: docker run --rm gatehouse migrate, ... signing-keys rotate, ... keys create.
ENTRYPOINT ["node", "packages/server/dist/gatehouse.mjs"]
CMD ["serve"]
