// views.ts: the rows behind GraphQL's ProxyConfig (listeners, routes, clusters, endpoints). The config
// dump is the generator's (generator/internal/render/dump_test.go has its assertions).
import { describe, expect, it } from 'vitest';
import { clusterRows, endpointRows, listenerRows, routeConfigurationRows } from '../../../src/proxy-config/views.js';
import {
  cluster,
  generated,
  inlineHcm,
  istioMeta,
  outboundHttpListener,
  socket,
  tcpProxy,
  virtualInbound,
  virtualOutbound,
} from '../../support/envoy-fixtures.js';

const REVIEWS = 'reviews.default.svc.cluster.local';

const cfg = generated({
  listeners: [
    outboundHttpListener(80),
    outboundHttpListener(9080),
    {
      name: '10.96.0.5_3306',
      address: socket('10.96.0.5', 3306),
      filterChains: [{ filters: [tcpProxy('outbound|3306||mysql.db.svc.cluster.local')] }],
    },
    {
      name: '0.0.0.0_5000',
      address: socket('0.0.0.0', 5000),
      filterChains: [
        {
          filterChainMatch: {
            destinationPort: 5000,
            prefixRanges: [{ addressPrefix: '10.0.0.0', prefixLen: 8 }],
            serverNames: ['a.com', 'b.com'],
            transportProtocol: 'tls',
            applicationProtocols: ['h2'],
          },
          filters: [
            tcpProxy([
              { name: 'outbound|5000|a|x', weight: 50 },
              { name: 'outbound|5000|b|x', weight: 50 },
            ]),
          ],
        },
        { filterChainMatch: {}, filters: [inlineHcm({ name: 'inline-rc', virtualHosts: [] })] },
        { filters: [{ name: 'envoy.filters.network.mongo_proxy' }] },
      ],
    },
    virtualOutbound(),
    virtualInbound(8080),
  ],
  routes: [
    {
      name: '80',
      virtualHosts: [
        {
          name: `${REVIEWS}:80`,
          domains: [REVIEWS, 'reviews'],
          routes: [
            {
              name: 'canary',
              match: { prefix: '/', headers: [{ name: 'x-canary', stringMatch: { exact: 'true' } }] },
              route: { cluster: `outbound|80|v2|${REVIEWS}` },
              metadata: istioMeta('virtual-service', 'default', 'reviews'),
            },
            {
              name: 'split',
              match: { prefix: '/' },
              route: {
                weightedClusters: {
                  clusters: [
                    { name: `outbound|80|v1|${REVIEWS}`, weight: 90 },
                    { name: `outbound|80|v2|${REVIEWS}`, weight: 10 },
                  ],
                },
              },
              metadata: istioMeta('virtual-service', 'default', 'reviews'),
            },
          ],
        },
        {
          name: 'allow_any',
          domains: ['*'],
          routes: [{ name: 'allow_any', match: { prefix: '/' }, route: { cluster: 'PassthroughCluster' } }],
        },
      ],
    },
    { name: '9080', virtualHosts: [] },
  ],
  clusters: [
    cluster(`outbound|80||${REVIEWS}`, { metadata: istioMeta('destination-rule', 'default', 'reviews') }),
    cluster(`outbound|80|v1|${REVIEWS}`, { metadata: istioMeta('destination-rule', 'default', 'reviews', { subset: 'v1' }) }),
    cluster(`outbound|9080||${REVIEWS}`),
    cluster('outbound|80||reviews2.default.svc.cluster.local'),
    cluster('inbound|8080||', { type: 'ORIGINAL_DST' }),
    { name: 'BlackHoleCluster', connectTimeout: '10s', loadAssignment: { clusterName: 'BlackHoleCluster' } },
    { name: 'PassthroughCluster', type: 'ORIGINAL_DST' },
    { name: 'custom', clusterType: { name: 'envoy.clusters.aggregate' } },
    {
      name: 'outbound|443||api.example.com',
      type: 'STRICT_DNS',
      loadAssignment: {
        clusterName: 'outbound|443||api.example.com',
        endpoints: [{ locality: {}, lbEndpoints: [{ endpoint: { address: socket('api.example.com', 443) }, loadBalancingWeight: 1 }] }],
      },
    },
  ],
  endpoints: [
    {
      clusterName: `outbound|80|v1|${REVIEWS}`,
      endpoints: [
        {
          locality: { region: 'eu', zone: 'eu-1', subZone: 'a' },
          lbEndpoints: [
            { endpoint: { address: socket('10.0.0.1', 9080) }, healthStatus: 'HEALTHY', loadBalancingWeight: 1 },
            { endpoint: { address: socket('10.0.0.2', 9080) }, healthStatus: 'UNHEALTHY' },
          ],
        },
      ],
    },
    {
      clusterName: `outbound|80||${REVIEWS}`,
      endpoints: [{ lbEndpoints: [{ endpoint: { address: { envoyInternalAddress: { serverListenerName: 'connect_originate' } } } }] }],
    },
  ],
});

describe('listenerRows', () => {
  it('one row per listener, with address and port', () => {
    const rows = listenerRows(cfg);
    expect(rows.map((r) => [r.name, r.address, r.port])).toEqual([
      ['0.0.0.0_80', '0.0.0.0', 80],
      ['0.0.0.0_9080', '0.0.0.0', 9080],
      ['10.96.0.5_3306', '10.96.0.5', 3306],
      ['0.0.0.0_5000', '0.0.0.0', 5000],
      ['virtualOutbound', '0.0.0.0', 15001],
      ['virtualInbound', '0.0.0.0', 15006],
    ]);
    expect(rows[0]!.config).toBe(cfg.listeners[0]);
  });

  it("matches and destinations per chain (default chain last), like istioctl's listener table", () => {
    const [http] = listenerRows(cfg, { port: 80 });
    expect(http!.matches).toEqual(['Trans: raw_buffer; App: http/1.1,h2c', 'ALL']);
    expect(http!.destinations).toEqual(['Route: 80', 'Cluster: PassthroughCluster']);
    const [multi] = listenerRows(cfg, { port: 5000 });
    expect(multi!.matches).toEqual(['Port: 5000; Addr: 10.0.0.0/8; SNI: a.com,b.com; Trans: tls; App: h2', 'ALL', 'ALL']);
    expect(multi!.destinations).toEqual([
      'WeightedClusters: outbound|5000|a|x,outbound|5000|b|x',
      'Inline Route: inline-rc',
      'Non-HTTP/Non-TCP',
    ]);
  });

  it('filters by port and by address', () => {
    expect(listenerRows(cfg, { port: 15006 }).map((r) => r.name)).toEqual(['virtualInbound']);
    expect(listenerRows(cfg, { address: '10.96.0.5' }).map((r) => r.name)).toEqual(['10.96.0.5_3306']);
    expect(listenerRows(cfg, { address: '0.0.0.0', port: 3306 })).toEqual([]);
    expect(listenerRows(cfg, { port: null, address: null })).toHaveLength(6);
  });
});

describe('routeConfigurationRows', () => {
  it('virtual hosts, domains and routes with match, cluster (null when weighted) and VirtualService', () => {
    const [rc] = routeConfigurationRows(cfg, { name: '80' });
    expect(rc!.name).toBe('80');
    expect(rc!.virtualHosts.map((v) => [v.name, v.domains])).toEqual([
      [`${REVIEWS}:80`, [REVIEWS, 'reviews']],
      ['allow_any', ['*']],
    ]);
    const [canary, split] = rc!.virtualHosts[0]!.routes;
    expect(canary).toMatchObject({
      name: 'canary',
      match: 'any path, header x-canary is exactly "true"',
      cluster: `outbound|80|v2|${REVIEWS}`,
      virtualService: { kind: 'VirtualService', namespace: 'default', name: 'reviews' },
    });
    expect(split).toMatchObject({ name: 'split', cluster: null });
    expect(rc!.virtualHosts[1]!.routes[0]).toMatchObject({ name: 'allow_any', cluster: 'PassthroughCluster', virtualService: null });
  });

  it('filters by name; all without', () => {
    expect(routeConfigurationRows(cfg).map((r) => r.name)).toEqual(['80', '9080']);
    expect(routeConfigurationRows(cfg, { name: 'nope' })).toEqual([]);
  });
});

describe('clusterRows', () => {
  it('parses the cluster name, type (STATIC when proto3 omits it, custom type names), DestinationRule', () => {
    const rows = clusterRows(cfg);
    const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
    expect(byName[`outbound|80|v1|${REVIEWS}`]).toMatchObject({
      fqdn: REVIEWS,
      port: 80,
      subset: 'v1',
      direction: 'OUTBOUND',
      type: 'EDS',
      destinationRule: { kind: 'DestinationRule', namespace: 'default', name: 'reviews' },
    });
    expect(byName[`outbound|9080||${REVIEWS}`]).toMatchObject({ subset: null, destinationRule: null });
    expect(byName['inbound|8080||']).toMatchObject({ fqdn: null, port: 8080, subset: null, direction: 'INBOUND', type: 'ORIGINAL_DST' });
    expect(byName.BlackHoleCluster).toMatchObject({ fqdn: null, port: null, subset: null, direction: null, type: 'STATIC' });
    expect(byName.custom!.type).toBe('envoy.clusters.aggregate');
  });

  it('filters: fqdn (full or its leading labels), port, subset, direction', () => {
    const names = (f: Parameters<typeof clusterRows>[1]) => clusterRows(cfg, f).map((r) => r.name);
    expect(names({ fqdn: REVIEWS })).toEqual([`outbound|80||${REVIEWS}`, `outbound|80|v1|${REVIEWS}`, `outbound|9080||${REVIEWS}`]);
    expect(names({ fqdn: 'reviews' })).toEqual([`outbound|80||${REVIEWS}`, `outbound|80|v1|${REVIEWS}`, `outbound|9080||${REVIEWS}`]);
    expect(names({ fqdn: 'reviews', port: 9080 })).toEqual([`outbound|9080||${REVIEWS}`]);
    expect(names({ subset: 'v1' })).toEqual([`outbound|80|v1|${REVIEWS}`]);
    expect(names({ direction: 'INBOUND' })).toEqual(['inbound|8080||']);
    expect(names({ direction: 'OUTBOUND' })).toHaveLength(5);
  });
});

describe('endpointRows', () => {
  it('endpoints of EDS assignments and of clusters that carry them inline', () => {
    const rows = endpointRows(cfg);
    expect(rows).toEqual([
      { cluster: `outbound|80|v1|${REVIEWS}`, address: '10.0.0.1', port: 9080, health: 'HEALTHY', weight: 1, locality: 'eu/eu-1/a' },
      { cluster: `outbound|80|v1|${REVIEWS}`, address: '10.0.0.2', port: 9080, health: 'UNHEALTHY', weight: null, locality: 'eu/eu-1/a' },
      { cluster: `outbound|80||${REVIEWS}`, address: 'connect_originate', port: 0, health: 'HEALTHY', weight: null, locality: null },
      { cluster: 'outbound|443||api.example.com', address: 'api.example.com', port: 443, health: 'HEALTHY', weight: 1, locality: null },
    ]);
  });

  it('filters by cluster', () => {
    expect(endpointRows(cfg, { cluster: 'outbound|443||api.example.com' })).toHaveLength(1);
    expect(endpointRows(cfg, { cluster: 'BlackHoleCluster' })).toEqual([]);
  });
});
