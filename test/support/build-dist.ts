// Once per `vitest run`, before any test: the compiled sources. Worker threads (uploads' ingest, the
// compute job's classes) load dist/, which vitest's TypeScript transform does not reach, and some
// tests run `meshlens` itself. Both projects need it; a run of both builds once (the setups run in
// vitest's one main process, one after the other).
import { execFileSync } from 'node:child_process';

const built = Symbol.for('meshlens.test.distBuilt');

export default function buildDist(): void {
  const state = globalThis as { [built]?: boolean };
  if (state[built]) return;
  execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
  state[built] = true;
}
