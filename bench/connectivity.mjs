// Connectivity (issue 15): on bench/generate.mjs's mesh, plus AuthorizationPolicies and a STRICT
// PeerAuthentication (so that senders are decided, not all simply allowed):
//   - the compute job with connectivity (ComputeService.compute, run here on the uploaded snapshot:
//     the app runs no worker) with its stats: connectivity time as a share of the job (goal <= 20 %),
//     sender classes, receiver decisions evaluated;
//   - what is stored: connection groups, sending workloads, their list_nodes rows and bytes;
//   - reading one namespace's connectivity (GraphQL, expanded to every sending workload): cold, then
//     p50/p99 over BENCH_READS (50) reads rotating over the namespaces; and one service's; then the
//     same namespace reads paged (`limit: BENCH_PAGE`, 100, at a rotating offset) and over REST unpaged.
// Run alone (`node bench/connectivity.mjs` after `npm run build`) or from `npm run bench` with
// MESHLENS_BENCH_CONNECTIVITY=1. BENCH_SCALE < 1 keeps that fraction of Deployments and Services.
import YAML from 'yaml';
import { ComputeService } from '../dist/src/jobs/compute.service.js';
import { withBenchApp } from './bench-app.mjs';
import { generateSnapshot, SHAPE } from './generate.mjs';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const READS = Number(process.env.BENCH_READS ?? 50);
const PAGE = Number(process.env.BENCH_PAGE ?? 100);
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const kib = (b) => `${(b / 1024).toFixed(0)} KiB`;

/** The bench mesh (scaled), with one ALLOW policy per namespace and STRICT mTLS in team-1. */
function mesh() {
  const index = (name) => Number(/-(\d+)(?:-\d+)?$/.exec(name)?.[1] ?? 0);
  const objects = generateSnapshot().objects.filter((o) => {
    if (SCALE >= 1) return true;
    if (o.kind === 'Deployment' || o.kind === 'Pod') return Number(/^app-(\d+)/.exec(o.metadata.name)[1]) < SHAPE.deployments * SCALE;
    if (o.kind === 'Service') return index(o.metadata.name) < SHAPE.services * SCALE;
    if (o.kind === 'VirtualService' || o.kind === 'DestinationRule') return index(o.metadata.name) < SHAPE.virtualServices * SCALE;
    return true;
  });
  for (let n = 0; n < SHAPE.namespaces; n++) {
    objects.push({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'callers', namespace: `team-${n}` },
      spec: {
        rules: [
          { from: [{ source: { namespaces: [`team-${n}`] } }] },
          { from: [{ source: { namespaces: ['team-0'] } }], to: [{ operation: { methods: ['GET', 'HEAD'], paths: ['/api/*'] } }] },
        ],
      },
    });
  }
  objects.push({
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name: 'default', namespace: 'team-1' },
    spec: { mtls: { mode: 'STRICT' } },
  });
  return objects;
}

// The app runs no worker: compute is called here, and timed.
await withBenchApp(
  async ({ app, base, client }) => {
    const objects = mesh();
    console.log(`connectivity bench: ${objects.length} resources (scale ${SCALE})`);
    // undici may reuse a keep-alive socket the server just closed: try once more.
    const retry = (f) => f().catch((error) => (error?.cause?.code === 'ECONNRESET' ? f() : Promise.reject(error)));
    const res = await retry(() =>
      fetch(`${base}/api/v1/snapshots?name=connectivity`, {
        method: 'POST',
        headers: { 'content-type': 'application/yaml' },
        body: objects.map((o) => YAML.stringify(o)).join('---\n'),
      }),
    );
    const { id } = await res.json();
    let t = performance.now();
    const stats = await app.get(ComputeService).compute(id, async () => {});
    const jobMs = performance.now() - t;
    console.log(
      `compute job: ${secs(jobMs)}; connectivity ${secs(stats.connectivityMs)} = ${((100 * stats.connectivityMs) / jobMs).toFixed(1)} % of the job (goal <= 20 %)`,
    );
    console.log(
      `  ${stats.proxies} proxies in ${stats.classes} proxy classes; ${stats.senderClasses} sender classes, ${stats.connectivityEvaluations} receiver decisions evaluated`,
    );
    const { rows } = await client.query(
      `SELECT list, count(*)::int AS nodes, sum(pg_column_size(entries) + coalesce(pg_column_size(children), 0))::bigint AS bytes
     FROM list_nodes WHERE list IN ('connections', 'senders') GROUP BY list ORDER BY list`,
    );
    console.log(`  stored: ${stats.connectionGroups} connection groups, ${stats.senders} sending workloads`);
    for (const r of rows) console.log(`  list_nodes ${r.list}: ${r.nodes} rows, ${kib(Number(r.bytes))}`);

    const read = async (query) => {
      const t0 = performance.now();
      const r = await retry(() =>
        fetch(`${base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            query: `query ($id: ID!, $ns: String, $svc: String, $limit: Int, $offset: Int) { snapshot(id: $id) {
            connectivity(namespace: $ns, service: $svc, limit: $limit, offset: $offset) {
              source { namespace name kind } destination verdict conditions tls policies { namespace name } } } }`,
            variables: { id, ...query },
          }),
        }),
      );
      const body = await r.json();
      if (body.errors) throw new Error(`read: ${JSON.stringify(body.errors).slice(0, 200)}`);
      return { ms: performance.now() - t0, n: body.data.snapshot.connectivity.length };
    };
    const readRest = async (query) => {
      const t0 = performance.now();
      const r = await retry(() => fetch(`${base}/api/v1/snapshots/${id}/connectivity?namespace=${query.ns}`));
      if (!r.ok) throw new Error(`read REST: ${r.status} ${await r.text()}`);
      const body = await r.json();
      return { ms: performance.now() - t0, n: body.connections.length };
    };
    const percentiles = async (label, f) => {
      const times = [];
      let n = 0;
      for (let i = 0; i < READS; i++) {
        const r = await f(i);
        times.push(r.ms);
        n = Math.max(n, r.n);
      }
      times.sort((a, b) => a - b);
      const q = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))].toFixed(0);
      console.log(`${label}, ${READS} reads: p50 ${q(50)} ms, p99 ${q(99)} ms (up to ${n} connections each)`);
    };
    const cold = await read({ ns: 'team-3' });
    console.log(`read one namespace (team-3), first: ${cold.ms.toFixed(0)} ms, ${cold.n} connections`);
    await percentiles('read one namespace', (i) => read({ ns: `team-${i % SHAPE.namespaces}` }));
    const one = await read({ ns: 'team-3', svc: 'svc-3' });
    console.log(`read one service (team-3/svc-3): ${one.ms.toFixed(0)} ms, ${one.n} connections`);
    await percentiles(`read one namespace, paged (limit ${PAGE})`, (i) =>
      read({ ns: `team-${i % SHAPE.namespaces}`, limit: PAGE, offset: (i * 7 * PAGE) % Math.max(1, cold.n - PAGE) }),
    );
    // The app runs no worker: the snapshot is READY once compute above has stored it.
    await client.query(`UPDATE snapshots SET status = 'READY' WHERE id = $1`, [id]);
    await percentiles('read one namespace over REST, unpaged', (i) => readRest({ ns: `team-${i % SHAPE.namespaces}` }));
  },
  { worker: false },
);
