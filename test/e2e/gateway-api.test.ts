// The Kubernetes Gateway API as istiod evaluates it: the gateway workload istiod deploys for a
// Gateway of class istio, the status conditions it writes, routes through the deployed gateway
// naming the HTTPRoute behind them, and a GAMMA split for the callers of a Service.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { deployment, httpRoute, k8sGateway, namespace, service, yaml } from '../support/mesh.js';
import { uploadSnapshot, waitReady, useTestApp } from '../support/test-app.js';

const http = (port: number) => [{ name: 'http', port }];
const MANIFESTS = yaml(
  namespace('shop'),
  namespace('backend'),
  deployment('shop', 'web', { containerPorts: [{ containerPort: 8080 }] }),
  service('shop', 'web', http(8080)),
  deployment('shop', 'web-v2', { containerPorts: [{ containerPort: 8080 }] }),
  service('shop', 'web-v2', http(8080)),
  deployment('shop', 'client'),
  service('backend', 'api', http(9090)),
  k8sGateway('shop', 'edge', {
    listeners: [{ name: 'http', port: 80, protocol: 'HTTP', hostname: '*.example.com', allowedRoutes: { namespaces: { from: 'All' } } }],
  }),
  httpRoute('shop', 'web', {
    parentRefs: [{ name: 'edge' }],
    hostnames: ['shop.example.com'],
    rules: [
      { matches: [{ path: { type: 'PathPrefix', value: '/v2' } }], backendRefs: [{ name: 'web-v2', port: 8080 }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [{ name: 'api', namespace: 'backend', port: 9090 }] },
      { backendRefs: [{ name: 'web', port: 8080 }] },
    ],
  }),
  httpRoute('shop', 'broken', {
    parentRefs: [{ name: 'edge' }],
    hostnames: ['broken.example.com'],
    rules: [{ backendRefs: [{ name: 'missing', port: 80 }] }],
  }),
  httpRoute('shop', 'split', {
    parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 8080 }],
    rules: [
      {
        backendRefs: [
          { name: 'web', port: 8080, weight: 90 },
          { name: 'web-v2', port: 8080, weight: 10 },
        ],
      },
    ],
  }),
);

const RESOLVE = `query ($id: ID!, $proxy: ProxyInput!, $call: CallInput!) {
  resolveRoute(snapshotId: $id, proxy: $proxy, call: $call) {
    route cluster weightedClusters { cluster weight } virtualService { kind namespace name } routeSource { kind namespace name } error trace { stage detail }
  }
}`;

describe('Gateway API, as istiod evaluates it', () => {
  const t = useTestApp();
  let id: string;
  beforeAll(async () => {
    id = await uploadSnapshot(t.app, MANIFESTS, 'gateway-api');
    await waitReady(t.app, id, 120_000);
  }, 180_000);

  const graphql = async (query: string, variables: Record<string, unknown>) => {
    const res = await request(t.app.getHttpServer()).post('/graphql').send({ query, variables });
    expect(res.body.errors).toBeUndefined();
    return res.body.data;
  };

  it('lists the gateway workload istiod deploys for the Gateway, as a router', async () => {
    const data = await graphql(
      'query ($id: ID!) { snapshot(id: $id) { workloads(namespace: "shop") { name kind proxyType labels services } } }',
      { id },
    );
    const edge = data.snapshot.workloads.find((w: { name: string }) => w.name === 'edge-istio');
    expect(edge).toMatchObject({ kind: 'Deployment', proxyType: 'ROUTER', services: ['edge-istio.shop.svc.cluster.local'] });
    expect(edge.labels['gateway.networking.k8s.io/gateway-name']).toBe('edge');
  });

  it('shows the status conditions istiod would write', async () => {
    const data = await graphql(
      'query ($id: ID!) { snapshot(id: $id) { gatewayStatus { kind namespace name conditions { type status reason message parent } } } }',
      { id },
    );
    const status = (kind: string, name: string) =>
      data.snapshot.gatewayStatus.find((s: { kind: string; name: string }) => s.kind === kind && s.name === name);
    expect(status('GatewayClass', 'istio').conditions).toContainEqual(expect.objectContaining({ type: 'Accepted', status: 'True' }));
    expect(status('Gateway', 'edge').conditions).toContainEqual(expect.objectContaining({ type: 'Accepted', status: 'True' }));
    // A backend in another namespace without a ReferenceGrant is refused.
    expect(status('HTTPRoute', 'web').conditions).toContainEqual(
      expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted', parent: 'Gateway shop/edge' }),
    );
    expect(status('HTTPRoute', 'broken').conditions).toContainEqual(
      expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound', parent: 'Gateway shop/edge' }),
    );
    expect(status('HTTPRoute', 'split').conditions).toContainEqual(
      expect.objectContaining({ type: 'Accepted', status: 'True', parent: 'Service shop/web' }),
    );
  });

  it('resolves a request through the deployed gateway, naming the HTTPRoute rule', async () => {
    const data = await graphql(RESOLVE, {
      id,
      proxy: { namespace: 'shop', name: 'edge-istio' },
      call: { mode: 'GATEWAY', port: 80, host: 'shop.example.com', path: '/v2/items' },
    });
    const r = data.resolveRoute;
    expect(r).toMatchObject({ error: null, route: 'shop.web.0', cluster: 'outbound|8080||web-v2.shop.svc.cluster.local' });
    expect(r.routeSource).toEqual({ kind: 'HTTPRoute', namespace: 'shop', name: 'web' });
    expect(r.virtualService.kind).toBe('VirtualService');
    expect(r.trace.map((t: { detail: string }) => t.detail).join('\n')).toContain(
      'It comes from HTTPRoute shop/web rule 0 (path segment prefix "/v2")',
    );
  });

  it("a client without a sidecar reaches the deployed gateway's Service through kube-proxy", async () => {
    const data = await graphql(RESOLVE, {
      id,
      proxy: { namespace: 'shop', labels: { app: 'outside' }, type: 'NONE' },
      call: { mode: 'OUTBOUND', port: 80, host: 'edge-istio.shop.svc.cluster.local', path: '/' },
    });
    const r = data.resolveRoute;
    expect(r.error).toBe('no proxy');
    expect(r.trace.map((t: { detail: string }) => t.detail).join('\n')).toMatch(
      /kube-proxy spreads connections to .*edge-istio.* over its 1 endpoint/,
    );
  });

  it('splits the callers of a Service by its GAMMA route', async () => {
    const data = await graphql(RESOLVE, {
      id,
      proxy: { namespace: 'shop', name: 'client' },
      call: { mode: 'OUTBOUND', port: 8080, host: 'web.shop.svc.cluster.local', path: '/' },
    });
    const r = data.resolveRoute;
    expect(r.weightedClusters).toEqual([
      { cluster: 'outbound|8080||web.shop.svc.cluster.local', weight: 90 },
      { cluster: 'outbound|8080||web-v2.shop.svc.cluster.local', weight: 10 },
    ]);
    expect(r.routeSource).toEqual({ kind: 'HTTPRoute', namespace: 'shop', name: 'split' });
  });
});
