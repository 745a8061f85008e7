// The client address Envoy's HTTP connection manager settles on for a request
// (ConnectionManagerUtility::mutateRequestHeaders), which RBAC's remote_ip (Istio's remoteIpBlocks,
// remote.ip) matches: with use_remote_address (istiod sets it on gateways, with xff_num_trusted_hops
// from numTrustedProxies) the X-Forwarded-For entry written by the last trusted proxy, else the
// connection's address; without it (sidecars) the X-Forwarded-For entry xff_num_trusted_hops from
// the right. When X-Forwarded-For has no such entry, the connection's address. Pure.
import { isIP } from 'node:net';

/** The HCM fields that decide it (proto3 JSON of HttpConnectionManager). */
export interface ClientAddressConfig {
  useRemoteAddress?: boolean;
  xffNumTrustedHops?: number;
}

export function clientAddress(config: ClientAddressConfig, xff: string | undefined, connectionAddress: string): string {
  const hops = config.xffNumTrustedHops ?? 0;
  const skip = config.useRemoteAddress ? hops - 1 : hops;
  if (skip < 0 || xff === undefined) return connectionAddress;
  const entries = xff.split(',').map((e) => e.trim());
  const entry = entries[entries.length - 1 - skip];
  return entry !== undefined && isIP(entry) !== 0 ? entry : connectionAddress;
}
