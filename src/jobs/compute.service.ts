import { Injectable } from '@nestjs/common';
import { SnapshotStore } from '../database/snapshot.store.js';
import { WorkloadStore } from '../database/workload.store.js';
import { normaliseSnapshot } from '../snapshots/ingest/normalise.js';
import type { SnapshotResource } from '../snapshots/ingest/types.js';

/** Reports how far a computation got, 0..1; stored on the snapshot for clients to poll. */
export type ProgressReporter = (fraction: number) => Promise<void>;

/**
 * Everything derived from a snapshot's resources, computed by the `compute` job. Idempotent:
 * a retried job recomputes and replaces what an earlier attempt stored.
 */
@Injectable()
export class ComputeService {
  constructor(
    private readonly snapshots: SnapshotStore,
    private readonly workloads: WorkloadStore,
  ) {}

  async compute(snapshotId: string, progress: ProgressReporter): Promise<void> {
    const resources = await this.loadResources(snapshotId);
    const normalised = normaliseSnapshot(resources);
    await progress(0.5);
    await this.workloads.replace(snapshotId, normalised.workloads);
  }

  private async loadResources(snapshotId: string): Promise<SnapshotResource[]> {
    const stored = await this.snapshots.resources(snapshotId);
    return stored.map((r) => ({
      apiVersion: r.apiVersion,
      kind: r.kind,
      namespace: r.namespace,
      name: r.name,
      evaluated: r.evaluated,
      body: r.body,
      document: r.document,
    }));
  }
}
