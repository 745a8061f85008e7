// The endpoints Envoy balances a cluster's requests over: EDS (the ClusterLoadAssignment istiod
// generated for this proxy) or the cluster's own load assignment (STATIC, STRICT_DNS). Pure.
import type { Cluster, Metadata } from './xds.js';
import { firstAssignment } from './config-index.js';

export interface ClusterLoadAssignment {
  clusterName?: string;
  endpoints?: LocalityEndpoints[];
}

interface LocalityEndpoints {
  locality?: { region?: string; zone?: string; subZone?: string };
  lbEndpoints?: LbEndpoint[];
  priority?: number;
}

interface LbEndpoint {
  endpoint?: { address?: { socketAddress?: { address?: string; portValue?: number } } };
  healthStatus?: string;
  metadata?: Metadata;
  loadBalancingWeight?: number;
}

export interface Endpoint {
  address: string;
  port: number;
  /** Envoy's locality `region/zone/subzone`, empty when the endpoint has none. */
  locality: string;
  priority: number;
  healthy: boolean;
  weight: number;
  metadata: Metadata | undefined;
}

/** Every endpoint of a cluster, in the order istiod lists them. */
export function clusterEndpoints(cluster: Cluster, assignments: readonly ClusterLoadAssignment[]): Endpoint[] {
  const eds = cluster as Cluster & { edsClusterConfig?: { serviceName?: string } };
  const assignment =
    cluster.type === 'EDS'
      ? firstAssignment(assignments, eds.edsClusterConfig?.serviceName || cluster.name)
      : (cluster.loadAssignment as ClusterLoadAssignment | undefined);
  const out: Endpoint[] = [];
  for (const group of assignment?.endpoints ?? []) {
    const l = group.locality ?? {};
    const locality = [l.region, l.zone, l.subZone].some(Boolean) ? [l.region ?? '', l.zone ?? '', l.subZone ?? ''].join('/') : '';
    for (const lb of group.lbEndpoints ?? []) {
      const socket = lb.endpoint?.address?.socketAddress;
      if (!socket?.address) continue;
      out.push({
        address: socket.address,
        port: socket.portValue ?? 0,
        locality,
        priority: group.priority ?? 0,
        // Envoy sends to HEALTHY, UNKNOWN and (while nothing better exists) DEGRADED endpoints.
        healthy: !['UNHEALTHY', 'DRAINING', 'TIMEOUT'].includes(lb.healthStatus ?? 'UNKNOWN'),
        weight: lb.loadBalancingWeight ?? 1,
        metadata: lb.metadata,
      });
    }
  }
  return out;
}

/** Istio's endpoint metadata `istio.workload`: `name;namespace;canonical name;revision;cluster`. */
export function endpointWorkload(endpoint: Endpoint): { name: string; namespace: string } | null {
  const value = endpoint.metadata?.filterMetadata?.istio?.workload;
  if (typeof value !== 'string') return null;
  const [name, namespace] = value.split(';');
  return name && namespace ? { name, namespace } : null;
}
