import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { subscribedTypes } from '../../../src/envoy/subscribed-types.js';
import type { GeneratedConfig } from '../../../src/model/proxy.js';

// The generator's render testdata: a sidecar and a gateway istiod generated (istioinaction).
const config = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../../../generator/internal/render/testdata/${name}.config.json`, import.meta.url), 'utf8'),
  ) as GeneratedConfig;

describe('subscribedTypes', () => {
  it('is what Envoy asks istiod for with the config: CDS and LDS, EDS for EDS clusters, RDS for RDS route configs', () => {
    expect(subscribedTypes(config('istioinaction-webapp'))).toEqual(['CDS', 'LDS', 'EDS', 'RDS']);
    expect(subscribedTypes(config('istioinaction-gateway'))).toEqual(['CDS', 'LDS', 'EDS', 'RDS']);
  });

  it('CDS and LDS alone for a config without EDS clusters or RDS', () => {
    const listener = {
      name: 'l',
      filterChains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { cluster: 'c' } }] }],
    };
    expect(subscribedTypes({ listeners: [listener], clusters: [{ name: 'c', type: 'STATIC' }] })).toEqual(['CDS', 'LDS']);
    expect(subscribedTypes({ listeners: [], clusters: [] })).toEqual(['CDS', 'LDS']);
  });

  it('finds RDS and a discovered filter (ECDS) however deep the listener nests them, never in a string value', () => {
    const hcm = {
      name: 'envoy.filters.network.http_connection_manager',
      typedConfig: { rds: { routeConfigName: '80' }, httpFilters: [{ name: 'wasm', configDiscovery: { configSource: {} } }] },
    };
    const listener = { name: 'l', filterChains: [{ filters: [hcm] }] };
    expect(subscribedTypes({ listeners: [listener], clusters: [{ name: 'c', type: 'EDS' }] })).toEqual([
      'CDS',
      'LDS',
      'EDS',
      'RDS',
      'ECDS',
    ]);
    const quoted = { name: '"rds":', filterChains: [{ filters: [{ name: 'x', typedConfig: { statPrefix: '"configDiscovery":' } }] }] };
    expect(subscribedTypes({ listeners: [quoted], clusters: [] })).toEqual(['CDS', 'LDS']);
  });
});
