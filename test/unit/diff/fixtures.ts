// Small hand-made Envoy objects in istiod's shapes, for the pure diff tests.
import type { AnalyzerMessage } from '../../../src/model/diagnostics.js';
import type { ConfigKey, EnvoyObject } from '../../../src/model/proxy.js';
import { indexConfig, type ProxyClass } from '../../../src/diff/proxy-class.js';

export const HOST = 'catalog.istioinaction.svc.cluster.local';
export const cluster = (subset = '', extra: Record<string, unknown> = {}): EnvoyObject => ({
  name: `outbound|80|${subset}|${HOST}`,
  type: 'EDS',
  lbPolicy: 'LEAST_REQUEST',
  circuitBreakers: {
    thresholds: [{ maxConnections: 4294967295, maxPendingRequests: 4294967295, maxRequests: 4294967295, maxRetries: 4294967295 }],
  },
  ...extra,
});
export const endpoints = (subset: string, ips: string[]): EnvoyObject => ({
  clusterName: `outbound|80|${subset}|${HOST}`,
  endpoints: [{ lbEndpoints: ips.map((ip) => ({ endpoint: { address: { socketAddress: { address: ip, portValue: 3000 } } } })) }],
});
const VS = { filterMetadata: { istio: { config: '/apis/networking.istio.io/v1/namespaces/istioinaction/virtual-service/catalog' } } };
export const route = (
  name: string,
  action: Record<string, unknown>,
  match: Record<string, unknown> = { prefix: '/' },
  fromVs = true,
  extra: Record<string, unknown> = {},
) => ({
  name,
  match,
  route: { timeout: '0s', ...action },
  ...(fromVs ? { metadata: VS } : {}),
  ...extra,
});
export const toSubset = (subset: string) => ({ cluster: `outbound|80|${subset}|${HOST}` });
export const weighted = (...w: [string, number][]) => ({
  weightedClusters: { clusters: w.map(([s, weight]) => ({ name: `outbound|80|${s}|${HOST}`, weight })) },
});
export const cohortMatch = { prefix: '/', caseSensitive: true, headers: [{ name: 'x-istio-cohort', stringMatch: { exact: 'internal' } }] };
export const routeConfig = (routes: unknown[]): EnvoyObject => ({
  name: '80',
  virtualHosts: [
    { name: `${HOST}:80`, domains: [HOST, 'catalog'], routes },
    {
      name: 'allow_any',
      domains: ['*'],
      routes: [{ name: 'allow_any', match: { prefix: '/' }, route: { cluster: 'PassthroughCluster' } }],
    },
  ],
});
export const listener = (port: number): EnvoyObject => ({
  name: `0.0.0.0_${port}`,
  address: { socketAddress: { address: '0.0.0.0', portValue: port } },
});

export type Config = Record<ConfigKey, EnvoyObject[]>;
export const baseConfig = (routes: unknown[], more: Partial<Config> = {}): Config => ({
  listeners: [listener(80), ...(more.listeners ?? [])],
  routes: [routeConfig(routes), ...(more.routes ?? [])],
  clusters: [cluster(), cluster('version-v1'), cluster('version-v2'), ...(more.clusters ?? [])],
  endpoints: [
    endpoints('', ['10.0.0.1', '10.0.0.2']),
    endpoints('version-v1', ['10.0.0.1']),
    endpoints('version-v2', ['10.0.0.2']),
    ...(more.endpoints ?? []),
  ],
});

/** A class of the given workloads over `config`, its objects added to `pool`. */
export function proxyClass(
  classKey: string,
  workloads: string[],
  config: Config,
  pool: Map<string, EnvoyObject>,
  proxyType: ProxyClass['proxyType'] = 'SIDECAR',
): ProxyClass {
  const { objects, configHash } = indexConfig(config, pool);
  return {
    classKey,
    proxyType,
    workloads: workloads.map((w) => ({ namespace: w.split('/')[0]!, name: w.split('/')[1]!, kind: 'Pod' })),
    configHash,
    objects,
  };
}

export const message = (code: string, level: string, name: string, text = `${code} about ${name}`): AnalyzerMessage => ({
  code,
  level,
  message: text,
  kind: 'VirtualService',
  namespace: 'istioinaction',
  name,
  text: `${level} [${code}] (VirtualService istioinaction/${name}) ${text}`,
});
