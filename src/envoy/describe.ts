// Envoy routes in words, once for the route walk's trace and the diff's sentences: where a route
// sends requests (clusters and weights, redirects, direct responses) and its policies (timeout,
// retries, faults, mirrors, rewrites, headers, CORS, consistent hashing). Clusters: describe-cluster.ts;
// matches: match.ts. Pure.
import { canonicalJson } from '../model/canonical.js';
import { clusterLabel, parseClusterName } from './describe-cluster.js';
import type { HeaderChanges, RedirectAction, Route, WeightedCluster } from './xds.js';

/** Each cluster's share of the traffic in percent, to one decimal (weights need not add up to 100). */
export function weightShares(clusters: readonly WeightedCluster[]): { name: string; weight: number }[] {
  const total = clusters.reduce((s, c) => s + (c.weight ?? 0), 0) || 100;
  return clusters.map((c) => ({ name: c.name, weight: Math.round(((c.weight ?? 0) * 1000) / total) / 10 }));
}

/** The header changes of a route or of one cluster of a split, in words (`request x: 1`, `response y removed`). */
function headerChanges(h: HeaderChanges): string[] {
  return [
    ...(h.requestHeadersToAdd ?? []).map((o) => `request ${o.header?.key}: ${o.header?.value}`),
    ...(h.requestHeadersToRemove ?? []).map((name) => `request ${name} removed`),
    ...(h.responseHeadersToAdd ?? []).map((o) => `response ${o.header?.key}: ${o.header?.value}`),
    ...(h.responseHeadersToRemove ?? []).map((name) => `response ${name} removed`),
  ];
}

/**
 * `50% a (request backend: a), 50% b`: a split's shares, with the headers each cluster changes on its
 * own (an HTTPRoute backendRef's RequestHeaderModifier; found by HTTPRouteRequestHeaderModifierBackendWeights).
 */
export function describeWeightedClusters(clusters: readonly WeightedCluster[]): string {
  const shares = weightShares(clusters).map((share, i) => {
    const headers = headerChanges(clusters[i]);
    return headers.length ? { ...share, name: `${share.name} (${headers.join('; ')})` } : share;
  });
  return describeWeights(shares);
}

/** `90% a, 10% b`, each cluster named by `label` (the cluster name itself by default). */
export function describeWeights(shares: readonly { name: string; weight: number }[], label: (name: string) => string = (n) => n): string {
  return shares.map((c) => `${c.weight}% ${label(c.name)}`).join(', ');
}

/** The clusters a route sends to, with weights; empty for redirects and direct responses. */
export function routeClusters(route: Route | undefined): { name: string; weight: number }[] {
  const action = route?.route;
  if (!action) return [];
  if (action.cluster) return [{ name: action.cluster, weight: 100 }];
  return weightShares(action.weightedClusters?.clusters ?? []);
}

/** `a redirect (to https, host x, status FOUND)`. */
export function describeRedirect(r: RedirectAction): string {
  const parts: string[] = [];
  if (r.schemeRedirect) parts.push(`scheme ${r.schemeRedirect}`);
  if (r.httpsRedirect) parts.push('to https');
  if (r.hostRedirect) parts.push(`host ${r.hostRedirect}`);
  if (r.portRedirect) parts.push(`port ${r.portRedirect}`);
  if (r.pathRedirect) parts.push(`path ${r.pathRedirect}`);
  if (r.prefixRewrite) parts.push(`path prefix ${r.prefixRewrite}`);
  parts.push(`status ${r.responseCode ?? 'MOVED_PERMANENTLY'}`);
  return `a redirect (${parts.join(', ')})`;
}

/** `a direct response (HTTP 503)`. */
export function describeDirectResponse(d: NonNullable<Route['directResponse']>): string {
  return `a direct response (HTTP ${d.status ?? 200})`;
}

/** Where a route sends requests, in words. */
export function describeAction(route: Route | undefined): string {
  if (!route) return 'no route (404)';
  if (route.redirect) return describeRedirect(route.redirect);
  if (route.directResponse) return describeDirectResponse(route.directResponse);
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
  return describeWeights(clusters, clusterLabel);
}

type RoutePolicy = Route &
  HeaderChanges & {
    typedPerFilterConfig?: Record<string, Record<string, unknown>>;
  };

type Action = Omit<NonNullable<Route['route']>, 'retryPolicy' | 'requestMirrorPolicies'> & {
  retryPolicy?: { retryOn?: string; numRetries?: number; perTryTimeout?: string; retriableStatusCodes?: number[] };
  requestMirrorPolicies?: { cluster?: string; runtimeFraction?: { defaultValue?: { numerator?: number; denominator?: string } } }[];
  regexRewrite?: { pattern?: { regex?: string }; substitution?: string };
  autoHostRewrite?: boolean;
  hashPolicy?: {
    header?: { headerName?: string };
    cookie?: { name?: string };
    connectionProperties?: { sourceIp?: boolean };
    queryParameter?: { name?: string };
  }[];
};

function fraction(f: { numerator?: number; denominator?: string } | undefined): string {
  if (!f) return '100%';
  const den = f.denominator === 'TEN_THOUSAND' ? 10000 : f.denominator === 'MILLION' ? 1000000 : 100;
  return `${Math.round(((f.numerator ?? 0) / den) * 100000) / 1000}%`;
}

/**
 * The status codes `retriable-status-codes` retries on, which Istio lists apart from retry_on (an
 * HTTPRoute's `retry.codes`, a VirtualService's numeric retryOn): without them the policy does not
 * say which answers are retried (found by HTTPRouteRetry).
 */
function retriedStatuses(codes: number[] | undefined): string {
  return codes?.length ? ` (status ${codes.join(', ')})` : '';
}

/** What Envoy does without a timeout on the route: 15s; `0s` turns it off. */
const DEFAULT_TIMEOUT = 'Envoy default (15s)';

/** A route's policies, aspect by aspect, in words ("none" when absent). */
export function routePolicies(route: Route | undefined): Record<string, string> {
  const r = (route ?? {}) as RoutePolicy;
  const a = (r.route ?? {}) as Action;
  const out: Record<string, string> = {};
  const timeout = a.timeout;
  out.timeout = timeout === undefined ? DEFAULT_TIMEOUT : timeout === '0s' ? 'none' : timeout;
  const retry = a.retryPolicy;
  out.retries =
    retry && (retry.numRetries ?? 1) > 0
      ? `${retry.numRetries ?? 1} on ${retry.retryOn ?? '(nothing)'}${retriedStatuses(retry.retriableStatusCodes)}${retry.perTryTimeout ? `, ${retry.perTryTimeout} per try` : ''}`
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
  const headers = headerChanges(r);
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
                ? `query parameter ${h.queryParameter.name}`
                : 'source IP',
        )
        .join(', ')
    : 'none';
  return out;
}

/**
 * The policies a route sets, as `aspect value` notes in routePolicies' words, for the walk's trace:
 * the aspects it leaves unset are not mentioned (an explicit `0s` timeout is: `timeout none`).
 */
export function routeNotes(route: Route): string[] {
  return Object.entries(routePolicies(route))
    .filter(([aspect, value]) => (aspect === 'timeout' ? value !== DEFAULT_TIMEOUT : value !== 'none'))
    .map(([aspect, value]) => `${aspect} ${value}`);
}
