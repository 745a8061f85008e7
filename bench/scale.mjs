// The scale bench (`BENCH_SIZE=scale npm run bench`, or `node bench/scale.mjs` after `npm run build`):
// bench/generate.mjs's mesh with its pods alone multiplied: 1,000 Services, 200 Deployments (so the
// same 200 proxy classes) and BENCH_PODS pods (default 50,000, the size of Istio's published
// ambient-vs-sidecar scale test; a comma list runs each size in turn, e.g. 5000,20000,50000).
// For each size, `meshlens serve` (API and worker, as a user runs it) is started as a process of its
// own on a scratch database; the bench uploads the snapshot, polls it to READY, and reports the
// time, the proxy classes, and the peak RSS (VmHWM) of the API process (its worker included: the
// compute job runs in it, its parsing on a thread of it) and of its generator processes. Peak RSS
// per process is only meaningful for a process that lived through one size alone, hence a server
// per size. The machine is shared: when MemAvailable drops under BENCH_MIN_AVAILABLE_MIB (4096) the
// bench stops the server and reports how far it got.
// BENCH_SCALE_PHASES=1 also prints each phase's RSS (upload, normalise and session load, classes).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../dist/src/config/config.js';
import { generateSnapshot, SHAPE } from './generate.mjs';
import { benchPostgres } from './scratch-db.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sizes = (process.env.BENCH_PODS ?? '50000').split(',').map((s) => Number(s.trim()));
const minAvailableMiB = Number(process.env.BENCH_MIN_AVAILABLE_MIB ?? 4096);
const mib = (bytes) => (bytes / 1048576).toFixed(0);
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

/** VmHWM and VmRSS of a process in bytes, or null when it is gone. */
function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
    return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return null;
  }
}

function availableMiB() {
  return Number(/MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'))[1]) / 1024;
}

/** The pids of `parent`'s children named `name`. */
function childrenOf(parent, name) {
  const pids = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && stat.includes(`(${name})`)) pids.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** A POST without fetch's 300 s wait for the response headers: the scale mesh's upload may take longer on a loaded machine. */
function post(url, contentType, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': contentType } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function getJson(url) {
  for (let resets = 0; ; resets++) {
    try {
      return await (await fetch(url)).json();
    } catch (error) {
      if (error?.cause?.code !== 'ECONNRESET' || resets >= 100) throw error;
    }
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** `meshlens serve` on `databaseUrl`, its log lines parsed (JSON, one per line) and kept for `find`. */
async function startServer(databaseUrl) {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(root, 'dist/src/main.js'), 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      MESHLENS_AUTH: 'off',
      MESHLENS_RATE_LIMIT: '0',
      // The scale mesh's YAML is over the default 32 MiB body limit; its compute over the default
      // job and generator timeouts on a loaded machine; a failure is reported, not retried.
      MESHLENS_MAX_BODY_BYTES: String(1024 * 1024 * 1024),
      MESHLENS_JOB_TIMEOUT_SECONDS: '86400',
      MESHLENS_JOB_RETRY_LIMIT: '0',
      MESHLENS_GENERATOR_TIMEOUT_SECONDS: '3600',
      MESHLENS_GENERATOR_MAX_RSS_MB: '65536',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-4000)));
  let rest = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop();
    for (const line of parts) {
      try {
        lines.push(JSON.parse(line));
      } catch {
        // not a log line
      }
    }
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  const base = `http://127.0.0.1:${port}`;
  for (const started = Date.now(); ;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`meshlens serve exited: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    if (Date.now() - started > 120_000) throw new Error('meshlens serve did not start within 120 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    pid: child.pid,
    base,
    find: (re) => lines.map((l) => (typeof l.message === 'string' ? l.message : '')).find((m) => re.test(m)),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Samples the server and its generators every 500 ms: peak RSS of each (VmHWM, and the largest
 * VmRSS seen, per phase when asked); stops the server when the machine runs short of memory.
 */
function watch(server, onShort) {
  const peak = { api: 0, generator: 0, generators: new Set(), minAvailableMiB: Infinity, phases: [] };
  let phase = null;
  const sample = () => {
    const api = memoryOf(server.pid);
    if (api) peak.api = Math.max(peak.api, api.hwm);
    let generatorRss = 0;
    for (const pid of childrenOf(server.pid, 'generator')) {
      const m = memoryOf(pid);
      if (!m) continue;
      peak.generators.add(pid);
      peak.generator = Math.max(peak.generator, m.hwm);
      generatorRss += m.rss;
    }
    if (phase) {
      phase.api = Math.max(phase.api, api?.rss ?? 0);
      phase.generators = Math.max(phase.generators, generatorRss);
    }
    const available = availableMiB();
    peak.minAvailableMiB = Math.min(peak.minAvailableMiB, available);
    if (available < minAvailableMiB) onShort(available);
  };
  const timer = setInterval(sample, 500);
  return {
    peak,
    phase(name) {
      sample();
      phase = { name, api: 0, generators: 0 };
      peak.phases.push(phase);
    },
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

async function runSize(postgres, pods) {
  const podsPerDeployment = Math.round(pods / SHAPE.deployments);
  let t = Date.now();
  const { objects, yaml } = generateSnapshot({ podsPerDeployment });
  const generateMs = Date.now() - t;
  const podCount = objects.filter((o) => o.kind === 'Pod').length;
  console.log(
    `\n${podCount} pods (${SHAPE.deployments} Deployments of ${podsPerDeployment}), ${objects.length} resources, ${(yaml.length / 1048576).toFixed(1)} MiB of YAML, generated in ${secs(generateMs)}; load average ${load()}`,
  );
  const { name: db, url } = await postgres.create();
  const server = await startServer(url.toString());
  let short = null;
  const watcher = watch(server, (available) => {
    if (short) return;
    short = `MemAvailable ${available.toFixed(0)} MiB < ${minAvailableMiB} MiB: stopped`;
    console.log(`  ${short}`);
    void server.stop();
  });
  const result = { pods: podCount, resources: objects.length, loadAtStart: load() };
  try {
    watcher.phase('upload');
    t = Date.now();
    const res = await post(`${server.base}/api/v1/snapshots?name=scale`, 'application/yaml', yaml);
    const created = JSON.parse(res.body);
    if (res.status !== 201) throw new Error(`upload: HTTP ${res.status} ${res.body.slice(0, 300)}`);
    result.uploadMs = Date.now() - t;
    console.log(`  upload to 201: ${secs(result.uploadMs)}`);
    watcher.phase('compute, to 15 %: normalise, session load, proxies, analyze');
    let status;
    let lastPrinted = -1;
    let classesPhase = false;
    for (;;) {
      // A keep-alive connection the server closed while its event loop was busy resets the next GET: asked again.
      try {
        status = await getJson(`${server.base}/api/v1/snapshots/${created.id}`);
      } catch (error) {
        if (short) break; // the server was stopped for want of memory: reported below
        throw error;
      }
      if (status.status === 'READY' || status.status === 'FAILED' || short) break;
      const pct = Math.floor((status.progress ?? 0) * 100);
      if (!classesPhase && pct >= 15) {
        classesPhase = true;
        watcher.phase('compute, the classes (15 % on)');
      }
      if (pct >= lastPrinted + 10) {
        lastPrinted = pct - (pct % 10);
        const api = memoryOf(server.pid);
        const generators = childrenOf(server.pid, 'generator').reduce((sum, pid) => sum + (memoryOf(pid)?.rss ?? 0), 0);
        console.log(
          `  ${secs(Date.now() - t)}: ${status.status} ${pct} %, API RSS ${mib(api?.rss ?? 0)} MiB, generators ${mib(generators)} MiB, available ${availableMiB().toFixed(0)} MiB, load ${load()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    result.readyMs = Date.now() - t;
    result.status = short ? 'STOPPED' : status?.status;
    if (status?.status === 'FAILED') result.error = status.error;
    const computed = server.find(/^computed snapshot /);
    result.classes = Number(/ in (\d+) classes/.exec(computed ?? '')?.[1] ?? NaN);
    result.proxies = Number(/, (\d+) proxies in /.exec(computed ?? '')?.[1] ?? NaN);
  } finally {
    const peak = watcher.stop();
    result.peak = peak;
    result.loadAtEnd = load();
    await server.stop();
    await postgres.drop(db);
  }
  const p = result.peak;
  console.log(
    `  upload to READY: ${secs(result.readyMs)} (${result.status}${result.error ? `: ${result.error}` : ''}); ${result.proxies} proxies in ${result.classes} classes; peak RSS: API + worker ${mib(p.api)} MiB, generator ${mib(p.generator)} MiB (largest of ${p.generators.size}); least MemAvailable ${p.minAvailableMiB.toFixed(0)} MiB; load ${result.loadAtStart} -> ${result.loadAtEnd}`,
  );
  if (process.env.BENCH_SCALE_PHASES === '1')
    for (const ph of p.phases) console.log(`    ${ph.name}: API RSS max ${mib(ph.api)} MiB, generators ${mib(ph.generators)} MiB`);
  return result;
}

const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn' });
const postgres = await benchPostgres(config);
const results = [];
try {
  console.log(
    `scale bench: ${SHAPE.services} Services, ${SHAPE.deployments} Deployments, pods ${sizes.join(', ')}; ${os.cpus().length} CPUs`,
  );
  for (const pods of sizes) results.push(await runSize(postgres, pods));
} finally {
  await postgres.close();
}
console.log(`\n=== scale: ${SHAPE.services} Services, ${SHAPE.deployments} Deployments (${os.cpus().length} CPUs) ===`);
const first = results[0];
console.log('pods    | resources | upload 201 | READY      | classes | API+worker peak | generator peak | load at start -> end');
for (const r of results)
  console.log(
    [
      String(r.pods).padEnd(7),
      String(r.resources).padEnd(9),
      secs(r.uploadMs ?? NaN).padEnd(10),
      `${secs(r.readyMs ?? NaN)}${r === first ? '' : ` ${(r.readyMs / first.readyMs).toFixed(1)}x`}`.padEnd(10),
      String(r.classes).padEnd(7),
      `${mib(r.peak.api)} MiB${r === first ? '' : ` ${(r.peak.api / first.peak.api).toFixed(2)}x`}`.padEnd(15),
      `${mib(r.peak.generator)} MiB${r === first ? '' : ` ${(r.peak.generator / first.peak.generator).toFixed(2)}x`}`.padEnd(14),
      `${r.loadAtStart} -> ${r.loadAtEnd}`,
    ].join(' | '),
  );
if (results.some((r) => r.status !== 'READY')) process.exitCode = 1;
