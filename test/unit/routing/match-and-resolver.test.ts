// Envoy's matchers (match.ts), and the GraphQL resolver's translation of a CallInput into a walk,
// with the generator and the store faked (no Nest, no database).
import { describe, expect, it } from 'vitest';
import { GeneratorError } from '../../../src/generator/protocol.js';
import { RoutingResolver } from '../../../src/routing/graphql/routing.resolver.js';
import { RoutingService } from '../../../src/routing/routing.service.js';
import {
  describeRouteMatch,
  fullMatch,
  headerMatches,
  pathMatches,
  queryParameterMatches,
  rewritePath,
  stringMatches,
} from '../../../src/envoy/match.js';
import { TLS_INSPECTOR_FILTER, generated, rdsHcm, socket, tlsSocket } from '../../support/envoy-fixtures.js';
import { RouteSources } from '../../../src/envoy/provenance.js';
import type { SnapshotStore } from '../../../src/database/snapshot.store.js';
import type { GeneratorService } from '../../../src/generator/generator.service.js';
import type { NormalisedSnapshots } from '../../../src/jobs/normalised-snapshots.js';
import type { ProxyConfigService } from '../../../src/proxy-config/proxy-config.service.js';
import { CallMode, TlsMode } from '../../../src/routing/graphql/route-resolution.types.js';
import { fake } from '../../support/fakes.js';
import { callInput, proxyInput } from '../../support/graphql-inputs.js';

describe('match.ts', () => {
  it('fullMatch anchors the regex; an invalid regex matches nothing', () => {
    expect(fullMatch('a|b', 'a')).toBe(true);
    expect(fullMatch('a|b', 'ab')).toBe(false);
    expect(fullMatch('(', '(')).toBe(false);
  });

  it("fullMatch has RE2's syntax and semantics, where JavaScript's RegExp differs", () => {
    // Flag groups: whole-pattern and scoped.
    expect(fullMatch('(?i).*mobile.*', 'Mozilla (iPhone) Mobile/15E148')).toBe(true);
    expect(fullMatch('a(?i:b)c', 'aBc')).toBe(true);
    expect(fullMatch('a(?i:b)c', 'aBC')).toBe(false);
    expect(fullMatch('(?s)a.b', 'a\nb')).toBe(true);
    expect(fullMatch('a.b', 'a\nb')).toBe(false);
    // Escaped punctuation and literal braces and brackets are literals in RE2.
    expect(fullMatch('/orders/[0-9]+/items\\-list', '/orders/12/items-list')).toBe(true);
    expect(fullMatch('/files/{id}', '/files/{id}')).toBe(true);
    expect(fullMatch('a{,3}', 'a{,3}')).toBe(true);
    expect(fullMatch('a]', 'a]')).toBe(true);
    // RE2-only syntax.
    expect(fullMatch('/api\\z', '/api')).toBe(true);
    expect(fullMatch('\\Q/a.b\\E', '/a.b')).toBe(true);
    expect(fullMatch('\\Q/a.b\\E', '/axb')).toBe(false);
    expect(fullMatch('(?P<id>[0-9]+)', '42')).toBe(true);
    expect(fullMatch('[[:alpha:]]+', 'abC')).toBe(true);
    expect(fullMatch('\\pL+', 'éa')).toBe(true);
    expect(fullMatch('\\x{41}', 'A')).toBe(true);
    // \s is ASCII whitespace only (no \v, no NBSP); \d and \w stay ASCII.
    expect(fullMatch('\\s', '\v')).toBe(false);
    expect(fullMatch('\\s', '\u00a0')).toBe(false);
    expect(fullMatch('\\d', '٣')).toBe(false);
    // What RE2 refuses never matches: lookarounds, backreferences, repeats over 1000.
    expect(fullMatch('(?=a)a', 'a')).toBe(false);
    expect(fullMatch('(a)\\1', 'aa')).toBe(false);
    expect(fullMatch('a{1001}', 'a'.repeat(1001))).toBe(false);
    // Linear time: a backtracking engine would not finish this one within the test's timeout.
    expect(fullMatch('(a|aa)+', 'a'.repeat(5000) + 'b')).toBe(false);
  });

  it('rewritePath: prefix_rewrite replaces what the path matcher matched, regex_rewrite every RE2 match; the query stays', () => {
    expect(rewritePath({ prefix: '/reseller' }, { prefixRewrite: '/partner' }, '/reseller/1?x=1')).toBe('/partner/1?x=1');
    // A case-insensitive prefix matched "/CATALOG": its length is replaced, whatever the case.
    expect(rewritePath({ prefix: '/catalog', caseSensitive: false }, { prefixRewrite: '/items' }, '/CATALOG/shoes')).toBe('/items/shoes');
    expect(rewritePath({ pathSeparatedPrefix: '/api' }, { prefixRewrite: '/v1' }, '/api/x')).toBe('/v1/x');
    // An exact or regex matcher matched the whole path.
    expect(rewritePath({ path: '/old' }, { prefixRewrite: '/new' }, '/old?q')).toBe('/new?q');
    expect(rewritePath({ safeRegex: { regex: '/users(/.*)?' } }, { prefixRewrite: '/u' }, '/users/7')).toBe('/u');
    const regexRewrite = { pattern: { regex: '^/v([12])/(.*)$' }, substitution: '/api/v\\1/\\2' };
    expect(rewritePath({ prefix: '/v' }, { regexRewrite }, '/v2/items/7?a=b')).toBe('/api/v2/items/7?a=b');
    expect(rewritePath({ prefix: '/' }, { regexRewrite: { pattern: { regex: 'o' }, substitution: '0' } }, '/foo/bo')).toBe('/f00/b0');
    // A $ in the substitution is a literal, a \\\\ a backslash (RE2's rewrite syntax).
    expect(rewritePath({ prefix: '/' }, { regexRewrite: { pattern: { regex: '/(a)' }, substitution: '/$1\\\\\\1' } }, '/a')).toBe('/$1\\a');
    expect(rewritePath({ prefix: '/' }, {}, '/same')).toBe('/same');
  });

  it('ignoring case folds ASCII letters only, as Envoy does', () => {
    expect(stringMatches({ exact: 'Bot', ignoreCase: true }, 'bOT')).toBe(true);
    expect(stringMatches({ exact: 'k', ignoreCase: true }, '\u212a')).toBe(false); // the Kelvin sign
    expect(stringMatches({ prefix: 'straße', ignoreCase: true }, 'STRASSE')).toBe(false);
    expect(pathMatches({ prefix: '/catalog', caseSensitive: false }, '/CATALOG/x')).toBe(true);
    expect(pathMatches({ prefix: '/k', caseSensitive: false }, '/\u212a')).toBe(false);
  });

  it('stringMatches: every kind, ignoreCase, empty matcher', () => {
    expect(stringMatches({ exact: 'Ab', ignoreCase: true }, 'aB')).toBe(true);
    expect(stringMatches({ prefix: 'ab' }, 'abc')).toBe(true);
    expect(stringMatches({ suffix: 'bc' }, 'abc')).toBe(true);
    expect(stringMatches({ contains: 'b' }, 'abc')).toBe(true);
    expect(stringMatches({ safeRegex: { regex: 'a.c' } }, 'abc')).toBe(true);
    expect(stringMatches({}, '')).toBe(true);
    expect(stringMatches({}, 'x')).toBe(false);
  });

  it('headerMatches: legacy fields, range, treatMissingHeaderAsEmpty', () => {
    const h = new Map([['x', '42']]);
    expect(headerMatches({ name: 'x', exactMatch: '42' }, h)).toBe(true);
    expect(headerMatches({ name: 'x', prefixMatch: '4' }, h)).toBe(true);
    expect(headerMatches({ name: 'x', suffixMatch: '2' }, h)).toBe(true);
    expect(headerMatches({ name: 'x', containsMatch: '2' }, h)).toBe(true);
    expect(headerMatches({ name: 'x', safeRegexMatch: { regex: '\\d+' } }, h)).toBe(true);
    expect(headerMatches({ name: 'x', rangeMatch: { start: '40', end: '42' } }, h)).toBe(false); // end exclusive
    expect(headerMatches({ name: 'x', rangeMatch: { start: 40, end: 43 } }, h)).toBe(true);
    expect(headerMatches({ name: 'X' }, h)).toBe(true); // presence
    expect(headerMatches({ name: 'y', stringMatch: { exact: '' }, treatMissingHeaderAsEmpty: true }, h)).toBe(true);
    expect(headerMatches({ name: 'y', stringMatch: { exact: '' } }, h)).toBe(false);
    expect(headerMatches({ name: 'y', presentMatch: false }, h)).toBe(true);
    expect(headerMatches({ name: 'x', presentMatch: false }, h)).toBe(false);
  });

  it('queryParameterMatches', () => {
    const q = new Map([['a', '1']]);
    expect(queryParameterMatches({ name: 'a' }, q)).toBe(true);
    expect(queryParameterMatches({ name: 'a', stringMatch: { exact: '1' } }, q)).toBe(true);
    expect(queryParameterMatches({ name: 'b', stringMatch: { exact: '1' } }, q)).toBe(false);
    expect(queryParameterMatches({ name: 'a', presentMatch: true }, q)).toBe(true);
  });

  it('pathMatches: no path specifier matches nothing; regex ignores caseSensitive', () => {
    expect(pathMatches({}, '/')).toBe(false);
    expect(pathMatches({ safeRegex: { regex: '/A' }, caseSensitive: false }, '/a')).toBe(false);
    expect(pathMatches({ pathSeparatedPrefix: '/API', caseSensitive: false }, '/api/x')).toBe(true);
  });

  it('describeRouteMatch: path, method, headers and query parameters in words', () => {
    expect(describeRouteMatch(undefined)).toBe('any request');
    expect(
      describeRouteMatch({
        prefix: '/api',
        headers: [
          { name: ':method', stringMatch: { exact: 'POST' } },
          { name: 'x-user', presentMatch: true, invertMatch: true },
        ],
        queryParameters: [{ name: 'debug', stringMatch: { exact: 'on' } }],
      }),
    ).toBe('path prefix "/api", method POST, header x-user not present, query parameter debug is exactly "on"');
    expect(describeRouteMatch({ prefix: '/' })).toBe('any path');
  });
});

describe('RoutingResolver (the GraphQL entry point), generator faked', () => {
  // A gateway with an https server on 8443 for a.example.com (SNI), plain TLS credential.
  const gateway = generated({
    listeners: [
      {
        name: '0.0.0.0_8443',
        address: socket('0.0.0.0', 8443),
        filterChains: [
          {
            name: 'a',
            filterChainMatch: { serverNames: ['a.example.com'] },
            filters: [rdsHcm('https.443.https.gw.default')],
            transportSocket: tlsSocket('tls'),
          },
        ],
        listenerFilters: [TLS_INSPECTOR_FILTER],
      },
    ],
    routes: [
      {
        name: 'https.443.https.gw.default',
        virtualHosts: [
          {
            name: 'a.example.com:443',
            domains: ['a.example.com'],
            routes: [{ name: 'r', match: { prefix: '/' }, route: { cluster: 'outbound|80||a.default.svc.cluster.local' } }],
          },
        ],
        ignorePortInHostMatching: true,
      },
    ],
  });
  const noSnapshot = fake<SnapshotStore>({
    get: async () => null,
    status: async () => null,
    resources: async () => [],
  });
  const noGateways = fake<GeneratorService>({ deployGateways: async () => [] });
  const notNormalised = fake<NormalisedSnapshots>({ normalised: async () => null });
  const resolver = (config = gateway) =>
    new RoutingResolver(
      new RoutingService(
        fake<ProxyConfigService>({ generate: async () => config, routeSources: async () => new RouteSources([]) }),
        noSnapshot,
        noGateways,
        notNormalised,
      ),
    );
  const base = { mode: CallMode.GATEWAY };

  it('TLS without an SNI: the Host is sent as SNI', async () => {
    const r = await resolver().resolveRoute(
      's',
      proxyInput({ namespace: 'istio-system' }),
      callInput({ ...base, port: 8443, tls: TlsMode.TLS, host: 'a.example.com' }),
    );
    expect(r).toMatchObject({ filterChain: 'a', cluster: 'outbound|80||a.default.svc.cluster.local', error: null });
  });

  it('TLS without an SNI and a Host with a port: the SNI is the host name without the port', async () => {
    const r = await resolver().resolveRoute(
      's',
      proxyInput({ namespace: 'istio-system' }),
      callInput({ ...base, port: 8443, tls: TlsMode.TLS, host: 'a.example.com:8443' }),
    );
    expect(r).toMatchObject({ filterChain: 'a', cluster: 'outbound|80||a.default.svc.cluster.local', error: null });
  });

  it('invalid calls are refused with BAD_USER_INPUT', async () => {
    await expect(resolver().resolveRoute('s', proxyInput({ namespace: 'x' }), callInput({ ...base, port: 0 }))).rejects.toThrow(/port 0/);
    await expect(
      resolver().resolveRoute('s', proxyInput({ namespace: 'x' }), callInput({ ...base, port: 80, address: 'nope' })),
    ).rejects.toThrow(/not an IP/);
    await expect(resolver().resolveRoute('s', proxyInput({ namespace: 'x' }), callInput({ ...base, port: 80, path: 'x' }))).rejects.toThrow(
      /must start with/,
    );
  });

  it('the generator saying NO_PROXY falls back to kube-proxy resolution; an unknown snapshot is NOT_FOUND', async () => {
    const noProxy = new RoutingResolver(
      new RoutingService(
        fake<ProxyConfigService>({
          routeSources: async () => new RouteSources([]),
          generate: async () => {
            throw new GeneratorError('NO_PROXY', 'no proxy');
          },
        }),
        noSnapshot,
        noGateways,
        notNormalised,
      ),
    );
    await expect(noProxy.resolveRoute('s', proxyInput({ namespace: 'x', name: 'y' }), callInput({ port: 80 }))).rejects.toThrow(
      /not found/,
    );
  });
});

describe('RoutingService without a proxy, store faked', () => {
  it("reads a snapshot's Services once for every call kube-proxy answers, keeping only Services and EndpointSlices", async () => {
    let normalised = 0;
    const service = {
      kind: 'Service',
      metadata: { name: 'web', namespace: 'x' },
      spec: { clusterIP: '10.0.0.1', ports: [{ name: 'http', port: 80 }] },
    };
    const slice = {
      kind: 'EndpointSlice',
      metadata: { name: 'web-1', namespace: 'x', labels: { 'kubernetes.io/service-name': 'web' } },
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [{ addresses: ['10.1.0.1'] }],
    };
    const snapshots = fake<SnapshotStore>({ status: async () => 'READY' as never });
    const normalisedSnapshots = fake<NormalisedSnapshots>({
      normalised: async () => {
        normalised++;
        return { generatorInput: { kubernetes: [service, slice, { kind: 'Pod' }], istio: [], meshConfig: '', analysis: [] } } as never;
      },
    });
    const routing = new RoutingService(
      fake<ProxyConfigService>({
        generate: async () => {
          throw new GeneratorError('NO_PROXY', 'no proxy');
        },
      }),
      snapshots,
      fake<GeneratorService>({ deployGateways: async () => [] }),
      normalisedSnapshots,
    );
    const call = { mode: 'OUTBOUND', host: 'web', port: 80 } as Parameters<RoutingService['resolve']>[2];
    const first = await routing.resolve('s', proxyInput({ namespace: 'x', name: 'y' }), call);
    const second = await routing.resolve('s', proxyInput({ namespace: 'x', name: 'z' }), call);
    expect(first.cluster).toBe(second.cluster);
    expect(JSON.stringify(first)).toContain('10.1.0.1:8080');
    expect(normalised).toBe(1);
    expect((await routing.kubeProxyInput('s')).kubernetes.map((o) => o.kind)).toEqual(['Service', 'EndpointSlice']);
  });
});
