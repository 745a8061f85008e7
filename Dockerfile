# meshlens: the NestJS service and the generator (Go, Istio inside), in three stages.
# GO_VERSION must be the `go` line of generator/go.mod (test/unit/deploy/dockerfile.test.ts checks it).
ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS generator
WORKDIR /src/generator
COPY generator/go.mod generator/go.sum ./
RUN go mod download
COPY generator/ ./
# The service looks for the generator at generator/bin/generator (src/generator/binary.ts).
RUN go build -trimpath -ldflags='-s -w' -o /out/generator ./cmd/generator

FROM node:20-bookworm-slim AS build
WORKDIR /app
# `npm ci` runs the `prepare` script, which builds the generator with Go; the Node stage has no Go:
# naming a prebuilt binary makes that script a no-op (scripts/build-generator.mjs).
ENV MESHLENS_GENERATOR_BIN=/app/generator/bin/generator
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
COPY tsconfig.json .swcrc ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# Every interface: access control is then on by default (MESHLENS_AUTH=tokens; `meshlens token create`).
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY --from=generator /out/generator ./generator/bin/generator
USER node
EXPOSE 3000
ENTRYPOINT ["node", "bin/meshlens.js"]
CMD ["serve"]
