// Retention and garbage collection on a store of many snapshots of the bench mesh (issue 16).
// Run alone (`node bench/gc.mjs` after `npm run build`) or from `npm run bench` with
// MESHLENS_BENCH_GC=1. On bench/generate.mjs's mesh (BENCH_SCALE < 1 keeps that fraction of it, as
// bench/proxy-storage.mjs does):
//   - BENCH_GC_SNAPSHOTS (default 50) snapshots of one mesh, each changing 1 % of the resources of
//     the one before, uploaded and computed to READY one after the other;
//   - a collection with nothing to free (the cost of marking a store that size);
//   - retention keeping the newest BENCH_GC_KEEP (default 10): how long the DELETE took, then the
//     collection that frees what the removed snapshots alone reached: its duration and rows freed,
//     and the stored bytes before and after;
//   - an upload made while a collection runs: its time to 201 (it waits for the collector's lock).
import pg from 'pg';
import YAML from 'yaml';
import { createHttpApp } from '../dist/src/app.js';
import { loadConfig } from '../dist/src/config/config.js';
import { GarbageCollector } from '../dist/src/database/garbage-collector.js';
import { MeshStore } from '../dist/src/database/mesh.store.js';
import { JsonLogger } from '../dist/src/logging/json-logger.js';
import { generateSnapshot, SHAPE } from './generate.mjs';
import { benchPostgres } from './scratch-db.mjs';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const SNAPSHOTS = Number(process.env.BENCH_GC_SNAPSHOTS ?? 50);
const KEEP = Number(process.env.BENCH_GC_KEEP ?? 10);
const mib = (b) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;

function mesh() {
  const { objects } = generateSnapshot();
  if (SCALE >= 1) return objects;
  const index = (name) => Number(/-(\d+)(?:-\d+)?$/.exec(name)?.[1] ?? 0);
  return objects.filter((o) => {
    const n = o.metadata.name;
    switch (o.kind) {
      case 'Deployment':
        return index(n) < SHAPE.deployments * SCALE;
      case 'Pod':
        return Number(/^app-(\d+)-/.exec(n)[1]) < SHAPE.deployments * SCALE;
      case 'Service':
        return index(n) < SHAPE.services * SCALE;
      case 'VirtualService':
      case 'DestinationRule':
        return index(n) < SHAPE.virtualServices * SCALE;
      case 'ConfigMap':
        return index(n) < 3175 * SCALE;
      default:
        return true;
    }
  });
}

/** 1 % of the resources changed (seeded), as bench/proxy-storage.mjs changes them. */
function changeOnePercent(objects, round) {
  let seed = round * 7919 + 17;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const out = objects.slice();
  const picks = new Set();
  const count = Math.max(1, Math.round(objects.length / 100));
  while (picks.size < count) picks.add(Math.floor(rand() * objects.length));
  for (const i of picks) {
    const o = structuredClone(objects[i]);
    if (o.kind === 'Pod' || o.kind === 'Deployment') {
      const spec = o.kind === 'Pod' ? o.spec : o.spec.template.spec;
      spec.containers[0].image = `${spec.containers[0].image.split(':')[0]}:1.${round}`;
    } else if (o.kind === 'Service') o.spec.ports[1].targetPort = 9090 + round;
    else if (o.kind === 'VirtualService') o.spec.http[1].retries.attempts = 3 + round;
    else if (o.kind === 'DestinationRule') o.spec.trafficPolicy.connectionPool.tcp.maxConnections = 100 + round;
    else o.metadata.labels = { ...(o.metadata.labels ?? {}), round: String(round) };
    out[i] = o;
  }
  return out;
}

/** fetch, once more when undici reused a keep-alive socket the server had just closed. */
const fetchAgain = (url, init) =>
  fetch(url, init).catch((error) => (error?.cause?.code === 'ECONNRESET' ? fetch(url, init) : Promise.reject(error)));

const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn', MESHLENS_AUTH: 'off' });
const postgres = await benchPostgres(config);
const { name: benchDb, url } = await postgres.create();
const client = new pg.Client({ connectionString: url.toString() });
let app;
try {
  app = await createHttpApp(
    { config: { ...config, databaseUrl: url.toString() }, databaseUrl: url.toString(), worker: true, http: true },
    new JsonLogger('warn'),
  );
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();
  await client.connect();
  const upload = async (objects, name) => {
    const body = objects.map((o) => YAML.stringify(o)).join('---\n');
    const t = Date.now();
    const res = await fetchAgain(`${base}/api/v1/snapshots?mesh=bench&name=${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body,
    });
    const created = await res.json();
    if (res.status !== 201) throw new Error(`upload: HTTP ${res.status} ${JSON.stringify(created).slice(0, 300)}`);
    return { id: created.id, ms: Date.now() - t };
  };
  const ready = async (id) => {
    for (;;) {
      const s = await (await fetchAgain(`${base}/api/v1/snapshots/${id}`)).json();
      if (s.status === 'READY') return;
      if (s.status === 'FAILED') throw new Error(`snapshot ${id} failed: ${s.error}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const stored = async () => {
    const { rows } = await client.query(
      `SELECT (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relkind = 'r')::bigint AS bytes,
              (SELECT count(*) FROM resource_bodies)::int AS bodies, (SELECT count(*) FROM list_nodes)::int AS chunks,
              (SELECT count(*) FROM envoy_config_nodes)::int AS nodes, (SELECT count(*) FROM envoy_objects)::int AS objects`,
    );
    return { ...rows[0], bytes: Number(rows[0].bytes) };
  };
  const describe = (s) => `${mib(s.bytes)}: ${s.bodies} bodies, ${s.chunks} list chunks, ${s.nodes} tree nodes, ${s.objects} Envoy objects`;

  let objects = mesh();
  console.log(
    `gc bench: ${SNAPSHOTS} snapshots of ${objects.length} resources (scale ${SCALE}), each changing 1 %; retention keeps ${KEEP}`,
  );
  const started = Date.now();
  for (let round = 0; round < SNAPSHOTS; round++) {
    if (round > 0) objects = changeOnePercent(objects, round);
    const { id } = await upload(objects, `bench-${round}`);
    await ready(id);
    if (round === 0 || (round + 1) % 10 === 0) console.log(`  ${round + 1} READY after ${secs(Date.now() - started)}`);
  }
  await client.query('VACUUM ANALYZE');
  const full = await stored();
  console.log(`store of ${SNAPSHOTS} snapshots: ${describe(full)}`);

  const gc = app.get(GarbageCollector);
  const idle = await gc.collect();
  console.log(`collection with nothing to free: ${secs(idle.durationMs)} (freed ${JSON.stringify(idle.freed)})`);

  let t = Date.now();
  const removed = await app.get(MeshStore).applyRetention('bench', { keepLast: KEEP, keepSeconds: null });
  console.log(`retention (keep the newest ${KEEP}): removed ${removed.length} snapshots in ${secs(Date.now() - t)} (rows only)`);

  // A collection, and an upload of a further snapshot while it runs (it waits for the collector's lock).
  const next = changeOnePercent(objects, SNAPSHOTS);
  t = Date.now();
  const collecting = gc.collect();
  await new Promise((r) => setTimeout(r, 50));
  const during = upload(next, 'during-gc');
  const result = await collecting;
  const uploaded = await during;
  console.log(
    `collection after retention: ${secs(result.durationMs)}; freed ${Object.entries(result.freed)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')}`,
  );
  console.log(`  an upload sent 50 ms into it: 201 after ${secs(uploaded.ms)} (the collection ran ${secs(result.durationMs)})`);
  await ready(uploaded.id);
  await client.query('VACUUM ANALYZE');
  console.log(`store after: ${describe(await stored())} (before ${mib(full.bytes)})`);
  const after = await gc.collect();
  console.log(`collection of the ${KEEP + 1} kept snapshots with nothing to free: ${secs(after.durationMs)}`);
} finally {
  await app?.close();
  await client.end().catch(() => {});
  if (process.env.BENCH_KEEP_DB === '1') console.log(`kept database ${benchDb}`);
  else await postgres.drop(benchDb);
  await postgres.close();
}
