// Once per `vitest run`: the Postgres server the API tests create their databases on.
// DATABASE_URL when set (CI, the machine's Postgres), else an embedded server of the tests' own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A URL of the server's maintenance database; test files create their own databases from it. */
    databaseServerUrl: string;
  }
}

export default async function setup(project: TestProject) {
  if (process.env.DATABASE_URL) {
    project.provide('databaseServerUrl', process.env.DATABASE_URL);
    return;
  }
  // A server of this run's own (initdb takes about a second): runs in parallel in one checkout
  // must not share one, or the first to finish stops it under the others.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshlens-test-pg-'));
  const log: string[] = [];
  const embedded = await startEmbeddedPostgres(dataDir, 'postgres', (m) => log.push(m)).catch((error: unknown) => {
    process.stderr.write(log.join('\n') + '\n');
    throw error;
  });
  project.provide('databaseServerUrl', embedded.url('postgres'));
  return async () => {
    await embedded.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
}
