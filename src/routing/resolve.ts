// Route resolution: one request walked through a proxy's generated Envoy config the way Envoy
// matches it: listener, filter chain, route configuration, virtual host, route, cluster. Pure.
import {
  HTTP_CONNECTION_MANAGER,
  HTTP_INSPECTOR,
  TCP_PROXY,
  TLS_INSPECTOR,
  type Cluster,
  type FilterChain,
  type Listener,
  type ListenerFilterPredicate,
  type Route,
  type RouteConfiguration,
  type TypedConfig,
  type VirtualHost,
  type WeightedCluster,
  type RouteAction,
  clusterNotFoundStatus,
} from '../envoy/xds.js';
import { cidrContains } from '../envoy/cidr.js';
import { describeCluster, explainCluster, isSpecialCluster } from '../envoy/describe-cluster.js';
import { describeDirectResponse, describeRedirect, describeWeightedClusters, routeNotes } from '../envoy/describe.js';
import { asciiLowerCase, describeRouteMatch, headerMatches, pathMatches, queryParameterMatches, type Headers } from '../envoy/match.js';
import { formatRef, formatRouteSource, istioConfigRef, type RouteSources } from '../envoy/provenance.js';
import { normalizePath, type PathNormalization } from '../envoy/path.js';
import type { ConfigRef } from '../model/config-ref.js';
import { domainIndex, firstBound, firstNamed } from '../envoy/config-index.js';

export type CallMode = 'OUTBOUND' | 'INBOUND' | 'GATEWAY';
export type CallProtocol = 'HTTP' | 'HTTP2' | 'TCP';
export type TlsMode = 'PLAINTEXT' | 'TLS' | 'MTLS';

export interface Call {
  mode: CallMode;
  /** Destination IP; without one, an address no listener binds (Istio's simulation uses 1.3.3.7). */
  address?: string;
  port: number;
  protocol: CallProtocol;
  tls: TlsMode;
  host?: string;
  sni?: string;
  alpn?: string[];
  path: string;
  method: string;
  headers: { name: string; value: string }[];
}

export interface EnvoyConfig {
  listeners: Listener[];
  routes: RouteConfiguration[];
  clusters: Cluster[];
  /** The Gateway API routes istiod derived VirtualServices from (none: the routes name no such route). */
  routeSources?: RouteSources;
}

export interface TraceStep {
  stage: string;
  detail: string;
}

export type ResolutionError =
  | 'no listener matched'
  | 'no filter chains matched'
  | 'multiple filter chains matched'
  | 'invalid TLS'
  | 'invalid mTLS'
  | 'protocol error'
  | 'no virtual host matched'
  | 'tls required, sending 301'
  | 'invalid path, sending 400'
  | 'escaped slashes, sending 307'
  | 'no route matched'
  | 'no proxy';

export interface RouteResolution {
  listener: string | null;
  filterChain: string | null;
  routeConfig: string | null;
  virtualHost: string | null;
  route: string | null;
  /** The matched route's position in its virtual host: finds it in proxyConfig when it has no name. */
  routeIndex: number | null;
  cluster: string | null;
  weightedClusters: { cluster: string; weight: number }[] | null;
  virtualService: ConfigRef | null;
  /** The Gateway API route (HTTPRoute, GRPCRoute, ...) istiod made the matched route from. */
  routeSource: ConfigRef | null;
  destinationRule: ConfigRef | null;
  error: ResolutionError | null;
  trace: TraceStep[];
}

/** Where a call without an address is sent: outside every range a listener binds, as in Istio's simulation. */
export const UNSPECIFIED_ADDRESS = '1.3.3.7';

const VIRTUAL_OUTBOUND = 'virtualOutbound';
const VIRTUAL_INBOUND = 'virtualInbound';

export function resolveRoute(config: EnvoyConfig, call: Call): RouteResolution {
  return walkRoute(config, call).resolution;
}

/** The walk with the Envoy objects it matched: what the journey reads next (RBAC filters, route actions). */
export interface Walked {
  resolution: RouteResolution;
  filterChain: FilterChain | null;
  route: Route | null;
  /** The :path (with its query) as the HTTP connection manager normalised it: what routes and filters such as RBAC see. */
  path: string;
}

export function walkRoute(config: EnvoyConfig, call: Call): Walked {
  const walk = new Walk(config, call);
  walk.run();
  return { resolution: walk.result, filterChain: walk.filterChain, route: walk.route, path: walk.path };
}

/** A resolution with nothing matched yet. */
export function emptyResolution(): RouteResolution {
  return {
    listener: null,
    filterChain: null,
    routeConfig: null,
    virtualHost: null,
    route: null,
    routeIndex: null,
    cluster: null,
    weightedClusters: null,
    virtualService: null,
    routeSource: null,
    destinationRule: null,
    error: null,
    trace: [],
  };
}

class Walk {
  readonly result = emptyResolution();
  filterChain: FilterChain | null = null;
  route: Route | null = null;
  private readonly address: string;
  private alpn: string[];
  /** The :path routes see: the call's, as the HTTP connection manager normalised it. */
  path: string;

  constructor(
    private readonly config: EnvoyConfig,
    private readonly call: Call,
  ) {
    this.address = call.address || UNSPECIFIED_ADDRESS;
    this.alpn = call.alpn ?? defaultAlpn(call);
    this.path = call.path;
  }

  private step(stage: string, detail: string) {
    this.result.trace.push({ stage, detail });
  }

  private fail(error: ResolutionError, stage: string, detail: string) {
    this.step(stage, detail);
    this.result.error = error;
  }

  run() {
    const listener = this.matchListener();
    if (!listener) return;
    const chain = this.matchFilterChain(listener);
    if (!chain) return;
    this.filterChain = chain;
    if (!this.checkTls(chain)) return;
    const hcm = networkFilter(chain, HTTP_CONNECTION_MANAGER);
    if (hcm) {
      this.routeHttp(chain, hcm);
      return;
    }
    const tcp = networkFilter(chain, TCP_PROXY);
    if (tcp) {
      this.routeTcp(tcp);
      return;
    }
    this.step(
      'filter chain',
      `Filter chain ${chainName(chain)} has neither an HTTP connection manager nor a TCP proxy: the connection goes nowhere.`,
    );
  }

  private matchListener(): Listener | null {
    const { call } = this;
    const listeners = this.config.listeners;
    if (call.mode === 'INBOUND') {
      const inbound = firstNamed(listeners, VIRTUAL_INBOUND) ?? null;
      if (!inbound) {
        this.fail(
          'no listener matched',
          'listener',
          `An inbound call is redirected by iptables to port 15006, but this proxy has no ${VIRTUAL_INBOUND} listener.`,
        );
        return null;
      }
      this.result.listener = inbound.name;
      this.step(
        'listener',
        `An inbound call to ${this.address}:${call.port} is redirected by iptables to port 15006 and handled by listener ${VIRTUAL_INBOUND}.`,
      );
      return inbound;
    }
    const bound = (host: string) => firstBound(listeners, host, call.port);
    const exact = bound(this.address);
    const wildcard = exact ? undefined : (bound('0.0.0.0') ?? bound('::'));
    const chosen = exact ?? wildcard ?? (call.mode === 'OUTBOUND' ? firstNamed(listeners, VIRTUAL_OUTBOUND) : undefined);
    const target = `${this.address}:${call.port}`;
    if (!chosen) {
      const why =
        call.mode === 'GATEWAY'
          ? `No listener is bound to ${target} or 0.0.0.0:${call.port}; a gateway listens only on the ports its Gateway servers open (mapped to the gateway Service's targetPort).`
          : `No listener is bound to ${target} or 0.0.0.0:${call.port}, and there is no ${VIRTUAL_OUTBOUND} listener to fall back to.`;
      this.fail('no listener matched', 'listener', why);
      return null;
    }
    this.result.listener = chosen.name;
    if (exact) this.step('listener', `Listener ${chosen.name} is bound to ${target} exactly.`);
    else if (wildcard)
      this.step('listener', `No listener is bound to ${target}; listener ${chosen.name} takes port ${call.port} on every address.`);
    else
      this.step(
        'listener',
        `No listener is bound to port ${call.port}: the call, captured by iptables to port 15001, is handled by ${VIRTUAL_OUTBOUND}, which matches on the original destination.`,
      );
    return chosen;
  }

  private matchFilterChain(listener: Listener): FilterChain | null {
    const { call } = this;
    const tlsInspector = listenerFilterActive(listener, TLS_INSPECTOR, call.port);
    if (!tlsInspector && this.alpn.length > 0) {
      this.step(
        'listener filters',
        `Listener ${listener.name} has no TLS inspector on port ${call.port}, so Envoy never reads the ALPN the client offered (${this.alpn.join(', ')}).`,
      );
      this.alpn = [];
    }
    if (listenerFilterActive(listener, HTTP_INSPECTOR, call.port) && call.tls === 'PLAINTEXT') {
      const sniffed = call.protocol === 'HTTP' ? 'http/1.1' : call.protocol === 'HTTP2' ? 'h2c' : null;
      if (sniffed) {
        this.alpn = [sniffed];
        this.step(
          'listener filters',
          `The HTTP inspector recognises plaintext ${call.protocol === 'HTTP' ? 'HTTP/1.1' : 'HTTP/2'} and sets the application protocol to ${sniffed}.`,
        );
      }
    }
    const transport = tlsInspector && call.tls !== 'PLAINTEXT' ? 'tls' : 'raw_buffer';
    let chains = listener.filterChains ?? [];
    const sieve = (what: string, rank: (c: FilterChain) => number | null) => {
      const before = chains.length;
      chains = narrow(chains, rank);
      if (chains.length !== before)
        this.step(
          'filter chain',
          `By ${what}: ${chains.length} of ${before} filter chains remain${chains.length ? ` (${chains.map(chainName).join(', ')})` : ''}.`,
        );
    };
    sieve(`destination port ${call.port}`, (c) =>
      c.filterChainMatch?.destinationPort === undefined ? null : c.filterChainMatch.destinationPort === call.port ? 1 : 0,
    );
    sieve(`destination address ${this.address}`, (c) => {
      const ranges = c.filterChainMatch?.prefixRanges;
      if (!ranges?.length) return null;
      return Math.max(
        0,
        ...ranges.map((r) => (cidrContains(r.addressPrefix ?? '', r.prefixLen ?? 0, this.address) ? (r.prefixLen ?? 0) + 1 : 0)),
      );
    });
    sieve(`server name (SNI) "${call.sni ?? ''}"`, (c) => {
      const names = c.filterChainMatch?.serverNames;
      if (!names?.length) return null;
      return Math.max(0, ...names.map((n) => serverNameRank(n, call.sni ?? '')));
    });
    sieve(`transport protocol ${transport}`, (c) => {
      const want = c.filterChainMatch?.transportProtocol;
      if (!want) return null;
      return want === transport ? 1 : 0;
    });
    sieve(`application protocol ${this.alpn.length ? this.alpn.join(', ') : '(none)'}`, (c) => {
      const protocols = c.filterChainMatch?.applicationProtocols;
      if (!protocols?.length) return null;
      return protocols.some((p) => this.alpn.includes(p)) ? 1 : 0;
    });
    if (chains.length > 1) {
      this.fail(
        'multiple filter chains matched',
        'filter chain',
        `${chains.length} filter chains match equally (${chains.map(chainName).join(', ')}); Envoy would reject this listener.`,
      );
      return null;
    }
    if (chains.length === 0) {
      if (listener.defaultFilterChain) {
        const chain = listener.defaultFilterChain;
        this.result.filterChain = chain.name ?? null;
        this.step('filter chain', `No filter chain matches; the listener's default filter chain ${chainName(chain)} takes the connection.`);
        return chain;
      }
      this.fail(
        'no filter chains matched',
        'filter chain',
        `No filter chain of ${listener.name} matches and it has no default filter chain: Envoy closes the connection.`,
      );
      return null;
    }
    const chain = chains[0];
    this.result.filterChain = chain.name ?? null;
    this.step('filter chain', `Filter chain ${chainName(chain)} matches.`);
    return chain;
  }

  private checkTls(chain: FilterChain): boolean {
    const tls = chain.transportSocket?.typedConfig;
    if (!tls) return true;
    if (this.call.tls === 'PLAINTEXT') {
      this.fail('invalid TLS', 'tls', `Filter chain ${chainName(chain)} terminates TLS, but the call is plaintext.`);
      return false;
    }
    const mtls = requiresMutualTls(tls);
    if (mtls !== (this.call.tls === 'MTLS')) {
      this.fail(
        'invalid mTLS',
        'tls',
        mtls
          ? `Filter chain ${chainName(chain)} demands Istio mTLS (the workload certificate and a client certificate), but the call is plain TLS.`
          : `Filter chain ${chainName(chain)} terminates plain TLS, but the call is Istio mTLS.`,
      );
      return false;
    }
    this.step('tls', `Filter chain ${chainName(chain)} terminates ${mtls ? 'Istio mTLS' : 'TLS'}.`);
    return true;
  }

  private routeHttp(chain: FilterChain, hcm: TypedConfig) {
    const { call } = this;
    if (call.tls !== 'PLAINTEXT' && !chain.transportSocket) {
      this.fail(
        'protocol error',
        'http',
        `Filter chain ${chainName(chain)} parses HTTP but does not terminate TLS: the TLS bytes cannot be decoded as HTTP.`,
      );
      return;
    }
    if (call.protocol === 'TCP') {
      this.fail('protocol error', 'http', `Filter chain ${chainName(chain)} expects HTTP, but the call is raw TCP.`);
      return;
    }
    if (!this.normalizePath(hcm as PathNormalization)) return;
    const inline = hcm.routeConfig as RouteConfiguration | undefined;
    const rdsName = (hcm.rds as { routeConfigName?: string } | undefined)?.routeConfigName;
    let rc: RouteConfiguration | undefined;
    if (inline) {
      rc = inline;
      this.step('route configuration', `The HTTP connection manager carries its routes inline${inline.name ? ` (${inline.name})` : ''}.`);
    } else if (rdsName !== undefined) {
      this.result.routeConfig = rdsName;
      rc = firstNamed(this.config.routes, rdsName);
      this.step(
        'route configuration',
        rc
          ? `The HTTP connection manager takes its routes from route configuration ${rdsName} (RDS).`
          : `The HTTP connection manager asks for route configuration ${rdsName}, which istiod did not generate.`,
      );
    }
    if (!rc) {
      this.fail(
        'no virtual host matched',
        'virtual host',
        'Without its route configuration the HTTP connection manager has no virtual host to match: Envoy answers 404.',
      );
      return;
    }
    const vh = this.matchVirtualHost(rc);
    if (!vh) return;
    if ((vh.requireTls === 'ALL' || vh.requireTls === 'EXTERNAL_ONLY') && call.tls === 'PLAINTEXT') {
      this.fail(
        'tls required, sending 301',
        'virtual host',
        `Virtual host ${vh.name} requires TLS (a Gateway server with httpsRedirect): a plaintext request gets a 301 to https.`,
      );
      return;
    }
    const route = this.matchRoute(vh);
    if (!route) return;
    this.route = route;
    this.takeRouteAction(route);
  }

  /** The connection manager's path normalisation, before any route is looked at; false when it answers itself. */
  private normalizePath(config: PathNormalization): boolean {
    const settings = `normalize_path ${config.normalizePath ? 'on' : 'off'}, merge_slashes ${config.mergeSlashes ? 'on' : 'off'}, escaped slashes ${config.pathWithEscapedSlashesAction ?? 'KEEP_UNCHANGED'}`;
    const normalized = normalizePath(this.call.path, config);
    const changes = normalized.changes.length ? `: ${normalized.changes.join('; ')}` : '';
    if (normalized.outcome === 'reject') {
      this.fail(
        'invalid path, sending 400',
        'path',
        `The HTTP connection manager (${settings}) refuses the path${changes ? ` (${normalized.changes.join('; ')})` : ''}: ${normalized.reason}. Envoy answers 400 before any route is looked at.`,
      );
      return false;
    }
    if (normalized.outcome === 'redirect') {
      const grpc = (this.call.headers.find((h) => h.name.toLowerCase() === 'content-type')?.value ?? '').startsWith('application/grpc');
      if (grpc) {
        this.fail(
          'invalid path, sending 400',
          'path',
          `The HTTP connection manager (${settings}) would redirect to "${normalized.path}"${changes}; a gRPC client cannot follow a redirect, so Envoy answers 400.`,
        );
        return false;
      }
      this.fail(
        'escaped slashes, sending 307',
        'path',
        `The HTTP connection manager (${settings}) answers 307 with Location "${normalized.path}"${changes}; the client's next request, with that path, is routed as any other.`,
      );
      return false;
    }
    if (normalized.path !== this.call.path) {
      this.path = normalized.path;
      this.step(
        'path',
        `The HTTP connection manager (${settings}) normalises the path before routing${changes}. Routes match "${normalized.path}".`,
      );
    }
    return true;
  }

  private matchVirtualHost(rc: RouteConfiguration): VirtualHost | null {
    let host = asciiLowerCase(this.call.host ?? '');
    if (rc.ignorePortInHostMatching) host = stripPort(host);
    const hosts = rc.virtualHosts ?? [];
    const found = pickVirtualHost(hosts, host);
    if (!found) {
      this.fail(
        'no virtual host matched',
        'virtual host',
        `No virtual host of ${rc.name ?? 'the route configuration'} lists a domain matching Host "${host}"${hosts.length ? ` (${hosts.length} virtual hosts)` : ''}.`,
      );
      return null;
    }
    this.result.virtualHost = found.vh.name;
    const how = {
      exact: 'lists it exactly',
      suffix: `matches it with the wildcard "${found.domain}"`,
      prefix: `matches it with the wildcard "${found.domain}"`,
      any: 'is the catch-all "*"',
    }[found.kind];
    this.step('virtual host', `Virtual host ${found.vh.name} ${how} (Host "${host}").`);
    return found.vh;
  }

  private matchRoute(vh: VirtualHost): Route | null {
    const { call } = this;
    const [path, queryString] = splitPathAndQuery(this.path);
    const query = parseQuery(queryString);
    const headers = requestHeaders(call, this.path);
    const missed: string[] = [];
    for (const [index, route] of (vh.routes ?? []).entries()) {
      const m = route.match ?? {};
      const label = route.name ? `route "${route.name}"` : `route #${index}`;
      if (!pathMatches(m, path)) {
        missed.push(`${label} wants ${describeRouteMatch(m)}: the path "${path}" does not match`);
        continue;
      }
      const header = (m.headers ?? []).find((h) => !headerMatches(h, headers));
      if (header) {
        missed.push(
          `${label} wants ${describeRouteMatch(m)}: ${header.name === ':method' ? `method ${call.method}` : `header ${header.name}${headers.has(header.name.toLowerCase()) ? ` "${headers.get(header.name.toLowerCase())}"` : ' (absent)'}`} does not match`,
        );
        continue;
      }
      const param = (m.queryParameters ?? []).find((q) => !queryParameterMatches(q, query));
      if (param) {
        missed.push(`${label} wants ${describeRouteMatch(m)}: query parameter ${param.name} does not match`);
        continue;
      }
      for (const miss of missed) this.step('route', `Skipped ${miss}.`);
      this.result.route = route.name ?? null;
      this.result.routeIndex = index;
      const origin = istioConfigRef(route.metadata);
      this.result.virtualService = origin?.kind === 'VirtualService' ? origin : null;
      const source = this.config.routeSources?.of(route) ?? null;
      this.result.routeSource = source?.ref ?? null;
      const from = source
        ? ` It comes from ${formatRouteSource(source, route.name)} (${describeRouteMatch(m)}), through istiod's ${formatRef(origin!)}.`
        : origin
          ? ` It comes from ${formatRef(origin)}.`
          : " It is istiod's default route for the host (no VirtualService applies).";
      this.step('route', `${capitalise(label)} matches (${describeRouteMatch(m)}).${from}`);
      return route;
    }
    for (const miss of missed) this.step('route', `Skipped ${miss}.`);
    this.fail('no route matched', 'route', `No route of virtual host ${vh.name} matches ${call.method} ${this.path}: Envoy answers 404.`);
    return null;
  }

  private takeRouteAction(route: Route) {
    if (route.redirect) {
      this.step('action', `The route answers with ${describeRedirect(route.redirect)}; no cluster is called.`);
      return;
    }
    if (route.directResponse) {
      this.step('action', `The route answers with ${describeDirectResponse(route.directResponse)}; no cluster is called.`);
      return;
    }
    const action = route.route;
    if (!action) {
      this.step('action', 'The route has no action.');
      return;
    }
    const notes = routeNotes(route);
    if (action.weightedClusters?.clusters?.length) {
      this.takeWeightedClusters(action.weightedClusters.clusters, notes, action);
      return;
    }
    if (action.cluster) {
      this.takeCluster(action.cluster, notes, action);
      return;
    }
    if (action.clusterHeader) this.step('action', `The cluster is read from request header ${action.clusterHeader}.`);
  }

  private routeTcp(tcp: TypedConfig) {
    const weighted = (tcp.weightedClusters as { clusters?: WeightedCluster[] } | undefined)?.clusters;
    this.step('tcp', 'The filter chain proxies the connection as opaque TCP (no HTTP routing).');
    if (weighted?.length) this.takeWeightedClusters(weighted, []);
    else if (typeof tcp.cluster === 'string') this.takeCluster(tcp.cluster, []);
  }

  private takeCluster(name: string, notes: string[], action?: RouteAction) {
    this.result.cluster = name;
    this.step(
      'cluster',
      `Traffic goes to cluster ${name}${notes.length ? `, with ${notes.join('; ')}` : ''}. ${explainCluster(name)}`.trim(),
    );
    this.describeDestination([name], action);
  }

  private takeWeightedClusters(clusters: WeightedCluster[], notes: string[], action?: RouteAction) {
    this.result.weightedClusters = clusters.map((c) => ({ cluster: c.name, weight: c.weight ?? 0 }));
    const split = describeWeightedClusters(clusters);
    if (clusters.length === 1) this.result.cluster = clusters[0].name;
    this.step('cluster', `Traffic is split by weight: ${split}${notes.length ? `, with ${notes.join('; ')}` : ''}.`);
    this.describeDestination(
      clusters.map((c) => c.name),
      action,
    );
  }

  /** The DestinationRule behind the chosen clusters, and what it does to them. */
  private describeDestination(names: string[], action?: RouteAction) {
    const refs: (ConfigRef | null)[] = [];
    for (const name of names) {
      const cluster = firstNamed(this.config.clusters, name);
      if (!cluster) {
        if (!isSpecialCluster(name))
          this.step(
            'destination rule',
            clusterNotFoundStatus(action) === 503
              ? `Cluster ${name} does not exist in this proxy's config: Envoy answers 503 (no healthy upstream / cluster not found).`
              : `Cluster ${name} does not exist in this proxy's config: Envoy answers ${clusterNotFoundStatus(action)}, as the route's cluster_not_found_response_code says (${action?.clusterNotFoundResponseCode}).`,
          );
        refs.push(null);
        continue;
      }
      const dr = istioConfigRef(cluster.metadata);
      refs.push(dr?.kind === 'DestinationRule' ? dr : null);
      const policy = describeCluster(cluster);
      if (dr) this.step('destination rule', `${formatRef(dr)} shapes cluster ${name}${policy.length ? `: ${policy.join('; ')}` : ''}.`);
      else if (!isSpecialCluster(name))
        this.step(
          'destination rule',
          `No DestinationRule applies to cluster ${name}${policy.length ? `; istiod's defaults: ${policy.join('; ')}` : ''}.`,
        );
    }
    const first = refs[0] ?? null;
    const same = first && refs.every((r) => r && r.namespace === first.namespace && r.name === first.name);
    this.result.destinationRule = same ? first : null;
  }
}

function defaultAlpn(call: Call): string[] {
  if (call.tls === 'MTLS') return [call.protocol === 'HTTP' ? 'istio-http/1.1' : call.protocol === 'HTTP2' ? 'istio-h2' : 'istio'];
  if (call.tls === 'TLS') return call.protocol === 'HTTP' ? ['http/1.1'] : call.protocol === 'HTTP2' ? ['h2'] : [];
  return [];
}

function chainName(chain: FilterChain): string {
  return chain.name ? `"${chain.name}"` : '(unnamed)';
}

export function networkFilter(chain: FilterChain, name: string): TypedConfig | null {
  const f = (chain.filters ?? []).find((x) => x.name === name);
  return f ? (f.typedConfig ?? {}) : null;
}

/** A listener filter runs on a port unless its filter_disabled predicate matches that port. */
function listenerFilterActive(listener: Listener, name: string, port: number): boolean {
  const f = (listener.listenerFilters ?? []).find((x) => x.name === name);
  if (!f) return false;
  return !f.filterDisabled || !predicateMatches(f.filterDisabled, port);
}

function predicateMatches(p: ListenerFilterPredicate, port: number): boolean {
  if (p.notMatch) return !predicateMatches(p.notMatch, port);
  if (p.orMatch) return (p.orMatch.rules ?? []).some((r) => predicateMatches(r, port));
  if (p.andMatch) return (p.andMatch.rules ?? []).every((r) => predicateMatches(r, port));
  if (p.destinationPortRange) return port >= (p.destinationPortRange.start ?? 0) && port < (p.destinationPortRange.end ?? 0);
  return p.anyMatch === true;
}

/**
 * One step of Envoy's filter chain sieve. rank: null when the chain does not set the criterion,
 * 0 when it sets it and the call does not match, higher for a better match. The best-ranked chains
 * survive; when none matches, only the chains that leave the criterion unset do.
 */
function narrow(chains: FilterChain[], rank: (c: FilterChain) => number | null): FilterChain[] {
  const ranks = chains.map(rank);
  if (ranks.every((r) => r === null)) return chains;
  const best = Math.max(0, ...ranks.map((r) => r ?? 0));
  if (best > 0) return chains.filter((_, i) => ranks[i] === best);
  return chains.filter((_, i) => ranks[i] === null);
}

/** Exact server name beats any wildcard; a longer wildcard beats a shorter one. */
function serverNameRank(pattern: string, sni: string): number {
  if (pattern === sni) return Number.MAX_SAFE_INTEGER;
  if (pattern.startsWith('*') && sni.endsWith(pattern.slice(1)) && sni.length > pattern.length - 1) return pattern.length;
  return 0;
}

function requiresMutualTls(tls: TypedConfig): boolean {
  const common = tls.commonTlsContext as { tlsCertificateSdsSecretConfigs?: { name?: string }[] } | undefined;
  const first = common?.tlsCertificateSdsSecretConfigs?.[0];
  return first?.name === 'default' && tls.requireClientCertificate === true;
}

/** The host without a trailing `:port` (IPv6 literals keep their brackets' content). */
export function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 ? host.slice(1, end) : host;
  }
  const colon = host.lastIndexOf(':');
  return colon > 0 && host.indexOf(':') === colon && /^\d+$/.test(host.slice(colon + 1)) ? host.slice(0, colon) : host;
}

type VirtualHostPick = { vh: VirtualHost; domain: string; kind: 'exact' | 'suffix' | 'prefix' | 'any' };

/** Envoy's domain search: exact, then the longest `*.suffix`, then the longest `prefix*`, then `*`. */
function pickVirtualHost(hosts: VirtualHost[], host: string): VirtualHostPick | null {
  const index = domainIndex(hosts);
  const exact = index.exact.get(host);
  if (exact) return { vh: exact, domain: host, kind: 'exact' };
  let best: VirtualHostPick | null = null;
  for (const { vh, domain: d } of index.suffix)
    if (host.length >= d.length && host.endsWith(d.slice(1).toLowerCase()) && (!best || d.length > best.domain.length))
      best = { vh, domain: d, kind: 'suffix' };
  if (best) return best;
  for (const { vh, domain: d } of index.prefix)
    if (host.length >= d.length && host.startsWith(d.slice(0, -1).toLowerCase()) && (!best || d.length > best.domain.length))
      best = { vh, domain: d, kind: 'prefix' };
  if (best) return best;
  return index.any ? { vh: index.any, domain: '*', kind: 'any' } : null;
}

/** The path without its fragment (the connection manager strips it) and the query string. */
export function splitPathAndQuery(full: string): [string, string] {
  const hash = full.indexOf('#');
  const noFragment = hash >= 0 ? full.slice(0, hash) : full;
  const q = noFragment.indexOf('?');
  return q >= 0 ? [noFragment.slice(0, q), noFragment.slice(q + 1)] : [noFragment, ''];
}

/**
 * The query parameters as Envoy's route matcher reads them (QueryParamsMulti::parseQueryString):
 * split on "&" and the first "=", never percent- or "+"-decoded; the first value of a name counts.
 */
function parseQuery(query: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of query.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const name = eq >= 0 ? pair.slice(0, eq) : pair;
    if (!out.has(name)) out.set(name, eq >= 0 ? pair.slice(eq + 1) : '');
  }
  return out;
}

/** The request's headers as Envoy's router sees them, pseudo-headers included. */
export function requestHeaders(call: Call, path: string): Headers {
  const headers = new Map<string, string>();
  for (const { name, value } of call.headers) {
    const key = name.toLowerCase();
    headers.set(key, headers.has(key) ? `${headers.get(key)},${value}` : value);
  }
  if (call.host !== undefined) headers.set(':authority', call.host);
  headers.set(':method', call.method.toUpperCase());
  headers.set(':path', path);
  headers.set(':scheme', call.tls === 'PLAINTEXT' ? 'http' : 'https');
  return headers;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
