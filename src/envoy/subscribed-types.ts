// The xDS types a proxy's Envoy subscribes to with its config, as istiod's syncz reports them in
// proxy-status: clusters and listeners always, endpoints when a cluster is EDS, routes when a
// listener's HTTP connection manager uses RDS, extension configs when a filter is discovered (ECDS).
import type { GeneratedConfig } from '../model/proxy.js';

/** Short names, in syncz's report order before istioctl sorts them. Pure. */
export function subscribedTypes(config: Pick<GeneratedConfig, 'listeners' | 'clusters'>): string[] {
  const types = ['CDS', 'LDS'];
  if (config.clusters.some((c) => (c as { type?: string }).type === 'EDS')) types.push('EDS');
  if (config.listeners.some((l) => hasKey(l, 'rds'))) types.push('RDS');
  if (config.listeners.some((l) => hasKey(l, 'configDiscovery'))) types.push('ECDS');
  return types;
}

/** `key` names a field of `value` or of any object within it (a listener's filters nest deep). */
function hasKey(value: unknown, key: string): boolean {
  if (Array.isArray(value)) return value.some((v) => hasKey(v, key));
  if (value === null || typeof value !== 'object') return false;
  return Object.hasOwn(value, key) || Object.values(value).some((v) => hasKey(v, key));
}
