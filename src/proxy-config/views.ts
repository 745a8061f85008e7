// Rows of a proxy's generated Envoy config, as the GraphQL types and istioctl's tables show them. Pure.
import type { EnvoyObject, GeneratedConfig } from '../model/proxy.js';
import { parseClusterName } from '../envoy/describe-cluster.js';
import type { FilterChain, Listener as EnvoyListener, RouteConfiguration as EnvoyRouteConfiguration } from '../envoy/xds.js';
import { describeRouteMatch } from '../envoy/match.js';
import { istioConfigRef, RouteSources } from '../envoy/provenance.js';
import type { ConfigRef } from '../model/config-ref.js';

export type Direction = 'OUTBOUND' | 'INBOUND';

export interface ListenerRow {
  name: string;
  address: string;
  port: number;
  matches: string[];
  destinations: string[];
  config: EnvoyObject;
}

export interface RouteRow {
  name: string | null;
  match: string;
  cluster: string | null;
  virtualService: ConfigRef | null;
  routeSource: ConfigRef | null;
  config: Record<string, unknown>;
}

export interface RouteConfigurationRow {
  name: string;
  virtualHosts: { name: string; domains: string[]; routes: RouteRow[] }[];
  config: EnvoyObject;
}

export interface ClusterRow {
  name: string;
  fqdn: string | null;
  port: number | null;
  subset: string | null;
  direction: Direction | null;
  type: string;
  destinationRule: ConfigRef | null;
  config: EnvoyObject;
}

export interface EndpointRow {
  cluster: string;
  address: string;
  port: number;
  health: string;
  weight: number | null;
  locality: string | null;
}

export function listenerRows(config: GeneratedConfig, filter: { port?: number | null; address?: string | null } = {}): ListenerRow[] {
  return config.listeners
    .map((raw) => {
      const l = raw as unknown as EnvoyListener;
      const socket = l.address?.socketAddress;
      const chains = [...(l.filterChains ?? []), ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])];
      return {
        name: l.name,
        address: socket?.address ?? '',
        port: socket?.portValue ?? 0,
        matches: chains.map(describeChainMatch),
        destinations: chains.map(describeChainDestination),
        config: raw,
      };
    })
    .filter((r) => (filter.port == null || r.port === filter.port) && (filter.address == null || r.address === filter.address));
}

function describeChainMatch(chain: FilterChain): string {
  const m = chain.filterChainMatch;
  if (!m) return 'ALL';
  const parts: string[] = [];
  if (m.destinationPort !== undefined) parts.push(`Port: ${m.destinationPort}`);
  if (m.prefixRanges?.length) parts.push(`Addr: ${m.prefixRanges.map((r) => `${r.addressPrefix}/${r.prefixLen ?? 0}`).join(',')}`);
  if (m.serverNames?.length) parts.push(`SNI: ${m.serverNames.join(',')}`);
  if (m.transportProtocol) parts.push(`Trans: ${m.transportProtocol}`);
  if (m.applicationProtocols?.length) parts.push(`App: ${m.applicationProtocols.join(',')}`);
  return parts.length ? parts.join('; ') : 'ALL';
}

function describeChainDestination(chain: FilterChain): string {
  for (const f of chain.filters ?? []) {
    const tc = f.typedConfig ?? {};
    if (f.name === 'envoy.filters.network.http_connection_manager') {
      const rds = (tc.rds as { routeConfigName?: string } | undefined)?.routeConfigName;
      if (rds) return `Route: ${rds}`;
      const inline = tc.routeConfig as { name?: string; virtualHosts?: { routes?: { route?: { cluster?: string } }[] }[] } | undefined;
      const cluster = inline?.virtualHosts?.[0]?.routes?.[0]?.route?.cluster;
      return `Inline Route: ${inline?.name ?? cluster ?? ''}`.trim();
    }
    if (f.name === 'envoy.filters.network.tcp_proxy') {
      if (typeof tc.cluster === 'string') return `Cluster: ${tc.cluster}`;
      const weighted = (tc.weightedClusters as { clusters?: { name: string }[] } | undefined)?.clusters;
      if (weighted) return `WeightedClusters: ${weighted.map((c) => c.name).join(',')}`;
    }
  }
  return 'Non-HTTP/Non-TCP';
}

export function routeConfigurationRows(
  config: GeneratedConfig,
  filter: { name?: string | null } = {},
  sources: RouteSources = new RouteSources([]),
): RouteConfigurationRow[] {
  return config.routes
    .filter((raw) => filter.name == null || raw.name === filter.name)
    .map((raw) => {
      const rc = raw as unknown as EnvoyRouteConfiguration;
      return {
        name: rc.name,
        virtualHosts: (rc.virtualHosts ?? []).map((vh) => ({
          name: vh.name,
          domains: vh.domains ?? [],
          routes: (vh.routes ?? []).map((r) => {
            const origin = istioConfigRef(r.metadata);
            return {
              name: r.name ?? null,
              match: describeRouteMatch(r.match),
              cluster: r.route?.cluster ?? null,
              virtualService: origin?.kind === 'VirtualService' ? origin : null,
              routeSource: sources.of(r)?.ref ?? null,
              config: r as unknown as Record<string, unknown>,
            };
          }),
        })),
        config: raw,
      };
    });
}

export function clusterRows(
  config: GeneratedConfig,
  filter: { fqdn?: string | null; port?: number | null; subset?: string | null; direction?: Direction | null } = {},
): ClusterRow[] {
  return config.clusters
    .map((raw) => {
      const name = String(raw.name ?? '');
      const parsed = parseClusterName(name);
      const origin = istioConfigRef(raw.metadata as never);
      return {
        name,
        fqdn: parsed ? parsed.fqdn || null : null,
        port: parsed?.port ?? null,
        subset: parsed ? parsed.subset || null : null,
        direction: parsed ? (parsed.direction.toUpperCase() as Direction) : null,
        type: clusterType(raw),
        destinationRule: origin?.kind === 'DestinationRule' ? origin : null,
        config: raw,
      };
    })
    .filter(
      (r) =>
        (filter.fqdn == null || r.fqdn === filter.fqdn || (r.fqdn ?? '').startsWith(`${filter.fqdn}.`)) &&
        (filter.port == null || r.port === filter.port) &&
        (filter.subset == null || r.subset === filter.subset) &&
        (filter.direction == null || r.direction === filter.direction),
    );
}

/** EDS, STATIC, STRICT_DNS, ORIGINAL_DST, or the custom cluster type's name (proto3 JSON omits STATIC, the default). */
function clusterType(raw: EnvoyObject): string {
  if (typeof raw.type === 'string') return raw.type;
  const custom = raw.clusterType as { name?: string } | undefined;
  return custom?.name ?? 'STATIC';
}

export function endpointRows(config: GeneratedConfig, filter: { cluster?: string | null } = {}): EndpointRow[] {
  const rows: EndpointRow[] = [];
  type Lb = {
    endpoint?: {
      address?: { socketAddress?: { address?: string; portValue?: number }; envoyInternalAddress?: { serverListenerName?: string } };
    };
    healthStatus?: string;
    loadBalancingWeight?: number;
  };
  type Locality = { region?: string; zone?: string; subZone?: string };
  const add = (cluster: string, groups: { lbEndpoints?: Lb[]; locality?: Locality }[] | undefined) => {
    for (const group of groups ?? []) {
      const loc = group.locality;
      const locality =
        loc && (loc.region || loc.zone || loc.subZone) ? [loc.region, loc.zone, loc.subZone].filter(Boolean).join('/') : null;
      for (const lb of group.lbEndpoints ?? []) {
        const socket = lb.endpoint?.address?.socketAddress;
        rows.push({
          cluster,
          address: socket?.address ?? lb.endpoint?.address?.envoyInternalAddress?.serverListenerName ?? '',
          port: socket?.portValue ?? 0,
          health: lb.healthStatus ?? 'HEALTHY',
          weight: lb.loadBalancingWeight ?? null,
          locality,
        });
      }
    }
  };
  for (const cla of config.endpoints) add(String(cla.clusterName ?? ''), cla.endpoints as never);
  // Clusters that carry their endpoints inline (STATIC, STRICT_DNS), as istioctl's endpoint view shows them.
  for (const c of config.clusters) {
    const la = c.loadAssignment as { endpoints?: never } | undefined;
    if (la) add(String(c.name ?? ''), la.endpoints);
  }
  return rows.filter((r) => filter.cluster == null || r.cluster === filter.cluster);
}
