// Connectivity of a snapshot loaded in a generator process, outside the worker (the offline
// `meshlens diff --base --head`, tests): every proxy's config asked for, then the same builder.
import type { Connectivity } from '../model/connectivity.js';
import type { ConfigRef } from '../model/config-ref.js';
import type { GeneratedConfig, ProxyInput, WorkloadProxy } from '../model/proxy.js';
import { kubeProxyInput, type NormalisedSnapshot, type SnapshotResource, type Workload } from '../model/snapshot.js';
import type { MeshIdentity } from '../generator/protocol.js';
import { connectivityComputation } from './factory.js';

export interface OfflineAsk {
  proxies(): Promise<WorkloadProxy[]>;
  /** the mesh config's identity settings (its trust domain) */
  mesh(): Promise<Pick<MeshIdentity, 'trustDomain'>>;
  proxyConfig(proxy: ProxyInput): Promise<GeneratedConfig>;
  /** the PeerAuthentication istiod applies to a workload */
  peerAuthentication(
    proxy: ProxyInput,
  ): Promise<{ peerAuthentication: { namespace?: string; name: string } | null; policies?: { namespace?: string; name: string }[] }>;
}

/** `withProxyTypes`: the workloads with the proxy type istiod gave each (jobs' withIstiodProxyTypes). */
export async function offlineConnectivity(
  normalised: NormalisedSnapshot,
  _resources: readonly Pick<SnapshotResource, 'kind' | 'body'>[],
  ask: OfflineAsk,
  withProxyTypes: (workloads: Workload[], proxies: WorkloadProxy[]) => Workload[],
): Promise<Connectivity> {
  const [proxies, mesh] = await Promise.all([ask.proxies(), ask.mesh()]);
  const withProxy = proxies.filter((p) => p.proxy);
  const computation = connectivityComputation({
    workloads: withProxyTypes(normalised.workloads, proxies),
    kubeProxyInput: kubeProxyInput(normalised.generatorInput),
    trustDomain: mesh.trustDomain,
    classes: withProxy.map((p) => ({
      classKey: `${p.namespace}/${p.name}`,
      proxyType: p.proxy!.type,
      workloads: [{ namespace: p.namespace, name: p.name }],
    })),
    peerAuthentications: new Map(
      await Promise.all(
        withProxy.map(async (p) => {
          const found = await ask.peerAuthentication({ namespace: p.namespace, name: p.name, type: p.proxy!.type }).catch(() => null);
          const ref = found?.peerAuthentication ?? found?.policies?.at(-1) ?? null;
          const value: ConfigRef | null = ref ? { kind: 'PeerAuthentication', namespace: ref.namespace ?? '', name: ref.name } : null;
          return [`${p.namespace}/${p.name}`, value] as const;
        }),
      ),
    ),
  });
  for (const p of withProxy) {
    const config = await ask.proxyConfig({ namespace: p.namespace, name: p.name });
    computation.addClass(`${p.namespace}/${p.name}`, [{ namespace: p.namespace, name: p.name }], config);
  }
  return computation.build();
}
