// The generator's wire format (generator/internal/protocol): newline-delimited JSON over stdio.
import type { GeneratorInput, NormalisedSnapshot } from '../snapshots/ingest/types.js';

export type ProxyTypeName = 'SIDECAR' | 'ROUTER' | 'NONE';

/** An existing workload (namespace + name) or an ad-hoc proxy. */
export interface ProxyInput {
  namespace: string;
  name?: string | null;
  labels?: Record<string, string> | null;
  ip?: string | null;
  ips?: string[] | null;
  type?: ProxyTypeName | null;
  istioVersion?: string | null;
  metadata?: Record<string, unknown> | null;
}

/** A proxy as istiod sees it once connected. */
export interface ProxyInfo {
  id: string;
  type: 'SIDECAR' | 'ROUTER';
  namespace: string;
  configNamespace: string;
  labels: Record<string, string>;
  ips: string[];
  istioVersion: string;
  serviceTargets: string[];
  sidecar?: string;
}

/** Envoy objects as proto3 JSON. */
export type EnvoyObject = Record<string, unknown> & { name?: string; clusterName?: string };

export interface GeneratedConfig {
  proxy: ProxyInfo;
  listeners: EnvoyObject[];
  routes: EnvoyObject[];
  clusters: EnvoyObject[];
  endpoints: EnvoyObject[];
}

/** A snapshot as the generator loads it: the cluster's objects, and each pod's proxy type as injection decides it. */
export interface LoadParams extends GeneratorInput {
  proxyTypes: Record<string, ProxyTypeName>;
}

export interface LoadDiagnostic {
  level: string;
  kind?: string;
  namespace?: string;
  name?: string;
  message: string;
}

export interface LoadResult {
  diagnostics: LoadDiagnostic[] | null;
  pods: number;
}

export interface AnalyzerMessage {
  code: string;
  level: string;
  message: string;
  kind?: string;
  namespace?: string;
  name?: string;
  origin?: string;
  text: string;
}

export interface WorkloadProxy {
  namespace: string;
  name: string;
  proxy?: ProxyInfo;
  error?: string;
}

/** A status condition istiod writes on a Gateway API object. */
export interface GatewayApiCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  /** The route's parent the condition is about ("Gateway shop/edge"); absent for the object itself. */
  parent?: string;
  /** The Gateway listener (or the parent's section) the condition is about. */
  listener?: string;
}

/** The status istiod would write on one Gateway API object. */
export interface GatewayApiStatus {
  kind: string;
  namespace: string;
  name: string;
  conditions: GatewayApiCondition[];
  /** The whole status object, as the API server would hold it. */
  status: unknown;
}

/** A Kubernetes object by kind, namespace and name. */
export interface ObjectRef {
  kind: string;
  namespace: string;
  name: string;
}

/** What istiod derives from a snapshot's Gateway API objects (generator/internal/session/gatewayapi.go). */
export interface GatewayApi {
  status: GatewayApiStatus[];
  /** The VirtualServices istiod generates from Gateway API routes, each with the routes it comes from. */
  virtualServices: { namespace: string; name: string; routes: ObjectRef[] }[];
}

export const NO_GATEWAY_API: GatewayApi = { status: [], virtualServices: [] };

export interface VersionInfo {
  istio: string;
  module: string;
}

/** istioctl's views the generator renders through istioctl's own writers (`render`). */
export type RenderView = 'listener' | 'route' | 'cluster' | 'endpoint' | 'eds' | 'all' | 'bootstrap' | 'config_dump' | 'proxy-status';

/** istioctl's flags of `proxy-config` and `proxy-status`. */
export interface RenderFlags {
  fqdn?: string;
  port?: number;
  subset?: string;
  direction?: string;
  name?: string;
  address?: string;
  type?: string;
  cluster?: string;
  status?: string;
  /** short (the table, istioctl's default), json or yaml. */
  output?: 'short' | 'json' | 'yaml';
  /** istioctl's --verbose (default true). */
  verbose?: boolean;
  withHeaders?: boolean;
  /** proxy-status -v. */
  verbosity?: number;
}

/** One proxy of proxy-status, as istiod's syncz reports a connected proxy. */
export interface StatusProxy {
  /** `<pod>.<namespace>` */
  id: string;
  clusterId?: string;
  namespace?: string;
  istioVersion?: string;
  /** Subscribed xDS types (CDS, LDS, EDS, RDS, ECDS); absent: derived from `config`. */
  types?: string[];
  config?: GeneratedConfig;
}

export interface RenderParams {
  view: RenderView;
  /** The proxy's generated config (a dump is assembled from it with the bootstrap istio-agent renders)... */
  config?: GeneratedConfig;
  /** ...or an Envoy admin config dump used as is. */
  configDump?: unknown;
  flags?: RenderFlags;
  proxies?: StatusProxy[];
  /** The control plane's instance name in proxy-status (default "meshlens"). */
  istiod?: string;
}

export interface Methods {
  version: { params: undefined; result: VersionInfo };
  load: { params: LoadParams; result: LoadResult };
  proxyConfig: { params: { proxy: ProxyInput }; result: GeneratedConfig };
  proxies: { params: { types?: Record<string, ProxyTypeName> }; result: WorkloadProxy[] };
  analyze: { params: undefined; result: AnalyzerMessage[] };
  gatewayApi: { params: undefined; result: GatewayApi };
  /** Needs no loaded snapshot: what istiod's gateway deployment controller would apply for the Gateways of these objects. */
  gatewayDeployments: {
    params: { kubernetes: Record<string, unknown>[]; meshConfig: string };
    result: { gateway: ObjectRef; object: Record<string, unknown> }[];
  };
  /** Needs no loaded snapshot. */
  render: { params: RenderParams; result: { output: string } };
}

export type GeneratorErrorCode = 'BAD_REQUEST' | 'NOT_LOADED' | 'NO_PROXY' | 'INTERNAL' | 'TIMEOUT' | 'EXITED';

export class GeneratorError extends Error {
  constructor(
    readonly code: GeneratorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GeneratorError';
  }
}

export function loadParams(normalised: NormalisedSnapshot): LoadParams {
  const proxyTypes: Record<string, ProxyTypeName> = {};
  for (const w of normalised.workloads) proxyTypes[`${w.namespace}/${w.name}`] = w.proxyType;
  return { ...normalised.generatorInput, proxyTypes };
}
