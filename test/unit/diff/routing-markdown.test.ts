import { describe, expect, it } from 'vitest';
import { composeDiff } from '../../../src/diff/diff.js';
import type { ProxyConfigChange } from '../../../src/diff/model.js';
import { diffProxies, planProxyDiff, contextHashes } from '../../../src/diff/proxies.js';
import type { ProxyClass } from '../../../src/diff/proxy-class.js';
import type { EnvoyObject } from '../../../src/model/proxy.js';
import {
  HOST,
  baseConfig,
  cluster,
  cohortMatch,
  endpoints,
  listener,
  message,
  proxyClass,
  route,
  toSubset,
  weighted,
  type Config,
} from './fixtures.js';

function diff(base: ProxyClass[], head: ProxyClass[], pool: Map<string, EnvoyObject>): ProxyConfigChange[] {
  const plan = planProxyDiff(base, head);
  const lookup = (h: string) => pool.get(h);
  contextHashes(plan, lookup);
  return diffProxies(plan, lookup);
}

function one(before: Config, after: Config): ProxyConfigChange {
  const pool = new Map<string, EnvoyObject>();
  const changes = diff([proxyClass('k', ['shop/webapp'], before, pool)], [proxyClass('k', ['shop/webapp'], after, pool)], pool);
  expect(changes).toHaveLength(1);
  return changes[0]!;
}

const sentences = (c: ProxyConfigChange) => c.routing.map((r) => r.sentence);

describe('routing sentences from the Envoy objects', () => {
  it('all traffic to v1 → 90/10 canary', () => {
    const c = one(
      baseConfig([route('canary', toSubset('version-v1'))]),
      baseConfig([route('canary', weighted(['version-v1', 90], ['version-v2', 10]))]),
    );
    expect(sentences(c)).toEqual([
      `Requests to ${HOST}:80 (any path) now go to ${HOST}:80: 90% subset version-v1, 10% subset version-v2; before: ${HOST}:80 subset version-v1 (VirtualService istioinaction/catalog).`,
    ]);
    expect(c.routing[0]).toMatchObject({ kind: 'ROUTE', destination: `${HOST}:80`, routeConfig: '80', route: 'canary' });
    expect(c.objects.map((o) => [o.type, o.name, o.change])).toEqual([['routes', '80', 'CHANGED']]);
    expect(c.objects[0]!.fields.map((f) => f.path)).toContain(`virtualHosts[name=${HOST}:80].routes[name=canary].route.weightedClusters`);
  });

  it('a new header rule says where its requests went before', () => {
    const canary = route('canary', weighted(['version-v1', 90], ['version-v2', 10]));
    const c = one(baseConfig([canary]), baseConfig([route('internal-cohort', toSubset('version-v2'), cohortMatch), canary]));
    expect(sentences(c)).toEqual([
      `New route \`internal-cohort\` (VirtualService istioinaction/catalog): requests to ${HOST}:80 with any path, header x-istio-cohort is exactly "internal" now go to ${HOST}:80 subset version-v2; before: ${HOST}:80: 90% subset version-v1, 10% subset version-v2 (route \`canary\`).`,
    ]);
  });

  it('a VirtualService that no longer applies: the default route takes over', () => {
    const c = one(
      baseConfig([
        route('internal-cohort', toSubset('version-v2'), cohortMatch),
        route('canary', weighted(['version-v1', 90], ['version-v2', 10])),
      ]),
      baseConfig([route('default', toSubset(''), { prefix: '/' }, false)]),
    );
    expect(sentences(c)).toEqual([
      `Requests to ${HOST}:80 (any path) now take the default route to ${HOST}:80: VirtualService istioinaction/catalog no longer applies to this proxy; before: ${HOST}:80: 90% subset version-v1, 10% subset version-v2.`,
      `Route \`internal-cohort\` (VirtualService istioinaction/catalog) is gone: requests to ${HOST}:80 with any path, header x-istio-cohort is exactly "internal" now go to ${HOST}:80 (the default route); before: ${HOST}:80 subset version-v2.`,
    ]);
  });

  it('a route to a cluster the proxy does not have, and a cluster that lost its endpoints', () => {
    const c = one(baseConfig([route('canary', toSubset('version-v1'))]), {
      ...baseConfig([route('canary', weighted(['version-v1', 90], ['version-v3', 10]))]),
      endpoints: [endpoints('', ['10.0.0.1']), endpoints('version-v1', []), endpoints('version-v2', ['10.0.0.2'])],
    });
    const s = sentences(c);
    expect(s[0]).toContain(
      `${HOST}:80 subset version-v3 does not exist on this proxy, so it has no endpoints: Envoy answers 503 (NC, no cluster)`,
    );
    expect(s).toContain(
      `Cluster outbound|80|version-v1|${HOST} (${HOST}:80 subset version-v1): 1 → 0 endpoints: no endpoints left, requests to it get 503 (UH, no healthy upstream).`,
    );
    expect(s).toContain(`Cluster outbound|80||${HOST} (${HOST}:80): 2 → 1 endpoint.`);
  });

  it('retries, timeouts, faults, mirrors and rewrites on the same route', () => {
    const before = route('canary', { ...toSubset('version-v1'), retryPolicy: { retryOn: 'connect-failure', numRetries: 2 } });
    const after = route(
      'canary',
      {
        ...toSubset('version-v1'),
        timeout: '5s',
        retryPolicy: { retryOn: '5xx', numRetries: 3, perTryTimeout: '2s' },
        prefixRewrite: '/v2',
        requestMirrorPolicies: [{ cluster: `outbound|80|version-v2|${HOST}`, runtimeFraction: { defaultValue: { numerator: 50 } } }],
      },
      { prefix: '/' },
      true,
      { typedPerFilterConfig: { 'envoy.filters.http.fault': { abort: { httpStatus: 503, percentage: { numerator: 10 } } } } },
    );
    const s = sentences(one(baseConfig([before]), baseConfig([after])));
    expect(s).toEqual([
      `Requests to ${HOST}:80 (any path): timeout none → 5s.`,
      `Requests to ${HOST}:80 (any path): retries 2 on connect-failure → 3 on 5xx, 2s per try.`,
      `Requests to ${HOST}:80 (any path): fault none → abort with 503 for 10%.`,
      `Requests to ${HOST}:80 (any path): mirror none → ${HOST}:80 subset version-v2 (50%).`,
      `Requests to ${HOST}:80 (any path): rewrite none → path prefix to "/v2".`,
    ]);
  });

  it('DestinationRule effects on the clusters: circuit breakers, load balancer, outlier detection, TLS', () => {
    const dr = {
      metadata: { filterMetadata: { istio: { config: '/apis/networking.istio.io/v1/namespaces/istioinaction/destination-rule/catalog' } } },
    };
    const after = baseConfig([route('canary', toSubset('version-v1'))]);
    after.clusters = [
      cluster('', {
        ...dr,
        circuitBreakers: {
          thresholds: [{ maxConnections: 4294967295, maxPendingRequests: 4294967295, maxRequests: 1, maxRetries: 4294967295 }],
        },
      }),
      cluster('version-v1', { ...dr, lbPolicy: 'RING_HASH', outlierDetection: { consecutive5xx: 3, interval: '10s' } }),
      cluster('version-v2', {
        ...dr,
        transportSocket: { name: 'envoy.transport_sockets.tls', typedConfig: { sni: 'catalog.example.com', commonTlsContext: {} } },
      }),
    ];
    const s = sentences(one(baseConfig([route('canary', toSubset('version-v1'))]), after));
    expect(s).toEqual([
      `Cluster outbound|80|version-v1|${HOST}: load balancer least request → consistent hash (ring hash) (DestinationRule istioinaction/catalog).`,
      `Cluster outbound|80|version-v1|${HOST}: outlier detection off → eject after 3 consecutive 5xx, every 10s (DestinationRule istioinaction/catalog).`,
      `Cluster outbound|80|version-v2|${HOST}: TLS plaintext → TLS origination (SNI catalog.example.com) (DestinationRule istioinaction/catalog).`,
      `Cluster outbound|80||${HOST}: max concurrent requests unlimited → 1 (DestinationRule istioinaction/catalog).`,
    ]);
  });

  it('a retry change is one field change, addressed by virtual host and route name', () => {
    const retries = (n: number) =>
      route('canary', { ...toSubset('version-v1'), retryPolicy: { retryOn: 'connect-failure', numRetries: n } });
    expect(one(baseConfig([retries(3)]), baseConfig([retries(4)])).objects).toEqual([
      {
        type: 'routes',
        name: '80',
        change: 'CHANGED',
        truncated: false,
        fields: [
          {
            path: `virtualHosts[name=${HOST}:80].routes[name=canary].route.retryPolicy.numRetries`,
            change: 'CHANGED',
            before: 3,
            after: 4,
          },
        ],
      },
    ]);
  });

  it('new and lost listeners', () => {
    const b = baseConfig([route('canary', toSubset('version-v1'))], { listeners: [listener(9090)] });
    const h = baseConfig([route('canary', toSubset('version-v1'))], { listeners: [listener(8080)] });
    expect(sentences(one(b, h))).toEqual([
      'New listener 0.0.0.0_8080 on 0.0.0.0:8080.',
      'Listener 0.0.0.0_9090 is gone: nothing listens on 0.0.0.0:9090 any more.',
    ]);
  });
});

describe('proxy classes', () => {
  it('skips classes whose config hash is equal, pairs by workload when a class key changes, and reports proxies gained and lost', () => {
    const pool = new Map<string, EnvoyObject>();
    const same = baseConfig([route('canary', toSubset('version-v1'))]);
    const changed = baseConfig([route('canary', toSubset('version-v2'))]);
    const base = [
      proxyClass('a', ['shop/api', 'shop/api-2'], same, pool),
      proxyClass('b', ['shop/web'], same, pool),
      proxyClass('c', ['shop/old'], same, pool),
    ];
    const head = [
      proxyClass('a', ['shop/api', 'shop/api-2'], same, pool),
      proxyClass('b2', ['shop/web'], changed, pool),
      proxyClass('d', ['shop/new'], same, pool, 'ROUTER'),
    ];
    const changes = diff(base, head, pool);
    expect(changes.map((c) => [c.workloads.map((w) => w.name).join(','), c.change, c.classKey])).toEqual([
      ['new', 'ADDED', 'd'],
      ['old', 'REMOVED', 'c'],
      ['web', 'CHANGED', 'b2'],
    ]);
    expect(changes[0]!.routing[0]!.sentence).toBe('Now has a gateway proxy (1 listeners, 1 routes, 3 clusters, 3 endpoints).');
  });

  it('classes with the very same change come as one entry, even when their objects differ elsewhere', () => {
    const pool = new Map<string, EnvoyObject>();
    // team/web's route configuration has one more virtual host: other hashes, the same change
    const withExtraHost = (c: Config): Config => {
      const [rc, ...rest] = c.routes as { virtualHosts: unknown[] }[];
      return {
        ...c,
        routes: [
          { ...rc!, virtualHosts: [...rc!.virtualHosts, { name: 'extra:80', domains: ['extra'], routes: [] }] },
          ...rest,
        ] as EnvoyObject[],
      };
    };
    const v1 = baseConfig([route('canary', toSubset('version-v1'))]);
    const v2 = baseConfig([route('canary', toSubset('version-v2'))]);
    const v3 = baseConfig([route('canary', toSubset('version-v3'))]);
    const base = [
      proxyClass('a', ['shop/api'], v1, pool),
      proxyClass('b', ['team/web'], withExtraHost(v1), pool),
      proxyClass('c', ['ops/tool'], v1, pool),
      proxyClass('d', ['ops/zz'], { ...v1, listeners: [listener(80), listener(9090)] }, pool),
    ];
    const head = [
      proxyClass('a', ['shop/api'], v2, pool),
      proxyClass('b', ['team/web'], withExtraHost(v2), pool),
      proxyClass('c', ['ops/tool'], v3, pool),
      proxyClass('d', ['ops/zz'], v3, pool),
    ];
    expect(base[0]!.objects.route['80']).not.toBe(base[1]!.objects.route['80']);
    const changes = diff(base, head, pool);
    expect(changes.map((c) => [c.workloads.map((w) => `${w.namespace}/${w.name}`), c.classKey, c.classKeys])).toEqual([
      [['ops/tool'], 'c', ['c']],
      [['ops/zz'], 'd', ['d']],
      [['shop/api', 'team/web'], 'a', ['a', 'b']],
    ]);
    const d = composeDiff({
      base: { id: 'b', name: null },
      head: { id: 'h', name: null },
      resources: { base: [], head: [] },
      diagnostics: { base: [], head: [] },
      proxies: changes,
    });
    expect(d.summary).toMatchObject({ proxyClassesChanged: 4, workloadsAffected: 4, routingChanges: 3 });
    // every routing change once, whatever the number of classes it is on (ops/tool's is ops/zz's too)
    const [toV3, listenerGone, toV2] = [changes[1]!.routing[1]!, changes[1]!.routing[0]!, changes[2]!.routing[0]!];
    expect(changes[0]!.routing).toEqual([toV3]);
    expect(listenerGone.sentence).toBe('Listener 0.0.0.0_9090 is gone: nothing listens on 0.0.0.0:9090 any more.');
    expect(d.routing).toEqual([toV3, listenerGone, toV2]);
  });

  it('loads only the objects that differ', () => {
    const pool = new Map<string, EnvoyObject>();
    const b = proxyClass('a', ['shop/web'], baseConfig([route('canary', toSubset('version-v1'))]), pool);
    const h = proxyClass('a', ['shop/web'], baseConfig([route('canary', toSubset('version-v2'))]), pool);
    const plan = planProxyDiff([b], [h]);
    expect(plan.hashes).toEqual([b.objects.route['80'], h.objects.route['80']].sort());
  });
});

describe('markdown', () => {
  const pool = new Map<string, EnvoyObject>();
  const mk = (workloads: string[], key: string) => {
    const b = proxyClass(key, workloads, baseConfig([route('canary', toSubset('version-v1'))]), pool);
    const h = proxyClass(key, workloads, baseConfig([route('canary', weighted(['version-v1', 90], ['version-v2', 10]))]), pool);
    return [b, h] as const;
  };
  const [b1, h1] = mk(['shop/web'], 'w');
  const [b2, h2] = mk(['shop/api'], 'a');
  const resources = {
    base: [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'c', body: { data: { a: '1' } } }],
    head: [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'c', body: { data: { a: '2' } } }],
  };
  const input = (
    proxies: ProxyConfigChange[],
    diags = { base: [message('IST0132', 'Warning', 'gone')], head: [message('IST0132', 'Warning', 'w'), message('IST0101', 'Error', 'e')] },
  ) => ({
    base: { id: 'b', name: 'main' },
    head: { id: 'h', name: 'pr-42' },
    resources,
    diagnostics: diags,
    proxies,
    istioVersion: '1.31.0',
  });

  it('summary, table, diagnostics errors first, one <details> for workloads with the same change, resources', () => {
    const md = composeDiff(input(diff([b1, b2], [h1, h2], pool))).markdown;
    expect(md).toContain(
      '**This change changes the Envoy config of 2 workloads (1 distinct routing change), introduces 2 diagnostics (1 error) and resolves 1 diagnostic.** 1 resource changed.',
    );
    expect(md).toContain(
      `| shop/api, shop/web | sidecar | \`${HOST}:80\` | Requests to ${HOST}:80 (any path) now go to ${HOST}:80: 90% subset version-v1, 10% subset version-v2;`,
    );
    expect(md.indexOf('🔴 **Error** `IST0101`')).toBeLessThan(md.indexOf('🟠 **Warning** `IST0132`'));
    expect(md).toContain('#### Diagnostics resolved\n\n- ✅ `IST0132` VirtualService istioinaction/gone');
    expect(md.match(/<details>/g)).toHaveLength(2); // one workload group, the resources
    expect(md).toContain('<b>shop/api, shop/web</b> (sidecar, 2 workloads with this same change)');
    expect(md).toContain('- changed: `ConfigMap shop/c`\n  - `data.a`: `"1"` → `"2"`');
    expect(md.trimEnd().endsWith('<sub>meshlens · Istio 1.31.0 · main → pr-42</sub>')).toBe(true);
  });

  it('is deterministic whatever order the classes come in', () => {
    const a = composeDiff(input(diff([b1, b2], [h1, h2], pool))).markdown;
    const b = composeDiff(input(diff([b2, b1], [h2, h1], pool))).markdown;
    expect(b).toBe(a);
  });

  it('"no effective change" when only resources changed', () => {
    const d = composeDiff(input([], { base: [], head: [] }));
    expect(d.summary.effectiveChange).toBe(false);
    expect(d.markdown).toContain("**No effective change:** 1 resource changed, but no proxy's Envoy config and no diagnostic changed.");
    expect(d.markdown).not.toContain('| workload |');
  });

  it('caps its length and says what was cut', () => {
    const many: ProxyConfigChange[] = [];
    for (let i = 0; i < 60; i++) {
      const [b, h] = [
        proxyClass(`k${i}`, [`ns/w${String(i).padStart(2, '0')}`], baseConfig([route('canary', toSubset('version-v1'))]), pool),
        proxyClass(`k${i}`, [`ns/w${String(i).padStart(2, '0')}`], baseConfig([route('canary', toSubset(`v${i}`))]), pool),
      ];
      many.push(...diff([b], [h], pool));
    }
    const md = composeDiff(input(many), { maxLength: 8000 }).markdown;
    expect(md.length).toBeLessThanOrEqual(8000);
    expect(md).toMatch(
      /✂️ Cut to stay under 8,000 characters: 20 more table rows, details of ns\/w\d\d, details of ns\/w\d\d and \d+ more sections\./,
    );
  });
});
