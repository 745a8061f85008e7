// Route resolution, second half: the HTTP connection manager, virtual hosts, routes, actions, TCP
// proxies, provenance (VirtualService / DestinationRule) and the trace.
import { describe, expect, it } from 'vitest';
import type { Route, RouteConfiguration, VirtualHost } from '../../../src/envoy/xds.js';
import { resolveRoute, type Call } from '../../../src/routing/resolve.js';
import {
  TLS_INSPECTOR_FILTER,
  call,
  cluster,
  config,
  inlineHcm,
  type Emitted,
  istioMeta,
  outboundHttpListener,
  rdsHcm,
  route,
  socket,
  tcpProxy,
  tlsSocket,
  to,
  virtualOutbound,
  weighted,
} from '../../support/envoy-fixtures.js';

const http = (overrides: Partial<Call> = {}) => call({ port: 80, host: 'reviews', ...overrides });

function withRoutes(virtualHosts: VirtualHost[], rc: Partial<Emitted<RouteConfiguration>> = {}) {
  return config({
    listeners: [outboundHttpListener(80), virtualOutbound()],
    routes: [{ name: '80', virtualHosts, ...rc }],
  });
}

describe('HTTP connection manager', () => {
  it('a raw TCP call to an HCM chain is a "protocol error"', () => {
    // A listener whose only chain is HTTP (no ALPN condition), so TCP lands on it.
    const l = { name: '0.0.0.0_80', address: socket('0.0.0.0', 80), filterChains: [{ name: 'http', filters: [rdsHcm('80')] }] };
    const r = resolveRoute(config({ listeners: [l], routes: [{ name: '80', virtualHosts: [] }] }), call({ port: 80, protocol: 'TCP' }));
    expect(r).toMatchObject({ filterChain: 'http', error: 'protocol error', routeConfig: null });
  });

  it('TLS that the chain does not terminate reaching an HCM is a "protocol error"', () => {
    const l = {
      name: '0.0.0.0_443',
      address: socket('0.0.0.0', 443),
      filterChains: [{ name: 'http', filters: [rdsHcm('443')] }],
      listenerFilters: [TLS_INSPECTOR_FILTER],
    };
    const r = resolveRoute(config({ listeners: [l] }), call({ port: 443, tls: 'TLS', sni: 'a', host: 'a' }));
    expect(r.error).toBe('protocol error');
  });

  it('RDS: routeConfig names the route configuration', () => {
    const r = resolveRoute(
      withRoutes([
        {
          name: 'reviews:80',
          domains: ['reviews'],
          routes: [route('default', { prefix: '/' }, to('outbound|80||reviews.default.svc.cluster.local'))],
        },
      ]),
      http(),
    );
    expect(r).toMatchObject({
      listener: '0.0.0.0_80',
      routeConfig: '80',
      virtualHost: 'reviews:80',
      route: 'default',
      cluster: 'outbound|80||reviews.default.svc.cluster.local',
      error: null,
    });
    expect(r.trace.find((t) => t.stage === 'route configuration')!.detail).toContain('RDS');
  });

  it('inline route configuration: used as is, routeConfig stays null', () => {
    const l = {
      name: 'virtualInbound',
      address: socket('0.0.0.0', 15006),
      filterChains: [
        {
          name: 'inbound-http',
          filters: [
            inlineHcm({
              name: 'inbound|8080||',
              virtualHosts: [
                { name: 'inbound|http|8080', domains: ['*'], routes: [route('default', { prefix: '/' }, to('inbound|8080||'))] },
              ],
            }),
          ],
        },
      ],
    };
    const r = resolveRoute(config({ listeners: [l] }), call({ mode: 'INBOUND', port: 8080, host: 'web' }));
    expect(r).toMatchObject({
      routeConfig: null,
      virtualHost: 'inbound|http|8080',
      route: 'default',
      cluster: 'inbound|8080||',
      error: null,
    });
    expect(r.trace.find((t) => t.stage === 'route configuration')!.detail).toContain('inline');
    expect(r.trace.find((t) => t.stage === 'cluster')!.detail).toContain('never again');
  });

  it('RDS naming a route configuration istiod did not generate: an error, not a silent success', () => {
    const r = resolveRoute(config({ listeners: [outboundHttpListener(80)], routes: [] }), http());
    expect(r.routeConfig).toBe('80');
    expect(r.error).toBe('no virtual host matched');
  });
});

describe('virtual host choice', () => {
  const vh = (name: string, domains: string[]) => ({ name, domains, routes: [route('r', { prefix: '/' }, to(`c-${name}`))] });
  const hosts = [
    vh('any', ['*']),
    vh('prefix-short', ['api.*']),
    vh('prefix-long', ['api.example.*']),
    vh('suffix-short', ['*.com']),
    vh('suffix-long', ['*.example.com']),
    vh('exact', ['api.example.com', 'api.example.com:80']),
  ];
  const cfg = withRoutes(hosts);
  const pick = (host: string) => resolveRoute(cfg, http({ host })).virtualHost;

  it('exact domain first', () => expect(pick('api.example.com')).toBe('exact'));
  it('exact domain, case-insensitively', () => expect(pick('API.Example.com')).toBe('exact'));
  it('then the longest *.suffix', () => {
    expect(pick('www.example.com')).toBe('suffix-long');
    expect(pick('www.other.com')).toBe('suffix-short');
  });
  it('then the longest prefix.*', () => {
    expect(pick('api.example.org')).toBe('prefix-long');
    expect(pick('api.other.org')).toBe('prefix-short');
  });
  it('then *', () => expect(pick('unknown.org')).toBe('any'));
  it('the trace says how the virtual host matched', () => {
    const r = resolveRoute(cfg, http({ host: 'www.example.com' }));
    expect(r.trace.find((t) => t.stage === 'virtual host')!.detail).toContain('*.example.com');
  });

  it('no catch-all and nothing matches: "no virtual host matched"', () => {
    const r = resolveRoute(withRoutes([vh('exact', ['a'])]), http({ host: 'b' }));
    expect(r).toMatchObject({ routeConfig: '80', virtualHost: null, error: 'no virtual host matched' });
  });

  it('a Host with a port: matched verbatim unless the route configuration ignores ports', () => {
    const plain = withRoutes([vh('bare', ['reviews']), vh('with-port', ['reviews:9080'])]);
    expect(resolveRoute(plain, http({ host: 'reviews:9080' })).virtualHost).toBe('with-port');
    expect(resolveRoute(withRoutes([vh('bare', ['reviews'])]), http({ host: 'reviews:9080' })).error).toBe('no virtual host matched');
    const ignoring = withRoutes([vh('bare', ['reviews'])], { ignorePortInHostMatching: true });
    expect(resolveRoute(ignoring, http({ host: 'reviews:9080' })).virtualHost).toBe('bare');
    expect(resolveRoute(withRoutes([vh('v6', ['::1'])], { ignorePortInHostMatching: true }), http({ host: '[::1]:80' })).virtualHost).toBe(
      'v6',
    );
  });

  it('requireTls ALL answers plaintext with "tls required, sending 301"', () => {
    const r = resolveRoute(withRoutes([{ ...vh('secure', ['*']), requireTls: 'ALL' }]), http());
    expect(r).toMatchObject({ virtualHost: 'secure', route: null, cluster: null, error: 'tls required, sending 301' });
  });
});

describe('route matching', () => {
  const C = (n: string) => `outbound|80|${n}|reviews.default.svc.cluster.local`;
  const host = (routes: Route[]) => withRoutes([{ name: 'reviews:80', domains: ['reviews'], routes }]);
  const matched = (routes: Route[], c: Partial<Call>) => resolveRoute(host(routes), http(c));

  it('prefix, exact path, regex (whole path) and path-separated prefix, in order; the query string is not part of the path', () => {
    const routes = [
      route('exact', { path: '/health' }, to(C('exact'))),
      route('regex', { safeRegex: { regex: '/api/v[0-9]+' } }, to(C('regex'))),
      route('sep', { pathSeparatedPrefix: '/static' }, to(C('sep'))),
      route('prefix', { prefix: '/api' }, to(C('prefix'))),
    ];
    expect(matched(routes, { path: '/health' }).route).toBe('exact');
    expect(matched(routes, { path: '/health?verbose=1' }).route).toBe('exact');
    expect(matched(routes, { path: '/healthz' }).error).toBe('no route matched');
    expect(matched(routes, { path: '/api/v2' }).route).toBe('regex');
    expect(matched(routes, { path: '/api/v2/items' }).route).toBe('prefix'); // regex must match the whole path
    expect(matched(routes, { path: '/static' }).route).toBe('sep');
    expect(matched(routes, { path: '/static/app.js' }).route).toBe('sep');
    expect(matched(routes, { path: '/staticky' }).error).toBe('no route matched');
  });

  it('first match wins, and the skipped routes are in the trace', () => {
    const routes = [
      route('first', { prefix: '/a' }, to(C('1'))),
      route('second', { prefix: '/' }, to(C('2'))),
      route('third', { prefix: '/a' }, to(C('3'))),
    ];
    const r = matched(routes, { path: '/a/b' });
    expect(r.route).toBe('first');
    const r2 = matched(routes, { path: '/b' });
    expect(r2).toMatchObject({ route: 'second', cluster: C('2') });
    expect(r2.trace.some((t) => t.stage === 'route' && t.detail.startsWith('Skipped route "first"'))).toBe(true);
  });

  it('caseSensitive false: prefix and exact path ignore case; the default is case-sensitive', () => {
    const routes = [route('ci', { prefix: '/API', caseSensitive: false }, to(C('ci'))), route('cs', { path: '/Items' }, to(C('cs')))];
    expect(matched(routes, { path: '/api/x' }).route).toBe('ci');
    expect(matched(routes, { path: '/Items' }).route).toBe('cs');
    expect(matched(routes, { path: '/items' }).error).toBe('no route matched');
  });

  it('headers: exact, prefix, suffix, contains, regex, present, inverted, absent', () => {
    const routes = [
      route('exact', { prefix: '/', headers: [{ name: 'x-exact', stringMatch: { exact: 'yes' } }] }, to(C('exact'))),
      route('prefix', { prefix: '/', headers: [{ name: 'x-prefix', stringMatch: { prefix: 'ab' } }] }, to(C('prefix'))),
      route('suffix', { prefix: '/', headers: [{ name: 'x-suffix', stringMatch: { suffix: 'yz' } }] }, to(C('suffix'))),
      route('contains', { prefix: '/', headers: [{ name: 'x-contains', stringMatch: { contains: 'mid' } }] }, to(C('contains'))),
      route('regex', { prefix: '/', headers: [{ name: 'x-regex', stringMatch: { safeRegex: { regex: 'v[0-9]' } } }] }, to(C('regex'))),
      route('present', { prefix: '/', headers: [{ name: 'x-present', presentMatch: true }] }, to(C('present'))),
      route('inverted', { prefix: '/', headers: [{ name: 'x-not', stringMatch: { exact: 'no' }, invertMatch: true }] }, to(C('inverted'))),
      route('absent', { prefix: '/', headers: [{ name: 'x-user', presentMatch: true, invertMatch: true }] }, to(C('absent'))),
      route('fallback', { prefix: '/' }, to(C('fallback'))),
    ];
    const h = (name: string, value: string) => ({
      headers: [
        { name, value },
        { name: 'x-user', value: 'u' },
      ],
    });
    expect(matched(routes, h('X-Exact', 'yes')).route).toBe('exact'); // header names are case-insensitive
    expect(matched(routes, h('x-exact', 'YES')).route).not.toBe('exact'); // values are not
    expect(matched(routes, h('x-prefix', 'abc')).route).toBe('prefix');
    expect(matched(routes, h('x-suffix', 'xyz')).route).toBe('suffix');
    expect(matched(routes, h('x-contains', 'amidb')).route).toBe('contains');
    expect(matched(routes, h('x-regex', 'v7')).route).toBe('regex');
    expect(matched(routes, h('x-regex', 'v77')).route).not.toBe('regex'); // full match
    expect(matched(routes, h('x-present', '')).route).toBe('present');
    expect(matched(routes, h('x-not', 'maybe')).route).toBe('inverted');
    expect(matched(routes, h('x-not', 'no')).route).toBe('fallback');
    // A missing header fails an inverted value matcher (Envoy), so "inverted" does not match without x-not.
    expect(matched(routes, { headers: [{ name: 'x-user', value: 'u' }] }).route).toBe('fallback');
    // The absent matcher: presentMatch + invertMatch matches when the header is missing.
    expect(matched(routes, { headers: [] }).route).toBe('absent');
  });

  it('the miss on a header is in the trace, with the value or "(absent)"', () => {
    const routes = [
      route('canary', { prefix: '/', headers: [{ name: 'x-canary', stringMatch: { exact: 'true' } }] }, to(C('v2'))),
      route('default', { prefix: '/' }, to(C('v1'))),
    ];
    const r = matched(routes, {});
    expect(r.route).toBe('default');
    expect(r.trace.some((t) => t.detail.includes('x-canary') && t.detail.includes('(absent)'))).toBe(true);
  });

  it(':method and :authority are headers too', () => {
    const routes = [
      route('post', { prefix: '/', headers: [{ name: ':method', stringMatch: { exact: 'POST' } }] }, to(C('post'))),
      route('authority', { prefix: '/', headers: [{ name: ':authority', stringMatch: { prefix: 'reviews' } }] }, to(C('authority'))),
    ];
    expect(matched(routes, { method: 'POST' }).route).toBe('post');
    expect(matched(routes, { method: 'post' }).route).toBe('post');
    expect(matched(routes, { method: 'GET' }).route).toBe('authority');
    const miss = matched([routes[0]], { method: 'GET' });
    expect(miss.error).toBe('no route matched');
    expect(miss.trace.some((t) => t.detail.includes('method GET does not match'))).toBe(true);
  });

  it('query parameters: exact, regex, present; compared as sent, not decoded; absent fails', () => {
    const routes = [
      route('exact', { prefix: '/', queryParameters: [{ name: 'debug', stringMatch: { exact: 'on' } }] }, to(C('exact'))),
      route('regex', { prefix: '/', queryParameters: [{ name: 'id', stringMatch: { safeRegex: { regex: '[0-9]+' } } }] }, to(C('regex'))),
      route('present', { prefix: '/', queryParameters: [{ name: 'flag', presentMatch: true }] }, to(C('present'))),
    ];
    expect(matched(routes, { path: '/x?debug=on' }).route).toBe('exact');
    expect(matched(routes, { path: '/x?a=1&id=42' }).route).toBe('regex');
    expect(matched(routes, { path: '/x?id=4a2' }).error).toBe('no route matched');
    expect(matched(routes, { path: '/x?flag' }).route).toBe('present');
    // Envoy's route matcher reads the query string undecoded (parseQueryString, not parseAndDecodeQueryString).
    expect(matched(routes, { path: '/x?debug=%6Fn' }).error).toBe('no route matched');
    expect(matched(routes, { path: '/x?d%65bug=on' }).error).toBe('no route matched');
    expect(
      matched([route('space', { prefix: '/', queryParameters: [{ name: 'q', stringMatch: { exact: 'a+b' } }] }, to(C('space')))], {
        path: '/x?q=a+b',
      }).route,
    ).toBe('space');
    expect(matched(routes, { path: '/x' }).error).toBe('no route matched');
  });

  it('no route matches: "no route matched", with every skipped route in the trace', () => {
    const r = matched([route('only', { prefix: '/api' }, to(C('x')))], { path: '/web' });
    expect(r).toMatchObject({ virtualHost: 'reviews:80', route: null, cluster: null, error: 'no route matched' });
    expect(r.trace.some((t) => t.detail.includes('Skipped route "only"'))).toBe(true);
  });

  it('an unnamed route comes back as null, found by its position in the virtual host', () => {
    const r = matched([route(undefined, { prefix: '/api' }, to(C('api'))), route(undefined, { prefix: '/' }, to(C('x')))], {});
    expect(r.route).toBeNull();
    expect(r.routeIndex).toBe(1);
    expect(r.cluster).toBe(C('x'));
    expect(matched([route('only', { prefix: '/api' }, to(C('api')))], { path: '/web' }).routeIndex).toBeNull();
  });
});

describe('route actions', () => {
  const reviews = (routes: Route[]) => withRoutes([{ name: 'reviews:80', domains: ['reviews'], routes }]);

  it('weighted clusters: listed with their weights, cluster null', () => {
    const r = resolveRoute(
      reviews([
        route(
          'split',
          { prefix: '/' },
          {
            route: {
              weightedClusters: {
                clusters: [
                  { name: 'outbound|80|v1|reviews', weight: 90 },
                  { name: 'outbound|80|v2|reviews', weight: 10 },
                ],
              },
            },
          },
        ),
      ]),
      http(),
    );
    expect(r.cluster).toBeNull();
    expect(r.weightedClusters).toEqual([
      { cluster: 'outbound|80|v1|reviews', weight: 90 },
      { cluster: 'outbound|80|v2|reviews', weight: 10 },
    ]);
    expect(r.trace.find((t) => t.stage === 'cluster')!.detail).toContain('90%');
  });

  it('redirect: cluster null, and the trace says it is a redirect', () => {
    const r = resolveRoute(
      reviews([route('redir', { prefix: '/' }, { redirect: { httpsRedirect: true } }, ['default', 'reviews'])]),
      http(),
    );
    expect(r).toMatchObject({
      route: 'redir',
      cluster: null,
      weightedClusters: null,
      error: null,
      virtualService: { kind: 'VirtualService', namespace: 'default', name: 'reviews' },
    });
    expect(r.trace.at(-1)!).toMatchObject({ stage: 'action', detail: expect.stringContaining('redirect') });
  });

  it('direct response: cluster null, and the trace says so (REGISTRY_ONLY block_all)', () => {
    const r = resolveRoute(
      withRoutes([
        { name: 'block_all', domains: ['*'], routes: [{ name: 'block_all', match: { prefix: '/' }, directResponse: { status: 502 } }] },
      ]),
      http({ host: 'example.com' }),
    );
    expect(r).toMatchObject({ virtualHost: 'block_all', route: 'block_all', cluster: null, error: null });
    expect(r.trace.at(-1)!.detail).toContain('HTTP 502');
  });

  it('route notes (timeout, retries, rewrite, hash policy, mirror) are in the cluster step', () => {
    const r = resolveRoute(
      reviews([
        route(
          'notes',
          { prefix: '/' },
          {
            route: {
              cluster: 'outbound|80||reviews',
              timeout: '5s',
              retryPolicy: { numRetries: 3, retryOn: '5xx', perTryTimeout: '2s' },
              prefixRewrite: '/v2',
              hashPolicy: [{ header: { headerName: 'x-user' } }],
              requestMirrorPolicies: [{ cluster: 'outbound|80||shadow' }],
            },
          },
        ),
      ]),
      http(),
    );
    const detail = r.trace.find((t) => t.stage === 'cluster')!.detail;
    for (const note of ['timeout 5s', 'retries 3 on 5xx', '"/v2"', 'header x-user', 'mirror shadow:80 (100%)'])
      expect(detail).toContain(note);
  });

  it('a retry on status codes names them, as an HTTPRoute retry gives it (HTTPRouteRetry)', () => {
    const retryPolicy = { numRetries: 3, retryOn: 'connect-failure,retriable-status-codes', retriableStatusCodes: [500, 502] };
    const r = resolveRoute(reviews([route('r', { prefix: '/' }, { route: { cluster: 'outbound|80||reviews', retryPolicy } })]), http());
    expect(r.trace.find((t) => t.stage === 'cluster')!.detail).toContain(
      'retries 3 on connect-failure,retriable-status-codes (status 500, 502)',
    );
  });

  it('a split names the headers each of its clusters changes (HTTPRouteRequestHeaderModifierBackendWeights)', () => {
    const weighted = (name: string, extra = {}) => ({ name, weight: 10, ...extra });
    const clusters = [
      weighted('outbound|80||a', { requestHeadersToAdd: [{ header: { key: 'backend', value: 'a' } }] }),
      weighted('outbound|80||b', { responseHeadersToRemove: ['x-b'] }),
      weighted('outbound|80||c'),
    ];
    const r = resolveRoute(reviews([route('r', { prefix: '/' }, { route: { weightedClusters: { clusters } } })]), http());
    expect(r.trace.find((t) => t.stage === 'cluster')!.detail).toContain(
      '33.3% outbound|80||a (request backend: a), 33.3% outbound|80||b (response x-b removed), 33.3% outbound|80||c',
    );
  });

  it('a cluster the proxy does not have: the trace says Envoy answers 503', () => {
    const r = resolveRoute(reviews([route('r', { prefix: '/' }, to('outbound|80||gone'))]), http());
    expect(r.cluster).toBe('outbound|80||gone');
    expect(r.trace.some((t) => t.detail.includes('503'))).toBe(true);
  });

  it('TCP proxy: its cluster', () => {
    const l = {
      name: '0.0.0.0_3306',
      address: socket('0.0.0.0', 3306),
      filterChains: [{ filters: [tcpProxy('outbound|3306||mysql.db.svc.cluster.local')] }],
    };
    const r = resolveRoute(config({ listeners: [l] }), call({ port: 3306, protocol: 'TCP' }));
    expect(r).toMatchObject({
      listener: '0.0.0.0_3306',
      cluster: 'outbound|3306||mysql.db.svc.cluster.local',
      routeConfig: null,
      error: null,
    });
    expect(r.trace.some((t) => t.stage === 'tcp')).toBe(true);
  });

  it('TCP proxy: weighted clusters', () => {
    const l = {
      name: '0.0.0.0_3306',
      address: socket('0.0.0.0', 3306),
      filterChains: [
        {
          filters: [
            tcpProxy([
              { name: 'outbound|3306|a|db', weight: 75 },
              { name: 'outbound|3306|b|db', weight: 25 },
            ]),
          ],
        },
      ],
    };
    const r = resolveRoute(config({ listeners: [l] }), call({ port: 3306, protocol: 'TCP' }));
    expect(r.cluster).toBeNull();
    expect(r.weightedClusters).toEqual([
      { cluster: 'outbound|3306|a|db', weight: 75 },
      { cluster: 'outbound|3306|b|db', weight: 25 },
    ]);
  });
});

describe('provenance', () => {
  const C1 = 'outbound|80|v1|reviews.default.svc.cluster.local';
  const C2 = 'outbound|80|v2|reviews.default.svc.cluster.local';
  const OTHER = 'outbound|80||ratings.default.svc.cluster.local';
  const clusters = [
    cluster(C1, { lbPolicy: 'LEAST_REQUEST', metadata: istioMeta('destination-rule', 'default', 'reviews', { subset: 'v1' }) }),
    cluster(C2, { metadata: istioMeta('destination-rule', 'default', 'reviews', { subset: 'v2' }) }),
    cluster(OTHER, {
      metadata: {
        filterMetadata: { istio: { services: [{ host: 'ratings.default.svc.cluster.local', name: 'ratings', namespace: 'default' }] } },
      },
    }),
    cluster('PassthroughCluster', { type: 'ORIGINAL_DST' }),
  ];
  const cfg = (routes: Route[]) =>
    config({
      listeners: [outboundHttpListener(80)],
      routes: [{ name: '80', virtualHosts: [{ name: 'reviews.default.svc.cluster.local:80', domains: ['reviews'], routes }] }],
      clusters: clusters,
    });

  it('the VirtualService of the route and the DestinationRule of the cluster, both named in the trace', () => {
    const r = resolveRoute(cfg([route('v1', { prefix: '/' }, to(C1), ['default', 'reviews-vs'])]), http());
    expect(r.virtualService).toEqual({ kind: 'VirtualService', namespace: 'default', name: 'reviews-vs' });
    expect(r.destinationRule).toEqual({ kind: 'DestinationRule', namespace: 'default', name: 'reviews' });
    const text = r.trace.map((t) => t.detail).join('\n');
    expect(text).toContain('VirtualService default/reviews-vs');
    expect(text).toContain('DestinationRule default/reviews');
    expect(text).toContain('subset v1');
    expect(text).toContain('least request');
  });

  it("no VirtualService: istiod's default route, virtualService null, and the trace says no VirtualService applies", () => {
    const r = resolveRoute(cfg([route('default', { prefix: '/' }, to(OTHER))]), http());
    expect(r.virtualService).toBeNull();
    expect(r.destinationRule).toBeNull();
    expect(r.trace.map((t) => t.detail).join('\n')).toMatch(/no VirtualService applies/);
    expect(r.trace.some((t) => t.stage === 'destination rule' && t.detail.startsWith('No DestinationRule applies'))).toBe(true);
  });

  /** A route of VirtualService default/vs splitting 50/50 between two clusters. */
  const split = (a: string, b: string) => cfg([route('split', { prefix: '/' }, weighted([a, 50], [b, 50]), ['default', 'vs'])]);

  it('weighted clusters shaped by one DestinationRule: reported', () => {
    const r = resolveRoute(split(C1, C2), http());
    expect(r.destinationRule).toEqual({ kind: 'DestinationRule', namespace: 'default', name: 'reviews' });
  });

  it('weighted clusters not all shaped by the same DestinationRule: not reported', () => {
    const r = resolveRoute(split(C1, OTHER), http());
    expect(r.destinationRule).toBeNull();
    expect(r.virtualService).toMatchObject({ name: 'vs' });
  });

  it('a route whose metadata names something else than a VirtualService: virtualService null', () => {
    const r = resolveRoute(
      cfg([{ name: 'x', match: { prefix: '/' }, route: { cluster: C1 }, metadata: istioMeta('service-entry', 'default', 'ext') }]),
      http(),
    );
    expect(r.virtualService).toBeNull();
    expect(r.trace.some((t) => t.detail.includes('ServiceEntry default/ext'))).toBe(true);
  });

  it('special clusters are explained in the trace', () => {
    const r = resolveRoute(
      config({
        listeners: [outboundHttpListener(80)],
        routes: [
          {
            name: '80',
            virtualHosts: [
              {
                name: 'allow_any',
                domains: ['*'],
                routes: [{ name: 'allow_any', match: { prefix: '/' }, route: { cluster: 'PassthroughCluster' } }],
              },
            ],
          },
        ],
        clusters: clusters,
      }),
      http({ host: 'example.com' }),
    );
    expect(r).toMatchObject({ virtualHost: 'allow_any', cluster: 'PassthroughCluster', destinationRule: null });
    expect(r.trace.find((t) => t.stage === 'cluster')!.detail).toContain('ALLOW_ANY');
  });
});

describe('TLS-terminating HTTP (a gateway https server)', () => {
  it('plain TLS through SNI to the https route configuration', () => {
    const l = {
      name: '0.0.0.0_8443',
      address: socket('0.0.0.0', 8443),
      filterChains: [
        {
          name: 'a',
          filterChainMatch: { serverNames: ['a.example.com'] },
          filters: [rdsHcm('https.443.https.gw.default')],
          transportSocket: tlsSocket('tls'),
        },
        {
          name: 'b',
          filterChainMatch: { serverNames: ['b.example.com'] },
          filters: [rdsHcm('https.443.other')],
          transportSocket: tlsSocket('tls'),
        },
      ],
      listenerFilters: [TLS_INSPECTOR_FILTER],
    };
    const routes = [
      {
        name: 'https.443.https.gw.default',
        virtualHosts: [
          {
            name: 'a.example.com:443',
            domains: ['a.example.com'],
            routes: [route('r', { prefix: '/' }, to('outbound|80||a.default.svc.cluster.local'))],
          },
        ],
      },
    ];
    const r = resolveRoute(
      config({ listeners: [l], routes: routes }),
      call({ mode: 'GATEWAY', port: 8443, tls: 'TLS', sni: 'a.example.com', host: 'a.example.com' }),
    );
    expect(r).toMatchObject({
      filterChain: 'a',
      routeConfig: 'https.443.https.gw.default',
      virtualHost: 'a.example.com:443',
      cluster: 'outbound|80||a.default.svc.cluster.local',
      error: null,
    });
    expect(r.trace.some((t) => t.stage === 'tls')).toBe(true);
  });
});
