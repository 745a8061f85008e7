// Incremental computation, held to a full one: a mesh is computed, then each round changes about
// 1 % of it at random (route weights and destinations, DestinationRule policies, Services added
// and removed, pod labels and images, Namespace labels, a Sidecar, an AuthorizationPolicy, a
// PeerAuthentication) and uploads it twice: to the mesh that holds the earlier rounds (the job
// reuses the stored config of the classes Istio's push logic leaves alone) and to a mesh of its own
// (nothing to reuse: every class is generated). Both must store the same classes with
// byte-identical config (content-addressed: the same tree root), the same workloads and the same
// connectivity rows (a reused class's connectivity is read from its stored config).
// MESHLENS_TEST_INCREMENTAL_ROUNDS (default 3) runs more.
import request from 'supertest';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ConnectivityStore } from '../../src/database/connectivity.store.js';
import { ProxyConfigStore } from '../../src/database/proxy-config.store.js';
import { ComputeService, type ComputeStats } from '../../src/jobs/compute.service.js';
import {
  authorizationPolicy,
  destinationRule,
  gateway,
  namespace,
  peerAuthentication,
  pod,
  service,
  virtualService,
  yaml,
  type Manifest,
} from '../support/mesh.js';
import { uploadSnapshot, useTestApp, waitReady, type TestApp } from '../support/test-app.js';

const ROUNDS = Number(process.env.MESHLENS_TEST_INCREMENTAL_ROUNDS ?? 3);
const NAMESPACES = ['a', 'b', 'c'];
const APPS = 3;

/** A deterministic random source (a seed per round: a failure names the round to replay). */
function random(seed: number) {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

const host = (ns: string, app: string) => `${app}.${ns}.svc.cluster.local`;

/**
 * Three namespaces of three apps, two pods each (versions v1 and v2), each app's Service,
 * VirtualService (90/10 between versions) and DestinationRule; namespace c scoped by a Sidecar to
 * itself (its proxies depend on nothing outside it), an AuthorizationPolicy in a, a
 * PeerAuthentication in b; an ingress gateway routing to a's first app.
 */
function baseMesh(): Manifest[] {
  const out: Manifest[] = [namespace('istio-system', { injection: false })];
  let ip = 10;
  for (const ns of NAMESPACES) {
    out.push(namespace(ns));
    for (let i = 0; i < APPS; i++) {
      const app = `app-${i}`;
      out.push(service(ns, app, [{ name: 'http', port: 80, targetPort: 8080 }]));
      for (const version of ['v1', 'v2']) {
        out.push(
          pod(ns, `${app}-${version}`, { labels: { app, version }, ip: `10.0.0.${ip++}`, containerPorts: [{ containerPort: 8080 }] }),
        );
      }
      out.push(
        virtualService(ns, app, {
          hosts: [host(ns, app)],
          http: [
            {
              route: [
                { destination: { host: host(ns, app), subset: 'v1' }, weight: 90 },
                { destination: { host: host(ns, app), subset: 'v2' }, weight: 10 },
              ],
            },
          ],
        }),
        destinationRule(ns, app, {
          host: host(ns, app),
          trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' }, connectionPool: { tcp: { maxConnections: 100 } } },
          subsets: [
            { name: 'v1', labels: { version: 'v1' } },
            { name: 'v2', labels: { version: 'v2' } },
          ],
        }),
      );
    }
  }
  out.push(
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Sidecar',
      metadata: { name: 'default', namespace: 'c' },
      spec: { egress: [{ hosts: ['./*', 'istio-system/*'] }] },
    },
    authorizationPolicy('a', 'allow-b', { rules: [{ from: [{ source: { namespaces: ['b'] } }] }] }),
    peerAuthentication('b', 'default', { mtls: { mode: 'PERMISSIVE' } }),
    service('istio-system', 'istio-ingressgateway', [{ name: 'http', port: 80, targetPort: 8080 }], {
      selector: { istio: 'ingressgateway' },
    }),
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'gw-1', namespace: 'istio-system', labels: { istio: 'ingressgateway' } },
      spec: { containers: [{ name: 'istio-proxy', image: 'proxyv2', args: ['proxy', 'router'] }] },
      status: { podIP: '10.0.1.1' },
    },
    gateway('istio-system', 'ingress', {
      selector: { istio: 'ingressgateway' },
      servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }],
    }),
    virtualService('istio-system', 'ingress', {
      hosts: ['*'],
      gateways: ['ingress'],
      http: [{ route: [{ destination: { host: host('a', 'app-0'), port: { number: 80 } } }] }],
    }),
  );
  return out;
}

type Change = (objects: Manifest[], rand: () => number, round: number) => Manifest[];

const pick = <T>(items: T[], rand: () => number): T => items[Math.floor(rand() * items.length)];
const ofKind = (objects: Manifest[], kind: string, ns?: string) =>
  objects.filter((o) => o.kind === kind && (ns === undefined || o.metadata.namespace === ns));
/** The objects with `target` replaced by what `edit` makes of a copy of it. */
const replace = (objects: Manifest[], target: Manifest, edit: (o: Manifest & { spec: any }) => void) =>
  objects.map((o) => {
    if (o !== target) return o;
    const copy = structuredClone(o) as Manifest & { spec: any };
    edit(copy);
    return copy;
  });
const userNamespaces = (o: Manifest) => NAMESPACES.includes(o.metadata.namespace ?? '');

const CHANGES: Record<string, Change> = {
  weights: (objects, rand) => {
    const vs = pick(ofKind(objects, 'VirtualService').filter(userNamespaces), rand);
    const w = 10 + Math.floor(rand() * 80);
    return replace(objects, vs, (o) => {
      o.spec.http[0].route[0].weight = w;
      o.spec.http[0].route[1].weight = 100 - w;
    });
  },
  destination: (objects, rand) => {
    const vs = pick(ofKind(objects, 'VirtualService').filter(userNamespaces), rand);
    const ns = vs.metadata.namespace!;
    const other = host(ns, `app-${Math.floor(rand() * APPS)}`);
    return replace(objects, vs, (o) => {
      o.spec.http[0].route[1].destination.host = other;
    });
  },
  destinationRule: (objects, rand) => {
    const dr = pick(ofKind(objects, 'DestinationRule'), rand);
    const n = 50 + Math.floor(rand() * 500);
    const lb = pick(['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM'], rand);
    return replace(objects, dr, (o) => {
      o.spec.trafficPolicy = { loadBalancer: { simple: lb }, connectionPool: { tcp: { maxConnections: n } } };
    });
  },
  serviceAdded: (objects, rand, round) => {
    const ns = pick(NAMESPACES, rand);
    const app = `app-${Math.floor(rand() * APPS)}`;
    return [...objects, service(ns, `extra-${round}`, [{ name: 'http', port: 8000 + round, targetPort: 8080 }], { selector: { app } })];
  },
  serviceRemoved: (objects, rand) => {
    const svc = pick(ofKind(objects, 'Service').filter(userNamespaces), rand);
    return objects.filter((o) => o !== svc);
  },
  labels: (objects, rand) => {
    const p = pick(ofKind(objects, 'Pod').filter(userNamespaces), rand);
    const version = rand() < 0.5 ? 'v1' : 'v3';
    return replace(objects, p, (o) => {
      o.metadata.labels = { ...o.metadata.labels, version };
    });
  },
  // A Namespace relabelled: by a label istiod never reads (nobody pushed), the traffic distribution
  // its Services inherit, or injection turned on or off (its pods gain or lose their sidecars).
  namespace: (objects, rand, round) => {
    const ns = pick(
      ofKind(objects, 'Namespace').filter((o) => NAMESPACES.includes(o.metadata.name)),
      rand,
    );
    const edit = pick<(o: Manifest) => void>(
      [
        (o) => (o.metadata.labels = { ...o.metadata.labels, round: String(round) }),
        (o) => (o.metadata.annotations = { 'networking.istio.io/traffic-distribution': pick(['PreferClose', 'PreferNetwork'], rand) }),
        (o) => (o.metadata.labels = { ...o.metadata.labels, 'istio-injection': pick(['enabled', 'disabled'], rand) }),
      ],
      rand,
    );
    return replace(objects, ns, edit);
  },
  image: (objects, rand, round) => {
    const p = pick(ofKind(objects, 'Pod').filter(userNamespaces), rand);
    return replace(objects, p, (o) => {
      o.spec.containers[0].image = `app:1.${round}`;
    });
  },
  sidecar: (objects, rand) => {
    const sc = ofKind(objects, 'Sidecar')[0];
    const hosts = pick([['./*', 'istio-system/*'], ['./*', 'istio-system/*', 'a/*'], ['./*']], rand);
    return replace(objects, sc, (o) => {
      o.spec.egress = [{ hosts }];
    });
  },
  authorizationPolicy: (objects, rand) => {
    const ap = ofKind(objects, 'AuthorizationPolicy')[0];
    const namespaces = pick([['b'], ['b', 'c'], ['c']], rand);
    return replace(objects, ap, (o) => {
      o.spec.rules = [{ from: [{ source: { namespaces } }], to: [{ operation: { methods: ['GET'] } }] }];
    });
  },
  peerAuthentication: (objects, rand) => {
    const pa = ofKind(objects, 'PeerAuthentication')[0];
    const mode = pick(['STRICT', 'PERMISSIVE', 'DISABLE'], rand);
    return replace(objects, pa, (o) => {
      o.spec.mtls = { mode };
    });
  },
};

/**
 * What a snapshot stored: its classes (key, config tree root, ProxyInfo, members), each workload's
 * class, and its connectivity (every connection group and sender row).
 */
async function storedConfig(app: TestApp['app'], id: string) {
  const { workloads, classes } = await app.get(ProxyConfigStore).computed(id);
  const connectivity = app.get(ConnectivityStore);
  const roots = await connectivity.roots(id);
  expect(roots, `snapshot ${id} has connectivity`).not.toBeNull();
  return {
    classes: [...classes.values()].sort((x, y) => (x.classKey < y.classKey ? -1 : x.classKey > y.classKey ? 1 : 0)),
    workloads: workloads.map((w) => `${w.namespace}/${w.name}/${w.kind} ${w.proxyClass}`),
    connectivity: await connectivity.readLists(roots!),
  };
}

describe('incremental computation equals a full one', () => {
  const t = useTestApp();
  // The worker's computations, called through: what each reused.
  const compute = vi.spyOn(ComputeService.prototype, 'compute');
  const statsOf = async (id: string): Promise<ComputeStats> => {
    const results = compute.mock.calls.flatMap((call, i) => (call[0] === id ? [compute.mock.results[i]] : []));
    return (await results.at(-1)!.value) as ComputeStats;
  };
  afterAll(() => vi.restoreAllMocks());

  it(
    `stores byte-identical config for every class over ${ROUNDS} rounds of random 1 % changes`,
    async () => {
      let objects = baseMesh();
      const first = await uploadSnapshot(t.app, yaml(...objects), 'round-0');
      await waitReady(t.app, first, 180_000);
      let reused = 0;
      const names = Object.keys(CHANGES);
      for (let round = 1; round <= ROUNDS; round++) {
        const rand = random(round * 7919 + 13);
        // About 1 % of a mesh this size is one object; two changes a round mix kinds of change.
        const applied = [pick(names, rand), pick(names, rand)];
        for (const name of applied) objects = CHANGES[name](objects, rand, round);
        const manifests = yaml(...objects);
        const incremental = await uploadSnapshot(t.app, manifests, `round-${round}`);
        await waitReady(t.app, incremental, 180_000);
        const fullId = await uploadToOwnMesh(t, manifests, `full-${round}`);
        const [inc, ref] = await Promise.all([storedConfig(t.app, incremental), storedConfig(t.app, fullId)]);
        expect(inc, `round ${round} (${applied.join(', ')})`).toEqual(ref);
        expect((await statsOf(fullId)).reusedClasses, `round ${round}: the full computation reused nothing`).toBe(0);
        reused += (await statsOf(incremental)).reusedClasses;
      }
      // The changes confined to one namespace leave namespace c's Sidecar-scoped classes alone.
      expect(reused).toBeGreaterThan(0);
    },
    600_000 + ROUNDS * 240_000,
  );
});

/** An upload to a mesh of its own, READY: nothing earlier to reuse from, every class generated. */
async function uploadToOwnMesh(t: TestApp, manifests: string, mesh: string): Promise<string> {
  const res = await request(t.app.getHttpServer())
    .post(`/api/v1/snapshots?name=${mesh}&mesh=${mesh}`)
    .set('content-type', 'application/yaml')
    .send(manifests);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  await waitReady(t.app, res.body.id as string, 180_000);
  return res.body.id as string;
}
