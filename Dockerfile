# syntax=docker/dockerfile:1
# The execsession operator. Build from the repository root:
#
#   docker build -t execsession:0.1.0 .
#
# The Deployment in config/manager expects this image; it runs as 65532:65532
# with a read-only root filesystem.

# --- build: compile src/ to dist/ with the dev dependencies (tsc) ----------
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# tsconfig.build.json compiles all of src/, unit tests included; they are not
# shipped (.dockerignore already keeps *.test.ts out; this catches the rest).
RUN npm run build && find dist -name '*.test.js' -delete

# --- runtime: production dependencies and the compiled operator only ----------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY crds ./crds
# Numeric, so that runAsNonRoot can verify it.
USER 65532:65532
ENTRYPOINT ["node", "dist/main.js"]
