#!/usr/bin/env bash
# The Dockerfile's build commands, outside a container (this machine and CI have no Docker
# engine): the generator stage's `go build`, then the Node stage's `npm ci` (with the prebuilt
# generator named, so the `prepare` script needs no Go), `npm run build`, `npm prune --omit=dev`,
# in a scratch folder holding exactly what the Dockerfile copies; then the image's entrypoint
# runs (`node bin/meshlens.js --help`) from what the final stage copies.
# Keep in step with the Dockerfile (test/unit/deploy/dockerfile.test.ts checks its facts).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== generator stage: go build"
(cd generator && go build -trimpath -ldflags='-s -w' -o "$WORK/out/generator" ./cmd/generator)

echo "== node stage: npm ci without Go, build, prune"
mkdir -p "$WORK/build/generator/bin"
cp "$WORK/out/generator" "$WORK/build/generator/bin/generator"
cp package.json package-lock.json tsconfig.json .swcrc "$WORK/build/"
cp -r scripts src migrations "$WORK/build/"
(
  cd "$WORK/build"
  export MESHLENS_GENERATOR_BIN=$WORK/build/generator/bin/generator
  # No Go on the PATH, as in the node image: `prepare` must not need it.
  PATH=$(dirname "$(command -v node)"):/usr/bin:/bin npm ci --no-audit --no-fund --prefer-offline
  npm run build
  npm prune --omit=dev --no-audit --no-fund
)

echo "== final stage: the files it copies, and the entrypoint"
mkdir -p "$WORK/app/generator/bin"
cp -r "$WORK/build/node_modules" "$WORK/build/dist" "$WORK/app/"
cp package.json "$WORK/app/"
cp -r bin "$WORK/app/"
cp "$WORK/out/generator" "$WORK/app/generator/bin/generator"
(cd "$WORK/app" && NODE_ENV=production node bin/meshlens.js --help >/dev/null)
(cd "$WORK/app" && test -x generator/bin/generator && test -f node_modules/typeorm/cli.js && test -f dist/src/database/cli-data-source.js)
echo "== image build steps: ok"
