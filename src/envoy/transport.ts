// Transport security as the generated config decides it: which transport socket a cluster uses
// for one endpoint (Envoy's transport_socket_matches against the endpoint's metadata, which is how
// istiod expresses auto mTLS), and what an inbound filter chain accepts. Pure.
import type { Cluster, FilterChain, Listener, Metadata, TypedConfig } from './xds.js';

export type TransportMode = 'PLAINTEXT' | 'TLS' | 'MTLS';

interface TransportSocket {
  name?: string;
  typedConfig?: TypedConfig;
}

interface SocketMatch {
  name?: string;
  match?: Record<string, unknown>;
  transportSocket?: TransportSocket;
}

export interface UpstreamTransport {
  mode: TransportMode;
  /** The transport socket match that chose the socket (`tlsMode-istio`, `tlsMode-disabled`), when the cluster has matches. */
  matchName: string | null;
  /** Istio's auto mTLS: the cluster chooses mTLS or plaintext per endpoint. */
  auto: boolean;
  sni: string | null;
}

const TRANSPORT_SOCKET_MATCH = 'envoy.transport_socket_match';
const TLS_SOCKET = 'envoy.transport_sockets.tls';

/**
 * Envoy: the first transport socket match whose every key equals the endpoint's
 * `envoy.transport_socket_match` metadata; no match, the cluster's transport socket.
 */
export function upstreamTransport(cluster: Cluster, endpointMetadata: Metadata | undefined): UpstreamTransport {
  const c = cluster as Cluster & { transportSocket?: TransportSocket; transportSocketMatches?: SocketMatch[] };
  const labels = endpointMetadata?.filterMetadata?.[TRANSPORT_SOCKET_MATCH] ?? {};
  const matches = c.transportSocketMatches ?? [];
  const chosen = matches.find((m) => Object.entries(m.match ?? {}).every(([k, v]) => labels[k] === v));
  const socket = chosen ? chosen.transportSocket : c.transportSocket;
  return {
    mode: socketMode(socket),
    matchName: chosen?.name ?? null,
    auto: matches.some((m) => m.name === 'tlsMode-istio'),
    sni: typeof socket?.typedConfig?.sni === 'string' ? socket.typedConfig.sni : null,
  };
}

/** An UpstreamTlsContext presenting the workload certificate istio-agent serves as `default` is Istio mTLS. */
function socketMode(socket: TransportSocket | undefined): TransportMode {
  if (!socket || socket.name !== TLS_SOCKET || !socket.typedConfig) return 'PLAINTEXT';
  const common = socket.typedConfig.commonTlsContext as { tlsCertificateSdsSecretConfigs?: { name?: string }[] } | undefined;
  return common?.tlsCertificateSdsSecretConfigs?.some((s) => s.name === 'default') ? 'MTLS' : 'TLS';
}

/** What a server's inbound listener accepts on a port, read from its filter chains (PeerAuthentication, as istiod rendered it). */
export type InboundMtls = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

export function inboundMtls(listener: Listener | undefined, port: number): InboundMtls | null {
  if (!listener) return null;
  const all = listener.filterChains ?? [];
  const forPort = all.filter((c) => c.filterChainMatch?.destinationPort === port);
  // Ports without chains of their own fall to the passthrough chains (no destination port).
  const chains = forPort.length ? forPort : all.filter((c) => c.filterChainMatch?.destinationPort === undefined);
  if (!chains.length) return null;
  const mtls = chains.some(acceptsMtls);
  const plain = chains.some((c) => !c.transportSocket);
  return mtls && plain ? 'PERMISSIVE' : mtls ? 'STRICT' : 'DISABLE';
}

function acceptsMtls(chain: FilterChain): boolean {
  const tls = chain.transportSocket?.typedConfig;
  return Boolean(tls && tls.requireClientCertificate === true);
}
