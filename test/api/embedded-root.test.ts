// As root, in a checkout the OS user `postgres` cannot enter (a mode-700 folder), the embedded
// Postgres still starts: its binaries and data are kept where that user can reach them.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { postgresUser } from '../../src/database/reachable-postgres.js';

const asRoot = process.getuid?.() === 0 && postgresUser() !== null;
const home = mkdtempSync(path.join(os.tmpdir(), 'meshlens-home-')); // mode 700, as mkdtemp makes it
const served: string[] = [];
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  for (const dir of served) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!asRoot)('the embedded Postgres as root in a mode-700 folder', () => {
  it('starts, serves, stops, and starts again on the same data', { timeout: 120_000 }, async () => {
    const dataDir = path.join(home, 'checkout', '.meshlens', 'postgres');
    mkdirSync(dataDir, { recursive: true });
    const log: string[] = [];
    for (const round of [1, 2]) {
      const embedded = await startEmbeddedPostgres(dataDir, 'meshlens', (m) => log.push(m));
      const client = new pg.Client(embedded.url('meshlens'));
      await client.connect();
      if (round === 1) await client.query('CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
      const { rows } = await client.query<{ n: number }>('SELECT n FROM kept');
      await client.end();
      await embedded.stop();
      expect(rows).toEqual([{ n: 42 }]);
      expect(embedded.owned).toBe(true);
    }
    const relocated = log.find((m) => m.includes('the OS user postgres cannot reach'));
    expect(relocated).toBeDefined();
    served.push(/data in (\S+)$/.exec(relocated!)![1]!);
  });
});
