import { Injectable } from '@nestjs/common';
import { SnapshotStore, type SnapshotPage } from '../database/snapshot.store.js';
import type { SnapshotEntity } from '../database/entities/index.js';
import { QueueService } from '../jobs/queue.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { stringProblem } from '../ingest/bounded-yaml.js';
import type { IngestProblem } from '../model/snapshot.js';
import { IngestPool } from './ingest-pool.service.js';

/** The upload was refused; nothing was stored. */
export class InvalidManifestsError extends Error {
  constructor(readonly problems: IngestProblem[]) {
    super('invalid manifests');
  }
}

export interface CreatedSnapshot {
  snapshot: SnapshotEntity;
  warnings: string[];
}

/** Snapshot use cases shared by REST and GraphQL. */
@Injectable()
export class SnapshotsService {
  constructor(
    private readonly store: SnapshotStore,
    private readonly queue: QueueService,
    private readonly metrics: MetricsService,
    private readonly ingestPool: IngestPool,
  ) {}

  /** Ingests manifests and stores them with their compute job, all or nothing. */
  async create(name: string | null, manifests: string, contentType?: string): Promise<CreatedSnapshot> {
    const badName = name === null ? undefined : stringProblem(name);
    if (badName) throw new InvalidManifestsError([{ document: 0, path: 'name', message: `the snapshot's name: ${badName}` }]);
    const { upload: result } = await this.ingestPool.prepare(manifests, contentType);
    if (!result.ok) throw new InvalidManifestsError(result.problems);
    const prepared = result.resources;
    const snapshot = await this.store.create(name, prepared, (em, created) => this.queue.enqueueCompute(created.id, em));
    this.metrics.snapshotsIngested.inc();
    this.metrics.resourcesStored.inc(prepared.length);
    return { snapshot, warnings: result.warnings };
  }

  get(id: string): Promise<SnapshotEntity | null> {
    return this.store.get(id);
  }

  list(limit: number, cursor?: string | null): Promise<SnapshotPage> {
    return this.store.list(limit, cursor);
  }

  count(): Promise<number> {
    return this.store.count();
  }

  delete(id: string): Promise<boolean> {
    return this.store.delete(id);
  }
}
