import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root: the folder holding package.json, whether running from src/ (tests) or dist/src/. */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('meshlens: cannot find the project root (package.json)');
    dir = parent;
  }
  return dir;
}

/** The generator binary: the configured one (MESHLENS_GENERATOR_BIN), else generator/bin/generator built by `npm ci`. */
export function generatorBinary(configured: string | null): string {
  if (configured) return configured;
  const built = join(projectRoot(), 'generator', 'bin', 'generator');
  if (!existsSync(built)) {
    throw new Error(`meshlens: the generator is not built (${built} is missing). Run \`npm run build:generator\` (needs Go, see generator/go.mod).`);
  }
  return built;
}
