// What users expect of the Kubernetes Gateway API (the cases of the Gateway API project's own
// conformance suite, kubernetes-sigs/gateway-api conformance/tests, written here with fixtures of
// our own), as Istio gives it: one Gateway of class istio, deployed by istiod, with HTTP, TLS
// passthrough and TCP listeners; redirects, rewrites, header modifiers, a mirror; path, header,
// query and method matches and their precedence; weights; listener hostname intersection;
// cross-namespace routes with and without a ReferenceGrant; refused routes and their status;
// GAMMA routes for the callers of a Service, one of them next to a VirtualService on its host.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_STATUS, RESOLVE, type Condition, type Resolution } from '../support/gateway-api.js';
import { deployment, namespace, service, yaml } from '../support/mesh.js';
import { uploadSnapshot, waitReady, useTestApp } from '../support/test-app.js';

/** A Service selecting `app: <name>`, one port named `portName`. */
const svc = (name: string, ns: string, port: number, portName = 'http') => service(ns, name, [{ name: portName, port }]);

/** A Gateway API route in `ns` (an HTTPRoute unless `kind` says otherwise), its spec as YAML lines. */
const route = (
  ns: string,
  name: string,
  spec: string,
  kind: 'HTTPRoute' | 'TLSRoute' | 'TCPRoute' = 'HTTPRoute',
) => `apiVersion: gateway.networking.k8s.io/${kind === 'HTTPRoute' ? 'v1' : 'v1alpha2'}
kind: ${kind}
metadata: {name: ${name}, namespace: ${ns}}
spec:${spec}`;

const MANIFESTS = [
  yaml(
    namespace('shop'),
    namespace('partner'),
    namespace('backend', { injection: false }),
    deployment('shop', 'client'),
    deployment('partner', 'outsider', { image: 'client' }),
    svc('web', 'shop', 8080),
    svc('web-v2', 'shop', 8080),
    svc('api', 'backend', 9090),
    svc('db', 'shop', 5432, 'tcp'),
    svc('secure', 'shop', 443, 'tls'),
    svc('reviews', 'shop', 9080),
    svc('reviews-v1', 'shop', 9080),
    svc('reviews-v2', 'shop', 9080),
    svc('ratings', 'shop', 9080),
    svc('ratings-v2', 'shop', 9080),
    svc('ratings-v3', 'shop', 9080),
  ),
  `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  gatewayClassName: istio
  listeners:
  - {name: http, port: 80, protocol: HTTP, hostname: "*.example.com", allowedRoutes: {namespaces: {from: All}}}
  - {name: other, port: 8080, protocol: HTTP, hostname: only.example.org}
  - {name: tls, port: 443, protocol: TLS, hostname: secure.example.com, tls: {mode: Passthrough}}
  - {name: tcp, port: 9000, protocol: TCP}
`,
  route(
    'shop',
    'hosts',
    `
  parentRefs: [{name: edge, sectionName: http}]
  hostnames: [shop.example.com, shop.example.org]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
`,
  ),
  route(
    'shop',
    'nohost',
    `
  parentRefs: [{name: edge, sectionName: other}]
  rules: [{backendRefs: [{name: web-v2, port: 8080}]}]
`,
  ),
  route(
    'shop',
    'matches',
    `
  parentRefs: [{name: edge}]
  hostnames: [match.example.com]
  rules:
  - matches: [{path: {type: Exact, value: /exact}}]
    backendRefs: [{name: web-v2, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /p}, headers: [{name: version, value: v2}]}]
    backendRefs: [{name: web-v2, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /p}, queryParams: [{name: q, value: "1"}]}]
    backendRefs: [{name: web-v2, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /p}, method: POST}]
    backendRefs: [{name: web-v2, port: 8080}]
  - matches: [{path: {type: RegularExpression, value: "/re/[0-9]+"}}]
    backendRefs: [{name: web-v2, port: 8080}]
  - backendRefs: [{name: web, port: 8080, weight: 70}, {name: web-v2, port: 8080, weight: 30}]
`,
  ),
  route(
    'shop',
    'filters',
    `
  parentRefs: [{name: edge}]
  hostnames: [filters.example.com]
  rules:
  - matches: [{path: {value: /redirect-scheme}}]
    filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}]
  - matches: [{path: {value: /redirect-host}}]
    filters: [{type: RequestRedirect, requestRedirect: {hostname: other.example.com, statusCode: 301}}]
  - matches: [{path: {value: /redirect-port}}]
    filters: [{type: RequestRedirect, requestRedirect: {port: 8443}}]
  - matches: [{path: {value: /redirect-full}}]
    filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /new}}}]
  - matches: [{path: {value: /redirect-prefix}}]
    filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /replaced}}}]
  - matches: [{path: {value: /rewrite}}]
    filters: [{type: URLRewrite, urlRewrite: {hostname: internal.example.com, path: {type: ReplacePrefixMatch, replacePrefixMatch: /v1}}}]
    backendRefs: [{name: web, port: 8080}]
  - matches: [{path: {value: /rewrite-full}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: /index.html}}}]
    backendRefs: [{name: web, port: 8080}]
  - matches: [{path: {value: /headers}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: X-Set, value: set}], add: [{name: X-Add, value: add}], remove: [X-Remove]}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {set: [{name: X-Resp-Set, value: set}], add: [{name: X-Resp-Add, value: add}], remove: [Server]}
    - type: RequestMirror
      requestMirror: {backendRef: {name: web-v2, port: 8080}}
    backendRefs: [{name: web, port: 8080}]
`,
  ),
  route(
    'shop',
    'cross',
    `
  parentRefs: [{name: edge}]
  hostnames: [cross.example.com]
  rules: [{backendRefs: [{name: api, namespace: backend, port: 9090}]}]
`,
  ),
  route(
    'partner',
    'granted',
    `
  parentRefs: [{name: edge, namespace: shop}]
  hostnames: [granted.example.com]
  rules: [{backendRefs: [{name: api, namespace: backend, port: 9090}]}]
`,
  ),
  `apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: from-partner, namespace: backend}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: partner}]
  to: [{group: "", kind: Service, name: api}]
`,
  route(
    'shop',
    'badkind',
    `
  parentRefs: [{name: edge}]
  hostnames: [badkind.example.com]
  rules: [{backendRefs: [{group: example.com, kind: Bucket, name: web, port: 8080}]}]
`,
  ),
  route(
    'shop',
    'nosection',
    `
  parentRefs: [{name: edge, sectionName: nothere}]
  hostnames: [nosection.example.com]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
`,
  ),
  route(
    'partner',
    'notallowed',
    `
  parentRefs: [{name: edge, namespace: shop, sectionName: other}]
  rules: [{backendRefs: [{name: web, namespace: shop, port: 8080}]}]
`,
  ),
  route(
    'shop',
    'passthrough',
    `
  parentRefs: [{name: edge, sectionName: tls}]
  hostnames: [secure.example.com]
  rules: [{backendRefs: [{name: secure, port: 443}]}]
`,
    'TLSRoute',
  ),
  route(
    'shop',
    'db',
    `
  parentRefs: [{name: edge, sectionName: tcp}]
  rules: [{backendRefs: [{name: db, port: 5432}]}]
`,
    'TCPRoute',
  ),
  route(
    'shop',
    'reviews',
    `
  parentRefs: [{group: "", kind: Service, name: reviews, port: 9080}]
  rules:
  - matches: [{headers: [{name: end-user, value: jason}]}]
    backendRefs: [{name: reviews-v2, port: 9080}]
  - backendRefs: [{name: reviews-v1, port: 9080, weight: 80}, {name: reviews-v2, port: 9080, weight: 20}]
`,
  ),
  route(
    'shop',
    'ratings',
    `
  parentRefs: [{group: "", kind: Service, name: ratings, port: 9080}]
  rules: [{backendRefs: [{name: ratings-v2, port: 9080}]}]
`,
  ),
  `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: shop}
spec:
  hosts: [ratings.shop.svc.cluster.local]
  http: [{route: [{destination: {host: ratings-v3.shop.svc.cluster.local}}]}]
`,
].join('---\n');

const GATEWAY = { namespace: 'shop', name: 'edge-istio' };
const cluster = (name: string, ns: string, port: number) => `outbound|${port}||${name}.${ns}.svc.cluster.local`;

describe('Gateway API conformance cases, as Istio gives them', () => {
  const t = useTestApp();
  let id: string;
  let statuses: { kind: string; namespace: string; name: string; conditions: Condition[] }[];
  let routeConfigs: Map<string, Record<string, unknown>>;
  beforeAll(async () => {
    id = await uploadSnapshot(t.app, MANIFESTS, 'gateway-api-cases');
    await waitReady(t.app, id, 180_000);
    const data = await graphql(
      `
        query ($id: ID!, $proxy: ProxyInput!) {
          snapshot(id: $id) {
            ${GATEWAY_STATUS}
          }
          proxyConfig(snapshotId: $id, proxy: $proxy) {
            routes {
              name
              config
            }
          }
        }
      `,
      { id, proxy: GATEWAY },
    );
    statuses = data.snapshot.gatewayStatus;
    routeConfigs = new Map(data.proxyConfig.routes.map((r: { name: string; config: Record<string, unknown> }) => [r.name, r.config]));
  }, 240_000);

  const graphql = async (query: string, variables: Record<string, unknown>) => {
    const res = await request(t.app.getHttpServer()).post('/graphql').send({ query, variables });
    expect(res.body.errors).toBeUndefined();
    return res.body.data;
  };
  const resolve = async (proxy: Record<string, unknown>, call: Record<string, unknown>): Promise<Resolution> =>
    (await graphql(RESOLVE, { id, proxy, call })).resolveRoute;
  const viaGateway = (call: Record<string, unknown>) => resolve(GATEWAY, { mode: 'GATEWAY', port: 80, ...call });
  const conditions = (kind: string, namespace: string, name: string): Condition[] =>
    statuses.find((s) => s.kind === kind && s.namespace === namespace && s.name === name)?.conditions ?? [];
  /** The Envoy route of the deployed gateway's route configuration `rc`, virtual host `vh`, named `name`. */
  const envoyRoute = (rc: string, vh: string, name: string) => {
    const config = routeConfigs.get(rc) as { virtualHosts?: { name: string; routes: { name: string }[] }[] } | undefined;
    const route = config?.virtualHosts?.find((v) => v.name === vh)?.routes.find((r) => r.name === name);
    expect(route, `${rc} ${vh} ${name}`).toBeDefined();
    return route as unknown as Record<string, Record<string, unknown>>;
  };

  describe('listener hostname intersection (HTTPRouteListenerHostnameMatching, HTTPRouteHostnameIntersection)', () => {
    it("a route's hostname inside the listener's wildcard is served", async () => {
      expect(await viaGateway({ host: 'shop.example.com', path: '/' })).toMatchObject({
        error: null,
        virtualHost: 'shop.example.com:80',
        cluster: cluster('web', 'shop', 8080),
        routeSource: { kind: 'HTTPRoute', namespace: 'shop', name: 'hosts' },
      });
    });
    it("a route's hostname outside it is not: no virtual host", async () => {
      const r = await viaGateway({ host: 'shop.example.org', path: '/' });
      expect(r.cluster).toBeNull();
      expect(r.routeSource).toBeNull();
      expect(r.error).not.toBeNull();
    });
    it("a route without hostnames takes the listener's", async () => {
      expect(await viaGateway({ port: 8080, host: 'only.example.org', path: '/' })).toMatchObject({
        error: null,
        virtualHost: 'only.example.org:8080',
        cluster: cluster('web-v2', 'shop', 8080),
      });
    });
  });

  describe('matches and their precedence (HTTPRouteMatching, ...HeaderMatching, ...QueryParamMatching, ...MethodMatching)', () => {
    const host = 'match.example.com';
    it('an exact path', async () => {
      expect(await viaGateway({ host, path: '/exact' })).toMatchObject({
        route: 'shop.matches.0',
        cluster: cluster('web-v2', 'shop', 8080),
      });
      // Exact is exact: /exact/more falls through to the default rule.
      expect((await viaGateway({ host, path: '/exact/more' })).route).toBe('shop.matches.5');
    });
    it('a header, a query parameter, a method', async () => {
      expect((await viaGateway({ host, path: '/p/x', headers: [{ name: 'version', value: 'v2' }] })).route).toBe('shop.matches.1');
      expect((await viaGateway({ host, path: '/p/x?q=1' })).route).toBe('shop.matches.2');
      expect((await viaGateway({ host, path: '/p/x', method: 'POST' })).route).toBe('shop.matches.3');
      expect((await viaGateway({ host, path: '/p/x' })).route).toBe('shop.matches.5');
    });
    it('a method match comes before header matches of the same path (the precedence the spec sets)', async () => {
      const r = await viaGateway({ host, path: '/p/x', method: 'POST', headers: [{ name: 'version', value: 'v2' }] });
      expect(r.route).toBe('shop.matches.3');
    });
    it('a regular expression, ranked after every prefix: behind the default rule (PathPrefix /), it is dropped', async () => {
      // istiod sorts a route's rules Exact > PathPrefix > RegularExpression (sortHTTPRoutes, getURIRank);
      // the rule without matches has the CRD's default match, PathPrefix /, a catch-all, and istiod
      // generates no Envoy route after a catch-all one: /re/42 goes to the default rule.
      expect((await viaGateway({ host, path: '/re/42' })).route).toBe('shop.matches.5');
      const config = routeConfigs.get('http.80') as { virtualHosts: { name: string; routes: { name: string }[] }[] };
      const names = config.virtualHosts.find((v) => v.name === 'match.example.com:80')?.routes.map((r) => r.name);
      expect(names).toEqual(['shop.matches.0', 'shop.matches.3', 'shop.matches.1', 'shop.matches.2', 'shop.matches.5']);
    });
    it('weights (HTTPRouteWeight)', async () => {
      expect((await viaGateway({ host, path: '/anything' })).weightedClusters).toEqual([
        { cluster: cluster('web', 'shop', 8080), weight: 70 },
        { cluster: cluster('web-v2', 'shop', 8080), weight: 30 },
      ]);
    });
  });

  describe('filters', () => {
    const VH = 'filters.example.com:80';
    it('RequestRedirect: scheme, with the CRD default status 302 (HTTPRouteRedirectScheme)', async () => {
      const r = await viaGateway({ host: 'filters.example.com', path: '/redirect-scheme' });
      expect(r.cluster).toBeNull();
      expect(r.trace.map((t) => t.detail).join('\n')).toContain('The route answers with a redirect (scheme https, status FOUND)');
      expect(envoyRoute('http.80', VH, 'shop.filters.0').redirect).toMatchObject({ schemeRedirect: 'https', responseCode: 'FOUND' });
    });
    it('RequestRedirect: hostname and 301 (HTTPRouteRedirectHostAndStatus)', () => {
      const redirect = envoyRoute('http.80', VH, 'shop.filters.1').redirect;
      expect(redirect.hostRedirect).toBe('other.example.com');
      // 301 is Envoy's default response code, left out of its JSON.
      expect(redirect.responseCode).toBeUndefined();
    });
    it('RequestRedirect: port (HTTPRouteRedirectPort)', () => {
      expect(envoyRoute('http.80', VH, 'shop.filters.2').redirect).toMatchObject({ portRedirect: 8443, responseCode: 'FOUND' });
    });
    it('RequestRedirect: ReplaceFullPath and ReplacePrefixMatch (HTTPRouteRedirectPath)', () => {
      expect(envoyRoute('http.80', VH, 'shop.filters.3').redirect).toMatchObject({ pathRedirect: '/new' });
      expect(envoyRoute('http.80', VH, 'shop.filters.4').redirect).toMatchObject({ prefixRewrite: '/replaced' });
    });
    it('URLRewrite: hostname and path prefix, full path (HTTPRouteRewriteHost, HTTPRouteRewritePath)', async () => {
      expect(envoyRoute('http.80', VH, 'shop.filters.5').route).toMatchObject({
        cluster: cluster('web', 'shop', 8080),
        prefixRewrite: '/v1',
        hostRewriteLiteral: 'internal.example.com',
      });
      expect(envoyRoute('http.80', VH, 'shop.filters.6').route).toMatchObject({
        regexRewrite: { pattern: { regex: '/.*' }, substitution: '/index.html' },
      });
      expect((await viaGateway({ host: 'filters.example.com', path: '/rewrite/a' })).cluster).toBe(cluster('web', 'shop', 8080));
    });
    it('Request and ResponseHeaderModifier, RequestMirror (HTTPRouteRequestHeaderModifier, ...ResponseHeaderModifier, ...RequestMirror)', () => {
      const r = envoyRoute('http.80', VH, 'shop.filters.7');
      expect(r.requestHeadersToAdd).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ header: { key: 'x-set', value: 'set' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }),
          expect.objectContaining({ header: { key: 'x-add', value: 'add' } }),
        ]),
      );
      // istiod lowercases the header names.
      expect((r.requestHeadersToRemove as unknown as string[]).map((h) => h.toLowerCase())).toEqual(['x-remove']);
      expect(r.responseHeadersToAdd).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ header: { key: 'x-resp-set', value: 'set' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }),
          expect.objectContaining({ header: { key: 'x-resp-add', value: 'add' } }),
        ]),
      );
      expect((r.responseHeadersToRemove as unknown as string[]).map((h) => h.toLowerCase())).toEqual(['server']);
      expect(r.route.requestMirrorPolicies).toEqual([expect.objectContaining({ cluster: cluster('web-v2', 'shop', 8080) })]);
    });
  });

  describe('cross-namespace backends and refused routes (HTTPRouteReferenceGrant, HTTPRouteInvalidCrossNamespaceBackendRef, ...)', () => {
    it('a backend in another namespace without a ReferenceGrant: 500, ResolvedRefs False RefNotPermitted', async () => {
      // istiod routes an invalid backend to cluster UnknownService, which no proxy has, and sets
      // the route's cluster_not_found_response_code to 500, as the Gateway API asks.
      const r = await viaGateway({ host: 'cross.example.com', path: '/' });
      expect(r.cluster).toBe('UnknownService');
      expect(r.trace.map((t) => t.detail).join('\n')).toContain(
        "Cluster UnknownService does not exist in this proxy's config: Envoy answers 500",
      );
      expect(envoyRoute('http.80', 'cross.example.com:80', 'shop.cross.0').route).toMatchObject({
        cluster: 'UnknownService',
        clusterNotFoundResponseCode: 'INTERNAL_SERVER_ERROR',
      });
      expect(conditions('HTTPRoute', 'shop', 'cross')).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'Accepted', status: 'True', reason: 'Accepted', parent: 'Gateway shop/edge' }),
          expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted', parent: 'Gateway shop/edge' }),
        ]),
      );
    });
    it('with a ReferenceGrant, from a route in a third namespace on the Gateway', async () => {
      expect(await viaGateway({ host: 'granted.example.com', path: '/' })).toMatchObject({
        error: null,
        cluster: cluster('api', 'backend', 9090),
        routeSource: { kind: 'HTTPRoute', namespace: 'partner', name: 'granted' },
      });
      expect(conditions('HTTPRoute', 'partner', 'granted')).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'Accepted', status: 'True', parent: 'Gateway shop/edge' }),
          expect.objectContaining({ type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', parent: 'Gateway shop/edge' }),
        ]),
      );
    });
    it('a backendRef of an unknown kind: 500, ResolvedRefs False InvalidKind (HTTPRouteInvalidBackendRefUnknownKind)', async () => {
      const r = await viaGateway({ host: 'badkind.example.com', path: '/' });
      expect(r.cluster).toBe('UnknownService');
      expect(r.trace.map((t) => t.detail).join('\n')).toContain('Envoy answers 500');
      expect(conditions('HTTPRoute', 'shop', 'badkind')).toContainEqual(
        expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'InvalidKind' }),
      );
    });
    it('a parentRef naming no listener: Accepted False NoMatchingParent, not served (HTTPRouteInvalidParentRefNotMatchingSectionName)', async () => {
      expect(conditions('HTTPRoute', 'shop', 'nosection')).toContainEqual(
        expect.objectContaining({ type: 'Accepted', status: 'False', reason: 'NoMatchingParent' }),
      );
      expect((await viaGateway({ host: 'nosection.example.com', path: '/' })).cluster).toBeNull();
    });
    it('a route from a namespace the listener does not allow: Accepted False NotAllowedByListeners', () => {
      expect(conditions('HTTPRoute', 'partner', 'notallowed')).toContainEqual(
        expect.objectContaining({ type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners', parent: 'Gateway shop/edge' }),
      );
    });
    it('the Gateway: Accepted and Programmed', () => {
      const gw = conditions('Gateway', 'shop', 'edge');
      expect(gw).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'Accepted', status: 'True', reason: 'Accepted', parent: null }),
          expect.objectContaining({ type: 'Programmed', status: 'True', reason: 'Programmed', parent: null }),
        ]),
      );
    });
  });

  describe('TLS passthrough and TCP on the Gateway (TLSRouteSimpleSameNamespace, TCPRoute)', () => {
    it('a TLSRoute passes the connection through by SNI', async () => {
      const r = await viaGateway({ port: 443, protocol: 'TCP', tls: 'TLS', sni: 'secure.example.com' });
      expect(r).toMatchObject({ error: null, cluster: cluster('secure', 'shop', 443) });
      expect(conditions('TLSRoute', 'shop', 'passthrough')).toContainEqual(expect.objectContaining({ type: 'Accepted', status: 'True' }));
    });
    it('a TCPRoute forwards the listener', async () => {
      const r = await viaGateway({ port: 9000, protocol: 'TCP' });
      expect(r).toMatchObject({ error: null, cluster: cluster('db', 'shop', 5432) });
      expect(conditions('TCPRoute', 'shop', 'db')).toContainEqual(expect.objectContaining({ type: 'Accepted', status: 'True' }));
    });
  });

  describe('GAMMA: routes for the callers of a Service (MeshBasic, MeshHTTPRouteWeight, MeshHTTPRouteMatching)', () => {
    const CLIENT = { namespace: 'shop', name: 'client' };
    const call = (host: string, headers: { name: string; value: string }[] = []) => ({
      mode: 'OUTBOUND',
      port: 9080,
      host,
      path: '/',
      headers,
    });
    it('weights across Services, and a header route first', async () => {
      const host = 'reviews.shop.svc.cluster.local';
      expect((await resolve(CLIENT, call(host))).weightedClusters).toEqual([
        { cluster: cluster('reviews-v1', 'shop', 9080), weight: 80 },
        { cluster: cluster('reviews-v2', 'shop', 9080), weight: 20 },
      ]);
      expect(await resolve(CLIENT, call(host, [{ name: 'end-user', value: 'jason' }]))).toMatchObject({
        cluster: cluster('reviews-v2', 'shop', 9080),
        routeSource: { kind: 'HTTPRoute', namespace: 'shop', name: 'reviews' },
      });
      expect(conditions('HTTPRoute', 'shop', 'reviews')).toContainEqual(
        expect.objectContaining({ type: 'Accepted', status: 'True', parent: 'Service shop/reviews' }),
      );
    });
    it("an HTTPRoute and a VirtualService on the same host: for a caller in the route's namespace, the HTTPRoute", async () => {
      // istiod lists a proxy's VirtualServices with those of Gateway API semantics in its own
      // namespace first (SelectVirtualServices, PILOT_UNIFIED_SIDECAR_SCOPE on by default); of two
      // virtual hosts with the same domains, the first one built keeps them.
      expect(await resolve(CLIENT, call('ratings.shop.svc.cluster.local'))).toMatchObject({
        cluster: cluster('ratings-v2', 'shop', 9080),
        routeSource: { kind: 'HTTPRoute', namespace: 'shop', name: 'ratings' },
      });
    });
    it('for a caller in another namespace, as istiod orders them there', async () => {
      const r = await resolve({ namespace: 'partner', name: 'outsider' }, call('ratings.shop.svc.cluster.local'));
      expect(r).toMatchObject({ cluster: cluster('ratings-v2', 'shop', 9080) });
    });
  });
});
