import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { NO_GATEWAY_API, type GatewayApi } from '../model/gateway-api.js';
import type { MeshSecurity } from '../model/mesh-security.js';
import type { AnalyzerMessage } from '../model/diagnostics.js';
import type { PreparedResource } from '../model/snapshot.js';
import { documentAt, documentRuns } from './chunked-list.js';
import { SnapshotEntity, SnapshotStatus } from './entities/index.js';
import { jsonLines } from './json-lines.js';
import { ListNodeStore } from './list-node.store.js';
import { resourceListCodec, type ResourceEntry } from './snapshot-lists.js';
import { writeTransaction } from './transaction.js';
import { Lru } from '../cache/lru.js';

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
  entries: { snapshot: SnapshotMetadata; cursor: string }[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export class InvalidCursorError extends Error {}

/**
 * How long a snapshot seen READY is taken for READY before the database is asked again, in the
 * background: READY is final but for a deletion, which this process forgets at once, and another
 * (an API replica, retention) within this.
 */
const READY_RECHECK_MS = 1000;
/** Snapshots remembered READY. */
const READY_SEEN = 4096;

// Rows per INSERT: a few thousand keeps each statement's parameters in the low megabytes.
const INSERT_CHUNK = 2000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isSnapshotId(id: string): boolean {
  return UUID.test(id);
}

/** Snapshots, their resources and content-addressed bodies: every SQL statement about them. */
@Injectable()
export class SnapshotStore {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly lists: ListNodeStore,
  ) {}

  /** When each snapshot remembered READY was last seen so, and its recheck under way. */
  private readonly readySeen = new Lru<{ at: number; recheck?: Promise<unknown> }>(READY_SEEN);

  /**
   * Stores a snapshot, its resources (a chunked list, chunked-list.ts) and their bodies (each body
   * and chunk once, whoever else has it), and runs `alsoInTransaction` (the job enqueue) in the
   * same transaction.
   */
  async create(
    name: string | null,
    owner: { mesh: string; createdBy: string | null },
    resources: PreparedResource[],
    alsoInTransaction: (em: EntityManager, snapshot: SnapshotEntity) => Promise<void>,
  ): Promise<SnapshotEntity> {
    const bodies = uniqueBodies(resources);
    const entries: ResourceEntry[] = resources.map((p) => ({
      apiVersion: p.resource.apiVersion,
      kind: p.resource.kind,
      namespace: p.resource.namespace,
      name: p.resource.name,
      evaluated: p.resource.evaluated,
      bodyHash: p.hash,
    }));
    return writeTransaction(this.dataSource, async (em) => {
      for (let i = 0; i < bodies.length; i += INSERT_CHUNK) {
        const chunk = bodies.slice(i, i + INSERT_CHUNK);
        await em.query(
          `INSERT INTO resource_bodies (hash, body)
           SELECT decode(hash, 'hex'), body::jsonb FROM unnest($1::text[], string_to_array($2, E'\\n')) AS b(hash, body)
           ON CONFLICT (hash) DO NOTHING`,
          [chunk.map((b) => b.hash), jsonLines(chunk.map((b) => b.json))],
        );
      }
      const resourceList = await this.lists.write(em, resourceListCodec, entries);
      const snapshot = await em.save(
        em.create(SnapshotEntity, {
          name,
          mesh: owner.mesh,
          createdBy: owner.createdBy,
          status: SnapshotStatus.PENDING,
          resourceCount: resources.length,
          resourceList,
          resourceDocuments: documentRuns(resources.map((p) => p.resource.document)),
        }),
      );
      await alsoInTransaction(em, snapshot);
      return snapshot;
    });
  }

  /**
   * One row by its key, in plain SQL: what clients poll while a snapshot computes, where the ORM's
   * query building and hydration cost more of the API's event loop than the query itself.
   */
  async get(id: string): Promise<SnapshotMetadata | null> {
    if (!isSnapshotId(id)) return null;
    const [row]: Record<string, unknown>[] = await this.dataSource.query(`SELECT ${METADATA_COLUMNS} FROM snapshots WHERE id = $1`, [id]);
    return row ? this.snapshots().create(toMetadata(row)) : null;
  }

  /** `istioctl analyze`'s messages for the snapshot (empty until computed); null when there is no such snapshot. */
  async diagnostics(id: string): Promise<AnalyzerMessage[] | null> {
    if (!isSnapshotId(id)) return null;
    const [row]: { diagnostics: AnalyzerMessage[] }[] = await this.dataSource.query('SELECT diagnostics FROM snapshots WHERE id = $1', [
      id,
    ]);
    return row?.diagnostics ?? null;
  }

  /**
   * A snapshot's status, null when there is none: what every question about a snapshot's proxies
   * checks first. A READY snapshot is remembered, so its questions wait for no query (see
   * READY_RECHECK_MS); any other status is read, one column of one row.
   */
  async status(id: string): Promise<SnapshotStatus | null> {
    if (!isSnapshotId(id)) return null;
    const seen = this.readySeen.get(id);
    if (!seen) return this.readStatus(id);
    if (Date.now() - seen.at > READY_RECHECK_MS && !seen.recheck) {
      seen.recheck = this.readStatus(id).catch(() => (seen.recheck = undefined));
    }
    return SnapshotStatus.READY;
  }

  private async readStatus(id: string): Promise<SnapshotStatus | null> {
    const [row]: { status: SnapshotStatus }[] = await this.dataSource.query('SELECT status FROM snapshots WHERE id = $1', [id]);
    if (row?.status === SnapshotStatus.READY) this.readySeen.set(id, { at: Date.now() });
    else this.readySeen.delete(id);
    return row?.status ?? null;
  }

  /** Newest first. The cursor is the position of the last item of the previous page. `meshes`: only those (null: all). */
  async list(limit: number, cursor?: string | null, meshes: string[] | null = null): Promise<SnapshotPage> {
    const after = cursor ? decodeCursor(cursor) : null;
    const rows: (Record<string, unknown> & { cursor_created_at: string })[] = await this.dataSource.query(
      `SELECT ${METADATA_COLUMNS},
              to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_created_at
       FROM snapshots
       WHERE ($2::text[] IS NULL OR mesh = ANY($2))
       ${after ? 'AND (created_at, id) < ($3::timestamptz, $4::uuid)' : ''}
       ORDER BY created_at DESC, id DESC
       LIMIT $1`,
      after ? [limit + 1, meshes, after.createdAt, after.id] : [limit + 1, meshes],
    );
    const entries = rows.slice(0, limit).map((row) => ({
      snapshot: this.snapshots().create(toMetadata(row)),
      cursor: encodeCursor(row.cursor_created_at, String(row.id)),
    }));
    const nextCursor = rows.length > limit ? (entries.at(-1)?.cursor ?? null) : null;
    return { entries, nextCursor };
  }

  /** How many snapshots; `meshes`: in those only (null: all). */
  async count(meshes: string[] | null = null): Promise<number> {
    const [row]: { count: number }[] = await this.dataSource.query(
      'SELECT count(*)::int AS count FROM snapshots WHERE $1::text[] IS NULL OR mesh = ANY($1)',
      [meshes],
    );
    return row?.count ?? 0;
  }

  private snapshots() {
    return this.dataSource.getRepository(SnapshotEntity);
  }

  /**
   * Deletes a snapshot. The content-addressed rows (bodies, list chunks, Envoy objects) only it
   * reached are left to the garbage collector, a background job (GarbageCollector.collect): never
   * inside the request. Returns false when there was no such snapshot.
   */
  async delete(id: string): Promise<boolean> {
    if (!isSnapshotId(id)) return false;
    const { affected } = await this.snapshots().delete({ id });
    this.readySeen.delete(id);
    return Boolean(affected);
  }

  /** The resources of a snapshot in upload order, with their bodies. */
  async resources(snapshotId: string, filter: { kind?: string | null; namespace?: string | null } = {}): Promise<StoredResource[]> {
    const listed = await this.listedResources(snapshotId);
    const wanted = listed.filter(
      ({ entry: r }) => (!filter.kind || r.kind === filter.kind) && (!filter.namespace || r.namespace === filter.namespace),
    );
    const bodies = await this.bodies(wanted.map(({ entry }) => entry.bodyHash));
    return wanted.map(({ entry: r, document }) => {
      const body = bodies.get(r.bodyHash);
      if (!body) throw new Error(`stored snapshot ${snapshotId} is incomplete: body ${r.bodyHash} not found`);
      return { apiVersion: r.apiVersion, kind: r.kind, namespace: r.namespace, name: r.name, evaluated: r.evaluated, document, body };
    });
  }

  /** What istiod derived from the snapshot's Gateway API objects; empty until computed. */
  async gatewayApi(snapshotId: string): Promise<GatewayApi> {
    if (!isSnapshotId(snapshotId)) return NO_GATEWAY_API;
    const [row]: { gateway_api: GatewayApi }[] = await this.dataSource.query('SELECT gateway_api FROM snapshots WHERE id = $1', [
      snapshotId,
    ]);
    return row?.gateway_api ?? NO_GATEWAY_API;
  }

  /** The mesh identity and PeerAuthentication resolutions the compute job stored; null before (or computed before they were stored). */
  async meshSecurity(snapshotId: string): Promise<MeshSecurity | null> {
    if (!isSnapshotId(snapshotId)) return null;
    const [row]: { mesh_security: MeshSecurity | null }[] = await this.dataSource.query(
      'SELECT mesh_security FROM snapshots WHERE id = $1',
      [snapshotId],
    );
    return row?.mesh_security ?? null;
  }

  /**
   * The resource entries of two snapshots that are not in both (ListNodeStore.difference): what a
   * diff compares, without reading the lists' shared chunks.
   */
  async resourceDifference(baseId: string, headId: string): Promise<{ base: ResourceEntry[]; head: ResourceEntry[] }> {
    const ids = [baseId, headId].filter(isSnapshotId);
    const rows: { id: string; resource_list: Buffer }[] = ids.length
      ? await this.dataSource.query('SELECT id, resource_list FROM snapshots WHERE id = ANY($1::uuid[])', [ids])
      : [];
    const root = (id: string) => rows.find((r) => r.id === id)?.resource_list ?? null;
    const { a, b } = await this.lists.difference(resourceListCodec, root(baseId), root(headId));
    return { base: a, head: b };
  }

  /** Resource bodies by hash (those stored). */
  async bodies(hashes: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    const unique = [...new Set(hashes)];
    for (let i = 0; i < unique.length; i += INSERT_CHUNK) {
      const rows: { hash: string; body: Record<string, unknown> }[] = await this.dataSource.query(
        `SELECT encode(hash, 'hex') AS hash, body FROM resource_bodies WHERE hash = ANY($1::bytea[])`,
        [unique.slice(i, i + INSERT_CHUNK).map((h) => Buffer.from(h, 'hex'))],
      );
      for (const r of rows) out.set(r.hash, r.body);
    }
    return out;
  }

  private async listedResources(snapshotId: string): Promise<{ entry: ResourceEntry; document: number }[]> {
    if (!isSnapshotId(snapshotId)) return [];
    const [row]: { resource_list: Buffer; resource_documents: [number, number][] }[] = await this.dataSource.query(
      'SELECT resource_list, resource_documents FROM snapshots WHERE id = $1',
      [snapshotId],
    );
    if (!row) return [];
    const entries = await this.lists.read(resourceListCodec, row.resource_list);
    return entries.map((entry, position) => ({ entry, document: documentAt(row.resource_documents, position) }));
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

  /**
   * The newest READY snapshot of the same mesh uploaded before this one, computed with the same
   * Istio: the one a computation can reuse stored config from. Null when there is none.
   */
  async previousReady(id: string, istioVersion: string): Promise<string | null> {
    if (!isSnapshotId(id)) return null;
    const [row]: { id: string }[] = await this.dataSource.query(
      `SELECT p.id FROM snapshots s JOIN snapshots p ON p.mesh = s.mesh AND p.id <> s.id
       WHERE s.id = $1 AND p.status = 'READY' AND p.istio_version = $2 AND p.proxy_class_list IS NOT NULL
         AND (p.created_at, p.id) < (s.created_at, s.id)
       ORDER BY p.created_at DESC, p.id DESC LIMIT 1`,
      [id, istioVersion],
    );
    return row?.id ?? null;
  }

  /** PENDING → COMPUTING. False when the snapshot no longer exists (deleted while queued). */
  /** An attempt starts; a retry says why in `error` (what became of the attempt before it). */
  async markComputing(id: string, retryNote?: string): Promise<boolean> {
    const { affected } = await this.snapshots().update(
      { id },
      { status: SnapshotStatus.COMPUTING, progress: 0, ...(retryNote ? { error: retryNote } : {}) },
    );
    return Boolean(affected);
  }

  async setProgress(id: string, progress: number): Promise<void> {
    await this.snapshots().update({ id }, { progress: clamp01(progress) });
  }

  async markReady(id: string): Promise<void> {
    await this.snapshots().update({ id }, { status: SnapshotStatus.READY, progress: 1, error: null });
  }

  /** An attempt failed: FAILED when it was the last one, else back to PENDING for the retry. */
  async recordFailure(id: string, reason: string, final: boolean): Promise<void> {
    await this.snapshots().update({ id }, { status: final ? SnapshotStatus.FAILED : SnapshotStatus.PENDING, error: reason });
  }

  /** The queue gave up on the snapshot's job (e.g. its worker crashed on the last attempt). */
  async markAbandoned(id: string, reason: string): Promise<void> {
    await this.dataSource.query(`UPDATE snapshots SET status = 'FAILED', error = COALESCE(error, $2) WHERE id = $1 AND status <> 'READY'`, [
      id,
      reason,
    ]);
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

/**
 * A snapshot as get and list read it: its metadata and status. The other columns are read where
 * they are needed; the diagnostics above all (megabytes of JSON on a big mesh, which every poll of
 * a READY snapshot would parse on the event loop).
 */
export type SnapshotMetadata = Omit<SnapshotEntity, 'diagnostics'>;

/** The columns of SnapshotMetadata (toMetadata maps them). */
const METADATA_COLUMNS = 'id, name, mesh, created_by, created_at, status, progress, error, resource_count, istio_version';

function toMetadata(row: Record<string, unknown>): Partial<SnapshotEntity> {
  return {
    id: row.id as string,
    name: row.name as string | null,
    mesh: row.mesh as string,
    createdBy: row.created_by as string | null,
    createdAt: row.created_at as Date,
    status: row.status as SnapshotStatus,
    progress: row.progress as number,
    error: row.error as string | null,
    resourceCount: row.resource_count as number,
    istioVersion: row.istio_version as string | null,
  };
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, Number.isFinite(value) ? value : 0));
}
