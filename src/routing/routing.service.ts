import { Injectable } from '@nestjs/common';
import { Lru } from '../cache/lru.js';
import { SnapshotStore } from '../database/snapshot.store.js';
import { GeneratorError } from '../generator/protocol.js';
import { GeneratorService } from '../generator/generator.service.js';
import { NormalisedSnapshots } from '../jobs/normalised-snapshots.js';
import { ProxyType } from '../graphql/enums.js';
import { NotFoundError } from '../model/errors.js';
import { ProxyConfigService } from '../proxy-config/proxy-config.service.js';
import type { ProxyInput } from '../proxy-config/proxy-config.types.js';
import { kubeProxyInput, type KubeProxyInput } from '../model/snapshot.js';
import { kubeProxyResolution } from './kube-proxy.js';
import { resolveRoute, type Call, type EnvoyConfig, type RouteResolution } from './resolve.js';

/** Where a request goes from a proxy: the walk over its Envoy config, or kube-proxy's answer without one. */
@Injectable()
export class RoutingService {
  /**
   * Per snapshot (its resources never change): the Services and EndpointSlices kube-proxy reads,
   * with those istiod deploys for Gateways. Assembling them reads and normalises the whole snapshot
   * (seconds on a big mesh), so it is done once, not on every call without a sidecar.
   */
  private readonly kubeProxyInputs = new Lru<Promise<KubeProxyInput>>(16);

  constructor(
    private readonly proxyConfig: ProxyConfigService,
    private readonly snapshots: SnapshotStore,
    private readonly generator: GeneratorService,
    private readonly normalisedSnapshots: NormalisedSnapshots,
  ) {}

  /** The proxy's config (stored or generated) walked with Envoy's rules; a workload without a proxy: kube-proxy. */
  async resolve(snapshotId: string, proxy: ProxyInput, call: Call): Promise<RouteResolution> {
    if (proxy.type === ProxyType.NONE) return this.withoutProxy(snapshotId, proxy.namespace, call);
    let generated;
    try {
      generated = await this.proxyConfig.generate(snapshotId, proxy);
    } catch (error) {
      if (error instanceof GeneratorError && error.code === 'NO_PROXY') return this.withoutProxy(snapshotId, proxy.namespace, call);
      throw error;
    }
    const config: EnvoyConfig = { ...(generated as unknown as EnvoyConfig), routeSources: await this.proxyConfig.routeSources(snapshotId) };
    return resolveRoute(config, call);
  }

  /** What kube-proxy does with the call: the Service's endpoints, no Envoy. */
  private async withoutProxy(snapshotId: string, namespace: string, call: Call): Promise<RouteResolution> {
    if ((await this.snapshots.status(snapshotId)) === null) throw new NotFoundError(`snapshot ${snapshotId} not found`);
    return kubeProxyResolution(await this.kubeProxyInput(snapshotId), namespace, call.host, call.port);
  }

  /** What kube-proxy reads of an existing snapshot (the caller knows it exists), read once per snapshot and kept. */
  kubeProxyInput(snapshotId: string): Promise<KubeProxyInput> {
    const known = this.kubeProxyInputs.get(snapshotId);
    if (known) return known;
    // As the generator loads the snapshot: the Services istiod deploys for Gateways are kube-proxy's too.
    const loading = this.normalisedSnapshots
      .normalised(snapshotId, (params) => this.generator.deployGateways(params))
      .then((snapshot) => {
        if (!snapshot) throw new NotFoundError(`snapshot ${snapshotId} not found`);
        return kubeProxyInput(snapshot.generatorInput);
      });
    this.kubeProxyInputs.set(snapshotId, loading);
    loading.catch(() => this.kubeProxyInputs.delete(snapshotId));
    return loading;
  }
}
