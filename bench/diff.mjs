// node bench/diff.mjs (after `npm run build && npm run build:generator`): two benchmark-mesh snapshots
// (bench/generate.mjs) differing in 1 % of their resources as issue 13 changes them (issueChange, the
// change npm run bench's further snapshot makes), both computed to READY, then
// GET /api/v1/snapshots/:base/diff/:head: the first (cold) diff, then p50 over 5 runs with the server warm.
//   BENCH_DEPLOYMENTS  deployments (= proxy classes) of the mesh; default the shape's 200 (5,000 pods)
//   DATABASE_URL       a Postgres server (else the embedded one); a scratch database, dropped at the end
//   BENCH_KEEP_DB      keep the scratch database, and print its name
//   BENCH_DB           a database kept by an earlier run (same BENCH_DEPLOYMENTS): its two snapshots are
//                      diffed again, without uploading and computing them (for profiling the diff alone)
//   BENCH_DIFF_SAVE    a file to write the first diff's response to (to check a change keeps it byte for byte)
// The diff reads the proxy classes the worker stored (src/diff/stored-source.ts); the generator is
// asked only for a class the worker could not generate. To see where a diff's time goes:
//   BENCH_DB=... node --cpu-prof --cpu-prof-dir=prof bench/diff.mjs   (the server runs in this process)
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import YAML from 'yaml';
import { createHttpApp } from '../dist/src/app.js';
import { loadConfig } from '../dist/src/config/config.js';
import { benchPostgres } from './scratch-db.mjs';
import { JsonLogger } from '../dist/src/logging/json-logger.js';
import { generateSnapshot, SHAPE } from './generate.mjs';
import { issueChange } from './common.mjs';

const RUNS = 5;
/** Every query the app's pool sends while a diff runs: how many, and their summed time (they overlap). */
const sql = { queries: 0, ms: 0 };
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (...args) {
  const start = process.hrtime.bigint();
  const result = query.apply(this, args);
  if (typeof result?.then !== 'function') return result;
  sql.queries++;
  return result.finally(() => (sql.ms += ms(start)));
};
SHAPE.deployments = Number(process.env.BENCH_DEPLOYMENTS ?? SHAPE.deployments);
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const fmt = (n) => `${n.toFixed(0)} ms`;

const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn' });
const reuse = process.env.BENCH_DB;
const keep = Boolean(reuse) || process.env.BENCH_KEEP_DB === '1';
const postgres = await benchPostgres(config);
const { name: benchDb, url } = await postgres.create(reuse, { reuse: Boolean(reuse) });

let app;
try {
  const { objects, yaml } = generateSnapshot();
  const { objects: head, changed } = issueChange(objects);
  const headYaml = head.map((o) => YAML.stringify(o)).join('---\n');
  console.log(
    `mesh: ${objects.length} resources, ${SHAPE.deployments} deployments (${SHAPE.deployments * SHAPE.podsPerDeployment} pods), ${SHAPE.services} services; head differs in ${changed} resources (${((changed / objects.length) * 100).toFixed(1)} %)`,
  );

  app = await createHttpApp(
    { config: { ...config, databaseUrl: url.toString() }, databaseUrl: url.toString(), worker: true, http: true },
    new JsonLogger('warn'),
  );
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();
  const upload = async (name, body) => {
    const res = await fetch(`${base}/api/v1/snapshots?name=${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body,
    });
    const created = await res.json();
    if (res.status !== 201) throw new Error(`upload: HTTP ${res.status} ${JSON.stringify(created).slice(0, 300)}`);
    return created.id;
  };
  let ids;
  if (reuse) {
    const listed = await (await fetch(`${base}/api/v1/snapshots?limit=10`)).json();
    const named = (n) => listed.items.find((x) => x.name === n)?.id;
    ids = [named('bench-base'), named('bench-head')];
    if (!ids[0] || !ids[1]) throw new Error(`database ${benchDb} has no bench-base and bench-head snapshots`);
  } else {
    const t = process.hrtime.bigint();
    ids = [await upload('bench-base', yaml), await upload('bench-head', headYaml)];
    for (const id of ids) {
      for (;;) {
        const s = await (await fetch(`${base}/api/v1/snapshots/${id}`)).json();
        if (s.status === 'FAILED') throw new Error(`snapshot ${id} failed: ${s.error}`);
        if (s.status === 'READY') break;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    console.log(`both snapshots READY in ${fmt(ms(t))}${keep ? ` (database ${benchDb} kept: BENCH_DB=${benchDb})` : ''}`);
  }

  const diff = async () => {
    sql.queries = 0;
    sql.ms = 0;
    const start = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const res = await fetch(`${base}/api/v1/snapshots/${ids[0]}/diff/${ids[1]}?format=json`);
    const text = await res.text();
    // The server's time: until the last byte of the response, not the client parsing it.
    const took = ms(start);
    // The process's CPU (server and client share it): repeatable under load, where wall time is not.
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000;
    const body = JSON.parse(text);
    body.bytes = text.length;
    if (res.status !== 200) throw new Error(`diff: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    return { ms: took, cpuMs, body, text, sql: { ...sql } };
  };
  const cold = await diff();
  if (process.env.BENCH_DIFF_SAVE) writeFileSync(process.env.BENCH_DIFF_SAVE, cold.text);
  const s = cold.body.summary;
  console.log(
    `first diff (server just started: nothing cached): ${fmt(cold.ms)}, ${fmt(cold.cpuMs)} CPU (goal ≤ 1000 ms; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}); ${cold.sql.queries} SQL queries, ${fmt(cold.sql.ms)} in SQL (summed; they overlap)`,
  );
  console.log(
    `  ${s.resourcesChanged} resources changed, ${s.proxyClassesChanged} proxy classes / ${s.workloadsAffected} workloads changed (${cold.body.proxies.length} distinct changes), ${s.routingChanges} distinct routing changes, markdown ${cold.body.markdown.length} chars, response ${(cold.body.bytes / 1e6).toFixed(1)} MB`,
  );
  const times = [];
  const cpus = [];
  let warmSql;
  for (let i = 0; i < RUNS; i++) {
    const warm = await diff();
    times.push(warm.ms);
    cpus.push(warm.cpuMs);
    warmSql = warm.sql;
  }
  times.sort((a, b) => a - b);
  cpus.sort((a, b) => a - b);
  console.log(
    `diff warm, p50 of ${RUNS}: ${fmt(times[Math.floor(RUNS / 2)])} (min ${fmt(times[0])}, max ${fmt(times[RUNS - 1])}), ${fmt(cpus[Math.floor(RUNS / 2)])} CPU (p50); ${warmSql.queries} SQL queries, ${fmt(warmSql.ms)} in SQL`,
  );
} finally {
  await app?.close();
  if (!keep) await postgres.drop(benchDb).catch(() => {});
  await postgres.close();
}
