// node bench/hostile.mjs (after npm run build): hostile uploads against `meshlens serve` in a
// child process, on a scratch database. For each body: the time to refuse it, /healthz's latency
// meanwhile (polled every 20 ms), the server's peak RSS; then the p99 refusal time of the
// minimal inputs of issue 11. BENCH_BODY_BYTES (default: MESHLENS_MAX_BODY_BYTES, 32 MiB) sizes
// the nesting bodies; BENCH_WIDE_BYTES (1 MiB) the body of small items, which yaml decodes at
// a few MiB per second.
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
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function upload(body, contentType = 'application/yaml') {
  const res = await fetch(`${base}/api/v1/snapshots`, { method: 'POST', headers: { 'content-type': contentType }, body });
  const answer = await res.json();
  return { status: res.status, first: answer.details?.[0]?.message ?? answer.error };
}

/**
 * Polls /healthz every 20 ms from a process of its own (this one is busy sending the body) and
 * prints each latency in ms, one a line.
 */
function startPoller() {
  const script = `for (;;) { const s = performance.now(); await fetch(${JSON.stringify(`${base}/healthz`)}); console.log(performance.now() - s); await new Promise((r) => setTimeout(r, 20)); }`;
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

/** Refuses `body` while /healthz is polled and the server's RSS sampled. */
async function measure(name, body, contentType) {
  let peak = rssMiB();
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB())), 20);
  const { latencies, stop } = startPoller();
  while (latencies.length < 3) await new Promise((r) => setTimeout(r, 20));
  latencies.length = 0;
  const start = process.hrtime.bigint();
  const { status, first } = await upload(body, contentType);
  const took = ms(start);
  stop();
  clearInterval(sampler);
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
  const rows = [];
  rows.push(await measure('nested arrays', '['.repeat(size)));
  rows.push(await measure('nested flow maps', '{a: '.repeat(size / 4)));
  rows.push(await measure('nested block sequences', '- '.repeat(size / 2)));
  rows.push(await measure('nested JSON objects', '{"a":'.repeat(size / 5), 'application/json'));
  rows.push(
    await measure(
      'small items (JSON)',
      `[${Array(Math.floor(wideSize / 3))
        .fill('[]')
        .join(',')}]`,
      'application/json',
    ),
  );
  rows.push(
    await measure(
      'NUL strings',
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: [${Array(Math.floor(wideSize / 6))
        .fill('"\\0"')
        .join(',')}]\n`,
    ),
  );
  console.log(`server RSS at rest: ${baseline.toFixed(0)} MiB`);
  console.table(rows);

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
