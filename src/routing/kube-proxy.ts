// A client without a sidecar: no Envoy, so no VirtualService or DestinationRule; kube-proxy
// spreads connections over the Service's ready endpoints. Pure.
import type { KubeProxyInput } from '../model/snapshot.js';
import { emptyResolution, type RouteResolution, type TraceStep } from './resolve.js';
import { compareStrings } from '../model/compare.js';

interface ServiceObject {
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: { ports?: { name?: string; port?: number }[]; clusterIP?: string };
  ports?: { name?: string; port?: number }[];
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean } }[];
}

/** The Service a host names from a client namespace: `name`, `name.ns`, `name.ns.svc`, or the FQDN. */
function findService(input: KubeProxyInput, clientNamespace: string, host: string): ServiceObject | null {
  const bare = host.replace(/:\d+$/, '').toLowerCase();
  const parts = bare.split('.');
  const [name, ns = clientNamespace] = parts;
  const fqdnTail = parts.slice(2).join('.');
  if (parts.length > 2 && !['svc', 'svc.cluster.local'].includes(fqdnTail)) return null;
  return (
    (input.kubernetes as ServiceObject[]).find(
      (o) => o.kind === 'Service' && o.metadata?.name === name && (o.metadata?.namespace ?? 'default') === ns,
    ) ?? null
  );
}

export function kubeProxyResolution(
  input: KubeProxyInput,
  clientNamespace: string,
  host: string | undefined,
  port: number,
): RouteResolution {
  return kubeProxy(input, clientNamespace, host, port).resolution;
}

/** kube-proxy's choice for a client without a sidecar: the resolution, and the ready endpoints it spreads connections over. */
export function kubeProxy(
  input: KubeProxyInput,
  clientNamespace: string,
  host: string | undefined,
  port: number,
): { resolution: RouteResolution; endpoints: { address: string; port: number }[] } {
  const endpoints: { address: string; port: number }[] = [];
  const trace: TraceStep[] = [
    {
      stage: 'proxy',
      detail:
        'This workload runs without a sidecar (proxy type NONE): no Envoy sees the request, so no VirtualService or DestinationRule applies, and there is no mTLS from this side.',
    },
  ];
  const service = host ? findService(input, clientNamespace, host) : null;
  if (!service) {
    trace.push({
      stage: 'kube-proxy',
      detail: host
        ? `"${host}" names no Service of the snapshot: the connection goes wherever DNS and the network send it.`
        : 'Without a Host, kube-proxy acts on the destination IP alone.',
    });
  } else {
    const ns = service.metadata?.namespace ?? 'default';
    const svcPort = service.spec?.ports?.find((p) => p.port === port);
    const slices = (input.kubernetes as ServiceObject[]).filter(
      (o) =>
        o.kind === 'EndpointSlice' &&
        o.metadata?.namespace === ns &&
        o.metadata?.labels?.['kubernetes.io/service-name'] === service.metadata?.name,
    );
    const targets: string[] = [];
    for (const slice of slices) {
      const slicePort = slice.ports?.find((p) => (p.name ?? '') === (svcPort?.name ?? '')) ?? slice.ports?.[0];
      for (const ep of slice.endpoints ?? [])
        if (ep.conditions?.ready !== false)
          for (const a of ep.addresses ?? []) {
            targets.push(`${a}:${slicePort?.port ?? port}`);
            if (svcPort) endpoints.push({ address: a, port: slicePort?.port ?? port });
          }
    }
    targets.sort();
    const where = `Service ${ns}/${service.metadata?.name}${service.spec?.clusterIP ? ` (ClusterIP ${service.spec.clusterIP})` : ''}`;
    if (!svcPort) trace.push({ stage: 'kube-proxy', detail: `${where} has no port ${port}: the connection is refused.` });
    else if (!targets.length)
      trace.push({ stage: 'kube-proxy', detail: `${where} port ${port} has no ready endpoints: the connection is refused.` });
    else
      trace.push({
        stage: 'kube-proxy',
        detail: `kube-proxy spreads connections to ${where} port ${port} evenly (random per connection) over its ${targets.length} endpoint${targets.length > 1 ? 's' : ''}: ${targets.join(', ')}. Subsets, weights and header rules do not apply.`,
      });
  }
  endpoints.sort((a, b) => compareStrings(a.address, b.address) || a.port - b.port);
  return { resolution: { ...emptyResolution(), error: 'no proxy', trace }, endpoints };
}

/** The Service whose ClusterIP is `address`, and the ready endpoints kube-proxy sends its `port` to. */
export function serviceByClusterIp(
  input: KubeProxyInput,
  address: string,
  port: number,
): { service: string; endpoints: { address: string; port: number }[] } | null {
  const service = (input.kubernetes as ServiceObject[]).find((o) => o.kind === 'Service' && o.spec?.clusterIP === address);
  if (!service) return null;
  const ns = service.metadata?.namespace ?? 'default';
  const { endpoints } = kubeProxy(input, ns, `${service.metadata?.name}.${ns}`, port);
  return { service: `${ns}/${service.metadata?.name}`, endpoints };
}
