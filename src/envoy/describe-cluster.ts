// Envoy clusters and endpoints in words, once for the route walk's trace, the views and the diff's
// sentences: names, special clusters, load balancing, limits, ejection, upstream TLS. Pure.
import type { EnvoyObject } from '../model/proxy.js';
import { canonicalJson } from '../model/canonical.js';
import type { Cluster } from './xds.js';

/** Envoy's "no limit" for circuit breaker thresholds (UINT32_MAX, what istiod writes for unset limits). */
const UNLIMITED = 4294967295;

type ClusterPolicy = EnvoyObject & {
  type?: string;
  lbPolicy?: string;
  connectTimeout?: string;
  circuitBreakers?: { thresholds?: { maxConnections?: number; maxPendingRequests?: number; maxRequests?: number; maxRetries?: number }[] };
  outlierDetection?: OutlierDetection;
  transportSocket?: {
    name?: string;
    typedConfig?: { sni?: string; commonTlsContext?: { tlsCertificateSdsSecretConfigs?: unknown[]; tlsCertificates?: unknown[] } };
  };
  transportSocketMatches?: { name?: string }[];
  typedExtensionProtocolOptions?: Record<
    string,
    {
      commonHttpProtocolOptions?: { maxRequestsPerConnection?: number; idleTimeout?: string };
      explicitHttpConfig?: { http2ProtocolOptions?: unknown };
      useDownstreamProtocolConfig?: unknown;
    }
  >;
};

interface OutlierDetection {
  consecutive5xx?: number;
  consecutiveGatewayFailure?: number;
  interval?: string;
  baseEjectionTime?: string;
  maxEjectionPercent?: number;
}

/** `outbound|80|v1|reviews.default.svc.cluster.local` -> its direction, port, subset and host. */
export function parseClusterName(name: string): { direction: 'outbound' | 'inbound'; port: number; subset: string; fqdn: string } | null {
  const parts = name.split('|');
  if (parts.length !== 4 || (parts[0] !== 'outbound' && parts[0] !== 'inbound')) return null;
  const port = Number(parts[1]);
  if (!Number.isInteger(port)) return null;
  return { direction: parts[0], port, subset: parts[2], fqdn: parts[3] };
}

const SPECIAL_CLUSTERS: Record<string, { label: string; explanation: string }> = {
  PassthroughCluster: {
    label: 'PassthroughCluster (the original destination, unrouted)',
    explanation:
      'PassthroughCluster forwards to the original destination unchanged: the host is outside the mesh registry and the outbound traffic policy is ALLOW_ANY.',
  },
  BlackHoleCluster: {
    label: 'BlackHoleCluster (dropped)',
    explanation:
      'BlackHoleCluster drops the traffic: the outbound traffic policy is REGISTRY_ONLY and the host is not in the registry (or a Sidecar hides it).',
  },
  InboundPassthroughCluster: {
    label: 'InboundPassthroughCluster (the local app, unrouted)',
    explanation: 'InboundPassthroughCluster delivers to the local workload on the original port, without an inbound service cluster.',
  },
  AllowAnyDynamicDNSCluster: {
    label: 'AllowAnyDynamicDNSCluster',
    explanation: 'AllowAnyDynamicDNSCluster resolves the Host header with DNS at request time.',
  },
};

/** The clusters istiod adds for traffic that no service cluster takes. */
export function isSpecialCluster(name: string): boolean {
  return Object.hasOwn(SPECIAL_CLUSTERS, name);
}

/** `outbound|80|v1|reviews.default.svc.cluster.local` → `reviews.default.svc.cluster.local:80 subset v1`. */
export function clusterLabel(name: string): string {
  if (isSpecialCluster(name)) return SPECIAL_CLUSTERS[name].label;
  const parsed = parseClusterName(name);
  if (!parsed) return name;
  if (parsed.direction === 'inbound') return `the local app on port ${parsed.port}`;
  return `${parsed.fqdn}:${parsed.port}${parsed.subset ? ` subset ${parsed.subset}` : ''}`;
}

/** What sending traffic to the cluster means, in a sentence ('' when there is nothing to add). */
export function explainCluster(name: string): string {
  if (isSpecialCluster(name)) return SPECIAL_CLUSTERS[name].explanation;
  if (name.startsWith('inbound|'))
    return "An inbound cluster delivers to the local workload: VirtualServices are evaluated by the caller's proxy, never again here.";
  if (name.startsWith('outbound|'))
    return "The request leaves this proxy; the destination's own sidecar receives it on its inbound listener and does not re-apply VirtualServices.";
  return '';
}

/** The load balancer, in words: `round robin`, `least request`, `consistent hash (ring hash)`. */
function loadBalancer(lbPolicy: string): string {
  return lbPolicy === 'RING_HASH' || lbPolicy === 'MAGLEV'
    ? `consistent hash (${lbPolicy.toLowerCase().replace('_', ' ')})`
    : lbPolicy.toLowerCase().replace(/_/g, ' ');
}

/** Envoy's outlier detection, in words; consecutive 5xx defaults to 5 as in Envoy. */
function outlierDetection(od: OutlierDetection): string {
  return [
    `eject after ${od.consecutive5xx ?? 5} consecutive 5xx`,
    od.consecutiveGatewayFailure !== undefined ? `after ${od.consecutiveGatewayFailure} consecutive gateway errors` : null,
    od.interval ? `every ${od.interval}` : null,
    od.baseEjectionTime ? `for ${od.baseEjectionTime}` : null,
    od.maxEjectionPercent !== undefined ? `at most ${od.maxEjectionPercent}% ejected` : null,
  ]
    .filter(Boolean)
    .join(', ');
}

/** How the cluster talks to its endpoints: auto mTLS, Istio mTLS, TLS origination or plaintext. */
function upstreamTls(c: ClusterPolicy): string {
  if (c.transportSocketMatches?.some((m) => m.name === 'tlsMode-istio'))
    return 'Istio mTLS to endpoints with a sidecar, plaintext to the others (auto mTLS)';
  if (!c.transportSocket?.typedConfig || c.transportSocket.name === 'envoy.transport_sockets.raw_buffer') return 'plaintext';
  const tls = c.transportSocket.typedConfig;
  const certs = (tls.commonTlsContext?.tlsCertificateSdsSecretConfigs?.length ?? 0) + (tls.commonTlsContext?.tlsCertificates?.length ?? 0);
  if (canonicalJson(tls).includes('istio-peer-exchange')) return 'Istio mTLS';
  return `${certs > 0 ? 'mutual TLS' : 'TLS'} origination${tls.sni ? ` (SNI ${tls.sni})` : ''}`;
}

const LIMITS = [
  ['max connections', 'maxConnections'],
  ['max pending requests', 'maxPendingRequests'],
  ['max concurrent requests', 'maxRequests'],
  ['max retries', 'maxRetries'],
] as const;

/** What a DestinationRule (and istiod's defaults) make of a cluster, aspect by aspect, in words. */
export function clusterPolicies(cluster: EnvoyObject | undefined): Record<string, string> {
  const c = (cluster ?? {}) as ClusterPolicy;
  const out: Record<string, string> = {};
  out['load balancer'] = loadBalancer(c.lbPolicy ?? 'ROUND_ROBIN');
  const t = c.circuitBreakers?.thresholds?.[0] ?? {};
  for (const [aspect, field] of LIMITS) {
    const v = t[field];
    out[aspect] = v === undefined ? 'Envoy default' : v >= UNLIMITED ? 'unlimited' : String(v);
  }
  const http = Object.values(c.typedExtensionProtocolOptions ?? {})[0]?.commonHttpProtocolOptions;
  out['max requests per connection'] = http?.maxRequestsPerConnection ? String(http.maxRequestsPerConnection) : 'unlimited';
  if (http?.idleTimeout) out['idle timeout'] = http.idleTimeout;
  out['connect timeout'] = c.connectTimeout ?? 'Envoy default (5s)';
  out['outlier detection'] = c.outlierDetection ? outlierDetection(c.outlierDetection) : 'off';
  out.TLS = upstreamTls(c);
  return out;
}

/**
 * What shapes a cluster, in the words of clusterPolicies, for the walk's trace: its subset and what
 * differs from Envoy's defaults (load balancing, connection limits, ejection, upstream TLS).
 */
export function describeCluster(cluster: Cluster): string[] {
  const c = cluster as Cluster & ClusterPolicy;
  const policies = clusterPolicies(c);
  const out: string[] = [];
  const parsed = parseClusterName(c.name);
  if (parsed?.subset) out.push(`subset ${parsed.subset}`);
  if (c.lbPolicy || c.type === 'EDS') out.push(`load balancer ${policies['load balancer']}`);
  const t = c.circuitBreakers?.thresholds?.[0];
  if (t) {
    const named = LIMITS.filter(([, field]) => t[field] !== undefined && t[field] < UNLIMITED).map(
      ([aspect]) => `${aspect} ${policies[aspect]}`,
    );
    if (named.length) out.push(`circuit breaking: ${named.join(', ')}`);
  }
  if (c.outlierDetection) out.push(`outlier detection: ${policies['outlier detection']}`);
  if (policies.TLS !== 'plaintext') out.push(policies.TLS);
  return out;
}

/** The endpoints of a ClusterLoadAssignment (or a cluster's inline loadAssignment). */
export function endpointAddresses(cla: EnvoyObject | undefined): string[] {
  type Lb = {
    endpoint?: {
      address?: { socketAddress?: { address?: string; portValue?: number }; envoyInternalAddress?: { serverListenerName?: string } };
    };
  };
  const groups = (cla?.endpoints ?? []) as { lbEndpoints?: Lb[] }[];
  const out: string[] = [];
  for (const g of groups)
    for (const lb of g.lbEndpoints ?? []) {
      const s = lb.endpoint?.address?.socketAddress;
      out.push(s ? `${s.address}:${s.portValue ?? 0}` : (lb.endpoint?.address?.envoyInternalAddress?.serverListenerName ?? '?'));
    }
  return out.sort();
}
