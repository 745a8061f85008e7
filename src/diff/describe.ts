// Envoy objects in words, for routing sentences: destinations, route policies, cluster policies. Pure.
import type { EnvoyObject } from '../model/proxy.js';
import { parseClusterName } from '../envoy/describe-cluster.js';
import type { HeaderMatcher, RedirectAction, Route, RouteMatch } from '../envoy/xds.js';
import { headerMatches, pathMatches, queryParameterMatches } from '../envoy/match.js';
import { canonicalJson } from '../model/canonical.js';

const UNLIMITED = 4294967295;

/** `outbound|80|v1|reviews.default.svc.cluster.local` → `reviews.default.svc.cluster.local:80 subset v1`. */
export function clusterLabel(name: string): string {
  if (name === 'PassthroughCluster') return 'PassthroughCluster (the original destination, unrouted)';
  if (name === 'BlackHoleCluster') return 'BlackHoleCluster (dropped)';
  if (name === 'InboundPassthroughCluster') return 'InboundPassthroughCluster (the local app, unrouted)';
  const parsed = parseClusterName(name);
  if (!parsed) return name;
  if (parsed.direction === 'inbound') return `the local app on port ${parsed.port}`;
  return `${parsed.fqdn}:${parsed.port}${parsed.subset ? ` subset ${parsed.subset}` : ''}`;
}

/** The clusters a route sends to, with weights; empty for redirects and direct responses. */
export function routeClusters(route: Route | undefined): { name: string; weight: number }[] {
  const action = route?.route;
  if (!action) return [];
  if (action.cluster) return [{ name: action.cluster, weight: 100 }];
  const weighted = action.weightedClusters?.clusters ?? [];
  const total = weighted.reduce((s, c) => s + (c.weight ?? 0), 0) || 100;
  return weighted.map((c) => ({ name: c.name, weight: Math.round(((c.weight ?? 0) * 1000) / total) / 10 }));
}

/** Where a route sends requests, in words. */
export function describeAction(route: Route | undefined): string {
  if (!route) return 'no route (404)';
  if (route.redirect) return describeRedirect(route.redirect);
  if (route.directResponse) return `a direct response with status ${route.directResponse.status ?? 200}`;
  const action = route.route;
  if (!action) return 'nothing (no action)';
  if (action.clusterHeader) return `the cluster named in header ${action.clusterHeader}`;
  const clusters = routeClusters(route);
  if (clusters.length === 1) return clusterLabel(clusters[0].name);
  if (clusters.length === 0) return 'no cluster';
  const parsed = clusters.map((c) => parseClusterName(c.name));
  const sameService = parsed.every((p) => p && p.direction === 'outbound' && p.fqdn === parsed[0]!.fqdn && p.port === parsed[0]!.port);
  if (sameService) {
    const p = parsed[0]!;
    return `${p.fqdn}:${p.port}: ${clusters.map((c, i) => `${c.weight}% ${parsed[i]!.subset ? `subset ${parsed[i]!.subset}` : 'every endpoint'}`).join(', ')}`;
  }
  return clusters.map((c) => `${c.weight}% ${clusterLabel(c.name)}`).join(', ');
}

function describeRedirect(r: RedirectAction): string {
  const code = r.responseCode ?? 'MOVED_PERMANENTLY';
  const status: Record<string, number> = {
    MOVED_PERMANENTLY: 301,
    FOUND: 302,
    SEE_OTHER: 303,
    TEMPORARY_REDIRECT: 307,
    PERMANENT_REDIRECT: 308,
  };
  const parts: string[] = [];
  if (r.httpsRedirect) parts.push('https');
  if (r.schemeRedirect) parts.push(`scheme ${r.schemeRedirect}`);
  if (r.hostRedirect) parts.push(`host ${r.hostRedirect}`);
  if (r.portRedirect) parts.push(`port ${r.portRedirect}`);
  if (r.pathRedirect) parts.push(`path ${r.pathRedirect}`);
  if (r.prefixRewrite) parts.push(`path prefix ${r.prefixRewrite}`);
  return `a redirect (${status[code] ?? code})${parts.length ? ` to ${parts.join(', ')}` : ''}`;
}

type RoutePolicy = Route & {
  typedPerFilterConfig?: Record<string, Record<string, unknown>>;
  requestHeadersToAdd?: { header?: { key?: string; value?: string } }[];
  requestHeadersToRemove?: string[];
  responseHeadersToAdd?: { header?: { key?: string; value?: string } }[];
  responseHeadersToRemove?: string[];
};

type Action = Omit<NonNullable<Route['route']>, 'retryPolicy' | 'requestMirrorPolicies'> & {
  retryPolicy?: { retryOn?: string; numRetries?: number; perTryTimeout?: string };
  requestMirrorPolicies?: { cluster?: string; runtimeFraction?: { defaultValue?: { numerator?: number; denominator?: string } } }[];
  regexRewrite?: { pattern?: { regex?: string }; substitution?: string };
  autoHostRewrite?: boolean;
  hashPolicy?: {
    header?: { headerName?: string };
    cookie?: { name?: string };
    connectionProperties?: unknown;
    queryParameter?: { name?: string };
  }[];
};

function fraction(f: { numerator?: number; denominator?: string } | undefined): string {
  if (!f) return '100%';
  const den = f.denominator === 'TEN_THOUSAND' ? 10000 : f.denominator === 'MILLION' ? 1000000 : 100;
  return `${Math.round(((f.numerator ?? 0) / den) * 100000) / 1000}%`;
}

/** A route's policies, aspect by aspect, in words ("none" when absent). */
export function routePolicies(route: Route | undefined): Record<string, string> {
  const r = (route ?? {}) as RoutePolicy;
  const a = (r.route ?? {}) as Action;
  const out: Record<string, string> = {};
  const timeout = a.timeout;
  out.timeout = timeout === undefined ? 'Envoy default (15s)' : timeout === '0s' ? 'none' : timeout;
  const retry = a.retryPolicy;
  out.retries =
    retry && (retry.numRetries ?? 1) > 0
      ? `${retry.numRetries ?? 1} on ${retry.retryOn ?? '(nothing)'}${retry.perTryTimeout ? `, ${retry.perTryTimeout} per try` : ''}`
      : 'none';
  const fault = r.typedPerFilterConfig?.['envoy.filters.http.fault'] as
    | {
        delay?: { fixedDelay?: string; percentage?: { numerator?: number; denominator?: string } };
        abort?: { httpStatus?: number; grpcStatus?: number; percentage?: { numerator?: number; denominator?: string } };
      }
    | undefined;
  const faults: string[] = [];
  if (fault?.delay) faults.push(`delay ${fault.delay.fixedDelay ?? '?'} for ${fraction(fault.delay.percentage)}`);
  if (fault?.abort)
    faults.push(`abort with ${fault.abort.httpStatus ?? `gRPC ${fault.abort.grpcStatus}`} for ${fraction(fault.abort.percentage)}`);
  out.fault = faults.length ? faults.join(', ') : 'none';
  const mirrors = a.requestMirrorPolicies ?? [];
  out.mirror = mirrors.length
    ? mirrors.map((m) => `${clusterLabel(m.cluster ?? '?')} (${fraction(m.runtimeFraction?.defaultValue)})`).join(', ')
    : 'none';
  const rewrites: string[] = [];
  if (a.prefixRewrite !== undefined) rewrites.push(`path prefix to "${a.prefixRewrite}"`);
  if (a.regexRewrite) rewrites.push(`path matching "${a.regexRewrite.pattern?.regex ?? ''}" to "${a.regexRewrite.substitution ?? ''}"`);
  if (a.hostRewriteLiteral) rewrites.push(`host to "${a.hostRewriteLiteral}"`);
  if (a.autoHostRewrite) rewrites.push('host to the upstream host');
  out.rewrite = rewrites.length ? rewrites.join(', ') : 'none';
  const headers: string[] = [];
  for (const h of r.requestHeadersToAdd ?? []) headers.push(`request ${h.header?.key}: ${h.header?.value}`);
  for (const h of r.requestHeadersToRemove ?? []) headers.push(`request ${h} removed`);
  for (const h of r.responseHeadersToAdd ?? []) headers.push(`response ${h.header?.key}: ${h.header?.value}`);
  for (const h of r.responseHeadersToRemove ?? []) headers.push(`response ${h} removed`);
  out.headers = headers.length ? headers.join('; ') : 'none';
  const cors = r.typedPerFilterConfig?.['envoy.filters.http.cors'];
  out.cors = cors ? `allow origins ${canonicalJson((cors as { allowOriginStringMatch?: unknown }).allowOriginStringMatch ?? [])}` : 'none';
  const hash = a.hashPolicy ?? [];
  out['consistent hash'] = hash.length
    ? hash
        .map((h) =>
          h.header
            ? `header ${h.header.headerName}`
            : h.cookie
              ? `cookie ${h.cookie.name}`
              : h.queryParameter
                ? `query ${h.queryParameter.name}`
                : 'source IP',
        )
        .join(', ')
    : 'none';
  return out;
}

/** Route matches equal for Envoy (case sensitivity defaults to true). */
export function matchKey(m: RouteMatch | undefined): string {
  if (!m) return '{}';
  const { caseSensitive, ...rest } = m;
  return canonicalJson(caseSensitive === false ? m : rest);
}

/** A request that the match accepts, to ask which route of the other side would take it; null when none can be made up. */
export function sampleRequest(
  m: RouteMatch | undefined,
): { path: string; headers: Map<string, string>; query: Map<string, string> } | null {
  const match = m ?? { prefix: '/' };
  let path: string | undefined;
  if (match.prefix !== undefined) path = match.prefix || '/';
  else if (match.path !== undefined) path = match.path;
  else if (match.pathSeparatedPrefix !== undefined) path = match.pathSeparatedPrefix;
  if (path === undefined) return null;
  const headers = new Map<string, string>();
  for (const h of match.headers ?? []) {
    const v = headerSample(h);
    if (v === null) return null;
    if (v !== undefined) headers.set(h.name.toLowerCase(), v);
  }
  const query = new Map<string, string>();
  for (const q of match.queryParameters ?? []) {
    if (q.presentMatch === false) continue;
    const s = q.stringMatch;
    const v = !s ? '1' : (s.exact ?? s.prefix ?? (s.suffix !== undefined ? `x${s.suffix}` : s.contains));
    if (v === undefined) return null;
    query.set(q.name, v);
  }
  return { path, headers, query };
}

function headerSample(h: HeaderMatcher): string | undefined | null {
  if (h.invertMatch) return h.presentMatch === undefined ? undefined : null;
  if (h.presentMatch === false) return undefined;
  if (h.presentMatch === true) return '1';
  const s = h.stringMatch;
  if (s) {
    if (s.exact !== undefined) return s.exact;
    if (s.prefix !== undefined) return s.prefix;
    if (s.suffix !== undefined) return `x${s.suffix}`;
    if (s.contains !== undefined) return s.contains;
    return null;
  }
  if (h.exactMatch !== undefined) return h.exactMatch;
  if (h.prefixMatch !== undefined) return h.prefixMatch;
  if (h.suffixMatch !== undefined) return `x${h.suffixMatch}`;
  if (h.containsMatch !== undefined) return h.containsMatch;
  if (h.safeRegexMatch || h.rangeMatch) return null;
  return '1';
}

/** The first route that takes the request, as Envoy picks it. */
export function firstMatching(routes: readonly Route[], req: NonNullable<ReturnType<typeof sampleRequest>>): Route | undefined {
  return routes.find((r) => {
    const m = r.match ?? { prefix: '/' };
    if (!pathMatches(m, req.path)) return false;
    if (!(m.headers ?? []).every((h) => headerMatches(h, req.headers))) return false;
    return (m.queryParameters ?? []).every((q) => queryParameterMatches(q, req.query));
  });
}

type ClusterPolicy = EnvoyObject & {
  type?: string;
  lbPolicy?: string;
  connectTimeout?: string;
  circuitBreakers?: { thresholds?: { maxConnections?: number; maxPendingRequests?: number; maxRequests?: number; maxRetries?: number }[] };
  outlierDetection?: {
    consecutive5xx?: number;
    consecutiveGatewayFailure?: number;
    interval?: string;
    baseEjectionTime?: string;
    maxEjectionPercent?: number;
  };
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
  ringHashLbConfig?: unknown;
  maglevLbConfig?: unknown;
  leastRequestLbConfig?: unknown;
};

/** What a DestinationRule (and istiod's defaults) make of a cluster, aspect by aspect, in words. */
export function clusterPolicies(cluster: EnvoyObject | undefined): Record<string, string> {
  const c = (cluster ?? {}) as ClusterPolicy;
  const out: Record<string, string> = {};
  const lb = c.lbPolicy ?? 'ROUND_ROBIN';
  out['load balancer'] =
    lb === 'RING_HASH' || lb === 'MAGLEV' ? `consistent hash (${lb.toLowerCase().replace('_', ' ')})` : lb.toLowerCase().replace(/_/g, ' ');
  const t = c.circuitBreakers?.thresholds?.[0] ?? {};
  const limit = (v: number | undefined) => (v === undefined ? 'Envoy default' : v >= UNLIMITED ? 'unlimited' : String(v));
  out['max connections'] = limit(t.maxConnections);
  out['max pending requests'] = limit(t.maxPendingRequests);
  out['max concurrent requests'] = limit(t.maxRequests);
  out['max retries'] = limit(t.maxRetries);
  const http = Object.values(c.typedExtensionProtocolOptions ?? {})[0]?.commonHttpProtocolOptions;
  out['max requests per connection'] = http?.maxRequestsPerConnection ? String(http.maxRequestsPerConnection) : 'unlimited';
  if (http?.idleTimeout) out['idle timeout'] = http.idleTimeout;
  out['connect timeout'] = c.connectTimeout ?? 'Envoy default (5s)';
  const od = c.outlierDetection;
  out['outlier detection'] = od
    ? [
        od.consecutive5xx !== undefined ? `eject after ${od.consecutive5xx} consecutive 5xx` : null,
        od.consecutiveGatewayFailure !== undefined ? `after ${od.consecutiveGatewayFailure} consecutive gateway errors` : null,
        od.interval ? `every ${od.interval}` : null,
        od.baseEjectionTime ? `for ${od.baseEjectionTime}` : null,
        od.maxEjectionPercent !== undefined ? `at most ${od.maxEjectionPercent}% ejected` : null,
      ]
        .filter(Boolean)
        .join(', ') || 'on'
    : 'off';
  if (c.transportSocketMatches?.some((m) => m.name === 'tlsMode-istio'))
    out.TLS = 'Istio mTLS to endpoints with a sidecar, plaintext to the others (auto mTLS)';
  else if (c.transportSocket?.typedConfig && c.transportSocket.name !== 'envoy.transport_sockets.raw_buffer') {
    const tls = c.transportSocket.typedConfig;
    const certs =
      (tls.commonTlsContext?.tlsCertificateSdsSecretConfigs?.length ?? 0) + (tls.commonTlsContext?.tlsCertificates?.length ?? 0);
    const istio = canonicalJson(tls).includes('istio-peer-exchange');
    out.TLS = istio ? 'Istio mTLS' : `${certs > 0 ? 'mutual TLS' : 'TLS'} origination${tls.sni ? ` (SNI ${tls.sni})` : ''}`;
  } else out.TLS = 'plaintext';
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
