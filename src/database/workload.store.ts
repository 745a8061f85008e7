import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { isSnapshotId } from './snapshot.store.js';
import { ListNodeStore } from './list-node.store.js';
import { compareWorkloads, workloadListCodec, type StoredWorkload } from './snapshot-lists.js';

/** The workloads the compute job derives for a snapshot: a chunked list (chunked-list.ts) on the snapshot. */
@Injectable()
export class WorkloadStore {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly lists: ListNodeStore,
  ) {}

  /** Replaces the snapshot's workloads in the caller's transaction (which holds the collector's shared lock). */
  async replaceIn(em: EntityManager, snapshotId: string, workloads: StoredWorkload[]): Promise<void> {
    const list = await this.lists.write(em, workloadListCodec, [...workloads].sort(compareWorkloads));
    await em.query('UPDATE snapshots SET workload_list = $2 WHERE id = $1', [snapshotId, list]);
  }

  /** The snapshot's workloads by namespace and name; none until computed. */
  async list(snapshotId: string, namespace?: string | null): Promise<StoredWorkload[]> {
    if (!isSnapshotId(snapshotId)) return [];
    const [row]: { workload_list: Buffer | null }[] = await this.dataSource.query('SELECT workload_list FROM snapshots WHERE id = $1', [
      snapshotId,
    ]);
    const all = await this.lists.read(workloadListCodec, row?.workload_list);
    return all.filter((w) => !namespace || w.namespace === namespace);
  }
}
