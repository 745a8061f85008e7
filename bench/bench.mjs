// npm run bench: a 10,000-resource snapshot, uploaded to 201 (decode, validate, store, enqueue),
// against the floor of a plain COPY of the same JSON bodies into a scratch table.
// Uses DATABASE_URL's server when set, else the embedded one; a scratch database either way.
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { createHttpApp } from '../dist/src/app.js';
import { loadConfig } from '../dist/src/config/config.js';
import { resolveDatabase } from '../dist/src/database/resolve-database.js';
import { JsonLogger } from '../dist/src/logging/json-logger.js';
import { ingest } from '../dist/src/snapshots/ingest/ingest.js';
import { canonicalJson } from '../dist/src/snapshots/ingest/canonical.js';
import { generateSnapshot, SHAPE } from './generate.mjs';

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const fmt = (n) => `${n.toFixed(0)} ms`;

const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn' });
const server = await resolveDatabase(config, () => {});
const benchDb = `meshlens_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: server.url });
await admin.connect();
await admin.query(`CREATE DATABASE ${benchDb}`);
const url = new URL(server.url);
url.pathname = `/${benchDb}`;

let app;
try {
  let t = process.hrtime.bigint();
  const { objects, yaml } = generateSnapshot();
  const byKind = new Map();
  for (const o of objects) byKind.set(o.kind, (byKind.get(o.kind) ?? 0) + 1);
  const counts = [...byKind].map(([kind, n]) => `${n} ${kind}`);
  console.log(`generated ${objects.length} resources (${(yaml.length / 1024 / 1024).toFixed(1)} MiB of YAML) in ${fmt(ms(t))}`);
  if (counts.length) console.log(`  ${counts.join(', ')}`);

  t = process.hrtime.bigint();
  const parsed = ingest(yaml, 'application/yaml');
  const ingestMs = ms(t);
  if (!parsed.ok) throw new Error(`bench snapshot invalid: ${JSON.stringify(parsed.problems.slice(0, 3))}`);

  app = await createHttpApp({ config: { ...config, databaseUrl: url.toString() }, databaseUrl: url.toString(), worker: true, http: true }, new JsonLogger('warn'));
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();

  t = process.hrtime.bigint();
  const res = await fetch(`${base}/api/v1/snapshots?name=bench`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: yaml });
  const uploadMs = ms(t);
  const created = await res.json();
  if (res.status !== 201) throw new Error(`upload: HTTP ${res.status} ${JSON.stringify(created).slice(0, 300)}`);

  let status;
  do {
    status = await (await fetch(`${base}/api/v1/snapshots/${created.id}`)).json();
    if (status.status !== 'READY' && status.status !== 'FAILED') await new Promise((r) => setTimeout(r, 20));
  } while (status.status !== 'READY' && status.status !== 'FAILED');
  const readyMs = ms(t);

  // The floor: the same bodies, as canonical JSON, COPYed into a bare jsonb table.
  const bodies = parsed.resources.map((r) => canonicalJson(r.body));
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query('CREATE TABLE bench_copy_floor (body jsonb NOT NULL)');
  t = process.hrtime.bigint();
  const escape = (s) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  await pipeline(Readable.from(bodies.map((b) => escape(b) + '\n')), client.query(copyStreams.from('COPY bench_copy_floor (body) FROM STDIN')));
  const copyMs = ms(t);
  const [{ n }] = (await client.query('SELECT count(*)::int AS n FROM bench_copy_floor')).rows;
  await client.end();

  console.log(`ingest alone (decode + validate, in process):   ${fmt(ingestMs)}`);
  console.log(`upload to 201 (HTTP + ingest + store + enqueue): ${fmt(uploadMs)}  (${created.resourceCount} resources)`);
  console.log(`upload to READY (+ compute job: ${status.status}):         ${fmt(readyMs)}`);
  console.log(`floor: COPY of the same ${n} JSON bodies:        ${fmt(copyMs)}`);
  console.log(`ratio upload-to-201 / COPY floor:                ${(uploadMs / copyMs).toFixed(1)}x`);
  console.log(`ratio upload-to-201 minus ingest / COPY floor:   ${((uploadMs - ingestMs) / copyMs).toFixed(1)}x  (the storage path alone)`);
  if (SHAPE.total !== created.resourceCount) throw new Error('resource count mismatch');
} finally {
  await app?.close();
  await admin.query(`DROP DATABASE IF EXISTS ${benchDb} WITH (FORCE)`);
  await admin.end();
  await server.stop();
}
