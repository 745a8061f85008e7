// Proxy config storage: the compute job generating every workload's config once per proxy class and
// storing it content-addressed (src/jobs/compute.service.ts, src/database/proxy-config.store.ts).
// Run alone (`node bench/proxy-storage.mjs` after `npm run build`) or from `npm run bench` with
// MESHLENS_BENCH_PROXY_STORAGE=1. On bench/generate.mjs's mesh (BENCH_SCALE < 1 keeps that fraction
// of its Deployments, Services, VirtualServices and DestinationRules):
//   - upload to READY; proxy classes vs proxies; the CPU of this process, of its generators and of
//     the Postgres server meanwhile (the compute is bound by their sum on a small machine);
//   - stored bytes per table (pg_total_relation_size) for one snapshot, then after BENCH_FURTHER
//     (default 20) further snapshots each changing 1 % of the resources; goal: total <= 1.3x one
//     snapshot plus the objects the changes introduced (the growth of the two content tables,
//     envoy_objects and resource_bodies; also shown: the objects' column values alone);
//   - further snapshots' upload to READY as a share of the first (the compute job reuses the config
//     of the classes istiod would not push; BENCH_SIDECAR_SCOPED=1 scopes each namespace's sidecars
//     to it with a Sidecar, as without one every sidecar depends on every Service);
//   - proxyConfig p99 read from storage (GraphQL); peak RSS of this process (API + worker) and of the
//     generator sessions.
// BENCH_KEEP_DB=1 keeps the scratch database (its name is printed) to look at what was stored.
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import YAML from 'yaml';
import { ProxyConfigStore } from '../dist/src/database/proxy-config.store.js';
import { ComputeService } from '../dist/src/jobs/compute.service.js';
import { WorkloadStore } from '../dist/src/database/workload.store.js';
import { withBenchApp } from './bench-app.mjs';
import { changeOnePercent, fetchAgain, graphql, scaledMesh } from './common.mjs';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const FURTHER = Number(process.env.BENCH_FURTHER ?? 20);
const READS = Number(process.env.BENCH_READS ?? 50);
const SIDECAR_SCOPED = process.env.BENCH_SIDECAR_SCOPED === '1';
const mib = (b) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
/** An upload's CPU, upload to READY: on 2 cores, half their sum is the least wall time it can take. */
const cpuLine = (u) =>
  `CPU: Node ${secs(u.cpuMs)}, generators ${secs(u.generatorCpuMs)}, Postgres ${secs(u.postgresCpuMs)}, in all ${secs(u.cpuMs + u.generatorCpuMs + u.postgresCpuMs)}`;

/**
 * Every process now, from /proc: its pid, command name, parent and CPU seconds so far (user and
 * system); a process that ends meanwhile is left out.
 */
function processes() {
  const tick = 100; // USER_HZ
  const out = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      out.push({ pid, comm, ppid: Number(fields[1]), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / tick });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The generator processes this process started. */
const isOurGenerator = (p) => p.comm === 'generator' && p.ppid === process.pid;

/** Peak RSS (VmHWM) of every generator process this process started, sampled while it runs. */
function watchGenerators() {
  const peak = new Map();
  const sample = () => {
    for (const { pid } of processes().filter(isOurGenerator)) {
      try {
        const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
        peak.set(pid, Math.max(peak.get(pid) ?? 0, hwm));
      } catch {
        // gone meanwhile
      }
    }
  };
  const timer = setInterval(sample, 500);
  return { stop: () => (clearInterval(timer), sample(), Math.max(0, ...peak.values())), count: () => peak.size };
}

/**
 * CPU seconds so far of the generator processes this process started and of the Postgres server's
 * processes (every backend: run on a quiet machine): with this process's own, where a compute's CPU
 * goes. A process that ends between two readings takes its CPU with it.
 */
function childCpu() {
  const sum = { generator: 0, postgres: 0 };
  for (const p of processes()) {
    if (isOurGenerator(p)) sum.generator += p.cpuSeconds;
    else if (p.comm === 'postgres') sum.postgres += p.cpuSeconds;
  }
  return sum;
}

const generators = watchGenerators();
await withBenchApp(
  async ({ app, base, client }) => {
    const gql = graphql(base);
    // Each compute job's steps (ComputeStats.phases), by snapshot id, to print where its time went.
    const phasesOf = new Map();
    const computeService = app.get(ComputeService);
    const compute = computeService.compute.bind(computeService);
    computeService.compute = async (id, progress) => {
      const stats = await compute(id, progress);
      phasesOf.set(id, {
        reused: `${stats.reusedClasses}/${stats.classes} classes`,
        phases: { ...stats.phases, 'of which connectivity (thread)': stats.connectivityMs },
      });
      return stats;
    };
    const phaseLine = (job) =>
      `${job?.reused} reused; ${Object.entries(job?.phases ?? {})
        .map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(2)}`)
        .join(', ')}`;
    const push = async (objects, name) => {
      const yaml = objects.map((o) => YAML.stringify(o)).join('---\n');
      const t = Date.now();
      const cpu = process.cpuUsage();
      const children = childCpu();
      const res = await fetchAgain(`${base}/api/v1/snapshots?name=${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/yaml' },
        body: yaml,
      });
      const created = await res.json();
      if (res.status !== 201) throw new Error(`upload: HTTP ${res.status} ${JSON.stringify(created).slice(0, 300)}`);
      let s;
      do {
        await new Promise((r) => setTimeout(r, 100));
        s = await (await fetch(`${base}/api/v1/snapshots/${created.id}`)).json();
      } while (s.status !== 'READY' && s.status !== 'FAILED');
      if (s.status === 'FAILED') throw new Error(`snapshot ${name} failed: ${s.error}`);
      // The CPU of this process (API, worker and the job's thread; not the generator), steadier than wall time on a shared machine.
      const used = process.cpuUsage(cpu);
      const after = childCpu();
      return {
        id: created.id,
        ms: Date.now() - t,
        cpuMs: (used.user + used.system) / 1000,
        generatorCpuMs: (after.generator - children.generator) * 1000,
        postgresCpuMs: (after.postgres - children.postgres) * 1000,
      };
    };
    const sizes = async () => {
      const { rows } = await client.query(
        `SELECT c.relname AS name, pg_total_relation_size(c.oid)::bigint AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1`,
      );
      return Object.fromEntries(rows.map((r) => [r.name, Number(r.bytes)]));
    };
    const total = (s) => Object.values(s).reduce((a, b) => a + b, 0);
    const printSizes = (label, s) => {
      console.log(`${label}: ${mib(total(s))}`);
      for (const [name, bytes] of Object.entries(s)) if (name !== 'migrations') console.log(`  ${name.padEnd(20)} ${mib(bytes)}`);
    };

    let objects = scaledMesh(SCALE);
    if (SIDECAR_SCOPED) {
      // Each namespace's sidecars import their own namespace only: istiod pushes a change to the
      // namespaces that see it, and the further snapshots reuse the config of the others.
      const namespaces = objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name);
      objects = [
        ...objects,
        ...namespaces.map((namespace) => ({
          apiVersion: 'networking.istio.io/v1',
          kind: 'Sidecar',
          metadata: { name: 'default', namespace },
          spec: { egress: [{ hosts: ['./*', 'istio-system/*'] }] },
        })),
      ];
    }
    console.log(
      `proxy storage bench: ${objects.length} resources (scale ${SCALE}${SIDECAR_SCOPED ? ', a Sidecar per namespace' : ''}), ${FURTHER} further snapshots`,
    );
    const first = await push(objects, 'bench-0');
    const workloads = await app.get(WorkloadStore).list(first.id);
    const proxies = workloads.filter((w) => w.proxyClass !== null).length;
    const classes = (await app.get(ProxyConfigStore).classesOf(first.id)).length;
    const [{ objects: nObjects, nodes: nNodes }] = (
      await client.query(
        'SELECT (SELECT count(*)::int FROM envoy_objects) AS objects, (SELECT count(*)::int FROM envoy_config_nodes) AS nodes',
      )
    ).rows;
    console.log(`  first compute job, s: ${phaseLine(phasesOf.get(first.id))}; ${cpuLine(first)}`);
    console.log(
      `upload to READY: ${secs(first.ms)}; ${proxies} proxies in ${classes} proxy classes; ${nObjects} distinct Envoy objects, ${nNodes} tree nodes`,
    );
    await client.query('VACUUM ANALYZE');
    const one = await sizes();
    printSizes('stored after one snapshot', one);
    await client.query('CREATE TEMP TABLE first_objects AS SELECT hash FROM envoy_objects');
    await client.query('CREATE TEMP TABLE first_bodies AS SELECT hash FROM resource_bodies');

    // proxyConfig from storage: GraphQL, a different workload each time.
    const names = workloads.filter((w) => w.proxyClass !== null);
    const reads = [];
    for (let i = 0; i < READS; i++) {
      const w = names[(i * 7919) % names.length];
      const t = Date.now();
      await gql(`query($id: ID!, $p: ProxyInput!) { proxyConfig(snapshotId: $id, proxy: $p) { listeners { name } clusters { name } } }`, {
        id: first.id,
        p: { namespace: w.namespace, name: w.name },
      });
      reads.push(Date.now() - t);
    }
    reads.sort((a, b) => a - b);
    const pct = (p) => reads[Math.min(reads.length - 1, Math.ceil((p / 100) * reads.length) - 1)];
    console.log(
      `proxyConfig from storage (GraphQL, listeners + clusters of a sidecar): p50 ${pct(50)} ms, p99 ${pct(99)} ms over ${READS}`,
    );

    const readyTimes = [];
    for (let round = 1; round <= FURTHER; round++) {
      objects = changeOnePercent(objects, round);
      const further = await push(objects, `bench-${round}`);
      readyTimes.push(further.ms);
      console.log(
        `  further snapshot ${round}: upload to READY ${secs(further.ms)}, ${cpuLine(further)}; compute job, s: ${phaseLine(phasesOf.get(further.id))}`,
      );
    }
    if (FURTHER > 0) {
      await client.query('VACUUM ANALYZE');
      const all = await sizes();
      const [{ bytes: newObjectBytes, n: newObjects }] = (
        await client.query(
          `SELECT coalesce(sum(pg_column_size(o.*)), 0)::bigint AS bytes, count(*)::int AS n FROM envoy_objects o WHERE o.hash NOT IN (SELECT hash FROM first_objects)`,
        )
      ).rows;
      const [{ bytes: newBodyBytes }] = (
        await client.query(
          `SELECT coalesce(sum(pg_column_size(b.*)), 0)::bigint AS bytes FROM resource_bodies b WHERE b.hash NOT IN (SELECT hash FROM first_bodies)`,
        )
      ).rows;
      const median = readyTimes.sort((a, b) => a - b)[readyTimes.length >> 1];
      // The compute job reuses the stored config of the classes istiod would not push (README, incremental computation).
      console.log(
        `further snapshots: upload to READY median ${secs(median)} = ${((100 * median) / first.ms).toFixed(0)} % of the first (goal <= 25 %); load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
      );
      printSizes(`stored after ${FURTHER + 1} snapshots`, all);
      // The two content tables hold nothing but objects, each row one (content-addressed): all they
      // grew by is the changed objects as stored (rows, TOAST, index entries). Everything else (lists,
      // trees, snapshot rows) is what the goal bounds.
      const content = (s) => s.envoy_objects + s.resource_bodies;
      const changedStored = content(all) - content(one);
      const changedValues = Number(newObjectBytes) + Number(newBodyBytes);
      console.log(
        `  changed objects: ${newObjects} new Envoy objects (${mib(Number(newObjectBytes))}), changed resource bodies ${mib(Number(newBodyBytes))}; as stored (growth of envoy_objects + resource_bodies) ${mib(changedStored)}`,
      );
      console.log(
        `  total ${mib(total(all))} = ${(total(all) / total(one)).toFixed(2)}x one snapshot; minus the changed objects as stored: ${((total(all) - changedStored) / total(one)).toFixed(2)}x (goal <= 1.3x); minus their values alone: ${((total(all) - changedValues) / total(one)).toFixed(2)}x`,
      );
    }
    const rss = process.resourceUsage().maxRSS * 1024;
    console.log(
      `peak RSS: this process (API + worker) ${mib(rss)}; generator sessions ${mib(generators.stop())} (largest of ${generators.count()})`,
    );
  },
  { beforeClose: () => generators.stop() },
);
