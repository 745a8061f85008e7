// More of the Gateway API project's conformance suite (kubernetes-sigs/gateway-api v1.6.0,
// conformance/tests), with fixtures of our own for the same behaviours, beyond those of
// gateway-api-cases.test.ts: matches spread across routes, path match order, listener port
// matching, HTTP listener isolation, timeouts, GRPCRoute methods, Services without a cluster IP,
// refused backends, and the status istiod writes on Gateways and their listeners (attached
// routes, refused route kinds, missing certificates).
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_STATUS, RESOLVE, type Condition, type Resolution } from '../support/gateway-api.js';
import { httpRoute, k8sGateway, namespace, service, yaml, type Manifest } from '../support/mesh.js';
import { uploadSnapshot, waitReady, useTestApp } from '../support/test-app.js';

const NS = 'conf';
const svc = (name: string, ns = NS, options: { clusterIP?: string } = {}) => service(ns, name, [{ name: 'http', port: 8080 }], options);
const backend = (name: string, extra: Record<string, unknown> = {}) => ({ name, port: 8080, ...extra });
const prefix = (value: string) => ({ path: { type: 'PathPrefix', value } });
const exact = (value: string) => ({ path: { type: 'Exact', value } });
const http = (name: string, port = 80, extra: Record<string, unknown> = {}) => ({ name, port, protocol: 'HTTP', ...extra });
const fromAll = { namespaces: { from: 'All' } };

const grpcRoute = (name: string, spec: Record<string, unknown>): Manifest => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'GRPCRoute',
  metadata: { name, namespace: NS },
  spec,
});

/** A TLS Secret with a self-signed certificate for *.example.com (its key is a throwaway, made for this test). */
const tlsSecret = (ns: string, name: string, data: Record<string, string> = { 'tls.crt': CERTIFICATE, 'tls.key': KEY }): Manifest => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: ns },
  data,
});
const CERTIFICATE =
  'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJoakNDQVMyZ0F3SUJBZ0lVZHRtTkVNSktaMnhqNXpjNENOUXl0OXNja3ZFd0NnWUlLb1pJemowRUF3SXcKR0RFV01CUUdBMVVFQXd3TktpNWxlR0Z0Y0d4bExtTnZiVEFnRncweU5qRXlNREl4TnpVek1qSmFHQTh5TVRJMgpNVEV3T0RFM05UTXlNbG93R0RFV01CUUdBMVVFQXd3TktpNWxlR0Z0Y0d4bExtTnZiVEJaTUJNR0J5cUdTTTQ5CkFnRUdDQ3FHU000OUF3RUhBMElBQklmSlZNRENXblEzWFUrNHo4Q2VwTWo1L3k2bE1aSTdjcy9EZEVnc0JQTXEKRnYvZkJDa3ZabUhwbDJNT0JSdkovR0F2Tys2YzdGMm1mRGYrMHFnT2lyNmpVekJSTUIwR0ExVWREZ1FXQkJRSwpGR2U3eTl1NG02NGhqSTRNUlIvM29TNW4zakFmQmdOVkhTTUVHREFXZ0JRS0ZHZTd5OXU0bTY0aGpJNE1SUi8zCm9TNW4zakFQQmdOVkhSTUJBZjhFQlRBREFRSC9NQW9HQ0NxR1NNNDlCQU1DQTBjQU1FUUNJRHRLSU8vdkd3cVcKNm1nRkdXOWc4ZTRIdzdTcWxGbXZNUVJUbGRHM0hRanVBaUFScEJnYmhKN3B1QnFoMmxhOXl6d01HZVd4cnRtbQpscGFibWZvbmk5bFJ2Zz09Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K';
const KEY =
  'LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JR0hBZ0VBTUJNR0J5cUdTTTQ5QWdFR0NDcUdTTTQ5QXdFSEJHMHdhd0lCQVFRZ0xkb1BnV2FnbXFlTUpZZHcKVnd3b1pZNlZmOWRuditsRE5sbXhFNHBUQ01PaFJBTkNBQVNIeVZUQXdscDBOMTFQdU0vQW5xVEkrZjh1cFRHUwpPM0xQdzNSSUxBVHpLaGIvM3dRcEwyWmg2WmRqRGdVYnlmeGdMenZ1bk94ZHBudzMvdEtvRG9xKwotLS0tLUVORCBQUklWQVRFIEtFWS0tLS0tCg==';

/** A ReferenceGrant in `ns` letting the `fromKind` objects of NS refer to the core object `to`. */
const referenceGrant = (ns: string, name: string, fromKind: string, to: { kind: string; name: string }): Manifest => ({
  apiVersion: 'gateway.networking.k8s.io/v1beta1',
  kind: 'ReferenceGrant',
  metadata: { name, namespace: ns },
  spec: { from: [{ group: 'gateway.networking.k8s.io', kind: fromKind, namespace: NS }], to: [{ group: '', ...to }] },
});

const MANIFESTS = yaml(
  namespace(NS),
  namespace('web', { labels: { 'conformance-route-ns': 'web' } }),
  namespace('certs', { injection: false }),
  namespace('apps'),
  svc('v1'),
  svc('v2'),
  svc('v3'),
  svc('headless', NS, { clusterIP: 'None' }),
  svc('app-v1', 'apps'),
  svc('app-v2', 'apps'),
  service(NS, 'grpc', [{ name: 'grpc', port: 9000 }]),
  k8sGateway(NS, 'same', { listeners: [http('http')] }),
  // HTTPRouteMatchingAcrossRoutes
  httpRoute(NS, 'across-1', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['example.com', 'example.net'],
    rules: [{ matches: [prefix('/'), { headers: [{ name: 'version', value: 'one' }] }], backendRefs: [backend('v1')] }],
  }),
  httpRoute(NS, 'across-2', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['example.com'],
    rules: [{ matches: [prefix('/v2'), { headers: [{ name: 'version', value: 'two' }] }], backendRefs: [backend('v2')] }],
  }),
  // HTTPRoutePathMatchOrder
  httpRoute(NS, 'order', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['order.example.com'],
    rules: [
      { matches: [exact('/match')], backendRefs: [backend('v1')] },
      { matches: [exact('/match/exact')], backendRefs: [backend('v2')] },
      { matches: [exact('/match/exact/one')], backendRefs: [backend('v3')] },
      { matches: [prefix('/match/')], backendRefs: [backend('v3')] },
      { matches: [prefix('/match/prefix/')], backendRefs: [backend('v1')] },
      { matches: [prefix('/match/prefix/one')], backendRefs: [backend('v2')] },
    ],
  }),
  // HTTPRouteHeaderMatching: every header of a match, and the match with more headers first
  httpRoute(NS, 'headers', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['headers.example.com'],
    rules: [
      { matches: [{ headers: [{ name: 'version', value: 'one' }] }], backendRefs: [backend('v1')] },
      {
        matches: [
          {
            headers: [
              { name: 'version', value: 'one' },
              { name: 'color', value: 'orange' },
            ],
          },
        ],
        backendRefs: [backend('v2')],
      },
    ],
  }),
  // HTTPRouteInvalidNonExistentBackendRef
  httpRoute(NS, 'missing', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['missing.example.com'],
    rules: [{ backendRefs: [backend('nonexistent')] }],
  }),
  // HTTPRoutePartiallyInvalidViaInvalidReferenceGrant: the grant names app-v1 only
  referenceGrant('apps', 'v1-only', 'HTTPRoute', { kind: 'Service', name: 'app-v1' }),
  httpRoute(NS, 'partial', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['partial.example.com'],
    rules: [
      { matches: [prefix('/v2')], backendRefs: [backend('app-v2', { namespace: 'apps' })] },
      { backendRefs: [backend('app-v1', { namespace: 'apps' })] },
    ],
  }),
  // HTTPRouteTimeoutRequest, HTTPRouteTimeoutBackendRequest
  httpRoute(NS, 'timeouts', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['timeout.example.com'],
    rules: [
      { matches: [prefix('/request-timeout')], backendRefs: [backend('v1')], timeouts: { request: '500ms' } },
      { matches: [prefix('/backend-timeout')], backendRefs: [backend('v1')], timeouts: { backendRequest: '500ms' } },
      { matches: [prefix('/disable')], backendRefs: [backend('v1')], timeouts: { request: '0s' } },
    ],
  }),
  // HTTPRouteServiceTypes: a headless Service
  httpRoute(NS, 'headless', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['headless.example.com'],
    rules: [{ backendRefs: [backend('headless')] }],
  }),
  // GRPCRouteExactMethodMatching
  grpcRoute('grpc', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['grpc.example.com'],
    rules: [
      { matches: [{ method: { service: 'meshlens.Echo', method: 'Ping' } }], backendRefs: [{ name: 'grpc', port: 9000 }] },
      { matches: [{ method: { service: 'meshlens.Echo', method: 'Pong' } }], backendRefs: [backend('v2')] },
    ],
  }),
  // HTTPRouteListenerPortMatching
  k8sGateway(NS, 'ports', {
    listeners: [
      http('listener-1', 80, { hostname: 'foo.com' }),
      http('listener-2', 8080, { hostname: 'foo.com' }),
      http('listener-3', 8080, { hostname: 'bar.com' }),
      http('listener-4', 8090, { hostname: 'foo.com' }),
      http('listener-5', 8090, { hostname: 'bar.com' }),
    ],
  }),
  httpRoute(NS, 'port-80', { parentRefs: [{ name: 'ports', port: 80 }], rules: [{ backendRefs: [backend('v1')] }] }),
  httpRoute(NS, 'port-8080', { parentRefs: [{ name: 'ports', port: 8080 }], rules: [{ backendRefs: [backend('v2')] }] }),
  httpRoute(NS, 'port-8090', {
    parentRefs: [{ name: 'ports', port: 8090 }],
    hostnames: ['foo.com'],
    rules: [{ backendRefs: [backend('v3')] }],
  }),
  // GatewayHTTPListenerIsolation
  k8sGateway(NS, 'isolation', {
    listeners: [
      http('empty-hostname', 80, { allowedRoutes: fromAll }),
      http('wildcard-example-com', 80, { hostname: '*.example.com', allowedRoutes: fromAll }),
      http('wildcard-foo-example-com', 80, { hostname: '*.foo.example.com', allowedRoutes: fromAll }),
      http('abc-foo-example-com', 80, { hostname: 'abc.foo.example.com', allowedRoutes: fromAll }),
    ],
  }),
  ...['empty-hostname', 'wildcard-example-com', 'wildcard-foo-example-com', 'abc-foo-example-com'].map((listener) =>
    httpRoute(NS, `to-${listener}`, {
      parentRefs: [{ name: 'isolation', sectionName: listener }],
      rules: [{ matches: [prefix(`/${listener}`)], backendRefs: [backend('v1')] }],
    }),
  ),
  // HTTPRouteDisallowedKind
  k8sGateway(NS, 'tls-only', {
    listeners: [
      { name: 'tls', port: 443, protocol: 'TLS', tls: { mode: 'Passthrough' }, allowedRoutes: { kinds: [{ kind: 'TLSRoute' }] } },
    ],
  }),
  httpRoute(NS, 'disallowed', { parentRefs: [{ name: 'tls-only' }], rules: [{ backendRefs: [backend('v1')] }] }),
  // GatewayInvalidRouteKind, GatewayInvalidTLSConfiguration, GatewayWithAttachedRoutes
  k8sGateway(NS, 'refused', {
    listeners: [
      http('only-invalid', 80, { allowedRoutes: { kinds: [{ kind: 'InvalidRoute' }] } }),
      http('some-invalid', 81, { allowedRoutes: { kinds: [{ kind: 'InvalidRoute' }, { kind: 'HTTPRoute' }] } }),
      {
        name: 'https',
        port: 443,
        protocol: 'HTTPS',
        hostname: 'secure.example.com',
        tls: { certificateRefs: [{ name: 'nonexistent-certificate' }] },
      },
      http('attached', 82, { hostname: 'attached.example.com' }),
    ],
  }),
  httpRoute(NS, 'attached-1', { parentRefs: [{ name: 'refused', sectionName: 'attached' }], rules: [{ backendRefs: [backend('v1')] }] }),
  httpRoute(NS, 'attached-2', {
    parentRefs: [{ name: 'refused', sectionName: 'attached' }],
    hostnames: ['attached.example.com'],
    rules: [{ backendRefs: [backend('v2')] }],
  }),
  httpRoute(NS, 'not-attached', {
    parentRefs: [{ name: 'refused', sectionName: 'attached' }],
    hostnames: ['other.example.org'],
    rules: [{ backendRefs: [backend('v2')] }],
  }),
  // HTTPRouteCrossNamespace: a listener taking routes of the namespaces a selector picks
  k8sGateway(NS, 'selected', {
    listeners: [
      http('http', 80, {
        allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { 'conformance-route-ns': 'web' } } } },
      }),
    ],
  }),
  httpRoute('web', 'cross', {
    parentRefs: [{ name: 'selected', namespace: NS }],
    rules: [{ backendRefs: [backend('web-backend')] }],
  }),
  service('web', 'web-backend', [{ name: 'http', port: 8080 }]),
  httpRoute(NS, 'unselected', {
    parentRefs: [{ name: 'selected' }],
    hostnames: ['unselected.example.com'],
    rules: [{ backendRefs: [backend('v1')] }],
  }),
  // HTTPRoute303Redirect, ...307Redirect, ...308Redirect, HTTPRouteRequestMultipleMirrors, HTTPRouteRequestPercentageMirror
  httpRoute(NS, 'codes', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['codes.example.com'],
    rules: [
      ...[303, 307, 308].map((statusCode) => ({
        matches: [prefix(`/${statusCode}`)],
        filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'moved.example.com', statusCode } }],
      })),
      {
        matches: [prefix('/mirrors')],
        filters: [
          { type: 'RequestMirror', requestMirror: { backendRef: backend('v2') } },
          { type: 'RequestMirror', requestMirror: { backendRef: backend('v3'), percent: 35 } },
        ],
        backendRefs: [backend('v1')],
      },
    ],
  }),
  // TCPRouteInvalidNonTCPListener
  {
    apiVersion: 'gateway.networking.k8s.io/v1alpha2',
    kind: 'TCPRoute',
    metadata: { name: 'tcp-on-http', namespace: NS },
    spec: { parentRefs: [{ name: 'same' }], rules: [{ backendRefs: [backend('v1')] }] },
  },
  // HTTPRouteHTTPSListener, GatewaySecretReferenceGrant*, GatewaySecretMissingReferenceGrant, GatewayInvalidTLSConfiguration (malformed)
  tlsSecret(NS, 'example-cert'),
  tlsSecret('certs', 'granted-cert'),
  tlsSecret('certs', 'ungranted-cert'),
  tlsSecret(NS, 'malformed-cert', { 'tls.crt': Buffer.from('not a certificate').toString('base64'), 'tls.key': KEY }),
  referenceGrant('certs', 'gateway-certs', 'Gateway', { kind: 'Secret', name: 'granted-cert' }),
  k8sGateway(NS, 'secure', {
    listeners: [
      { name: 'https', port: 443, protocol: 'HTTPS', hostname: 'a.example.com', tls: { certificateRefs: [{ name: 'example-cert' }] } },
      {
        name: 'granted',
        port: 443,
        protocol: 'HTTPS',
        hostname: 'b.example.com',
        tls: { certificateRefs: [{ name: 'granted-cert', namespace: 'certs' }] },
      },
      {
        name: 'ungranted',
        port: 443,
        protocol: 'HTTPS',
        hostname: 'c.example.com',
        tls: { certificateRefs: [{ name: 'ungranted-cert', namespace: 'certs' }] },
      },
      {
        name: 'malformed',
        port: 443,
        protocol: 'HTTPS',
        hostname: 'd.example.com',
        tls: { certificateRefs: [{ name: 'malformed-cert' }] },
      },
    ],
  }),
  httpRoute(NS, 'secure', { parentRefs: [{ name: 'secure', sectionName: 'https' }], rules: [{ backendRefs: [backend('v1')] }] }),
  httpRoute(NS, 'secure-granted', { parentRefs: [{ name: 'secure', sectionName: 'granted' }], rules: [{ backendRefs: [backend('v2')] }] }),
  // HTTPRouteBackendProtocolH2C, HTTPRouteBackendProtocolWebSocket
  service(NS, 'h2c', [{ name: 'h2c', port: 8081, appProtocol: 'kubernetes.io/h2c' }]),
  service(NS, 'ws', [{ name: 'ws', port: 8082, appProtocol: 'kubernetes.io/ws' }]),
  httpRoute(NS, 'protocols', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['protocols.example.com'],
    rules: [
      { matches: [prefix('/h2c')], backendRefs: [{ name: 'h2c', port: 8081 }] },
      { matches: [prefix('/ws')], backendRefs: [{ name: 'ws', port: 8082 }] },
    ],
  }),
);

interface ListenerStatus {
  name: string;
  attachedRoutes: number;
  supportedKinds: { group?: string; kind: string }[];
  conditions: { type: string; status: string; reason: string }[];
}

interface Status {
  kind: string;
  namespace: string;
  name: string;
  conditions: Condition[];
  status: { listeners?: ListenerStatus[] };
}

const cluster = (name: string, port = 8080, ns = NS) => `outbound|${port}||${name}.${ns}.svc.cluster.local`;
const workload = (gateway: string) => ({ namespace: NS, name: `${gateway}-istio` });

describe('Gateway API conformance, more of the suite, as Istio gives it', () => {
  const t = useTestApp();
  let id: string;
  let statuses: Status[];
  beforeAll(async () => {
    id = await uploadSnapshot(t.app, MANIFESTS, 'gateway-api-conformance');
    await waitReady(t.app, id, 240_000);
    const data = await graphql(
      `
        query ($id: ID!) {
          snapshot(id: $id) {
            ${GATEWAY_STATUS}
          }
        }
      `,
      { id },
    );
    statuses = data.snapshot.gatewayStatus;
  }, 300_000);

  const graphql = async (query: string, variables: Record<string, unknown>) => {
    const res = await request(t.app.getHttpServer()).post('/graphql').send({ query, variables });
    expect(res.body.errors).toBeUndefined();
    return res.body.data;
  };
  const via = async (gateway: string, call: Record<string, unknown>): Promise<Resolution> =>
    (await graphql(RESOLVE, { id, proxy: workload(gateway), call: { mode: 'GATEWAY', port: 80, path: '/', ...call } })).resolveRoute;
  const status = (kind: string, name: string): Status => {
    const s = statuses.find((x) => x.kind === kind && x.namespace === NS && x.name === name);
    expect(s, `${kind} ${name}`).toBeDefined();
    return s as Status;
  };
  type EnvoyRoute = Record<string, Record<string, unknown>>;
  /** The Envoy route of `gateway`'s route configuration http.80, virtual host `vhost`, whose match names `path`. */
  const envoyRoute = async (gateway: string, vhost: string, path: string): Promise<EnvoyRoute> => {
    const data = await graphql(
      `
        query ($id: ID!, $proxy: ProxyInput!) {
          proxyConfig(snapshotId: $id, proxy: $proxy) {
            routes(name: "http.80") {
              config
            }
          }
        }
      `,
      { id, proxy: workload(gateway) },
    );
    const vhosts = data.proxyConfig.routes[0].config.virtualHosts as { name: string; routes: EnvoyRoute[] }[];
    const route = vhosts.find((v) => v.name === vhost)?.routes.find((r) => JSON.stringify(r.match).includes(path));
    expect(route, `${vhost} ${path}`).toBeDefined();
    return route as EnvoyRoute;
  };
  const listener = (gateway: string, name: string): ListenerStatus => {
    const l = status('Gateway', gateway).status.listeners?.find((x) => x.name === name);
    expect(l, `${gateway} listener ${name}`).toBeDefined();
    return l as ListenerStatus;
  };

  it('HTTPRouteMatchingAcrossRoutes: the matches of two routes on one host, merged', async () => {
    const cases: [string, string, { name: string; value: string }[], string][] = [
      ['example.com', '/', [], 'v1'],
      ['example.com', '/example', [], 'v1'],
      ['example.net', '/example', [], 'v1'],
      ['example.com', '/v2', [], 'v2'],
      ['example.com', '/v2/example', [], 'v2'],
      ['example.com', '/', [{ name: 'version', value: 'two' }], 'v2'],
      ['example.net', '/v2', [], 'v1'],
      ['example.net', '/', [{ name: 'version', value: 'two' }], 'v1'],
    ];
    for (const [host, path, headers, want] of cases) {
      const r = await via('same', { host, path, headers });
      expect({ host, path, headers, cluster: r.cluster }).toEqual({ host, path, headers, cluster: cluster(want) });
    }
  });

  it('HTTPRoutePathMatchOrder: Exact before PathPrefix, longer prefixes first', async () => {
    const cases: [string, string][] = [
      ['/match/exact/one', 'v3'],
      ['/match/exact', 'v2'],
      ['/match', 'v1'],
      ['/match/prefix/one/any', 'v2'],
      ['/match/prefix/any', 'v1'],
      ['/match/any', 'v3'],
    ];
    for (const [path, want] of cases) {
      const r = await via('same', { host: 'order.example.com', path });
      expect({ path, cluster: r.cluster }).toEqual({ path, cluster: cluster(want) });
    }
  });

  it('HTTPRouteHeaderMatching: a match with more headers comes first, and needs all of them', async () => {
    const host = 'headers.example.com';
    expect((await via('same', { host, headers: [{ name: 'version', value: 'one' }] })).cluster).toBe(cluster('v1'));
    const both = [
      { name: 'version', value: 'one' },
      { name: 'color', value: 'orange' },
    ];
    expect((await via('same', { host, headers: both })).cluster).toBe(cluster('v2'));
    expect((await via('same', { host, headers: [{ name: 'color', value: 'orange' }] })).cluster).toBeNull();
  });

  it('HTTPRouteInvalidNonExistentBackendRef: 500, ResolvedRefs False BackendNotFound', async () => {
    // istiod keeps a missing Service's host as the destination (unlike a refused reference, sent to
    // UnknownService): no proxy has its cluster, and the route's cluster_not_found_response_code is 500.
    const r = await via('same', { host: 'missing.example.com' });
    expect(r.cluster).toBe(cluster('nonexistent'));
    expect(r.trace.map((s) => s.detail).join('\n')).toContain("does not exist in this proxy's config: Envoy answers 500");
    expect(status('HTTPRoute', 'missing').conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Accepted', status: 'True', parent: `Gateway ${NS}/same` }),
        expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound' }),
      ]),
    );
  });

  it('HTTPRoutePartiallyInvalidViaInvalidReferenceGrant: the granted rule routes, the other answers 500', async () => {
    const host = 'partial.example.com';
    expect((await via('same', { host, path: '/' })).cluster).toBe(cluster('app-v1', 8080, 'apps'));
    expect((await via('same', { host, path: '/v2' })).cluster).toBe('UnknownService');
    expect(status('HTTPRoute', 'partial').conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Accepted', status: 'True' }),
        expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' }),
      ]),
    );
  });

  it('HTTPRouteTimeoutRequest, HTTPRouteTimeoutBackendRequest: the Envoy route timeouts', async () => {
    const timeout = async (path: string) => (await envoyRoute('same', 'timeout.example.com:80', path)).route.timeout;
    expect(await timeout('/request-timeout')).toBe('0.500s');
    expect(await timeout('/backend-timeout')).toBe('0.500s');
    expect(await timeout('/disable')).toBe('0s');
  });

  it('HTTPRouteServiceTypes: a headless Service as a backend', async () => {
    expect(await via('same', { host: 'headless.example.com' })).toMatchObject({ error: null, cluster: cluster('headless') });
  });

  it('GRPCRouteExactMethodMatching: /service/method, other methods not routed', async () => {
    const grpc = (path: string) =>
      via('same', { host: 'grpc.example.com', path, method: 'POST', headers: [{ name: 'content-type', value: 'application/grpc' }] });
    expect(await grpc('/meshlens.Echo/Ping')).toMatchObject({
      cluster: cluster('grpc', 9000),
      routeSource: { kind: 'GRPCRoute', namespace: NS, name: 'grpc' },
    });
    expect((await grpc('/meshlens.Echo/Pong')).cluster).toBe(cluster('v2'));
    expect((await grpc('/meshlens.Echo/Other')).cluster).toBeNull();
    expect(status('GRPCRoute', 'grpc').conditions).toContainEqual(expect.objectContaining({ type: 'Accepted', status: 'True' }));
  });

  it('HTTPRouteListenerPortMatching: a parentRef port selects the listeners of that port', async () => {
    const cases: [number, string, string | null][] = [
      [80, 'foo.com', 'v1'],
      [8080, 'foo.com', 'v2'],
      [8080, 'bar.com', 'v2'],
      [8090, 'foo.com', 'v3'],
      [8090, 'bar.com', null],
    ];
    for (const [port, host, want] of cases) {
      const r = await via('ports', { port, host });
      expect({ port, host, cluster: r.cluster }).toEqual({ port, host, cluster: want && cluster(want) });
    }
  });

  it('GatewayHTTPListenerIsolation: a request is routed only by the routes of the most specific listener of its host', async () => {
    const cases: [string, string, boolean][] = [
      ['bar.com', '/empty-hostname', true],
      ['bar.com', '/wildcard-example-com', false],
      ['bar.example.com', '/wildcard-example-com', true],
      ['bar.example.com', '/empty-hostname', false],
      ['bar.foo.example.com', '/wildcard-foo-example-com', true],
      ['bar.foo.example.com', '/wildcard-example-com', false],
      ['abc.foo.example.com', '/abc-foo-example-com', true],
      ['abc.foo.example.com', '/wildcard-foo-example-com', false],
    ];
    for (const [host, path, routed] of cases) {
      const r = await via('isolation', { host, path });
      expect({ host, path, cluster: r.cluster }).toEqual({ host, path, cluster: routed ? cluster('v1') : null });
    }
  });

  it('HTTPRouteDisallowedKind: an HTTPRoute on a listener of TLSRoutes only is not accepted', () => {
    expect(status('HTTPRoute', 'disallowed').conditions).toContainEqual(
      expect.objectContaining({ type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners', parent: `Gateway ${NS}/tls-only` }),
    );
  });

  it('GatewayInvalidRouteKind: ResolvedRefs False InvalidRouteKinds, the supported kinds listed', () => {
    expect(listener('refused', 'only-invalid')).toMatchObject({
      supportedKinds: [],
      attachedRoutes: 0,
      conditions: expect.arrayContaining([expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'InvalidRouteKinds' })]),
    });
    expect(listener('refused', 'some-invalid')).toMatchObject({
      supportedKinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }],
      conditions: expect.arrayContaining([expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'InvalidRouteKinds' })]),
    });
  });

  it('GatewayInvalidTLSConfiguration: a missing certificate, ResolvedRefs False InvalidCertificateRef', () => {
    expect(listener('refused', 'https').conditions).toContainEqual(
      expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'InvalidCertificateRef' }),
    );
  });

  it('GatewayWithAttachedRoutes: attachedRoutes counts the accepted routes; a hostname outside the listener is not', () => {
    expect(listener('refused', 'attached')).toMatchObject({
      attachedRoutes: 2,
      conditions: expect.arrayContaining([
        expect.objectContaining({ type: 'Accepted', status: 'True' }),
        expect.objectContaining({ type: 'ResolvedRefs', status: 'True' }),
      ]),
    });
    expect(status('HTTPRoute', 'not-attached').conditions).toContainEqual(
      expect.objectContaining({ type: 'Accepted', status: 'False', reason: 'NoMatchingListenerHostname' }),
    );
  });
  it('HTTPRouteCrossNamespace: a route of a namespace the selector picks is served; one of another is not', async () => {
    expect(await via('selected', {})).toMatchObject({
      cluster: cluster('web-backend', 8080, 'web'),
      routeSource: { kind: 'HTTPRoute', namespace: 'web', name: 'cross' },
    });
    expect(status('HTTPRoute', 'unselected').conditions).toContainEqual(
      expect.objectContaining({ type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners' }),
    );
  });

  it('HTTPRoute303Redirect, ...307Redirect, ...308Redirect; HTTPRouteRequestMultipleMirrors, ...PercentageMirror', async () => {
    const byPath = (path: string) => envoyRoute('same', 'codes.example.com:80', path);
    expect((await byPath('/303')).redirect).toMatchObject({ hostRedirect: 'moved.example.com', responseCode: 'SEE_OTHER' });
    expect((await byPath('/307')).redirect).toMatchObject({ responseCode: 'TEMPORARY_REDIRECT' });
    expect((await byPath('/308')).redirect).toMatchObject({ responseCode: 'PERMANENT_REDIRECT' });
    const mirrors = (await byPath('/mirrors')).route.requestMirrorPolicies as Record<string, unknown>[];
    expect(mirrors).toEqual([
      expect.objectContaining({ cluster: cluster('v2') }),
      expect.objectContaining({
        cluster: cluster('v3'),
        runtimeFraction: expect.objectContaining({ defaultValue: expect.objectContaining({ numerator: 350000 }) }),
      }),
    ]);
  });

  it('TCPRouteInvalidNonTCPListener: a TCPRoute on an HTTP listener is not accepted', () => {
    expect(status('TCPRoute', 'tcp-on-http').conditions).toContainEqual(
      expect.objectContaining({ type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners' }),
    );
  });

  it('HTTPRouteHTTPSListener: an HTTPS listener terminates TLS and routes by host', async () => {
    expect(await via('secure', { port: 443, tls: 'TLS', sni: 'a.example.com', host: 'a.example.com' })).toMatchObject({
      error: null,
      cluster: cluster('v1'),
    });
    expect(listener('secure', 'https')).toMatchObject({
      attachedRoutes: 1,
      conditions: expect.arrayContaining([
        expect.objectContaining({ type: 'ResolvedRefs', status: 'True' }),
        expect.objectContaining({ type: 'Programmed', status: 'True' }),
      ]),
    });
  });

  it('GatewaySecretReferenceGrantSpecific, GatewaySecretMissingReferenceGrant: a certificate of another namespace needs a grant', async () => {
    expect(listener('secure', 'granted').conditions).toContainEqual(expect.objectContaining({ type: 'ResolvedRefs', status: 'True' }));
    expect(await via('secure', { port: 443, tls: 'TLS', sni: 'b.example.com', host: 'b.example.com' })).toMatchObject({
      cluster: cluster('v2'),
    });
    expect(listener('secure', 'ungranted').conditions).toContainEqual(
      expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' }),
    );
  });

  it('GatewayInvalidTLSConfiguration: a malformed certificate, ResolvedRefs False InvalidCertificateRef', () => {
    expect(listener('secure', 'malformed').conditions).toContainEqual(
      expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'InvalidCertificateRef' }),
    );
  });

  it('HTTPRouteBackendProtocolH2C, ...WebSocket: HTTP/2 to an h2c Service port; WebSocket upgrades on every route', async () => {
    const data = await graphql(
      `
        query ($id: ID!, $proxy: ProxyInput!) {
          proxyConfig(snapshotId: $id, proxy: $proxy) {
            clusters(fqdn: "h2c.conf.svc.cluster.local") {
              config
            }
            listeners(port: 80) {
              config
            }
          }
        }
      `,
      { id, proxy: workload('same') },
    );
    expect(data.proxyConfig.clusters[0].config.typedExtensionProtocolOptions).toMatchObject({
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { explicitHttpConfig: { http2ProtocolOptions: {} } },
    });
    // istiod allows WebSocket upgrades in the gateway's HTTP connection manager, for every route.
    expect(JSON.stringify(data.proxyConfig.listeners[0].config)).toContain('"upgradeType":"websocket"');
    expect((await envoyRoute('same', 'protocols.example.com:80', '/ws')).route.cluster).toBe(cluster('ws', 8082));
  });
});
