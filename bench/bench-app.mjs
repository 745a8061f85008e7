// A meshlens (API and worker) started in the bench's own process on a scratch database, for the
// benches that measure it from inside (bench/gc.mjs, bench/proxy-storage.mjs, bench/connectivity.mjs).
// Needs `npm run build`.
import pg from 'pg';
import { createHttpApp } from '../dist/src/app.js';
import { loadConfig } from '../dist/src/config/config.js';
import { JsonLogger } from '../dist/src/logging/json-logger.js';
import { benchPostgres } from './scratch-db.mjs';

/**
 * Runs `body({ app, base, client })` (the Nest app, its URL, a pg client of its database) on a new
 * scratch database with the environment's configuration plus `env` (with its worker unless `worker`
 * is false); then calls `beforeClose`,
 * closes the app and drops the database (kept, and its name printed, with BENCH_KEEP_DB=1).
 */
export async function withBenchApp(body, { env = {}, worker = true, beforeClose = () => {} } = {}) {
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn', ...env });
  const postgres = await benchPostgres(config);
  const { name: benchDb, url } = await postgres.create();
  const client = new pg.Client({ connectionString: url.toString() });
  let app;
  try {
    app = await createHttpApp(
      { config: { ...config, databaseUrl: url.toString() }, databaseUrl: url.toString(), worker, http: true },
      new JsonLogger('warn'),
    );
    await app.listen(0, '127.0.0.1');
    const base = await app.getUrl();
    await client.connect();
    return await body({ app, base, client });
  } finally {
    beforeClose();
    await app?.close();
    await client.end().catch(() => {});
    if (process.env.BENCH_KEEP_DB === '1') console.log(`kept database ${benchDb}`);
    else await postgres.drop(benchDb);
    await postgres.close();
  }
}
