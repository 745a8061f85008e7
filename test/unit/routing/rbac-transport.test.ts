// Envoy's RBAC semantics (routing/rbac.ts), the authorization decision over a chain's RBAC filters
// (journey/authorization.ts), and transport socket selection (routing/transport.ts), on configs in
// the shapes istiod generates (pilot/pkg/security/authz/model).
import { describe, expect, it } from 'vitest';
import { authorize } from '../../../src/journey/authorization.js';
import type { Cluster, FilterChain } from '../../../src/envoy/xds.js';
import { evaluateEngine, parsePolicyName, type Permission, type Principal, type RbacRequest } from '../../../src/envoy/rbac.js';
import { inboundMtls, upstreamTransport } from '../../../src/envoy/transport.js';
import type { Emitted } from '../../support/envoy-fixtures.js';

const request = (over: Partial<RbacRequest> = {}): RbacRequest => ({
  principal: 'spiffe://cluster.local/ns/shop/sa/web',
  directRemoteIp: '10.1.2.3',
  remoteIp: '10.1.2.3',
  destinationIp: '10.9.9.9',
  destinationPort: 8080,
  sni: null,
  headers: new Map([
    [':method', 'GET'],
    [':path', '/items?x=1'],
    [':authority', 'api.shop.svc.cluster.local'],
  ]),
  path: '/items',
  metadata: {},
  ...over,
});
const policy = (permissions: Permission[], principals: Principal[] = [{ any: true }]) => ({ permissions, principals });
const exact = (v: string) => ({ exact: v });

describe('Envoy RBAC engine', () => {
  it('a policy matches when any permission and any principal match', () => {
    const p = policy(
      [{ header: { name: ':method', stringMatch: exact('POST') } }, { urlPath: { path: { prefix: '/it' } } }],
      [{ authenticated: { principalName: exact('spiffe://x') } }, { any: true }],
    );
    expect(evaluateEngine({ action: 'ALLOW', policies: { a: p } }, request())).toMatchObject({ matched: 'a', allowed: true });
  });

  it('ALLOW (the default action) with no matching policy denies; with no policies at all too', () => {
    expect(evaluateEngine({ policies: { a: policy([{ destinationPort: 9090 }]) } }, request())).toMatchObject({
      action: 'ALLOW',
      matched: null,
      allowed: false,
    });
    expect(evaluateEngine({}, request()).allowed).toBe(false);
  });

  it('DENY lets through what no policy matches; LOG lets everything through', () => {
    expect(evaluateEngine({ action: 'DENY', policies: { a: policy([{ destinationPort: 9090 }]) } }, request()).allowed).toBe(true);
    expect(evaluateEngine({ action: 'DENY', policies: { a: policy([{ destinationPort: 8080 }]) } }, request()).allowed).toBe(false);
    expect(evaluateEngine({ action: 'LOG', policies: { a: policy([{ any: true }]) } }, request())).toMatchObject({
      matched: 'a',
      allowed: true,
    });
  });

  it('the effective policy is the first matching name in code-unit order', () => {
    const any = policy([{ any: true }]);
    expect(evaluateEngine({ policies: { 'ns[b]-policy[z]-rule[0]': any, 'ns[a]-policy[y]-rule[1]': any } }, request()).matched).toBe(
      'ns[a]-policy[y]-rule[1]',
    );
  });

  it('and/or/not on permissions and principals', () => {
    const notAdmin: Permission = { notRule: { urlPath: { path: exact('/admin') } } };
    const and: Permission = {
      andRules: { rules: [{ orRules: { rules: [{ header: { name: ':method', stringMatch: exact('GET') } }] } }, notAdmin] },
    };
    expect(evaluateEngine({ policies: { a: policy([and]) } }, request()).allowed).toBe(true);
    expect(evaluateEngine({ policies: { a: policy([and]) } }, request({ path: '/admin' })).misses[0]!.miss).toContain('excluded');
    const notWeb: Principal = { notId: { authenticated: { principalName: { safeRegex: { regex: '.*/ns/shop/.*' } } } } };
    expect(evaluateEngine({ policies: { a: policy([{ any: true }], [{ andIds: { ids: [notWeb] } }]) } }, request()).allowed).toBe(false);
    expect(
      evaluateEngine(
        {
          policies: {
            a: policy([{ any: true }], [{ orIds: { ids: [notWeb, { directRemoteIp: { addressPrefix: '10.0.0.0', prefixLen: 8 } }] } }]),
          },
        },
        request(),
      ).allowed,
    ).toBe(true);
  });

  it('authenticated needs mTLS; Istio’s filter state io.istio.peer_principal is the same principal', () => {
    const sa: Principal = { authenticated: { principalName: exact('spiffe://cluster.local/ns/shop/sa/web') } };
    expect(evaluateEngine({ policies: { a: policy([{ any: true }], [sa]) } }, request()).allowed).toBe(true);
    const plain = evaluateEngine({ policies: { a: policy([{ any: true }], [sa]) } }, request({ principal: null }));
    expect(plain.misses[0]!.miss).toBe('the connection is not mTLS, so there is no source principal');
    const fs: Principal = { filterState: { key: 'io.istio.peer_principal', stringMatch: { prefix: 'spiffe://cluster.local/ns/shop/' } } };
    expect(evaluateEngine({ policies: { a: policy([{ any: true }], [fs]) } }, request()).allowed).toBe(true);
  });

  it('url_path ignores the query string; header matchers see pseudo-headers; a TCP request has neither', () => {
    expect(evaluateEngine({ policies: { a: policy([{ urlPath: { path: exact('/items') } }]) } }, request()).allowed).toBe(true);
    const authority: Permission = {
      header: { name: ':authority', stringMatch: { exact: 'API.shop.svc.cluster.local', ignoreCase: true } },
    };
    expect(evaluateEngine({ policies: { a: policy([authority]) } }, request()).allowed).toBe(true);
    const tcp = evaluateEngine(
      { policies: { a: policy([authority, { urlPath: { path: exact('/items') } }]) } },
      request({ headers: null, path: null }),
    );
    expect(tcp.allowed).toBe(false);
  });

  it('destination port and IP, source and remote IP ranges (v4 and v6)', () => {
    const rules: [Permission | Principal, boolean][] = [
      [{ destinationPort: 8080 }, true],
      [{ destinationPortRange: { start: 8000, end: 8080 } }, false],
      [{ destinationIp: { addressPrefix: '10.9.0.0', prefixLen: 16 } }, true],
    ];
    for (const [p, want] of rules)
      expect(evaluateEngine({ policies: { a: policy([p as Permission]) } }, request()).allowed, JSON.stringify(p)).toBe(want);
    const v6: Principal = { remoteIp: { addressPrefix: 'fd00::', prefixLen: 8 } };
    expect(evaluateEngine({ policies: { a: policy([{ any: true }], [v6]) } }, request({ remoteIp: 'fd00::1' })).allowed).toBe(true);
    expect(evaluateEngine({ policies: { a: policy([{ any: true }], [v6]) } }, request()).allowed).toBe(false);
  });

  it("uri_template as istiod writes Istio's path templates: * is one segment, ** any characters, slashes included", () => {
    const template = (pathTemplate: string, path: string) =>
      evaluateEngine({ policies: { a: policy([{ uriTemplate: { typedConfig: { pathTemplate } } }]) } }, request({ path })).allowed;
    expect(template('/allow/admin/**', '/allow/admin/')).toBe(true);
    expect(template('/allow/admin/**', '/allow/admin/foo/temp.txt')).toBe(true);
    expect(template('/allow/admin/**', '/allow/admin')).toBe(false);
    expect(template('/foo/*/bar/**', '/foo/buzz/bar/bat')).toBe(true);
    expect(template('/foo/*/bar/**', '/foo//bar/bat.txt')).toBe(false);
    expect(template('/store/**/cart', '/store//cart')).toBe(true);
    expect(template('/store/**/cart', '/store/cart')).toBe(false);
    expect(template('/a.b/*', '/aXb/c')).toBe(false);
  });

  it('metadata matchers on the JWT payload, as Istio generates them for request principals and claims', () => {
    const jwt = (key: string, value: object): Principal => ({
      metadata: { filter: 'envoy.filters.http.jwt_authn', path: [{ key: 'payload' }, { key }], value },
    });
    const principal: Principal = {
      andIds: { ids: [jwt('iss', { stringMatch: exact('https://issuer') }), jwt('sub', { stringMatch: { safeRegex: { regex: '.+' } } })] },
    };
    const groups = jwt('groups', {
      orMatch: { valueMatchers: [{ listMatch: { oneOf: { stringMatch: exact('admin') } } }, { stringMatch: exact('admin') }] },
    });
    const payload = (p: object) => ({ metadata: { 'envoy.filters.http.jwt_authn': { payload: p } } });
    const engine = (p: Principal) => ({ policies: { a: policy([{ any: true }], [p]) } });
    expect(evaluateEngine(engine(principal), request(payload({ iss: 'https://issuer', sub: 'alice' }))).allowed).toBe(true);
    expect(evaluateEngine(engine(principal), request()).misses[0]!.miss).toContain(
      "the request principal's issuer (JWT claim iss) is absent",
    );
    expect(evaluateEngine(engine(groups), request(payload({ groups: ['dev', 'admin'] }))).allowed).toBe(true);
    expect(evaluateEngine(engine(groups), request(payload({ groups: 'admin' }))).allowed).toBe(true);
    expect(evaluateEngine(engine(groups), request(payload({ groups: ['dev'] }))).allowed).toBe(false);
    const inverted: Principal = { metadata: { filter: 'f', path: [{ key: 'k' }], value: { presentMatch: true }, invert: true } };
    expect(evaluateEngine(engine(inverted), request()).allowed).toBe(true);
  });

  it("Istio's policy names: ns[NS]-policy[NAME]-rule[N], CUSTOM ones with their provider prefix or bad-provider suffix", () => {
    expect(parsePolicyName('ns[shop]-policy[api-readers]-rule[2]')).toEqual({
      namespace: 'shop',
      name: 'api-readers',
      rule: 2,
      badCustom: false,
    });
    expect(parsePolicyName('istio-ext-authz-ext-authz-ns[shop]-policy[ext]-rule[0]')).toEqual({
      namespace: 'shop',
      name: 'ext',
      rule: 0,
      badCustom: false,
    });
    // pilot/pkg/security/authz/builder testdata/http/custom-bad-out.yaml
    expect(parsePolicyName('istio-ext-authz-default-ns[foo]-policy[httpbin-1]-rule[0]-deny-due-to-bad-CUSTOM-action')).toEqual({
      namespace: 'foo',
      name: 'httpbin-1',
      rule: 0,
      badCustom: true,
    });
    expect(parsePolicyName('something-else')).toBeNull();
  });
});

describe('authorize: the RBAC filters of a chain, in order', () => {
  const rbac = (config: object) => ({ name: 'envoy.filters.http.rbac', typedConfig: config });
  const chain = (...httpFilters: object[]): FilterChain => ({
    filters: [
      {
        name: 'envoy.filters.network.http_connection_manager',
        typedConfig: { httpFilters: [...httpFilters, { name: 'envoy.filters.http.router' }] },
      },
    ],
  });
  const any = policy([{ any: true }]);
  const getOnly = policy([{ header: { name: ':method', stringMatch: exact('GET') } }]);

  it('no RBAC filter: allowed, no policy', () => {
    expect(authorize(chain(), request(), 'shop/api')).toEqual({
      verdict: 'ALLOW',
      policy: null,
      rule: null,
      action: null,
      reason: 'No AuthorizationPolicy applies to shop/api: allowed.',
      dryRun: null,
    });
  });

  it('DENY before ALLOW; the deciding policy and rule named', () => {
    const d = authorize(
      chain(
        rbac({ rules: { action: 'DENY', policies: { 'ns[shop]-policy[no-gets]-rule[1]': getOnly } } }),
        rbac({ rules: { policies: { 'ns[shop]-policy[all]-rule[0]': any } } }),
      ),
      request(),
      'shop/api',
    );
    expect(d).toMatchObject({
      verdict: 'DENY',
      policy: { kind: 'AuthorizationPolicy', namespace: 'shop', name: 'no-gets' },
      rule: 1,
      action: 'DENY',
    });
  });

  it('CUSTOM (ext_authz shadow rules) matched and not denied later: NOT_DECIDED', () => {
    const custom = rbac({
      shadowRules: { action: 'DENY', policies: { 'istio-ext-authz-ns[shop]-policy[ext]-rule[0]': any } },
      shadowRulesStatPrefix: 'istio_ext_authz_',
    });
    expect(authorize(chain(custom), request(), 'shop/api')).toMatchObject({
      verdict: 'NOT_DECIDED',
      policy: { name: 'ext' },
      action: 'CUSTOM',
    });
    const denied = authorize(
      chain(custom, rbac({ rules: { action: 'DENY', policies: { 'ns[shop]-policy[d]-rule[0]': any } } })),
      request(),
      'shop/api',
    );
    expect(denied).toMatchObject({ verdict: 'DENY', policy: { name: 'd' } });
  });

  it("a token's payload is in the metadata only for the RBAC filters after the JWT filter (Istio puts CUSTOM before it)", () => {
    const byIssuer = policy(
      [{ any: true }],
      [
        {
          metadata: {
            filter: 'envoy.filters.http.jwt_authn',
            path: [{ key: 'payload' }, { key: 'iss' }],
            value: { stringMatch: exact('https://issuer') },
          },
        },
      ],
    );
    const withToken = request({ metadata: { 'envoy.filters.http.jwt_authn': { payload: { iss: 'https://issuer' } } } });
    const custom = rbac({
      shadowRules: { action: 'DENY', policies: { 'istio-ext-authz-ns[shop]-policy[ext]-rule[0]': byIssuer } },
      shadowRulesStatPrefix: 'istio_ext_authz_',
    });
    const allow = rbac({ rules: { policies: { 'ns[shop]-policy[jwt]-rule[0]': byIssuer } } });
    const d = authorize(chain(custom, { name: 'envoy.filters.http.jwt_authn' }, allow), withToken, 'shop/api');
    expect(d).toMatchObject({ verdict: 'ALLOW', policy: { name: 'jwt' }, action: 'ALLOW' });
  });

  it('dry-run shadow rules are reported, never enforced; AUDIT is logged', () => {
    const d = authorize(
      chain(
        rbac({ rules: { action: 'LOG', policies: { 'ns[shop]-policy[audit]-rule[0]': any } } }),
        rbac({
          shadowRules: { action: 'DENY', policies: { 'ns[shop]-policy[dry]-rule[0]': any } },
          shadowRulesStatPrefix: 'istio_dry_run_deny_',
        }),
      ),
      request(),
      'shop/api',
    );
    expect(d).toMatchObject({ verdict: 'ALLOW', action: 'AUDIT', dryRun: ['dry-run DENY policy shop/dry rule 0 would deny this request'] });
    expect(d.reason).toContain('Logged by AUDIT policy shop/audit rule 0');
  });

  it('a TCP connection is judged by the network RBAC filters only; an empty ALLOW list denies it', () => {
    const tcpChain: FilterChain = {
      filters: [
        { name: 'envoy.filters.network.rbac', typedConfig: { rules: {}, statPrefix: 'tcp.' } },
        { name: 'envoy.filters.network.tcp_proxy' },
      ],
    };
    const d = authorize(tcpChain, request({ headers: null, path: null }), 'shop/db');
    expect(d).toMatchObject({ verdict: 'DENY', policy: null, action: 'ALLOW' });
    expect(d.reason).toContain('none has a rule that applies to a TCP connection');
  });
});

describe('transport sockets', () => {
  const tls = (cert: boolean) => ({
    name: 'envoy.transport_sockets.tls',
    typedConfig: { commonTlsContext: cert ? { tlsCertificateSdsSecretConfigs: [{ name: 'default' }] } : {}, sni: 'outbound_.80_._.api' },
  });
  const auto = {
    name: 'outbound|80||api',
    transportSocketMatches: [
      { name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transportSocket: tls(true) },
      { name: 'tlsMode-disabled', match: {}, transportSocket: { name: 'envoy.transport_sockets.raw_buffer' } },
    ],
  };
  const withSidecar = { filterMetadata: { 'envoy.transport_socket_match': { tlsMode: 'istio' } } };

  it('auto mTLS: the endpoint metadata chooses the socket', () => {
    expect(upstreamTransport(auto, withSidecar)).toEqual({
      mode: 'MTLS',
      matchName: 'tlsMode-istio',
      auto: true,
      sni: 'outbound_.80_._.api',
    });
    expect(upstreamTransport(auto, undefined)).toMatchObject({ mode: 'PLAINTEXT', matchName: 'tlsMode-disabled', auto: true });
  });

  it("a cluster's own socket: ISTIO_MUTUAL, TLS origination, plaintext", () => {
    const own = (cert: boolean): Emitted<Cluster> => ({ name: 'c', transportSocket: tls(cert) });
    expect(upstreamTransport(own(true), withSidecar)).toMatchObject({ mode: 'MTLS', auto: false });
    expect(upstreamTransport(own(false), withSidecar)).toMatchObject({ mode: 'TLS', auto: false });
    expect(upstreamTransport({ name: 'c' }, withSidecar)).toMatchObject({ mode: 'PLAINTEXT', auto: false });
  });

  it('the inbound mode per port from the filter chains', () => {
    const mtls = { transportSocket: { typedConfig: { requireClientCertificate: true } } };
    const listener = {
      name: 'virtualInbound',
      filterChains: [
        { filterChainMatch: { destinationPort: 8080, transportProtocol: 'tls' }, ...mtls },
        { filterChainMatch: { destinationPort: 8080, transportProtocol: 'raw_buffer' } },
        { filterChainMatch: { destinationPort: 9090, transportProtocol: 'tls' }, ...mtls },
        { filterChainMatch: { destinationPort: 7070 } },
        { filterChainMatch: { transportProtocol: 'tls' }, ...mtls },
      ],
    };
    expect(inboundMtls(listener, 8080)).toBe('PERMISSIVE');
    expect(inboundMtls(listener, 9090)).toBe('STRICT');
    expect(inboundMtls(listener, 7070)).toBe('DISABLE');
    expect(inboundMtls(listener, 6060)).toBe('STRICT');
    expect(inboundMtls(undefined, 8080)).toBeNull();
  });
});
