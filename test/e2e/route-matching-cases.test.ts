// Route matching as suites of the istio-config-validator kind check it (test/e2e/route-matching/
// cases.yaml, cases of our own on our own mesh.yaml): a request, every combination of its
// authorities, methods and URIs, walked through the Envoy config istiod gives the client's sidecar
// or the ingress gateway; the answer's VirtualService, cluster or weighted clusters, error, and the
// matched Envoy route's config (rewrite, redirect, fault, mirror, headers...) read through
// proxyConfig at the position resolveRoute names.
import { readFileSync } from 'node:fs';
import request from 'supertest';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { uploadReady, useTestApp } from '../support/test-app.js';

interface RouteCase {
  description: string;
  from?: keyof typeof PROXIES;
  port?: number;
  request: { authority: string[]; method: string[]; uri: string[]; headers?: Record<string, string> };
  want: {
    error?: string | null;
    virtualService?: string;
    cluster?: string | null;
    weightedClusters?: { cluster: string; weight: number }[];
    route?: Record<string, unknown>;
  };
}

interface Resolution {
  routeConfig: string | null;
  virtualHost: string | null;
  routeIndex: number | null;
  cluster: string | null;
  weightedClusters: { cluster: string; weight: number }[] | null;
  virtualService: { namespace: string; name: string } | null;
  error: string | null;
  trace: { stage: string; detail: string }[];
}

type EnvoyRoutes = { name: string; config: { virtualHosts?: { name: string; routes?: Record<string, unknown>[] }[] } }[];

const fixture = (name: string) => readFileSync(new URL(`route-matching/${name}`, import.meta.url), 'utf8');
const CASES = (YAML.parse(fixture('cases.yaml')) as { cases: RouteCase[] }).cases;

const PROXIES = {
  sidecar: { proxy: { namespace: 'web', name: 'client' }, mode: 'OUTBOUND', port: 80 },
  gateway: { proxy: { namespace: 'istio-system', name: 'istio-ingressgateway' }, mode: 'GATEWAY', port: 8080 },
  // A gateway described by its labels, as router-check-style tools name one.
  'ad-hoc gateway': {
    proxy: { namespace: 'istio-system', labels: { istio: 'ingressgateway' }, ip: '10.244.0.9', type: 'ROUTER' },
    mode: 'GATEWAY',
    port: 8080,
  },
} as const;

const RESOLVE = `query ($id: ID!, $proxy: ProxyInput!, $call: CallInput!) {
  resolveRoute(snapshotId: $id, proxy: $proxy, call: $call) {
    routeConfig virtualHost routeIndex cluster weightedClusters { cluster weight } virtualService { namespace name } error
    trace { stage detail }
  }
}`;
const ROUTES = `query ($id: ID!, $proxy: ProxyInput!) { proxyConfig(snapshotId: $id, proxy: $proxy) { routes { name config } } }`;

/** Every request a case stands for: authorities × methods × URIs, with its headers. */
function unfold(c: RouteCase) {
  return c.request.authority.flatMap((host) =>
    c.request.method.flatMap((method) =>
      c.request.uri.map((path) => ({
        host,
        method,
        path,
        headers: Object.entries(c.request.headers ?? {}).map(([name, value]) => ({ name, value })),
      })),
    ),
  );
}

describe('route matching cases (istio-config-validator style)', () => {
  const t = useTestApp();
  let id: string;
  const routes = new Map<string, Promise<EnvoyRoutes>>();
  beforeAll(async () => {
    [id] = await uploadReady(t.app, [[fixture('mesh.yaml'), 'route-matching']], 180_000);
  }, 240_000);

  const graphql = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const res = await request(t.app.getHttpServer()).post('/graphql').send({ query, variables });
    expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
    return res.body.data as T;
  };
  /** The proxy's route configurations, asked once per proxy. */
  const envoyRoutes = (from: keyof typeof PROXIES) => {
    if (!routes.has(from))
      routes.set(
        from,
        graphql<{ proxyConfig: { routes: EnvoyRoutes } }>(ROUTES, { id, proxy: PROXIES[from].proxy }).then((d) => d.proxyConfig.routes),
      );
    return routes.get(from)!;
  };

  it.each(CASES.map((c) => [c.description, c] as const))('%s', async (_, c) => {
    const from = c.from ?? 'sidecar';
    const { proxy, mode, port } = PROXIES[from];
    for (const call of unfold(c)) {
      const label = `${call.method} ${call.host}${call.path}`;
      const { resolveRoute: r } = await graphql<{ resolveRoute: Resolution }>(RESOLVE, {
        id,
        proxy,
        call: { mode, port: c.port ?? port, ...call },
      });
      const why = `${label}\n${r.trace.map((s) => `${s.stage}: ${s.detail}`).join('\n')}`;
      const want = c.want;
      expect(r.error, why).toBe(want.error ?? null);
      if (want.virtualService) expect(r.virtualService, why).toEqual(toRef(want.virtualService));
      if (want.cluster !== undefined) expect(r.cluster, why).toBe(want.cluster);
      if (want.weightedClusters) expect(r.weightedClusters, why).toEqual(want.weightedClusters);
      if (want.route) {
        const rc = (await envoyRoutes(from)).find((x) => x.name === r.routeConfig);
        const vh = rc?.config.virtualHosts?.find((v) => v.name === r.virtualHost);
        expect(vh?.routes?.[r.routeIndex ?? -1], why).toMatchObject(want.route);
      }
    }
  });
});

function toRef(ref: string) {
  const [namespace, name] = ref.split('/');
  return { namespace, name };
}
