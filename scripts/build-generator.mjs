#!/usr/bin/env node
// Builds generator/bin/generator (Go, Istio inside) when it is missing or older than its sources.
// Run by `npm ci` (prepare), `npm start` and `npm test`; a no-op when the binary is fresh.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'generator');
const binary = join(dir, 'bin', 'generator');

function newestSource(folder) {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'bin') newest = Math.max(newest, newestSource(path));
    } else if (/\.go$|^go\.(mod|sum)$/.test(entry.name) && !entry.name.endsWith('_test.go')) {
      // Test files are no part of the binary: a new benchmark does not relink Istio.
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

if (process.env.MESHLENS_GENERATOR_BIN) process.exit(0);
if (existsSync(binary) && statSync(binary).mtimeMs >= newestSource(dir)) process.exit(0);

const wanted = /^go (\S+)/m.exec(readFileSync(join(dir, 'go.mod'), 'utf8'))?.[1] ?? '1.26';
const probe = spawnSync('go', ['version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  console.error(
    `meshlens: building the generator needs Go ${wanted} or newer on PATH (it embeds Istio's Go packages); "go version" failed: ${probe.error?.message ?? probe.stderr}`,
  );
  process.exit(1);
}
console.error(
  `meshlens: building the generator with ${probe.stdout.trim()} (the first build compiles Istio: several minutes on 2 cores)...`,
);
const started = Date.now();
try {
  execFileSync('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', binary, './cmd/generator'], { cwd: dir, stdio: 'inherit' });
} catch {
  console.error('meshlens: the generator build failed (see above).');
  process.exit(1);
}
console.error(`meshlens: generator built in ${Math.round((Date.now() - started) / 1000)} s: ${binary}`);
