// What several benches share: bench/generate.mjs's mesh scaled down, the 1 % change between two
// snapshots, and the HTTP calls a bench makes to a running meshlens (GraphQL, retried fetches).
import { generateSnapshot, SHAPE } from './generate.mjs';

/** The bench mesh, scaled: Deployment d (and its pods), Service s, VS/DR v kept when below `scale` of their counts. */
export function scaledMesh(scale) {
  const { objects } = generateSnapshot();
  if (scale >= 1) return objects;
  const index = (name) => Number(/-(\d+)(?:-\d+)?$/.exec(name)?.[1] ?? 0);
  return objects.filter((o) => {
    const n = o.metadata.name;
    switch (o.kind) {
      case 'Deployment':
        return index(n) < SHAPE.deployments * scale;
      case 'Pod': {
        // The ingress gateway's pod is not an app's: it stays.
        const app = /^app-(\d+)-/.exec(n);
        return !app || Number(app[1]) < SHAPE.deployments * scale;
      }
      case 'Service':
        return index(n) < SHAPE.services * scale;
      case 'VirtualService':
      case 'DestinationRule':
        return index(n) < SHAPE.virtualServices * scale;
      case 'ConfigMap':
        return index(n) < 3175 * scale;
      default:
        return true;
    }
  });
}

/**
 * 1 % of the resources, picked by a generator seeded with `round`, changed the way a day's work
 * changes them. A ConfigMap's data changes with `configMapData`, else (as any other kind) its labels.
 */
export function changeOnePercent(objects, round, { configMapData = true } = {}) {
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
    else if (o.kind === 'ConfigMap' && configMapData) o.data['settings.yaml'] = `replicas: ${round}\nfeature: off\n`;
    else o.metadata.labels = { ...(o.metadata.labels ?? {}), round: String(round) };
    out[i] = o;
  }
  return out;
}

/**
 * Issue 13's further snapshot: 1 % of the bench mesh's resources changed as its table names them:
 * VirtualService weights and destinations, DestinationRule policies, 5 Services added and 5 removed
 * (the last ones, which select no running app). The VirtualServices and DestinationRules changed
 * are spread over every namespace (every 7th, 7 being prime to the 20 namespaces).
 */
export function issueChange(objects) {
  const target = Math.round(objects.length / 100);
  const services = objects.filter((o) => o.kind === 'Service');
  const removed = new Set(services.slice(-5));
  const added = services.slice(0, 5).map((s, i) => {
    const o = structuredClone(s);
    o.metadata.name = `svc-added-${i}`;
    return o;
  });
  const policies = Math.floor((target - removed.size - added.length) / 2);
  const pick = (kind, n) => {
    const all = objects.filter((o) => o.kind === kind);
    return new Set(Array.from({ length: Math.min(n, all.length) }, (_, i) => all[(i * 7) % all.length]));
  };
  const virtualServices = pick('VirtualService', policies);
  const destinationRules = pick('DestinationRule', target - removed.size - added.length - virtualServices.size);
  const out = [];
  for (const o of objects) {
    if (removed.has(o)) continue;
    if (virtualServices.has(o)) {
      const c = structuredClone(o);
      const [v1, v2] = c.spec.http[1].route;
      v1.weight = 80;
      v2.weight = 20;
      c.spec.http[0].route[0].destination.subset = 'v1';
      out.push(c);
    } else if (destinationRules.has(o)) {
      const c = structuredClone(o);
      c.spec.trafficPolicy = { loadBalancer: { simple: 'ROUND_ROBIN' }, connectionPool: { tcp: { maxConnections: 50 } } };
      out.push(c);
    } else out.push(o);
  }
  return { objects: [...out, ...added], changed: removed.size + added.length + virtualServices.size + destinationRules.size };
}

/** fetch, once more when undici reused a keep-alive socket the server had just closed (ECONNRESET before the request reached it). */
export const fetchAgain = (url, init) =>
  fetch(url, init).catch((error) => (error?.cause?.code === 'ECONNRESET' ? fetch(url, init) : Promise.reject(error)));

/** A GraphQL client of the meshlens at `base`: the data, or an error with the messages of the errors. */
export function graphql(base) {
  return async (query, variables) => {
    const res = await fetchAgain(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.json();
    if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
    return body.data;
  };
}
