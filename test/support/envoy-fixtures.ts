// Hand-written Envoy config in the shapes istiod emits (proto3 JSON, lowerCamelCase), for pure
// tests of route resolution and the proxy-config views. Shapes copied from the generator's output
// on examples/istioinaction (a sidecar's 0.0.0.0_80, virtualOutbound, virtualInbound, route "80").
import type {
  Address,
  Cluster,
  FilterChain,
  Listener,
  ListenerFilter,
  Metadata,
  NetworkFilter,
  Route,
  RouteAction,
  RouteConfiguration,
  RouteMatch,
  TypedConfig,
} from '../../src/envoy/xds.js';
import type { Call, EnvoyConfig } from '../../src/routing/resolve.js';
import type { GeneratedConfig } from '../../src/model/proxy.js';

/** An Envoy object as istiod emits it: the fields meshlens reads, typed (src/envoy/xds.ts), and the
 *  others it carries (bindToPort, connectTimeout, ...) as proto3 JSON. Assignable to the typed object. */
export type Emitted<T> = T & Record<string, unknown>;

export const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const TCP_PROXY_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
export const TLS_CONTEXT_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';

/** A call with the contract's defaults (OUTBOUND, HTTP, plaintext, GET /). */
export function call(overrides: Partial<Call> & { port: number }): Call {
  return { mode: 'OUTBOUND', protocol: 'HTTP', tls: 'PLAINTEXT', path: '/', method: 'GET', headers: [], ...overrides };
}

export function config(parts: Partial<EnvoyConfig>): EnvoyConfig {
  return { listeners: [], routes: [], clusters: [], ...parts };
}

export function socket(address: string, port: number): Address {
  return { socketAddress: { address, portValue: port } };
}

/** The istio metadata istiod puts on routes and clusters: `/apis/<group>/<version>/namespaces/<ns>/<kind>/<name>`. */
export function istioMeta(kind: string, namespace: string, name: string, extra: Record<string, unknown> = {}): Metadata {
  return { filterMetadata: { istio: { config: `/apis/networking.istio.io/v1/namespaces/${namespace}/${kind}/${name}`, ...extra } } };
}

export function rdsHcm(routeConfigName: string): NetworkFilter {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typedConfig: {
      '@type': HCM_TYPE,
      statPrefix: `outbound_0.0.0.0_${routeConfigName}`,
      rds: { configSource: { ads: {}, initialFetchTimeout: '0s', resourceApiVersion: 'V3' }, routeConfigName },
      httpFilters: [
        {
          name: 'envoy.filters.http.router',
          typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
        },
      ],
    },
  };
}

export function inlineHcm(routeConfig: RouteConfiguration): NetworkFilter {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typedConfig: { '@type': HCM_TYPE, statPrefix: 'inbound_0.0.0.0_8080', routeConfig, httpFilters: [] },
  };
}

export function tcpProxy(cluster: string | { name: string; weight: number }[]): NetworkFilter {
  const typedConfig: TypedConfig = { '@type': TCP_PROXY_TYPE, statPrefix: typeof cluster === 'string' ? cluster : 'weighted' };
  if (typeof cluster === 'string') typedConfig.cluster = cluster;
  else typedConfig.weightedClusters = { clusters: cluster };
  return { name: 'envoy.filters.network.tcp_proxy', typedConfig };
}

/** A DownstreamTlsContext: Istio mTLS (the workload's `default` secret, client certificate required) or plain TLS (a gateway credential). */
export function tlsSocket(kind: 'mtls' | 'tls' | 'default-no-client-cert' | 'client-cert-other-secret'): FilterChain['transportSocket'] {
  const secret = kind === 'mtls' || kind === 'default-no-client-cert' ? 'default' : 'kubernetes://my-credential';
  const typedConfig: TypedConfig = {
    '@type': TLS_CONTEXT_TYPE,
    commonTlsContext: {
      tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_2', tlsMaximumProtocolVersion: 'TLSv1_3' },
      tlsCertificateSdsSecretConfigs: [{ name: secret, sdsConfig: { ads: {}, resourceApiVersion: 'V3' } }],
      alpnProtocols: ['h2', 'http/1.1'],
    },
  };
  if (kind === 'mtls' || kind === 'client-cert-other-secret') typedConfig.requireClientCertificate = true;
  return { name: 'envoy.transport_sockets.tls', typedConfig };
}

export const TLS_INSPECTOR_FILTER: Emitted<ListenerFilter> = {
  name: 'envoy.filters.listener.tls_inspector',
  typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' },
};
export const HTTP_INSPECTOR_FILTER: Emitted<ListenerFilter> = {
  name: 'envoy.filters.listener.http_inspector',
  typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector' },
};

/** A sidecar's outbound HTTP listener on 0.0.0.0:<port>, as istiod builds it (HTTP inspector, RDS <port>, passthrough default chain). */
export function outboundHttpListener(port: number, routeConfigName = String(port)): Emitted<Listener> {
  return {
    name: `0.0.0.0_${port}`,
    address: socket('0.0.0.0', port),
    filterChains: [
      {
        filterChainMatch: { transportProtocol: 'raw_buffer', applicationProtocols: ['http/1.1', 'h2c'] },
        filters: [rdsHcm(routeConfigName)],
      },
    ],
    defaultFilterChain: { name: 'PassthroughFilterChain', filterChainMatch: {}, filters: [tcpProxy('PassthroughCluster')] },
    listenerFilters: [HTTP_INSPECTOR_FILTER],
    trafficDirection: 'OUTBOUND',
    bindToPort: false,
  };
}

export function virtualOutbound(): Emitted<Listener> {
  return {
    name: 'virtualOutbound',
    address: socket('0.0.0.0', 15001),
    filterChains: [
      { name: 'virtualOutbound-blackhole', filterChainMatch: { destinationPort: 15001 }, filters: [tcpProxy('BlackHoleCluster')] },
      { name: 'virtualOutbound-catchall-tcp', filters: [tcpProxy('PassthroughCluster')] },
    ],
    useOriginalDst: true,
    trafficDirection: 'OUTBOUND',
  };
}

/** A sidecar's virtualInbound for one workload port (8080, HTTP), PERMISSIVE: the chains istiod emits, in order. */
export function virtualInbound(port = 8080): Emitted<Listener> {
  const inboundRoutes: Emitted<RouteConfiguration> = {
    name: `inbound|${port}||`,
    virtualHosts: [
      {
        name: 'inbound|http|80',
        domains: ['*'],
        routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: `inbound|${port}||`, timeout: '0s' } }],
      },
    ],
    validateClusters: false,
  };
  // The catch-all HTTP chains: any host, to the original destination.
  const passthroughHcm = () =>
    inlineHcm({
      ...inboundRoutes,
      name: 'InboundPassthroughCluster',
      virtualHosts: [
        {
          name: 'inbound|http|0',
          domains: ['*'],
          routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: 'InboundPassthroughCluster' } }],
        },
      ],
    });
  return {
    name: 'virtualInbound',
    address: socket('0.0.0.0', 15006),
    filterChains: [
      { name: 'virtualInbound-blackhole', filterChainMatch: { destinationPort: 15006 }, filters: [tcpProxy('BlackHoleCluster')] },
      {
        name: 'virtualInbound-catchall-http',
        filterChainMatch: { transportProtocol: 'tls', applicationProtocols: ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'] },
        filters: [passthroughHcm()],
        transportSocket: tlsSocket('mtls'),
      },
      {
        name: 'virtualInbound-catchall-http',
        filterChainMatch: { transportProtocol: 'raw_buffer', applicationProtocols: ['http/1.1', 'h2c'] },
        filters: [passthroughHcm()],
      },
      {
        name: 'virtualInbound',
        filterChainMatch: { transportProtocol: 'tls', applicationProtocols: ['istio-peer-exchange', 'istio'] },
        filters: [tcpProxy('InboundPassthroughCluster')],
        transportSocket: tlsSocket('mtls'),
      },
      { name: 'virtualInbound', filterChainMatch: { transportProtocol: 'raw_buffer' }, filters: [tcpProxy('InboundPassthroughCluster')] },
      { name: 'virtualInbound', filterChainMatch: { transportProtocol: 'tls' }, filters: [tcpProxy('InboundPassthroughCluster')] },
      {
        name: `0.0.0.0_${port}`,
        filterChainMatch: {
          destinationPort: port,
          transportProtocol: 'tls',
          applicationProtocols: ['istio', 'istio-peer-exchange', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'],
        },
        filters: [inlineHcm(inboundRoutes)],
        transportSocket: tlsSocket('mtls'),
      },
      {
        name: `0.0.0.0_${port}`,
        filterChainMatch: { destinationPort: port, transportProtocol: 'raw_buffer' },
        filters: [inlineHcm(inboundRoutes)],
      },
    ],
    listenerFilters: [
      { name: 'envoy.filters.listener.original_dst' },
      { ...TLS_INSPECTOR_FILTER, filterDisabled: { destinationPortRange: { start: 15006, end: 15007 } } },
      {
        ...HTTP_INSPECTOR_FILTER,
        filterDisabled: {
          orMatch: {
            rules: [{ destinationPortRange: { start: port, end: port + 1 } }, { destinationPortRange: { start: 15006, end: 15007 } }],
          },
        },
      },
    ],
    useOriginalDst: true,
    trafficDirection: 'INBOUND',
  };
}

export function route(
  name: string | undefined,
  match: RouteMatch,
  action: Omit<Route, 'name' | 'match' | 'route'> & { route?: RouteAction | Emitted<RouteAction> },
  vs?: [string, string],
): Route {
  return {
    ...(name !== undefined ? { name } : {}),
    match,
    ...action,
    ...(vs ? { metadata: istioMeta('virtual-service', vs[0], vs[1]) } : {}),
    decorator: { operation: `${name ?? 'route'}/*` },
  };
}

export const to = (cluster: string): { route: RouteAction } => ({ route: { cluster, timeout: '0s' } });

/** A route action splitting between clusters by weight. */
export const weighted = (...clusters: [string, number][]): { route: RouteAction } => ({
  route: { weightedClusters: { clusters: clusters.map(([name, weight]) => ({ name, weight })) } },
});

export function cluster(name: string, extra: Partial<Emitted<Cluster>> = {}): Emitted<Cluster> {
  return {
    name,
    type: 'EDS',
    connectTimeout: '10s',
    edsClusterConfig: { edsConfig: { ads: {}, resourceApiVersion: 'V3' }, serviceName: name },
    ...extra,
  };
}

export function generated(parts: Partial<GeneratedConfig>): GeneratedConfig {
  return {
    proxy: {
      id: 'web-1.shop',
      type: 'SIDECAR',
      namespace: 'shop',
      configNamespace: 'shop',
      labels: {},
      ips: ['10.0.0.7'],
      istioVersion: '1.31.0',
      serviceTargets: [],
    },
    listeners: [],
    routes: [],
    clusters: [],
    endpoints: [],
    ...parts,
  };
}

export function names(result: {
  listener: string | null;
  filterChain: string | null;
  routeConfig: string | null;
  virtualHost: string | null;
  route: string | null;
  cluster: string | null;
  error: string | null;
}) {
  const { listener, filterChain, routeConfig, virtualHost, route: r, cluster: c, error } = result;
  return { listener, filterChain, routeConfig, virtualHost, route: r, cluster: c, error };
}
