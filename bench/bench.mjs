// npm run bench: a 10,000-resource snapshot, uploaded to 201 (decode, validate, store, enqueue),
// against the floor of a plain COPY of the same JSON bodies into a scratch table.
// Uses DATABASE_URL's server when set, else the embedded one; a scratch database either way.
// Then, on the same mesh, the generator (bench/generator.mjs): session load, proxyConfig per proxy,
// resolveRoute through GraphQL, peak RSS, and Istio's own xDS benchmarks side by side; then a further
// snapshot of the same mesh changing 1 % of its resources (issueChange) to READY, and the first diff.
// Last, the walk's differential check against Istio's traffic simulation (test/e2e/differential.test.ts)
// on BENCH_DIFFERENTIAL_MESHES (300) random meshes instead of the test suite's dozen.
// The ingress written with the Kubernetes Gateway API (bench/gateway-api.mjs): the bench mesh with
// its 5 Gateways as Gateway API Gateways plus 300 HTTPRoutes, upload to READY and resolveRoute warm
// through a deployed gateway, next to the same figures for the Istio API mesh (BENCH_GATEWAY_API=0 skips it).
// Each part can be skipped: BENCH_INGEST=0, BENCH_GENERATOR=0 (direct generator), BENCH_RESOLVE=0
// (GraphQL resolveRoute and journey on a running server), BENCH_ISTIO=0 (Istio's benchmarks),
// BENCH_FURTHER=0 (the further snapshot and diff), BENCH_DIFFERENTIAL=0; or run alone: BENCH_ONLY=resolve (a comma list of those parts). Sizes:
// BENCH_SCALE (1: a fraction of the Deployments and their pods), BENCH_SIDECARS (50), BENCH_RESOLVE_CALLS (20 per series), BENCH_ISTIO_BENCHTIME (10x), BENCH_ISTIO_PATTERN.
// BENCH_SIZE=scale runs bench/scale.mjs instead (50,000 pods; BENCH_PODS).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { createHttpApp } from '../dist/src/app.js';
import { loadConfig } from '../dist/src/config/config.js';
import { JsonLogger } from '../dist/src/logging/json-logger.js';
import { ingest } from '../dist/src/ingest/ingest.js';
import { canonicalJson } from '../dist/src/model/canonical.js';
import YAML from 'yaml';
import { generateSnapshot, SHAPE } from './generate.mjs';
import { issueChange } from './common.mjs';
import { benchPostgres } from './scratch-db.mjs';
import { benchGatewayApi } from './gateway-api.mjs';
import { benchGeneratorDirect, benchIstio, benchResolveServer, fmtMs, printTable, stats } from './generator.mjs';
import { benchFloor } from './floor.mjs';
import { admit } from './admit.mjs';
import { benchUploads } from './upload.mjs';
import { CORE_SCHEMA, loadAll } from 'js-yaml';

// BENCH_ONLY=resolve (a comma list of ingest, floor, generator, resolve, istio, further, differential) runs only those
// parts; otherwise each part runs unless its BENCH_<PART>=0. `upload` (bench/upload.mjs) runs only when named there.
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((p) => p.trim().toLowerCase())) : null;
const enabled = (name) => (only ? only.has(name.replace(/^BENCH_/, '').toLowerCase()) : process.env[name] !== '0');

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const fmt = (n) => `${n.toFixed(0)} ms`;
// How long the bench waits between two GETs of a computing snapshot (BENCH_POLL_MS), as a dashboard
// would poll it. The poller shares the server's process and cores: at 20 ms (sessions up to 10) its
// ~50 GETs a second cost 2-6 CPU-s of the compute's two cores, timed as part of upload to READY.
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 100);

// BENCH_SIZE=scale: the scale bench (bench/scale.mjs: 1,000 Services and 50,000 pods, BENCH_PODS) instead of this size's parts.
if (process.env.BENCH_SIZE === 'scale') {
  await import('./scale.mjs');
  process.exit();
} else if (process.env.BENCH_SIZE) throw new Error(`BENCH_SIZE must be scale or unset, got "${process.env.BENCH_SIZE}"`);

// No rate limit unless asked for: the bench times the server, and its polls would mostly get 429s.
const config = loadConfig({ MESHLENS_RATE_LIMIT: '0', ...process.env, LOG_LEVEL: 'warn' });
const postgres = await benchPostgres(config);
const { name: benchDb, url } = await postgres.create();

let app;
const generateStart = process.hrtime.bigint();
// BENCH_SCALE < 1 keeps that fraction of the Deployments (and their pods: fewer proxy classes, each
// config as large, since the Services stay), for a shorter run on a busy machine.
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const DEPLOYMENTS = Math.max(1, Math.round(SHAPE.deployments * Math.min(1, SCALE)));
const generated = generateSnapshot({ deployments: DEPLOYMENTS });
const generateMs = ms(generateStart);
const figures = {};
try {
  // Only when asked for by name (BENCH_ONLY=upload): upload to 201 against COPY, repeated (bench/upload.mjs).
  if (only?.has('upload')) await benchUploadPart();
  if (enabled('BENCH_INGEST')) await benchIngest();
  if (enabled('BENCH_FLOOR')) await benchFloorFigures();
  // Before the generator part, whose resolveRoute part closes the ingest part's server when done.
  if (enabled('BENCH_FURTHER')) await benchFurther();
  await benchGenerator();
  printIssueTable();
  if (enabled('BENCH_GATEWAY_API')) await benchGatewayApiPart();
} finally {
  await app?.close();
  await postgres.drop(benchDb);
  await postgres.close();
}

async function benchIngest() {
  let t;
  const { objects, yaml } = generated;
  const byKind = new Map();
  for (const o of objects) byKind.set(o.kind, (byKind.get(o.kind) ?? 0) + 1);
  const counts = [...byKind].map(([kind, n]) => `${n} ${kind}`);
  console.log(`generated ${objects.length} resources (${(yaml.length / 1024 / 1024).toFixed(1)} MiB of YAML) in ${fmt(generateMs)}`);
  if (counts.length) console.log(`  ${counts.join(', ')}`);

  t = process.hrtime.bigint();
  const parsed = await ingest(yaml, 'application/yaml', admit);
  const ingestMs = ms(t);
  if (!parsed.ok) throw new Error(`bench snapshot invalid: ${JSON.stringify(parsed.problems.slice(0, 3))}`);

  app = await createHttpApp(
    { config: { ...config, databaseUrl: url.toString() }, databaseUrl: url.toString(), worker: true, http: true },
    new JsonLogger('warn'),
  );
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();

  t = process.hrtime.bigint();
  const res = await fetch(`${base}/api/v1/snapshots?name=bench`, {
    method: 'POST',
    headers: { 'content-type': 'application/yaml' },
    body: yaml,
  });
  const uploadMs = ms(t);
  const created = await res.json();
  if (res.status !== 201) throw new Error(`upload: HTTP ${res.status} ${JSON.stringify(created).slice(0, 300)}`);

  // A dashboard polling the snapshot while the worker of the same process computes it: every GET timed.
  // A keep-alive connection the server closes while its event loop was blocked resets the next GET
  // (ECONNRESET): counted, and asked again on a new connection, the wait included in that GET's time.
  // And how late the event loop (the server's and this client's, one loop) ran a 10 ms timer meanwhile:
  // how long it was held at a time, what a GET waits for.
  let status;
  const duringCompute = [];
  let resets = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  do {
    const g = process.hrtime.bigint();
    for (;;) {
      try {
        const polled = await fetch(`${base}/api/v1/snapshots/${created.id}`);
        if (!polled.ok) throw new Error(`GET /api/v1/snapshots/:id: HTTP ${polled.status}`);
        status = await polled.json();
        break;
      } catch (error) {
        if (error?.cause?.code !== 'ECONNRESET' || ++resets > 100) throw error;
      }
    }
    duringCompute.push(ms(g));
    if (status.status !== 'READY' && status.status !== 'FAILED') await new Promise((r) => setTimeout(r, POLL_MS));
  } while (status.status !== 'READY' && status.status !== 'FAILED');
  const readyMs = ms(t);
  loopDelay.disable();
  figures.getDuringCompute = { ...stats(duringCompute), resets };
  const late = (ns) => Math.max(0, ns / 1e6 - 10);
  figures.loopDelay = { p50: late(loopDelay.percentile(50)), p99: late(loopDelay.percentile(99)), max: late(loopDelay.max) };
  figures.readyMs = readyMs;
  figures.readyStatus = status.status;
  figures.uploadMs = uploadMs;
  figures.ingestMs = ingestMs;
  figures.snapshotId = created.id;
  figures.base = base;

  // The floor: the same bodies, as canonical JSON, COPYed into a bare jsonb table.
  const bodies = parsed.resources.map((r) => canonicalJson(r.body));
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query('CREATE TABLE bench_copy_floor (body jsonb NOT NULL)');
  t = process.hrtime.bigint();
  const escape = (s) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  await pipeline(
    Readable.from(bodies.map((b) => escape(b) + '\n')),
    client.query(copyStreams.from('COPY bench_copy_floor (body) FROM STDIN')),
  );
  const copyMs = ms(t);
  const [{ n }] = (await client.query('SELECT count(*)::int AS n FROM bench_copy_floor')).rows;
  await client.end();

  console.log(`ingest alone (decode + validate, in process):   ${fmt(ingestMs)}`);
  console.log(`upload to 201 (HTTP + ingest + store + enqueue): ${fmt(uploadMs)}  (${created.resourceCount} resources)`);
  console.log(`upload to READY (+ compute job: ${status.status}):         ${fmt(readyMs)}`);
  console.log(`floor: COPY of the same ${n} JSON bodies:        ${fmt(copyMs)}`);
  console.log(`ratio upload-to-201 / COPY floor:                ${(uploadMs / copyMs).toFixed(1)}x`);
  // The in-process ingest is timed on its own, cold: when it took longer than the whole upload
  // (whose ingest thread was warmed at start), the difference says nothing of the store.
  const storage =
    uploadMs > ingestMs
      ? `${((uploadMs - ingestMs) / copyMs).toFixed(1)}x`
      : 'not measurable here (the cold in-process ingest took longer than the upload)';
  console.log(`ratio upload-to-201 minus ingest / COPY floor:   ${storage}  (the storage path alone)`);
  const g = figures.getDuringCompute;
  console.log(
    `GET /api/v1/snapshots/:id while computing:       p50 ${fmtMs(g.p50)} / p99 ${fmtMs(g.p99)} / max ${fmtMs(g.max)} ms (${g.n} polls, ${g.resets} connections reset)`,
  );
  const d = figures.loopDelay;
  console.log(`event loop held while computing (timer late by): p50 ${fmtMs(d.p50)} / p99 ${fmtMs(d.p99)} / max ${fmtMs(d.max)} ms`);
  figures.copyMs = copyMs;
  figures.yamlReadMs = yamlLibraryRead(yaml);
  console.log(
    `js-yaml's own read of the same text, warm:     ${fmt(figures.yamlReadMs)} = ${(figures.yamlReadMs / copyMs).toFixed(1)}x COPY`,
  );
  if (objects.length !== created.resourceCount) throw new Error('resource count mismatch');
  // The server stays up with its READY snapshot: resolveRoute and journey are timed on it (benchGenerator).
}

async function benchUploadPart() {
  console.log(`upload to 201 against COPY, on a server without a worker, ${generated.objects.length} resources:`);
  const parsed = await ingest(generated.yaml, 'application/yaml', admit);
  if (!parsed.ok) throw new Error(`bench snapshot invalid: ${JSON.stringify(parsed.problems.slice(0, 3))}`);
  const medians = await benchUploads(
    generated.yaml,
    parsed.resources.map((r) => canonicalJson(r.body)),
  );
  // The issue table's figure (the ingest part's single upload replaces it when it runs too).
  figures.uploadMs = medians.cold;
  figures.copyMs = medians.copy;
  figures.yamlReadMs = yamlLibraryRead(generated.yaml);
}

/**
 * What the upload goal leaves for everything else: the YAML library ingest reads with (js-yaml, its
 * core schema, as fast-yaml.ts reads) reading the upload's text into values, nothing more; the
 * median of 5 after a first read compiles it.
 */
function yamlLibraryRead(yaml) {
  const times = [];
  for (let i = 0; i < 6; i++) {
    const t = process.hrtime.bigint();
    loadAll(yaml, undefined, { schema: CORE_SCHEMA });
    if (i > 0) times.push(ms(t));
  }
  return times.sort((a, b) => a - b)[2];
}

/** Istio's own generation for one proxy of each class (generator/internal/session/floor_test.go). */
async function benchFloorFigures() {
  console.log("\nthe floor: Istio's own LDS+RDS+CDS+EDS generation, one proxy per class (BenchmarkFloor):");
  try {
    const f = await benchFloor(generated.yaml);
    figures.floor = f;
    for (const [type, r] of Object.entries(f.results))
      if (type !== 'compute')
        console.log(
          `  ${type.padEnd(4)} ${fmtMs(r.ms)} ms for ${r.classes} classes (${fmtMs(r.msPerClass)} ms/class, ${r.resources} resources)`,
        );
    if (f.computeMs)
      console.log(
        `  the generator's own work for a compute (the same generation and the job's JSON answers, one goroutine): ${fmt(f.computeMs)} (${fmtMs(f.results.compute.msPerClass)} ms/class) = ${(f.computeMs / f.totalMs).toFixed(2)}x the floor`,
      );
    if (figures.readyMs)
      console.log(
        `  upload to READY ${fmt(figures.readyMs)} / floor ${fmt(f.totalMs)} (${f.classes} classes) = ${(figures.readyMs / f.totalMs).toFixed(1)}x (goal <= 2x)`,
      );
  } catch (error) {
    console.log(`  skipped: ${error.message}`);
  }
}

async function benchGenerator() {
  const { yaml } = generated;
  const rows = [];
  if (enabled('BENCH_GENERATOR')) {
    console.log('\ngenerator, direct (the binary fed the normalised snapshot):');
    const g = await benchGeneratorDirect(yaml);
    figures.direct = g;
    console.log(`  Istio ${g.version.istio} (${g.version.module})`);
    console.log(
      `  a sidecar's config: ${g.sizes.listeners} listeners, ${g.sizes.routes} route configs, ${g.sizes.clusters} clusters, ${g.sizes.endpoints} endpoint assignments, ${(g.sizes.bytes / 1048576).toFixed(1)} MiB of JSON`,
    );
    console.log(
      `  the gateway's config: ${g.gatewaySizes.listeners} listeners, ${g.gatewaySizes.routes} route configs, ${g.gatewaySizes.clusters} clusters, ${(g.gatewaySizes.bytes / 1048576).toFixed(1)} MiB of JSON`,
    );
    console.log(`  walk outcomes over the sample calls: ${JSON.stringify(g.outcomes)}`);
    rows.push(['ingest (in process, ms)', fmtMs(g.ingestMs), '', '', '1']);
    rows.push(['normalise for the generator (ms)', fmtMs(g.normaliseMs), '', '', '1']);
    rows.push(['generator session load (ms)', fmtMs(g.loadMs), '', '', '1']);
    rows.push(['proxyConfig, first sidecar (ms)', fmtMs(g.first), '', '', '1']);
    rows.push(['proxyConfig per sidecar (ms)', '', fmtMs(g.sidecar.p50), fmtMs(g.sidecar.p99), String(g.sidecar.n)]);
    rows.push(['proxyConfig, gateway (ms)', '', fmtMs(g.gateway.p50), fmtMs(g.gateway.p99), String(g.gateway.n)]);
    rows.push(['route walk alone, TypeScript (ms)', '', fmtMs(g.walk.p50), fmtMs(g.walk.p99), String(g.walk.n)]);
    rows.push(['generator RSS after load (MiB)', g.afterLoad.rssMiB.toFixed(0), '', '', '']);
    rows.push(['generator peak RSS, VmHWM (MiB)', g.memory.hwmMiB.toFixed(0), '', '', '']);
  }
  if (enabled('BENCH_RESOLVE')) {
    console.log('\nresolveRoute and journey through GraphQL on a running server (worker included):');
    const reuse = figures.readyStatus === 'READY' && app;
    const { name: resolveDb, url: resolveUrl } = reuse ? {} : await postgres.create();
    try {
      if (!reuse) {
        const dbUrl = resolveUrl.toString();
        app = await createHttpApp(
          { config: { ...config, databaseUrl: dbUrl }, databaseUrl: dbUrl, worker: true, http: true },
          new JsonLogger('warn'),
        );
        await app.listen(0, '127.0.0.1');
      }
      // The bench mesh's pods, by their deterministic names (generate.mjs), all with a sidecar.
      const pods = [];
      for (let d = 0; d < DEPLOYMENTS; d++)
        for (let p = 0; p < SHAPE.podsPerDeployment; p++)
          pods.push({ namespace: `team-${d % SHAPE.namespaces}`, name: `app-${d}-${p}`, kind: 'Pod', proxyType: 'SIDECAR' });
      const r = await benchResolveServer(yaml, {
        base: await app.getUrl(),
        workloadsOf: pods,
        snapshotId: reuse ? figures.snapshotId : undefined,
      });
      figures.resolve = r;
      rows.push(['resolveRoute, first on the READY snapshot (named sidecar, ms)', fmtMs(r.coldMs), '', '', '1']);
      rows.push(['resolveRoute warm, one proxy (ms)', '', fmtMs(r.sameProxy.p50), fmtMs(r.sameProxy.p99), String(r.sameProxy.n)]);
      rows.push(['resolveRoute warm, 10 named proxies (ms)', '', fmtMs(r.mixed.p50), fmtMs(r.mixed.p99), String(r.mixed.n)]);
      rows.push(['  the same, CPU of this process (ms)', '', fmtMs(r.mixedCpu.p50), fmtMs(r.mixedCpu.p99), String(r.mixedCpu.n)]);
      rows.push(['GraphQL { __typename }, the floor (ms)', '', fmtMs(r.trivial.p50), fmtMs(r.trivial.p99), String(r.trivial.n)]);
      rows.push(['resolveRoute, first ad-hoc proxy (ms)', fmtMs(r.adhocColdMs), '', '', '1']);
      rows.push(['resolveRoute warm, 10 ad-hoc proxies (ms)', '', fmtMs(r.adhoc.p50), fmtMs(r.adhoc.p99), String(r.adhoc.n)]);
      rows.push(['  the same, CPU of this process (ms)', '', fmtMs(r.adhocCpu.p50), fmtMs(r.adhocCpu.p99), String(r.adhocCpu.n)]);
      rows.push(['resolveRoute, first ad-hoc proxy of a stored class (ms)', fmtMs(r.adhocClassColdMs), '', '', '1']);
      rows.push(['journey, first on the READY snapshot (named sidecar, ms)', fmtMs(r.journeyColdMs), '', '', '1']);
      rows.push(['journey warm, ad-hoc proxies (ms)', '', fmtMs(r.journeyAdhoc.p50), fmtMs(r.journeyAdhoc.p99), String(r.journeyAdhoc.n)]);
      rows.push([
        'journey warm, the same sidecar and calls (ms)',
        '',
        fmtMs(r.journeySidecar.p50),
        fmtMs(r.journeySidecar.p99),
        String(r.journeySidecar.n),
      ]);
      rows.push([
        'resolveRoute warm, ingress gateway (ms)',
        '',
        fmtMs(r.resolveGateway.p50),
        fmtMs(r.resolveGateway.p99),
        String(r.resolveGateway.n),
      ]);
      rows.push([
        'journey warm, ingress gateway (ms)',
        '',
        fmtMs(r.journeyGateway.p50),
        fmtMs(r.journeyGateway.p99),
        String(r.journeyGateway.n),
      ]);
    } finally {
      await app?.close();
      app = undefined;
      if (resolveDb) await postgres.drop(resolveDb);
    }
  }
  let istio;
  if (enabled('BENCH_ISTIO')) {
    console.log("\nIstio's own xDS benchmarks (pilot/pkg/xds/bench_test.go, from the module cache):");
    try {
      istio = benchIstio();
      figures.istio = istio;
      console.log(
        `  ${istio.results.length} results, pattern ${istio.pattern}, benchtime ${istio.benchtime}, ${(istio.wallMs / 1000).toFixed(0)} s`,
      );
    } catch (error) {
      console.log(`  skipped: ${error.message}`);
    }
  }
  if (!rows.length && !istio) return;
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  console.log(
    `\n=== generator figures on the bench mesh (${SHAPE.services} Services, ${DEPLOYMENTS * SHAPE.podsPerDeployment} Pods, ${SHAPE.virtualServices} VS, ${SHAPE.destinationRules} DR, ${SHAPE.gateways} Gateways; ${os.cpus().length} CPUs, load average ${load}) ===`,
  );
  if (rows.length) printTable(rows, ['meshlens', 'value', 'p50', 'p99', 'n']);
  if (istio?.results.length) {
    // Side by side: Istio's generation of one xDS type for one proxy, on its synthetic configs, next to meshlens's
    // whole proxyConfig (all four types, as JSON) for one proxy of the bench mesh.
    console.log(
      `\nIstio's xDS generation per proxy, ms/op (its synthetic configs, ${istio.benchtime}), next to meshlens's whole proxyConfig:`,
    );
    const byCase = new Map();
    for (const r of istio.results) {
      const row = byCase.get(r.name) ?? {};
      row[r.bench] = r;
      byCase.set(r.name, row);
    }
    const cell = (r) => (r ? fmtMs(r.nsPerOp / 1e6) : '-');
    const res = (r) => (r?.resources !== undefined ? String(r.resources) : '-');
    const table = [...byCase].map(([name, r]) => [
      `istio ${name}`,
      cell(r.InitPushContext),
      cell(r.ListenerGeneration),
      cell(r.ClusterGeneration),
      res(r.ClusterGeneration),
      cell(r.RouteGeneration),
      fmtMs(['ListenerGeneration', 'ClusterGeneration', 'RouteGeneration'].reduce((sum, k) => sum + (r[k]?.nsPerOp ?? 0), 0) / 1e6),
    ]);
    if (figures.direct) {
      const g = figures.direct;
      table.push(['meshlens bench mesh, sidecar p50', fmtMs(g.loadMs), '', '', String(g.sizes.clusters), '', fmtMs(g.sidecar.p50)]);
      table.push(['meshlens bench mesh, gateway p50', '', '', '', String(g.gatewaySizes.clusters), '', fmtMs(g.gateway.p50)]);
    }
    printTable(table, ['case', 'push ctx', 'LDS', 'CDS', 'clusters', 'RDS', 'LDS+CDS+RDS']);
    console.log(
      '(meshlens "push ctx" column: the whole session load; its last column: proxyConfig = LDS+RDS+CDS+EDS generated and marshalled to JSON)',
    );
  }
}

async function benchGatewayApiPart() {
  console.log(
    '\nthe ingress as Istio Gateways + VirtualServices, then as Gateway API Gateways + 300 HTTPRoutes (upload to READY, worker in process):',
  );
  const { name: gwDb, url: gwUrl } = await postgres.create();
  const dbUrl = gwUrl.toString();
  try {
    app = await createHttpApp(
      { config: { ...config, databaseUrl: dbUrl }, databaseUrl: dbUrl, worker: true, http: true },
      new JsonLogger('warn'),
    );
    await app.listen(0, '127.0.0.1');
    const { istio, gatewayApi, resources, deployments } = await benchGatewayApi(await app.getUrl());
    figures.gatewayApi = { istio, gatewayApi };
    const load = os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
    console.log(
      `\n=== Istio API vs Gateway API ingress (${resources} resources, ${deployments * SHAPE.podsPerDeployment} pods; ${os.cpus().length} CPUs, load average ${load}) ===`,
    );
    const row = (label, r) => [label, fmtMs(r.uploadMs), fmtMs(r.readyMs), fmtMs(r.resolve.p50), fmtMs(r.resolve.p99), String(r.resolve.n)];
    printTable(
      [row('Istio Gateways + VirtualServices', istio), row(`Gateway API: 5 Gateways + ${SHAPE.httpRoutes} HTTPRoutes`, gatewayApi)],
      ['ingress', 'upload 201 (ms)', 'READY (ms)', 'resolveRoute warm p50', 'p99', 'n'],
    );
  } finally {
    await app?.close();
    app = undefined;
    await postgres.drop(gwDb);
  }
}

/**
 * Issue 13's further snapshot and cold diff, on the ingest part's server: the bench mesh with 1 % of
 * its resources changed (issueChange) uploaded as a snapshot of the same mesh, timed to READY
 * against the first's upload to READY; then the first diff of the two since the server started.
 */
async function benchFurther() {
  if (figures.readyStatus !== 'READY' || !app) {
    console.log("\nfurther snapshot: skipped (needs the ingest part's READY snapshot)");
    return;
  }
  const { objects, changed } = issueChange(generated.objects);
  const base = figures.base;
  const t = process.hrtime.bigint();
  const res = await fetch(`${base}/api/v1/snapshots?name=bench-further`, {
    method: 'POST',
    headers: { 'content-type': 'application/yaml' },
    body: objects.map((o) => YAML.stringify(o)).join('---\n'),
  });
  const created = await res.json();
  if (res.status !== 201) throw new Error(`further upload: HTTP ${res.status} ${JSON.stringify(created).slice(0, 300)}`);
  let status;
  do {
    await new Promise((r) => setTimeout(r, POLL_MS));
    status = await (await fetch(`${base}/api/v1/snapshots/${created.id}`)).json();
  } while (status.status !== 'READY' && status.status !== 'FAILED');
  if (status.status === 'FAILED') throw new Error(`further snapshot failed: ${status.error}`);
  const readyMs = ms(t);
  const d = process.hrtime.bigint();
  const diff = await fetch(`${base}/api/v1/snapshots/${figures.snapshotId}/diff/${created.id}?format=json`);
  const body = await diff.text();
  const diffMs = ms(d);
  if (diff.status !== 200) throw new Error(`diff: HTTP ${diff.status} ${body.slice(0, 300)}`);
  const summary = JSON.parse(body).summary;
  figures.further = { readyMs, changed, diffMs };
  console.log(
    `\nfurther snapshot, ${changed} resources changed (weights, destinations, DestinationRule policies, 5 Services added, 5 removed):`,
  );
  console.log(
    `  upload to READY ${fmt(readyMs)} = ${((100 * readyMs) / figures.readyMs).toFixed(0)} % of the first's ${fmt(figures.readyMs)}`,
  );
  console.log(
    `  first diff since the server started: ${fmt(diffMs)} (${summary.resourcesChanged} resources, ${summary.proxyClassesChanged} proxy classes changed)`,
  );
}

/** Every figure of issue 13's table, with its goal (ratios beside absolute times: the machine is shared). */
function printIssueTable() {
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  const f = figures;
  const rows = [];
  const met = (ok) => (ok === undefined ? '-' : ok ? 'met' : 'NOT met');
  const r = f.resolve;
  if (r) {
    rows.push([
      'resolveRoute warm, named workload of a READY snapshot, p50 / p99',
      `${fmtMs(r.mixed.p50)} / ${fmtMs(r.mixed.p99)} ms (CPU ${fmtMs(r.mixedCpu.p50)} / ${fmtMs(r.mixedCpu.p99)}; { __typename } ${fmtMs(r.trivial.p50)} / ${fmtMs(r.trivial.p99)})`,
      'p99 <= 20 ms',
      met(r.mixed.p99 <= 20),
    ]);
    rows.push([
      'resolveRoute warm, ad-hoc proxy (labels), p50 / p99',
      `${fmtMs(r.adhoc.p50)} / ${fmtMs(r.adhoc.p99)} ms (CPU ${fmtMs(r.adhocCpu.p50)} / ${fmtMs(r.adhocCpu.p99)})`,
      'p99 <= 20 ms',
      met(r.adhoc.p99 <= 20),
    ]);
    // Issue 12's goal: journey p99 <= 2x resolveRoute p99, from the same proxy with the same calls.
    rows.push([
      'journey warm, named sidecar, p50 / p99; p99 / resolveRoute p99',
      `${fmtMs(r.journeySidecar.p50)} / ${fmtMs(r.journeySidecar.p99)} ms; ${fmtMs(r.sameProxy.p99)} ms = ${(r.journeySidecar.p99 / r.sameProxy.p99).toFixed(1)}x`,
      'journey p99 <= 2x resolveRoute p99',
      met(r.journeySidecar.p99 <= 2 * r.sameProxy.p99),
    ]);
    rows.push([
      'journey warm, ingress gateway, p50 / p99; p99 / resolveRoute p99',
      `${fmtMs(r.journeyGateway.p50)} / ${fmtMs(r.journeyGateway.p99)} ms; ${fmtMs(r.resolveGateway.p99)} ms = ${(r.journeyGateway.p99 / r.resolveGateway.p99).toFixed(1)}x`,
      'journey p99 <= 2x resolveRoute p99',
      met(r.journeyGateway.p99 <= 2 * r.resolveGateway.p99),
    ]);
    rows.push([
      'journey warm, ad-hoc proxy, p99 / resolveRoute p99',
      `${fmtMs(r.journeyAdhoc.p99)} ms = ${(r.journeyAdhoc.p99 / r.adhoc.p99).toFixed(1)}x`,
      '<= 2x',
      met(r.journeyAdhoc.p99 <= 2 * r.adhoc.p99),
    ]);
  }
  if (f.getDuringCompute)
    rows.push([
      'GET /api/v1/snapshots/:id while computing, same process, p99',
      `${fmtMs(f.getDuringCompute.p99)} ms (max ${fmtMs(f.getDuringCompute.max)})`,
      'p99 <= 50 ms',
      met(f.getDuringCompute.p99 <= 50),
    ]);
  if (f.copyMs)
    rows.push([
      'upload to 201 / COPY of the same bodies',
      `${fmt(f.uploadMs)} / ${fmt(f.copyMs)} = ${(f.uploadMs / f.copyMs).toFixed(1)}x`,
      '<= 3x',
      met(f.uploadMs / f.copyMs <= 3),
    ]);
  if (f.copyMs && f.yamlReadMs)
    rows.push([
      "js-yaml's own read of the upload's text / COPY",
      `${fmt(f.yamlReadMs)} / ${fmt(f.copyMs)} = ${(f.yamlReadMs / f.copyMs).toFixed(1)}x`,
      'measured',
      'met',
    ]);
  if (f.direct)
    rows.push([
      'normalising the snapshot for the generator',
      `${fmt(f.direct.normaliseMs)}`,
      '<= 500 ms',
      met(f.direct.normaliseMs <= 500),
    ]);
  if (f.readyMs && f.floor)
    rows.push([
      'upload to READY / the floor',
      `${fmt(f.readyMs)} / ${fmt(f.floor.totalMs)} = ${(f.readyMs / f.floor.totalMs).toFixed(1)}x (${f.floor.classes} classes)`,
      '<= 2x',
      met(f.readyMs <= 2 * f.floor.totalMs),
    ]);
  else if (f.readyMs) rows.push(['upload to READY', fmt(f.readyMs), '<= 2x the floor', '-']);
  if (f.floor)
    rows.push([
      "the floor: Istio's LDS+RDS+CDS+EDS, one proxy per class",
      `${fmt(f.floor.totalMs)} (${fmtMs(f.floor.results.all.msPerClass)} ms/class)`,
      'measured',
      'met',
    ]);
  if (f.floor?.computeMs)
    rows.push([
      "the generator's own work for a compute, one goroutine",
      `${fmt(f.floor.computeMs)} = ${(f.floor.computeMs / f.floor.totalMs).toFixed(2)}x the floor`,
      'measured',
      'met',
    ]);
  const further = f.further;
  if (further) {
    rows.push([
      'a further snapshot changing 1 % of resources, to READY',
      `${fmt(further.readyMs)} / ${fmt(f.readyMs)} = ${((100 * further.readyMs) / f.readyMs).toFixed(0)} %`,
      '<= 25 % of the first',
      met(further.readyMs <= 0.25 * f.readyMs),
    ]);
    rows.push(['first diff after a start (cold)', fmt(further.diffMs), '<= 1 s', met(further.diffMs <= 1000)]);
  } else {
    rows.push([
      'a further snapshot changing 1 % of resources, to READY',
      'not measured here (BENCH_FURTHER=0)',
      '<= 25 % of the first',
      '-',
    ]);
    rows.push(['first diff after a start (cold)', 'not measured here (BENCH_FURTHER=0)', '<= 1 s', '-']);
  }
  rows.push(['1,000 Services and 50,000 Pods to READY', 'BENCH_SIZE=scale npm run bench (bench/scale.mjs)', 'within 24 GiB', '-']);
  if (!rows.length) return;
  console.log(`\n=== issues 12 and 13's figures (${os.cpus().length} CPUs, load average ${load}) ===`);
  printTable(rows, ['figure', 'now', 'goal', '']);
}

if (enabled('BENCH_DIFFERENTIAL')) {
  const meshes = process.env.BENCH_DIFFERENTIAL_MESHES ?? '300';
  console.log(`\nthe walk against Istio's traffic simulation, ${meshes} random meshes (test/e2e/differential.test.ts):`);
  const run = spawnSync('npx', ['vitest', 'run', 'test/e2e/differential.test.ts'], {
    stdio: 'inherit',
    env: { ...process.env, MESHLENS_DIFFERENTIAL_MESHES: meshes },
  });
  if (run.status !== 0) process.exitCode = 1;
}

// Proxy config storage (bench/proxy-storage.mjs): MESHLENS_BENCH_PROXY_STORAGE=1 npm run bench
// (BENCH_SCALE, BENCH_FURTHER, BENCH_READS as described there).
if (process.env.MESHLENS_BENCH_PROXY_STORAGE === '1') await import('./proxy-storage.mjs');
// Snapshot diff (bench/diff.mjs): MESHLENS_BENCH_DIFF=1 npm run bench (BENCH_DEPLOYMENTS as described there).
if (process.env.MESHLENS_BENCH_DIFF === '1') await import('./diff.mjs');
// Retention and garbage collection on 50 snapshots (bench/gc.mjs): MESHLENS_BENCH_GC=1 npm run bench.
if (process.env.MESHLENS_BENCH_GC === '1') await import('./gc.mjs');
// Connectivity (bench/connectivity.mjs): MESHLENS_BENCH_CONNECTIVITY=1 npm run bench.
if (process.env.MESHLENS_BENCH_CONNECTIVITY === '1') await import('./connectivity.mjs');
