// node bench/hostile.mjs (after npm run build): hostile uploads against `meshlens serve` in a
// child process, on a scratch database. For each body: the time to refuse it, /healthz's latency
// meanwhile (polled every 10 ms), the server's peak RSS; then every maximal body at once (uploads
// and GraphQL requests, concurrently), with /healthz's p50/p99/max meanwhile; then the p99 refusal
// time of the minimal inputs of issue 11. BENCH_BODY_BYTES (default: MESHLENS_MAX_BODY_BYTES,
// 32 MiB) sizes the nesting bodies and the JSON ones; BENCH_WIDE_BYTES (1 MiB) the YAML body of
// small items, which yaml decodes at a few MiB per second. BENCH_HEALTHZ_P99_MS (100): the exit
// code is 1 when /healthz's p99 under the concurrent bodies is over it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadConfig } from '../dist/src/config/config.js';
import { benchPostgres } from './scratch-db.mjs';

const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn' });
const size = Number(process.env.BENCH_BODY_BYTES ?? config.maxBodyBytes);
const wideSize = Number(process.env.BENCH_WIDE_BYTES ?? 2 ** 20);
const postgres = await benchPostgres(config);
const { name: benchDb, url } = await postgres.create();

const probe = createServer().listen(0, '127.0.0.1');
await once(probe, 'listening');
const port = probe.address().port;
probe.close();
const server = spawn(process.execPath, ['dist/src/main.js', 'serve'], {
  env: { ...process.env, DATABASE_URL: url.toString(), PORT: String(port), MESHLENS_WORKER_CONCURRENCY: '0', LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const rssMiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))[1]) / 1024;
const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)];

async function waitHealthy() {
  for (;;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function upload(body, contentType = 'application/yaml', path = '/api/v1/snapshots') {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  const answer = await res.json().catch(() => ({}));
  return { status: res.status, first: answer.details?.[0]?.message ?? answer.error ?? answer.errors?.[0]?.message };
}

/**
 * Polls /healthz every 10 ms from a process of its own (this one is busy sending the body) and
 * prints each latency in ms, one a line.
 */
function startPoller() {
  const script = `for (;;) { const s = performance.now(); try { await (await fetch(${JSON.stringify(`${base}/healthz`)})).text(); } catch {} console.log(performance.now() - s); await new Promise((r) => setTimeout(r, 10)); }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const latencies = [];
  let rest = '';
  child.stdout.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    latencies.push(...lines.map(Number));
  });
  return { latencies, stop: () => child.kill() };
}

/**
 * Runs `work` while /healthz is polled (once the poller answers) and the server's RSS sampled; the
 * latencies polled meanwhile, the peak RSS and how long `work` took.
 */
async function whilePolled(work) {
  let peak = rssMiB();
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB())), 10);
  const { latencies, stop } = startPoller();
  while (latencies.length < 3) await new Promise((r) => setTimeout(r, 20));
  latencies.length = 0;
  const start = process.hrtime.bigint();
  const result = await work(start);
  const took = ms(start);
  stop();
  clearInterval(sampler);
  return { result, took, latencies, peak };
}

/** Refuses `body` while /healthz is polled and the server's RSS sampled. */
async function measure(name, body, contentType, path) {
  const { result, took, latencies, peak } = await whilePolled(() => upload(body, contentType, path));
  const { status, first } = result;
  return {
    name,
    MiB: (body.length / 2 ** 20).toFixed(1),
    status,
    refusedMs: took.toFixed(0),
    healthzP99Ms: percentile(latencies, 99).toFixed(1),
    healthzMaxMs: Math.max(...latencies).toFixed(1),
    healthzPolls: latencies.length,
    peakRssMiB: peak.toFixed(0),
    first: first?.slice(0, 60),
  };
}

try {
  await waitHealthy();
  const baseline = rssMiB();
  // /healthz with nothing else to do, on this machine as loaded as it is now.
  const { latencies: idle, stop } = startPoller();
  while (idle.length < 100) await new Promise((r) => setTimeout(r, 50));
  stop();
  console.log(
    `/healthz at rest: p50 ${percentile(idle, 50).toFixed(1)} ms, p99 ${percentile(idle, 99).toFixed(1)} ms, max ${Math.max(...idle).toFixed(1)} ms`,
  );
  const items = (bytes, item) =>
    Array(Math.floor(bytes / (item.length + 1)))
      .fill(item)
      .join(',');
  // Every body as large as the service takes (the YAML one of small items excepted: see above).
  const bodies = [
    ['nested arrays', '['.repeat(size)],
    ['nested flow maps', '{a: '.repeat(size / 4)],
    ['nested block sequences', '- '.repeat(size / 2)],
    ['nested JSON objects', '{"a":'.repeat(size / 5), 'application/json'],
    ['small items (JSON, 1 MiB)', `[${items(wideSize, '[]')}]`, 'application/json'],
    ['small items (JSON)', `[${items(size - 2, '[]')}]`, 'application/json'],
    ['small items in a List (JSON)', `{"kind":"List","items":[${items(size - 30, '[]')}]}`, 'application/json'],
    ['NUL strings', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: [${items(wideSize, '"\\0"')}]\n`],
    // The GraphQL endpoint's body is JSON too, and as large as an upload (createSnapshot).
    [
      'GraphQL: variables of small items',
      `{"query":"{ snapshots { totalCount } }","variables":{"x":[${items(size - 60, '[]')}]}}`,
      'application/json',
      '/graphql',
    ],
    [
      'GraphQL: nested variables',
      `{"query":"{ snapshots { totalCount } }","variables":{"x":${'['.repeat(size - 60)}`,
      'application/json',
      '/graphql',
    ],
    [
      'GraphQL: createSnapshot of nested arrays',
      JSON.stringify({
        query: 'mutation ($m: String!) { createSnapshot(manifests: $m) { id } }',
        variables: { m: '['.repeat(size - 200) },
      }),
      'application/json',
      '/graphql',
    ],
  ];
  const rows = [];
  for (const [name, body, contentType, path] of bodies) rows.push(await measure(name, body, contentType, path));
  console.log(`server RSS at rest: ${baseline.toFixed(0)} MiB`);
  console.table(rows);

  // All of them at once, /healthz polled every 10 ms meanwhile.
  {
    const {
      result: answers,
      took,
      latencies,
      peak,
    } = await whilePolled((start) =>
      Promise.all(
        bodies.map(async ([name, body, contentType, path]) => {
          const { status } = await upload(body, contentType, path);
          return { name, status, answeredMs: ms(start).toFixed(0) };
        }),
      ),
    );
    console.table(answers);
    const p99 = percentile(latencies, 99);
    console.log(
      `concurrent: ${bodies.length} maximal bodies answered in ${took.toFixed(0)} ms (p99 of their answer times ${percentile(
        answers.map((a) => Number(a.answeredMs)),
        99,
      )} ms); /healthz ${latencies.length} polls: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(
        ...latencies,
      ).toFixed(1)} ms; server peak RSS ${peak.toFixed(0)} MiB`,
    );
    if (p99 > Number(process.env.BENCH_HEALTHZ_P99_MS ?? 100)) process.exitCode = 1;
  }

  const minimal = {
    'circular alias': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: &a {x: *a}\n',
    NUL: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: "a\\0b"}\n',
    'lone surrogate': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: "\\udfff"}\n',
    'nesting 20000': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: ${'['.repeat(20000)}${']'.repeat(20000)}}\n`,
    'dangling alias in mesh':
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    outboundTrafficPolicy: *nope\n',
    'complex key': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  ? [a, b]\n  : c\n',
    empty: '',
  };
  const times = [];
  const statuses = new Set();
  for (let round = 0; round < 30; round++) {
    for (const body of Object.values(minimal)) {
      const start = process.hrtime.bigint();
      statuses.add((await upload(body)).status);
      times.push(ms(start));
    }
  }
  console.log(
    `minimal inputs: ${times.length} refusals, statuses ${[...statuses].join(',')}, p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms`,
  );
} finally {
  server.kill('SIGTERM');
  await once(server, 'exit');
  await postgres.drop(benchDb);
  await postgres.close();
}
