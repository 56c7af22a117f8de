# Build stage: compile TypeScript with the full dependency set.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY cli cli
COPY common common
COPY contract contract
COPY proxy proxy
COPY controller controller
RUN npm run build && npm prune --omit=dev

# Runtime stage: production dependencies and compiled JavaScript only.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
USER node
EXPOSE 8000 8443 8100
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["proxy"]
