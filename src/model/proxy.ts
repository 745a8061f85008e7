// A proxy as istiod sees it, and the Envoy config it gets: the generator's answers, stored and served.

/** How istiod treats a workload's proxy: a sidecar, a gateway (router), or none (not injected). */
export const ProxyType = { SIDECAR: 'SIDECAR', ROUTER: 'ROUTER', NONE: 'NONE' } as const;
export type ProxyType = (typeof ProxyType)[keyof typeof ProxyType];

/** An existing workload (namespace + name) or an ad-hoc proxy. */
export interface ProxyInput {
  namespace: string;
  name?: string | null;
  labels?: Record<string, string> | null;
  ip?: string | null;
  ips?: string[] | null;
  type?: ProxyType | null;
  istioVersion?: string | null;
  metadata?: Record<string, unknown> | null;
}

/** A proxy as istiod sees it once connected. */
export interface ProxyInfo {
  id: string;
  type: Exclude<ProxyType, 'NONE'>;
  namespace: string;
  configNamespace: string;
  labels: Record<string, string>;
  ips: string[];
  istioVersion: string;
  serviceTargets: string[];
  sidecar?: string;
}

/** Envoy's object types, singular as istioctl proxy-config names them, in this order everywhere. */
export const ENVOY_TYPES = ['listener', 'route', 'cluster', 'endpoint'] as const;
export type EnvoyType = (typeof ENVOY_TYPES)[number];

/** The field of a generated config that holds a type's objects (also the plural the diff reports). */
export type ConfigKey = 'listeners' | 'routes' | 'clusters' | 'endpoints';
export const CONFIG_KEY: Record<EnvoyType, ConfigKey> = {
  listener: 'listeners',
  route: 'routes',
  cluster: 'clusters',
  endpoint: 'endpoints',
};

/** Envoy objects as proto3 JSON. */
export type EnvoyObject = Record<string, unknown> & { name?: string; clusterName?: string };

export interface GeneratedConfig extends Record<ConfigKey, EnvoyObject[]> {
  proxy: ProxyInfo;
}

/** A workload's proxy as istiod would see it, or why it has none. */
export interface WorkloadProxy {
  namespace: string;
  name: string;
  /** Pod, or the controller standing for its absent pods (Deployment, ...), as the load's `kinds` said. */
  kind: string;
  proxy?: ProxyInfo;
  error?: string;
}
