// The Postgres a bench runs on (DATABASE_URL's server, else the embedded one) and its scratch
// databases, so that a bench never touches data of its own server's users.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { resolveDatabase } from '../dist/src/database/resolve-database.js';

export async function benchPostgres(config) {
  const server = await resolveDatabase(config, () => {});
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  return {
    admin,
    /** A new scratch database (or an existing one, with `reuse`); its name and a URL object for it. */
    async create(name = `meshlens_bench_${randomBytes(4).toString('hex')}`, { reuse = false } = {}) {
      if (!reuse) await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(server.url);
      url.pathname = `/${name}`;
      return { name, url };
    },
    drop: (name) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    async close() {
      await admin.end();
      await server.stop?.();
    },
  };
}
