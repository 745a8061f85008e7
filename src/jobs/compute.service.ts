import { Injectable } from '@nestjs/common';
import { SnapshotStore } from '../database/snapshot.store.js';
import { WorkloadStore } from '../database/workload.store.js';
import { GeneratorService } from '../generator/generator.service.js';
import { normaliseSnapshot } from '../snapshots/ingest/normalise.js';
import type { ProxyType, Workload } from '../snapshots/ingest/types.js';
import type { WorkloadProxy } from '../generator/protocol.js';

/** Reports how far a computation got, 0..1; stored on the snapshot for clients to poll. */
export type ProgressReporter = (fraction: number) => Promise<void>;

/**
 * Everything derived from a snapshot's resources, computed by the `compute` job: the workloads, the
 * proxy istiod builds for each (through the generator), and `istioctl analyze`'s diagnostics.
 * Idempotent: a retried job recomputes and replaces what an earlier attempt stored.
 */
@Injectable()
export class ComputeService {
  constructor(
    private readonly snapshots: SnapshotStore,
    private readonly workloads: WorkloadStore,
    private readonly generator: GeneratorService,
  ) {}

  async compute(snapshotId: string, progress: ProgressReporter): Promise<void> {
    const normalised = normaliseSnapshot(await this.snapshots.resources(snapshotId));
    await progress(0.1);
    const version = await this.generator.ask(snapshotId, 'version', undefined);
    const proxies = await this.generator.ask(snapshotId, 'proxies', {});
    await progress(0.5);
    const diagnostics = await this.generator.ask(snapshotId, 'analyze', undefined);
    await progress(0.9);
    await this.workloads.replace(snapshotId, withIstiodProxyTypes(normalised.workloads, proxies));
    await this.snapshots.recordGeneratorResults(snapshotId, { istioVersion: version.istio, diagnostics });
  }
}

/** The proxy type istiod ends up with for each workload: a pod it built no proxy for has none. */
export function withIstiodProxyTypes(workloads: Workload[], proxies: WorkloadProxy[]): Workload[] {
  const built = new Map(proxies.map((p) => [`${p.namespace}/${p.name}`, p]));
  return workloads.map((w) => {
    const p = built.get(`${w.namespace}/${w.name}`);
    if (!p) return w;
    const proxyType: ProxyType = p.proxy ? p.proxy.type : 'NONE';
    return proxyType === w.proxyType ? w : { ...w, proxyType };
  });
}
