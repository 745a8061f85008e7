import { Injectable, Logger } from '@nestjs/common';
import { SnapshotStore, type SnapshotMetadata, type SnapshotPage } from '../database/snapshot.store.js';
import { QueueService } from '../jobs/queue.service.js';
import { RetentionService } from '../jobs/retention.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { stringProblem } from '../ingest/bounded-yaml.js';
import { DEFAULT_MESH, meshNameProblem, type AccessToken } from '../model/access.js';
import type { IngestProblem } from '../model/snapshot.js';
import { IngestPool } from './ingest-pool.service.js';

/** The upload was refused; nothing was stored. */
export class InvalidManifestsError extends Error {
  constructor(readonly problems: IngestProblem[]) {
    super('invalid manifests');
  }
}

export interface CreatedSnapshot {
  snapshot: SnapshotMetadata;
  warnings: string[];
}

/** Who asks, and where: the mesh of an upload and the token behind it (undefined: access control off). */
export interface UploadTarget {
  mesh?: string | null;
  token?: AccessToken;
}

/** Snapshot use cases shared by REST and GraphQL. */
@Injectable()
export class SnapshotsService {
  private readonly logger = new Logger('Snapshots');

  constructor(
    private readonly store: SnapshotStore,
    private readonly queue: QueueService,
    private readonly metrics: MetricsService,
    private readonly ingestPool: IngestPool,
    private readonly retention: RetentionService,
  ) {}

  /** Ingests manifests and stores them with their compute job, all or nothing. */
  /** `manifests` as text, or as the UTF-8 bytes of a request body (decoded on the ingest thread). */
  async create(name: string | null, manifests: string | Buffer, contentType?: string, target: UploadTarget = {}): Promise<CreatedSnapshot> {
    const badName = name === null ? undefined : stringProblem(name);
    if (badName) throw new InvalidManifestsError([{ document: 0, path: 'name', message: `the snapshot's name: ${badName}` }]);
    const mesh = target.mesh || DEFAULT_MESH;
    const badMesh = meshNameProblem(mesh);
    if (badMesh) throw new InvalidManifestsError([{ document: 0, path: 'mesh', message: badMesh }]);
    const { upload: result } = await this.ingestPool.prepare(manifests, contentType);
    if (!result.ok) throw new InvalidManifestsError(result.problems);
    const prepared = result.resources;
    const createdBy = target.token?.id ?? null;
    const snapshot = await this.store.create(name, { mesh, createdBy }, prepared, (em, created) =>
      this.queue.enqueueCompute(created.id, mesh, em),
    );
    this.metrics.snapshotsIngested.inc();
    this.metrics.resourcesStored.inc(prepared.length);
    this.logger.log(
      `snapshot ${snapshot.id} created in mesh ${mesh} by ${createdBy ? `token ${createdBy}` : 'an anonymous client (access control off)'}: ${prepared.length} resources`,
    );
    // Stored: a retention request that cannot be queued is logged, not the upload's failure (the periodic pass catches up).
    await this.retention
      .afterChange(mesh)
      .catch((error: unknown) => this.logger.warn(`retention of mesh ${mesh} not queued: ${String(error)}`));
    return { snapshot, warnings: result.warnings };
  }

  get(id: string): Promise<SnapshotMetadata | null> {
    return this.store.get(id);
  }

  /** Newest first; `meshes`: only those (null: all). */
  list(limit: number, cursor?: string | null, meshes: string[] | null = null): Promise<SnapshotPage> {
    return this.store.list(limit, cursor, meshes);
  }

  count(meshes: string[] | null = null): Promise<number> {
    return this.store.count(meshes);
  }

  /** Deletes the snapshot; what only it reached is collected in the background. */
  async delete(id: string, token?: AccessToken): Promise<boolean> {
    if (!(await this.store.delete(id))) return false;
    this.logger.log(`snapshot ${id} deleted by ${token ? `token ${token.id}` : 'an anonymous client (access control off)'}`);
    // A collection that cannot be queued now is not the deletion's failure: the next one frees the rows too.
    await this.queue.enqueueGc().catch((error: unknown) => this.logger.warn(`garbage collection not queued: ${String(error)}`));
    return true;
  }
}
