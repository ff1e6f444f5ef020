# syntax=docker/dockerfile:1
# The execsession operator, for people with a Docker engine. `npm run images`
# builds the same image without one (scripts/images.ts; a test checks that both
# ship the same files). Build from the repository root:
#
#   docker build -t execsession:0.1.0 .
#
# The Deployment in config/manager expects this image; it runs as 65532:65532
# with a read-only root filesystem. Node 26, the active LTS line (ADR 17).

# --- build: bundle src/ into one ES module (esbuild; scripts/bundle.ts) ----------
FROM node:26.12.1-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts/bundle.ts ./scripts/bundle.ts
RUN npx tsx scripts/bundle.ts /app/main.mjs /app/kubectl-execsession.mjs

# --- runtime: node, the bundle and the CRDs; no node_modules, no TypeScript ----------
FROM node:26.12.1-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/main.mjs /app/kubectl-execsession.mjs /app/
COPY crds /app/crds
# Numeric, so that runAsNonRoot can verify it.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/node", "/app/main.mjs"]
