import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { SnapshotResource } from '../snapshots/ingest/types.js';
import { SnapshotEntity, SnapshotStatus } from './entities/index.js';
import { ProxyConfigStore } from './proxy-config.store.js';

/** A resource ready to store: its canonical JSON and that JSON's content hash. */
export interface PreparedResource {
  resource: SnapshotResource;
  hash: string;
  json: string;
}

/** A resource as stored, with its body. */
export interface StoredResource {
  apiVersion: string;
  kind: string;
  namespace: string | null;
  name: string;
  evaluated: boolean;
  document: number;
  body: Record<string, unknown>;
}

export interface SnapshotPage {
  /** Each snapshot with the cursor that pages on after it. */
  entries: { snapshot: SnapshotEntity; cursor: string }[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export class InvalidCursorError extends Error {}

// Rows per INSERT: a few thousand keeps each statement's parameters in the low megabytes.
const INSERT_CHUNK = 2000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Retried: a concurrent delete collected a body this upload reuses (23503), or a deadlock (40P01).
const RETRYABLE = new Set(['23503', '40P01', '40001']);

export function isSnapshotId(id: string): boolean {
  return UUID.test(id);
}

/** Snapshots, their resources and content-addressed bodies: every SQL statement about them. */
@Injectable()
export class SnapshotStore {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly proxyConfigs: ProxyConfigStore,
  ) {}

  /**
   * Stores a snapshot, its resources and their bodies (each body once, whoever else has it), and
   * runs `alsoInTransaction` (the job enqueue) in the same transaction.
   */
  async create(
    name: string | null,
    resources: PreparedResource[],
    alsoInTransaction: (em: EntityManager, snapshot: SnapshotEntity) => Promise<void>,
  ): Promise<SnapshotEntity> {
    const bodies = uniqueBodies(resources);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction(async (em) => {
          const snapshot = await em.save(
            em.create(SnapshotEntity, { name, status: SnapshotStatus.PENDING, resourceCount: resources.length }),
          );
          for (let i = 0; i < bodies.length; i += INSERT_CHUNK) {
            const chunk = bodies.slice(i, i + INSERT_CHUNK);
            await em.query(
              `INSERT INTO resource_bodies (hash, body)
               SELECT hash, body::jsonb FROM unnest($1::text[], $2::text[]) AS b(hash, body)
               ON CONFLICT (hash) DO NOTHING`,
              [chunk.map((b) => b.hash), chunk.map((b) => b.json)],
            );
          }
          for (let i = 0; i < resources.length; i += INSERT_CHUNK) {
            const chunk = resources.slice(i, i + INSERT_CHUNK);
            await em.query(
              `INSERT INTO snapshot_resources
                 (snapshot_id, position, document, api_version, kind, namespace, name, evaluated, body_hash)
               SELECT $1, position, document, api_version, kind, namespace, name, evaluated, body_hash
               FROM unnest($2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bool[], $9::text[])
                 AS r(position, document, api_version, kind, namespace, name, evaluated, body_hash)`,
              [
                snapshot.id,
                chunk.map((_, j) => i + j),
                chunk.map((p) => p.resource.document),
                chunk.map((p) => p.resource.apiVersion),
                chunk.map((p) => p.resource.kind),
                chunk.map((p) => p.resource.namespace),
                chunk.map((p) => p.resource.name),
                chunk.map((p) => p.resource.evaluated),
                chunk.map((p) => p.hash),
              ],
            );
          }
          await alsoInTransaction(em, snapshot);
          return snapshot;
        });
      } catch (error) {
        if (attempt < 3 && RETRYABLE.has((error as { code?: string }).code ?? '')) continue;
        throw error;
      }
    }
  }

  async get(id: string): Promise<SnapshotEntity | null> {
    if (!isSnapshotId(id)) return null;
    return this.snapshots().findOneBy({ id });
  }

  /** Newest first. The cursor is the position of the last item of the previous page. */
  async list(limit: number, cursor?: string | null): Promise<SnapshotPage> {
    const after = cursor ? decodeCursor(cursor) : null;
    const rows: (Record<string, unknown> & { cursor_created_at: string })[] = await this.dataSource.query(
      `SELECT *, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_created_at
       FROM snapshots
       ${after ? 'WHERE (created_at, id) < ($2::timestamptz, $3::uuid)' : ''}
       ORDER BY created_at DESC, id DESC
       LIMIT $1`,
      after ? [limit + 1, after.createdAt, after.id] : [limit + 1],
    );
    const entries = rows.slice(0, limit).map((row) => ({
      snapshot: this.snapshots().create(toEntityFields(row)),
      cursor: encodeCursor(row.cursor_created_at, String(row.id)),
    }));
    const nextCursor = rows.length > limit ? (entries.at(-1)?.cursor ?? null) : null;
    return { entries, nextCursor };
  }

  async count(): Promise<number> {
    return this.snapshots().count();
  }

  private snapshots() {
    return this.dataSource.getRepository(SnapshotEntity);
  }

  /**
   * Deletes a snapshot and all derived from it (cascades), then the bodies and the generated Envoy
   * objects no snapshot references any more. Returns false when there was no such snapshot.
   */
  async delete(id: string): Promise<boolean> {
    if (!isSnapshotId(id)) return false;
    const deleted = await this.dataSource.transaction(async (em) => {
      // Waits for a compute job committing this snapshot's rows (its foreign keys hold a key-share
      // lock on the row), so the references read below include them.
      await em.query('SELECT 1 FROM snapshots WHERE id = $1 FOR UPDATE', [id]);
      const rows: { body_hash: string }[] = await em.query(
        'SELECT DISTINCT body_hash FROM snapshot_resources WHERE snapshot_id = $1',
        [id],
      );
      const envoy = await this.proxyConfigs.referencesOf(em, id);
      const { affected } = await em.delete(SnapshotEntity, { id });
      return affected ? { hashes: rows.map((r) => r.body_hash), envoy } : null;
    });
    if (deleted === null) return false;
    await this.collectBodies(deleted.hashes);
    await this.proxyConfigs.collect(deleted.envoy);
    return true;
  }

  /**
   * Deletes those of `hashes` no snapshot references. Runs after the delete committed; if a
   * concurrent upload re-referenced one of them meanwhile, the foreign key stops this statement and
   * the garbage stays until a later collection: losing a referenced body is the one thing not allowed.
   */
  private async collectBodies(hashes: string[]) {
    for (let i = 0; i < hashes.length; i += INSERT_CHUNK) {
      try {
        await this.dataSource.query(
          `DELETE FROM resource_bodies b
           WHERE b.hash = ANY($1::text[])
             AND NOT EXISTS (SELECT 1 FROM snapshot_resources r WHERE r.body_hash = b.hash)`,
          [hashes.slice(i, i + INSERT_CHUNK)],
        );
      } catch (error) {
        if ((error as { code?: string }).code !== '23503') throw error;
      }
    }
  }

  /** The resources of a snapshot in upload order, with their bodies. */
  async resources(snapshotId: string, filter: { kind?: string | null; namespace?: string | null } = {}): Promise<StoredResource[]> {
    const rows: {
      api_version: string;
      kind: string;
      namespace: string | null;
      name: string;
      evaluated: boolean;
      document: number;
      body: Record<string, unknown>;
    }[] = await this.dataSource.query(
      `SELECT r.api_version, r.kind, r.namespace, r.name, r.evaluated, r.document, b.body
       FROM snapshot_resources r JOIN resource_bodies b ON b.hash = r.body_hash
       WHERE r.snapshot_id = $1
         AND ($2::text IS NULL OR r.kind = $2)
         AND ($3::text IS NULL OR r.namespace = $3)
       ORDER BY r.position`,
      [snapshotId, filter.kind ?? null, filter.namespace ?? null],
    );
    return rows.map((r) => ({
      apiVersion: r.api_version,
      kind: r.kind,
      namespace: r.namespace,
      name: r.name,
      evaluated: r.evaluated,
      document: r.document,
      body: r.body,
    }));
  }

  /**
   * Runs `fn` holding the snapshot's compute lock (a session advisory lock on a connection of its
   * own): two attempts at one snapshot (a job whose first attempt outlived its expiry, retried on
   * another worker) never compute at once; the second waits, then finds the first's result. A
   * worker that dies drops its connection and with it the lock.
   */
  async withComputeLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query(`SELECT pg_advisory_lock(hashtextextended('meshlens-compute:' || $1, 0))`, [id]);
      try {
        return await fn();
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(hashtextextended('meshlens-compute:' || $1, 0))`, [id]);
      }
    } finally {
      await runner.release();
    }
  }

  /** PENDING → COMPUTING. False when the snapshot no longer exists (deleted while queued). */
  async markComputing(id: string): Promise<boolean> {
    const { affected } = await this.snapshots().update({ id }, { status: SnapshotStatus.COMPUTING, progress: 0 });
    return Boolean(affected);
  }

  async setProgress(id: string, progress: number): Promise<void> {
    await this.snapshots().update({ id }, { progress: clamp01(progress) });
  }

  async markReady(id: string): Promise<void> {
    await this.snapshots().update({ id }, { status: SnapshotStatus.READY, progress: 1, error: null });
  }

  /** What the generator computed for the snapshot: the Istio release and `istioctl analyze`'s messages. */
  async recordGeneratorResults(id: string, results: { istioVersion: string; diagnostics: unknown[] }): Promise<void> {
    await this.dataSource.query(`UPDATE snapshots SET istio_version = $2, diagnostics = $3::jsonb WHERE id = $1`, [
      id,
      results.istioVersion,
      JSON.stringify(results.diagnostics),
    ]);
  }

  /** An attempt failed: FAILED when it was the last one, else back to PENDING for the retry. */
  async recordFailure(id: string, reason: string, final: boolean): Promise<void> {
    await this.snapshots().update({ id }, { status: final ? SnapshotStatus.FAILED : SnapshotStatus.PENDING, error: reason });
  }

  /** The queue gave up on the snapshot's job (e.g. its worker crashed on the last attempt). */
  async markAbandoned(id: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE snapshots SET status = 'FAILED', error = COALESCE(error, $2) WHERE id = $1 AND status <> 'READY'`,
      [id, reason],
    );
  }
}

function uniqueBodies(resources: PreparedResource[]): { hash: string; json: string }[] {
  const byHash = new Map<string, string>();
  for (const p of resources) byHash.set(p.hash, p.json);
  // Sorted, so concurrent uploads sharing bodies lock them in the same order (no deadlock).
  return [...byHash.keys()].sort().map((hash) => ({ hash, json: byHash.get(hash)! }));
}

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(`${createdAt}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id, ...rest] = Buffer.from(cursor, 'base64url').toString().split('|');
  if (rest.length > 0 || !createdAt || !id || !isSnapshotId(id) || Number.isNaN(Date.parse(createdAt))) {
    throw new InvalidCursorError('invalid cursor');
  }
  return { createdAt, id };
}

function toEntityFields(row: Record<string, unknown>): Partial<SnapshotEntity> {
  return {
    id: row.id as string,
    name: row.name as string | null,
    createdAt: row.created_at as Date,
    status: row.status as SnapshotStatus,
    progress: row.progress as number,
    error: row.error as string | null,
    resourceCount: row.resource_count as number,
    istioVersion: row.istio_version as string | null,
    diagnostics: row.diagnostics as unknown[],
  };
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, Number.isFinite(value) ? value : 0));
}
