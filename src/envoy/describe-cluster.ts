import type { Cluster } from './xds.js';

interface ClusterPolicy {
  lbPolicy?: string;
  connectTimeout?: string;
  circuitBreakers?: { thresholds?: { maxConnections?: number; maxPendingRequests?: number; maxRequests?: number; maxRetries?: number }[] };
  outlierDetection?: { consecutive5xx?: number; interval?: string; baseEjectionTime?: string; maxEjectionPercent?: number };
  transportSocket?: { typedConfig?: { sni?: string; commonTlsContext?: { tlsCertificateSdsSecretConfigs?: unknown[] } } };
  transportSocketMatches?: { name?: string }[];
  typedExtensionProtocolOptions?: Record<string, { explicitHttpConfig?: { http2ProtocolOptions?: unknown } }>;
}

/** `outbound|80|v1|reviews.default.svc.cluster.local` -> its direction, port, subset and host. */
export function parseClusterName(name: string): { direction: 'outbound' | 'inbound'; port: number; subset: string; fqdn: string } | null {
  const parts = name.split('|');
  if (parts.length !== 4 || (parts[0] !== 'outbound' && parts[0] !== 'inbound')) return null;
  const port = Number(parts[1]);
  if (!Number.isInteger(port)) return null;
  return { direction: parts[0], port, subset: parts[2], fqdn: parts[3] };
}

/** What shapes a cluster, in words: subset, load balancing, connection limits, ejection, upstream TLS. */
export function describeCluster(cluster: Cluster): string[] {
  const c = cluster as Cluster & ClusterPolicy;
  const out: string[] = [];
  const parsed = parseClusterName(c.name);
  if (parsed?.subset) out.push(`subset ${parsed.subset}`);
  if (c.lbPolicy === 'RING_HASH' || c.lbPolicy === 'MAGLEV')
    out.push(`consistent-hash load balancing (${c.lbPolicy.toLowerCase().replace('_', ' ')})`);
  else if (c.lbPolicy) out.push(`load balancing ${c.lbPolicy.toLowerCase().replace('_', ' ')}`);
  else if (c.type === 'EDS') out.push('round-robin load balancing');
  const limits = c.circuitBreakers?.thresholds?.[0];
  if (limits) {
    const named: string[] = [];
    if (limits.maxConnections !== undefined && limits.maxConnections < 4294967295) named.push(`max ${limits.maxConnections} connections`);
    if (limits.maxPendingRequests !== undefined && limits.maxPendingRequests < 4294967295)
      named.push(`max ${limits.maxPendingRequests} pending requests`);
    if (limits.maxRequests !== undefined && limits.maxRequests < 4294967295) named.push(`max ${limits.maxRequests} concurrent requests`);
    if (limits.maxRetries !== undefined && limits.maxRetries < 4294967295) named.push(`max ${limits.maxRetries} retries`);
    if (named.length) out.push(`circuit breaking: ${named.join(', ')}`);
  }
  const od = c.outlierDetection;
  if (od)
    out.push(
      `outlier detection: eject after ${od.consecutive5xx ?? 5} consecutive 5xx${od.interval ? `, every ${od.interval}` : ''}${od.baseEjectionTime ? `, for ${od.baseEjectionTime}` : ''}`,
    );
  if (c.transportSocketMatches?.some((m) => m.name === 'tlsMode-istio'))
    out.push('Istio mTLS to endpoints that have a sidecar (auto mTLS), plaintext to the others');
  else if (c.transportSocket?.typedConfig) {
    const tls = c.transportSocket.typedConfig;
    const mutual = (tls.commonTlsContext?.tlsCertificateSdsSecretConfigs?.length ?? 0) > 0;
    out.push(`${mutual ? 'mutual TLS' : 'TLS'} origination${tls.sni ? ` (SNI ${tls.sni})` : ''}`);
  }
  return out;
}
