# syntax=docker/dockerfile:1
# Portcullis: one image for every entrypoint (run, controller, proxy, translate, apps).
# Build: docker build -t portcullis . (or test/image/build.sh, with buildah and no Docker engine).
ARG NODE_IMAGE=node:24-bookworm-slim

# Build stage: the full dependency set, to compile the TypeScript.
FROM ${NODE_IMAGE} AS build
# A CA bundle for npm behind a TLS-inspecting proxy; pass the file in with a build mount.
ARG NODE_EXTRA_CA_CERTS
WORKDIR /app
# The lockfile alone first, so a source change does not re-run npm ci.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# Everything the .dockerignore allowlist lets in (so demo/ and examples/ come along when present).
COPY . .
RUN npm run build

# Production dependencies only.
FROM build AS prod-deps
RUN npm prune --omit=dev --no-audit --no-fund

# Runtime stage: compiled JavaScript, production dependencies, the examples.
FROM ${NODE_IMAGE}
# tini as PID 1 forwards SIGTERM to node and reaps zombies; node as PID 1 would ignore
# signals it has no handler for.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && apt-get clean \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/package.json ./
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=build /app/dist dist
# The manifests `portcullis run` and `portcullis demo` serve without a cluster.
COPY --from=build /app/examples examples
USER node
# 8000 HTTP and 8443 HTTPS traffic; 8001 the proxy's admin API (loopback unless
# --admin-address says otherwise: the controller beside it in the pod pushes there);
# 8100 the proxy's status (/healthz, /readyz, /metrics); 8101 the controller's
# status and portal view.
EXPOSE 8000 8443 8001 8100 8101
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli/main.js"]
# Without arguments: controller and proxy on the example manifests, no cluster needed
# (curl localhost:8000/healthz). The chart runs `controller` and `proxy` instead.
CMD ["run", "--manifests", "/app/examples/manifests"]
# Last, so a new revision does not invalidate the cached layers above.
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="Portcullis" \
  org.opencontainers.image.description="Kubernetes ingress controller with OpenID Connect authentication and per-application access control" \
  org.opencontainers.image.licenses="Apache-2.0" \
  org.opencontainers.image.version="${VERSION}" \
  org.opencontainers.image.revision="${REVISION}"
