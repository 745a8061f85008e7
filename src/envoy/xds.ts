// The parts of Envoy's v3 config (proto3 JSON, as istiod generates it) that route resolution reads.
// Every field is optional: proto3 JSON leaves defaults out.

export interface SocketAddress {
  address?: string;
  portValue?: number;
}
export interface Address {
  socketAddress?: SocketAddress;
}

export interface CidrRange {
  addressPrefix?: string;
  prefixLen?: number;
}

export interface FilterChainMatch {
  destinationPort?: number;
  prefixRanges?: CidrRange[];
  serverNames?: string[];
  transportProtocol?: string;
  applicationProtocols?: string[];
}

export interface TypedConfig {
  '@type'?: string;
  [field: string]: unknown;
}

export interface NetworkFilter {
  name?: string;
  typedConfig?: TypedConfig;
}

export interface FilterChain {
  name?: string;
  filterChainMatch?: FilterChainMatch;
  filters?: NetworkFilter[];
  transportSocket?: { name?: string; typedConfig?: TypedConfig };
}

export interface ListenerFilterPredicate {
  notMatch?: ListenerFilterPredicate;
  orMatch?: { rules?: ListenerFilterPredicate[] };
  andMatch?: { rules?: ListenerFilterPredicate[] };
  destinationPortRange?: { start?: number; end?: number };
  anyMatch?: boolean;
}

export interface ListenerFilter {
  name?: string;
  filterDisabled?: ListenerFilterPredicate;
}

export interface Listener {
  name: string;
  address?: Address;
  filterChains?: FilterChain[];
  defaultFilterChain?: FilterChain;
  listenerFilters?: ListenerFilter[];
  trafficDirection?: string;
  metadata?: Metadata;
}

export interface Metadata {
  filterMetadata?: Record<string, Record<string, unknown>>;
}

export interface StringMatcher {
  exact?: string;
  prefix?: string;
  suffix?: string;
  contains?: string;
  safeRegex?: { regex?: string };
  ignoreCase?: boolean;
}

export interface HeaderMatcher {
  name: string;
  exactMatch?: string;
  safeRegexMatch?: { regex?: string };
  rangeMatch?: { start?: string | number; end?: string | number };
  presentMatch?: boolean;
  prefixMatch?: string;
  suffixMatch?: string;
  containsMatch?: string;
  stringMatch?: StringMatcher;
  invertMatch?: boolean;
  treatMissingHeaderAsEmpty?: boolean;
}

export interface QueryParameterMatcher {
  name: string;
  stringMatch?: StringMatcher;
  presentMatch?: boolean;
}

export interface RouteMatch {
  prefix?: string;
  path?: string;
  safeRegex?: { regex?: string };
  pathSeparatedPrefix?: string;
  caseSensitive?: boolean;
  headers?: HeaderMatcher[];
  queryParameters?: QueryParameterMatcher[];
}

/** A header Envoy adds or sets (route, virtual host or weighted cluster). */
export interface HeaderValueOption {
  header?: { key?: string; value?: string };
}

/** The header changes of a route, or of one cluster of a weighted split. */
export interface HeaderChanges {
  requestHeadersToAdd?: HeaderValueOption[];
  requestHeadersToRemove?: string[];
  responseHeadersToAdd?: HeaderValueOption[];
  responseHeadersToRemove?: string[];
}

export interface WeightedCluster extends HeaderChanges {
  name: string;
  weight?: number;
}

export interface RouteAction {
  cluster?: string;
  clusterHeader?: string;
  weightedClusters?: { clusters?: WeightedCluster[] };
  timeout?: string;
  retryPolicy?: unknown;
  prefixRewrite?: string;
  regexRewrite?: { pattern?: { regex?: string }; substitution?: string };
  hostRewriteLiteral?: string;
  requestMirrorPolicies?: unknown[];
  /** What Envoy answers when the cluster does not exist: SERVICE_UNAVAILABLE (503, the default), NOT_FOUND (404) or INTERNAL_SERVER_ERROR (500). */
  clusterNotFoundResponseCode?: string;
}

/** The HTTP status of a RouteAction's `clusterNotFoundResponseCode`. */
export function clusterNotFoundStatus(action: RouteAction | undefined): number {
  switch (action?.clusterNotFoundResponseCode) {
    case 'NOT_FOUND':
      return 404;
    case 'INTERNAL_SERVER_ERROR':
      return 500;
    default:
      return 503;
  }
}

export interface RedirectAction {
  httpsRedirect?: boolean;
  schemeRedirect?: string;
  hostRedirect?: string;
  portRedirect?: number;
  pathRedirect?: string;
  prefixRewrite?: string;
  /** MOVED_PERMANENTLY (the default), FOUND, SEE_OTHER, TEMPORARY_REDIRECT or PERMANENT_REDIRECT. */
  responseCode?: string;
  stripQuery?: boolean;
}

export interface Route {
  name?: string;
  match?: RouteMatch;
  route?: RouteAction;
  redirect?: RedirectAction;
  directResponse?: { status?: number };
  /** Per-route filter config by filter name (e.g. Istio's fault injection for envoy.filters.http.fault). */
  typedPerFilterConfig?: Record<string, TypedConfig>;
  metadata?: Metadata;
  decorator?: { operation?: string };
}

export interface VirtualHost {
  name: string;
  domains?: string[];
  routes?: Route[];
  requireTls?: string;
}

export interface RouteConfiguration {
  name: string;
  virtualHosts?: VirtualHost[];
  ignorePortInHostMatching?: boolean;
}

export interface Cluster {
  name: string;
  type?: string;
  metadata?: Metadata;
  loadAssignment?: unknown;
}

export const HTTP_CONNECTION_MANAGER = 'envoy.filters.network.http_connection_manager';
export const TCP_PROXY = 'envoy.filters.network.tcp_proxy';
export const TLS_INSPECTOR = 'envoy.filters.listener.tls_inspector';
export const HTTP_INSPECTOR = 'envoy.filters.listener.http_inspector';
