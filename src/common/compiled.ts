import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A module a worker thread loads, as compiled JavaScript: the file itself, or, under vitest, which
 * runs the TypeScript sources, the one `npm run build` wrote to dist/ (test/support/global-setup.ts
 * builds it).
 */
export function compiledFile(url: URL): string {
  const here = fileURLToPath(url);
  if (existsSync(here)) return here;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  return path.join(root, 'dist', path.relative(root, here));
}
