# meshlens: the NestJS service, plus a Go toolchain stage for the generator (Istio inside).
FROM golang:1.24-bookworm AS generator
WORKDIR /src/generator
COPY generator/ ./
# The generator lands in its own issue; until then there may be nothing to build.
RUN if [ -f go.mod ] && ls cmd >/dev/null 2>&1; then go build -o /out/meshlens-generator ./cmd/...; else mkdir -p /out; fi

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json .swcrc ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=3000
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY --from=generator /out/ ./generator/bin/
USER node
EXPOSE 3000
ENTRYPOINT ["node", "bin/meshlens.js"]
CMD ["serve"]
