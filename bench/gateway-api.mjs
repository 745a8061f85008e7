// The bench mesh's ingress written two ways, side by side on one running meshlens (API and worker):
//   istio:       5 Istio Gateways (selector istio: ingressgateway) and the VirtualServices bound to them,
//                asked through an ad-hoc ingress gateway proxy, as the rest of the bench does;
//   gateway-api: the same 5 Gateways as Kubernetes Gateway API Gateways of class istio plus 300
//                HTTPRoutes (bench/generate.mjs), asked through the gateway workloads istiod deploys.
// For each: upload to READY (decode, validate, store, then the compute job: istiod's gateway
// deployment controller, the session load, every proxy class's config) and resolveRoute warm
// through the gateway (GraphQL, BENCH_RESOLVE_CALLS calls, 20 by default). BENCH_GATEWAY_API_DEPLOYMENTS
// (200, the bench mesh's) makes both meshes smaller: that many Deployments of 25 pods.
import { generateSnapshot, SHAPE } from './generate.mjs';
import { stats } from './generator.mjs';

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;

const RESOLVE = `query($s: ID!, $p: ProxyInput!, $c: CallInput!) { resolveRoute(snapshotId: $s, proxy: $p, call: $c) { route cluster weightedClusters { cluster weight } routeSource { kind name } error } }`;

/** Uploads a mesh, waits for READY, then asks resolveRoute through its gateways. */
async function one(base, label, yaml, gatewayOf, log) {
  const gql = async (query, variables) => {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.json();
    if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
    return body.data;
  };
  let t = process.hrtime.bigint();
  const created = await (
    await fetch(`${base}/api/v1/snapshots?name=bench-${label}`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: yaml,
    })
  ).json();
  if (!created.id) throw new Error(`${label}: upload failed: ${JSON.stringify(created).slice(0, 300)}`);
  const uploadMs = ms(t);
  let snapshot;
  for (;;) {
    try {
      snapshot = await (await fetch(`${base}/api/v1/snapshots/${created.id}`)).json();
      if (snapshot.status === 'READY' || snapshot.status === 'FAILED') break;
    } catch {
      // A kept-alive connection the server closed while the worker held its event loop: ask again.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const readyMs = ms(t);
  if (snapshot.status !== 'READY') throw new Error(`${label}: ${snapshot.status}: ${snapshot.error}`);
  log(`  ${label}: 201 after ${uploadMs.toFixed(0)} ms, READY after ${readyMs.toFixed(0)} ms`);
  const n = Number(process.env.BENCH_RESOLVE_CALLS ?? 20);
  const calls = Array.from({ length: n }, (_, i) => ({
    mode: 'GATEWAY',
    port: 80,
    host: `gw-${i % 5}.example.com`,
    path: `/items/${i}`,
    headers: i % 2 ? [{ name: 'x-canary', value: 'true' }] : [],
  }));
  // Warm: the session loads on the first question, each gateway's config on its first.
  const outcomes = {};
  for (const [i, c] of calls.entries()) {
    const r = (await gql(RESOLVE, { s: created.id, p: gatewayOf(i), c })).resolveRoute;
    const key = r.error ?? (r.routeSource ? `${r.routeSource.kind} route` : 'VirtualService route');
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  log(`  ${label}: outcomes ${JSON.stringify(outcomes)}`);
  const warm = [];
  for (const [i, c] of calls.entries()) {
    t = process.hrtime.bigint();
    await gql(RESOLVE, { s: created.id, p: gatewayOf(i), c });
    warm.push(ms(t));
  }
  return { uploadMs, readyMs, resolve: stats(warm), outcomes };
}

/** Both meshes on a server at `base` whose worker computes snapshots. */
export async function benchGatewayApi(base, { log = console.log } = {}) {
  const deployments = Number(process.env.BENCH_GATEWAY_API_DEPLOYMENTS ?? SHAPE.deployments);
  const gatewayApiMesh = generateSnapshot({ gatewayApi: true, deployments });
  log(`  ${gatewayApiMesh.objects.length} resources each, ${deployments} Deployments of ${SHAPE.podsPerDeployment} pods`);
  const istio = await one(
    base,
    'istio-api',
    generateSnapshot({ deployments }).yaml,
    () => ({
      namespace: 'team-0',
      labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' },
      ip: '10.255.0.1',
      type: 'ROUTER',
    }),
    log,
  );
  const gatewayApi = await one(
    base,
    'gateway-api',
    gatewayApiMesh.yaml,
    (i) => ({
      namespace: 'team-0',
      name: `gw-${i % 5}-istio`,
    }),
    log,
  );
  return { istio, gatewayApi, resources: gatewayApiMesh.objects.length, deployments };
}
