// The generator half of `npm run bench`, on the same 10,000-resource mesh as the ingest bench
// (bench/generate.mjs: 1,000 Services, 5,000 Pods in 200 Deployments, 300 VirtualServices,
// 300 DestinationRules, 5 Gateways):
//   direct:  the generator binary fed the normalised snapshot (dist/src/ingest): session
//            load time, proxyConfig time per proxy (50 sidecars + a gateway), the walk alone, peak RSS;
//   server:  resolveRoute and journey through GraphQL on a running meshlens with the snapshot's session warm;
//   istio:   Istio's own xDS generation benchmarks (pilot/pkg/xds/bench_test.go) from the module cache.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { admit } from './admit.mjs';
import { graphql } from './common.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
/** This process's CPU time since `start` (a process.cpuUsage()), in ms. */
const cpuMs = (start) => {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
};

export function percentile(values, p) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
export const stats = (values) => ({ n: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: Math.max(...values) });

/** VmHWM / VmRSS of a process, in MiB (Linux /proc). */
function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
    return { hwmMiB: kb('VmHWM') / 1024, rssMiB: kb('VmRSS') / 1024 };
  } catch {
    return { hwmMiB: NaN, rssMiB: NaN };
  }
}

/** The generator's NDJSON protocol, minimal: one request at a time is all the bench needs. */
export class Generator {
  constructor(binary) {
    this.child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.pending = new Map();
    this.nextId = 1;
    this.stderr = '';
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (c) => (this.stderr = (this.stderr + c).slice(-4000)));
    this.child.on('exit', (code, signal) => {
      for (const p of this.pending.values())
        p.reject(new Error(`generator exited (${signal ?? code}): ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`));
      this.pending.clear();
    });
    createInterface({ input: this.child.stdout, crlfDelay: Infinity }).on('line', (line) => {
      let m;
      try {
        m = JSON.parse(line);
      } catch {
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(new Error(`${m.error.code}: ${m.error.message}`));
      else p.resolve(m.result);
    });
  }
  get pid() {
    return this.child.pid;
  }
  ask(method, params) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(JSON.stringify({ id, method, params }) + '\n');
    });
  }
  close() {
    this.child.stdin.end();
    this.child.kill('SIGTERM');
  }
}

/** What the bench asks about: 50 sidecars spread over the 200 Deployments, and an ad-hoc ingress gateway. */
export function benchProxies(workloads, count = 50) {
  const sidecars = workloads.filter((w) => w.proxyType === 'SIDECAR' && w.kind === 'Pod');
  const step = Math.max(1, Math.floor(sidecars.length / count));
  const picked = [];
  for (let i = 0; i < sidecars.length && picked.length < count; i += step)
    picked.push({ namespace: sidecars[i].namespace, name: sidecars[i].name });
  return {
    sidecars: picked,
    gateway: { namespace: 'team-0', labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' }, ip: '10.255.0.1', type: 'ROUTER' },
  };
}

/** Calls a sidecar makes on the bench mesh: VS hosts (header canary, weighted split), plain Services, unknown hosts. */
export function benchCalls(n = 200) {
  const calls = [];
  for (let i = 0; i < n; i++) {
    const s = (i * 37) % 1000;
    const host = `svc-${s}.team-${s % 20}.svc.cluster.local`;
    const kind = i % 4;
    if (kind === 0) calls.push({ mode: 'OUTBOUND', port: 80, host, path: `/items/${i}`, headers: [{ name: 'x-canary', value: 'true' }] });
    else if (kind === 1) calls.push({ mode: 'OUTBOUND', port: 80, host, path: '/' });
    else if (kind === 2)
      calls.push({
        mode: 'OUTBOUND',
        port: 9090,
        protocol: 'HTTP2',
        host: `svc-${s}.team-${s % 20}:9090`,
        path: '/pkg.Svc/Method',
        method: 'POST',
      });
    else calls.push({ mode: 'OUTBOUND', port: 80, address: '93.184.216.34', host: 'example.com', path: '/' });
  }
  return calls;
}

async function loadDist() {
  const { ingest } = await import('../dist/src/ingest/ingest.js');
  const { normaliseSnapshot } = await import('../dist/src/ingest/normalise.js');
  const protocol = await import('../dist/src/generator/protocol.js');
  const { resolveRoute } = await import('../dist/src/routing/resolve.js');
  // Newer sources send the proxy types with the objects (loadParams); older ones the objects alone.
  const loadParams = (normalised) =>
    typeof protocol.loadParams === 'function' ? protocol.loadParams(normalised) : normalised.generatorInput;
  return { ingest, normaliseSnapshot, loadParams, resolveRoute };
}

function generatorBinary() {
  return process.env.MESHLENS_GENERATOR_BIN || path.join(root, 'generator', 'bin', 'generator');
}

/** The generator binary, directly: load, proxyConfig per proxy, the pure walk, peak RSS. */
export async function benchGeneratorDirect(
  yaml,
  { sidecars: sidecarCount = Number(process.env.BENCH_SIDECARS ?? 50), log = console.log } = {},
) {
  const { ingest, normaliseSnapshot, loadParams, resolveRoute } = await loadDist();
  let t = process.hrtime.bigint();
  const parsed = await ingest(yaml, 'application/yaml', admit);
  if (!parsed.ok) throw new Error(`bench snapshot invalid: ${JSON.stringify(parsed.problems.slice(0, 3))}`);
  const ingestMs = ms(t);
  t = process.hrtime.bigint();
  const normalised = normaliseSnapshot(parsed.resources);
  const params = loadParams(normalised);
  const normaliseMs = ms(t);
  const inputBytes = Buffer.byteLength(JSON.stringify(params));
  log(
    `  normalised: ${normalised.workloads.length} workloads, ${params.kubernetes.length} Kubernetes + ${params.istio.length} Istio objects, ${(inputBytes / 1048576).toFixed(1)} MiB of load JSON, in ${normaliseMs.toFixed(0)} ms (after ${ingestMs.toFixed(0)} ms of ingest)`,
  );

  const gen = new Generator(generatorBinary());
  try {
    const version = await gen.ask('version');
    t = process.hrtime.bigint();
    const loaded = await gen.ask('load', params);
    const loadMs = ms(t);
    const afterLoad = memory(gen.pid);
    log(
      `  session load: ${loadMs.toFixed(0)} ms (${loaded.pods ?? '?'} pods, ${loaded.diagnostics?.length ?? 0} diagnostics); RSS ${afterLoad.rssMiB.toFixed(0)} MiB`,
    );

    const { sidecars, gateway } = benchProxies(normalised.workloads, sidecarCount);
    const sidecarMs = [];
    let first = null;
    let sample = null;
    let sizes = null;
    for (const proxy of sidecars) {
      t = process.hrtime.bigint();
      const cfg = await gen.ask('proxyConfig', { proxy });
      const took = ms(t);
      if (first === null) first = took;
      sidecarMs.push(took);
      if (!sample) {
        sample = cfg;
        sizes = {
          listeners: cfg.listeners.length,
          routes: cfg.routes.length,
          clusters: cfg.clusters.length,
          endpoints: cfg.endpoints.length,
          bytes: Buffer.byteLength(JSON.stringify(cfg)),
        };
      }
    }
    const gatewayMs = [];
    let gatewaySizes = null;
    for (let i = 0; i < Number(process.env.BENCH_GATEWAY_REPEAT ?? 5); i++) {
      t = process.hrtime.bigint();
      const cfg = await gen.ask('proxyConfig', { proxy: gateway });
      gatewayMs.push(ms(t));
      gatewaySizes ??= {
        listeners: cfg.listeners.length,
        routes: cfg.routes.length,
        clusters: cfg.clusters.length,
        endpoints: cfg.endpoints.length,
        bytes: Buffer.byteLength(JSON.stringify(cfg)),
      };
    }

    // The walk alone (pure TypeScript) on one sidecar's config.
    const walkMs = [];
    const calls = benchCalls(Number(process.env.BENCH_WALK_CALLS ?? 200));
    const outcomes = new Map();
    for (const c of calls) {
      const call = { protocol: 'HTTP', tls: 'PLAINTEXT', method: 'GET', headers: [], ...c };
      t = process.hrtime.bigint();
      const r = resolveRoute(sample, call);
      walkMs.push(ms(t));
      const key = r.error ?? (r.weightedClusters ? 'weighted' : (r.cluster?.split('|')[0] ?? 'none'));
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    const peak = memory(gen.pid);
    return {
      version,
      ingestMs,
      normaliseMs,
      inputBytes,
      loadMs,
      first,
      sidecar: stats(sidecarMs),
      gateway: stats(gatewayMs),
      sizes,
      gatewaySizes,
      walk: stats(walkMs),
      outcomes: Object.fromEntries(outcomes),
      memory: peak,
      afterLoad,
    };
  } finally {
    gen.close();
  }
}

/** resolveRoute through GraphQL on a running meshlens, on a READY snapshot (uploaded over REST and computed when not given), warm. */
export async function benchResolveServer(yaml, { base, workloadsOf, snapshotId, log = console.log } = {}) {
  const gql = graphql(base);
  // A READY snapshot of this server when given (named workloads read their stored config), else a new upload.
  const created = snapshotId
    ? { id: snapshotId }
    : await (
        await fetch(`${base}/api/v1/snapshots?name=bench-resolve`, {
          method: 'POST',
          headers: { 'content-type': 'application/yaml' },
          body: yaml,
        })
      ).json();
  if (!created.id) throw new Error(`upload failed: ${JSON.stringify(created).slice(0, 300)}`);
  if (!snapshotId) {
    // Named workloads of a READY snapshot read the config its worker stored: wait for it.
    const t0 = process.hrtime.bigint();
    let status;
    do {
      status = await (await fetch(`${base}/api/v1/snapshots/${created.id}`)).json();
      if (status.status !== 'READY' && status.status !== 'FAILED') await new Promise((r) => setTimeout(r, 200));
    } while (status.status !== 'READY' && status.status !== 'FAILED');
    log(`  uploaded and computed to ${status.status} in ${ms(t0).toFixed(0)} ms`);
  }
  const RESOLVE = `query($s: ID!, $p: ProxyInput!, $c: CallInput!) { resolveRoute(snapshotId: $s, proxy: $p, call: $c) { listener routeConfig virtualHost route cluster weightedClusters { cluster weight } virtualService { name } destinationRule { name } error trace { stage detail } } }`;
  const { sidecars } = benchProxies(workloadsOf, 10);
  const calls = benchCalls(Number(process.env.BENCH_RESOLVE_CALLS ?? 20));
  let t = process.hrtime.bigint();
  await gql(RESOLVE, { s: created.id, p: sidecars[0], c: calls[0] });
  const coldMs = ms(t);
  log(`  first resolveRoute (uploads nothing, starts and loads the session): ${coldMs.toFixed(0)} ms`);
  // Warm every proxy once, then measure.
  for (const p of sidecars) await gql(RESOLVE, { s: created.id, p, c: calls[0] });
  const sameProxy = [];
  const mixed = [];
  // This process's CPU per request: the server's and the bench client's when the server runs in
  // this process (bench.mjs), a figure the machine's load inflates far less than the wall time.
  const mixedCpu = [];
  // The floor of any GraphQL answer on this server (HTTP, Nest, Apollo), timed between the others.
  const trivial = [];
  await gql('{ __typename }');
  for (const [i, c] of calls.entries()) {
    t = process.hrtime.bigint();
    await gql(RESOLVE, { s: created.id, p: sidecars[0], c });
    sameProxy.push(ms(t));
    const cpu = process.cpuUsage();
    t = process.hrtime.bigint();
    await gql(RESOLVE, { s: created.id, p: sidecars[i % sidecars.length], c });
    mixed.push(ms(t));
    mixedCpu.push(cpuMs(cpu));
    t = process.hrtime.bigint();
    await gql('{ __typename }');
    trivial.push(ms(t));
  }
  // journey on the same proxy and calls, and from an ingress gateway, next to resolveRoute's.
  const JOURNEY = `query($s: ID!, $p: ProxyInput!, $c: CallInput!) { journey(snapshotId: $s, from: $p, call: $c) { paths { share outcome status destination { name } hops { direction resolution { cluster error } endpoints tls { mode reason } authorization { verdict reason } } } trace { stage detail } } }`;
  for (const c of calls) await gql(JOURNEY, { s: created.id, p: sidecars[0], c });
  const journeySidecar = [];
  for (const c of calls) {
    t = process.hrtime.bigint();
    await gql(JOURNEY, { s: created.id, p: sidecars[0], c });
    journeySidecar.push(ms(t));
  }
  // Ad-hoc proxies (labels, no name) of 10 Deployments: the first question generates, the next ones are warm.
  const adhocProxies = Array.from({ length: 10 }, (_, i) => {
    const d = i * 17;
    return { namespace: `team-${d % 20}`, labels: { app: `app-${d}`, version: d % 2 ? 'v2' : 'v1' }, type: 'SIDECAR' };
  });
  t = process.hrtime.bigint();
  await gql(RESOLVE, { s: created.id, p: adhocProxies[0], c: calls[0] });
  const adhocColdMs = ms(t);
  log(`  first resolveRoute of an ad-hoc proxy (generated): ${adhocColdMs.toFixed(0)} ms`);
  for (const p of adhocProxies.slice(1)) await gql(RESOLVE, { s: created.id, p, c: calls[0] });
  // An ad-hoc proxy described as istio-proxy reports the first named sidecar's pods (generate.mjs;
  // the label injection adds): istiod gives it their class's config, read from storage, not generated.
  const d = Number(/^app-(\d+)-/.exec(sidecars[0].name)?.[1] ?? 0);
  const classProxy = {
    namespace: sidecars[0].namespace,
    labels: { app: `app-${d}`, version: d % 2 ? 'v2' : 'v1', 'pod-template-hash': `h${d}`, 'security.istio.io/tlsMode': 'istio' },
    type: 'SIDECAR',
    metadata: {
      SERVICE_ACCOUNT: `app-${d}`,
      NODE_NAME: '',
      INTERCEPTION_MODE: 'REDIRECT',
      POD_PORTS: '[{"containerPort":8080,"name":"http","protocol":"TCP"}]',
    },
  };
  t = process.hrtime.bigint();
  await gql(RESOLVE, { s: created.id, p: classProxy, c: calls[0] });
  const adhocClassColdMs = ms(t);
  log(`  first resolveRoute of an ad-hoc proxy with a stored class's facts (read from storage): ${adhocClassColdMs.toFixed(0)} ms`);
  const adhoc = [];
  const adhocCpu = [];
  const journeyAdhoc = [];
  for (const [i, c] of calls.entries()) {
    const cpu = process.cpuUsage();
    t = process.hrtime.bigint();
    await gql(RESOLVE, { s: created.id, p: adhocProxies[i % adhocProxies.length], c });
    adhoc.push(ms(t));
    adhocCpu.push(cpuMs(cpu));
    t = process.hrtime.bigint();
    await gql(JOURNEY, { s: created.id, p: adhocProxies[i % adhocProxies.length], c });
    journeyAdhoc.push(ms(t));
  }
  const { gateway } = benchProxies(workloadsOf, 1);
  const gatewayCalls = calls.map((_, i) => ({
    mode: 'GATEWAY',
    port: 80,
    host: `gw-${i % 5}.example.com`,
    path: `/items/${i}`,
    headers: i % 2 ? [{ name: 'x-canary', value: 'true' }] : [],
  }));
  for (const c of gatewayCalls) await gql(JOURNEY, { s: created.id, p: gateway, c });
  const resolveGateway = [];
  const journeyGateway = [];
  for (const c of gatewayCalls) {
    t = process.hrtime.bigint();
    await gql(RESOLVE, { s: created.id, p: gateway, c });
    resolveGateway.push(ms(t));
    t = process.hrtime.bigint();
    await gql(JOURNEY, { s: created.id, p: gateway, c });
    journeyGateway.push(ms(t));
  }
  return {
    coldMs,
    sameProxy: stats(sameProxy),
    mixed: stats(mixed),
    mixedCpu: stats(mixedCpu),
    trivial: stats(trivial),
    adhocClassColdMs,
    adhocCpu: stats(adhocCpu),
    journeySidecar: stats(journeySidecar),
    adhocColdMs,
    adhoc: stats(adhoc),
    journeyAdhoc: stats(journeyAdhoc),
    resolveGateway: stats(resolveGateway),
    journeyGateway: stats(journeyGateway),
    snapshotId: created.id,
  };
}

const ISTIO_PKG = 'istio.io/istio/pilot/pkg/xds';

/** Istio's own xDS benchmarks: compiled once into the OS temp folder (minutes), then run in the package's folder. */
export function benchIstio({ log = console.log } = {}) {
  const genDir = path.join(root, 'generator');
  const pattern =
    process.env.BENCH_ISTIO_PATTERN ??
    'BenchmarkInitPushContext|BenchmarkListenerGeneration|BenchmarkClusterGeneration|BenchmarkRouteGeneration';
  const benchtime = process.env.BENCH_ISTIO_BENCHTIME ?? '10x';
  const goenv = (k) => execFileSync('go', ['env', k], { cwd: genDir, encoding: 'utf8' }).trim();
  const version = /istio\.io\/istio (\S+)/.exec(readFileSync(path.join(genDir, 'go.mod'), 'utf8'))?.[1];
  const pkgDir = path.join(goenv('GOMODCACHE'), `istio.io/istio@${version}`, 'pilot/pkg/xds');
  if (!existsSync(path.join(pkgDir, 'bench_test.go')))
    throw new Error(`${pkgDir}/bench_test.go not found (is the module cache populated? run npm run build:generator)`);
  const binary = path.join(os.tmpdir(), `meshlens-istio-xds-${version}.test`);
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(path.join(genDir, 'go.sum')).mtimeMs) {
    log(`  compiling ${ISTIO_PKG} tests (once; several minutes on 2 cores) ...`);
    const t = process.hrtime.bigint();
    execFileSync('go', ['test', '-c', '-o', binary, ISTIO_PKG], { cwd: genDir, stdio: ['ignore', 'inherit', 'inherit'] });
    log(`  compiled in ${(ms(t) / 1000).toFixed(0)} s`);
  }
  const t = process.hrtime.bigint();
  const run = spawnSync(binary, ['-test.run', '^$', '-test.bench', pattern, '-test.benchtime', benchtime, '-test.benchmem'], {
    cwd: pkgDir, // bench_test.go reads testdata/benchmarks/*.yaml relative to it
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: Number(process.env.BENCH_ISTIO_TIMEOUT_SECONDS ?? 600) * 1000,
  });
  const wallMs = ms(t);
  if (run.status !== 0)
    throw new Error(`Istio benchmarks failed (${run.status ?? run.signal}): ${(run.stdout + run.stderr).split('\n').slice(-8).join('\n')}`);
  const results = [];
  for (const line of run.stdout.split('\n')) {
    const m = /^Benchmark(\w+)\/(\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const metrics = {};
    for (const [, value, unit] of m[4].matchAll(/([\d.]+) (\S+)/g)) metrics[unit] = Number(value);
    results.push({
      bench: m[1],
      name: m[2],
      n: Number(m[3]),
      nsPerOp: metrics['ns/op'],
      kbPerMsg: metrics['kb/msg'],
      resources: metrics['resources/msg'],
      bytesPerOp: metrics['B/op'],
      allocsPerOp: metrics['allocs/op'],
    });
  }
  return { pattern, benchtime, wallMs, results, pkgDir };
}

export function printTable(rows, headers) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? String(c ?? '').padEnd(widths[i]) : String(c ?? '').padStart(widths[i]))).join('  ');
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

export const fmtMs = (v) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) : '-');
