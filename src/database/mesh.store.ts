import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { RetentionPolicy } from '../model/access.js';
import { SnapshotStatus } from './entities/index.js';

/** A snapshot as a mesh listing names it. */
export interface MeshSnapshotRef {
  id: string;
  createdAt: Date;
  status: SnapshotStatus;
}

export interface MeshSummary {
  name: string;
  snapshotCount: number;
  /** The newest READY snapshot: what `NAME@latest` stands for. */
  latest: MeshSnapshotRef | null;
  /** The newest snapshot, whatever its status. */
  newest: MeshSnapshotRef | null;
  /** The mesh's own retention settings; null: the defaults apply. */
  retention: RetentionPolicy | null;
}

/** Meshes (named streams of snapshots), their settings and retention: every SQL statement about them. */
@Injectable()
export class MeshStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The meshes holding snapshots or settings, by name; `only` restricts to those meshes (null: all). */
  async list(only: string[] | null): Promise<MeshSummary[]> {
    const rows: {
      mesh: string;
      count: number;
      latest_id: string | null;
      latest_created_at: Date | null;
      newest_id: string | null;
      newest_created_at: Date | null;
      newest_status: SnapshotStatus | null;
      has_settings: boolean;
      keep_last: number | null;
      keep_seconds: number | null;
    }[] = await this.dataSource.query(
      `WITH names AS (
         SELECT mesh FROM snapshots WHERE $1::text[] IS NULL OR mesh = ANY($1)
         UNION SELECT mesh FROM mesh_settings WHERE $1::text[] IS NULL OR mesh = ANY($1)
       )
       SELECT n.mesh,
              (SELECT count(*)::int FROM snapshots s WHERE s.mesh = n.mesh) AS count,
              l.id AS latest_id, l.created_at AS latest_created_at,
              w.id AS newest_id, w.created_at AS newest_created_at, w.status AS newest_status,
              ms.mesh IS NOT NULL AS has_settings, ms.keep_last, ms.keep_seconds
       FROM names n
       LEFT JOIN LATERAL (SELECT id, created_at FROM snapshots s WHERE s.mesh = n.mesh AND s.status = 'READY'
                          ORDER BY created_at DESC, id DESC LIMIT 1) l ON true
       LEFT JOIN LATERAL (SELECT id, created_at, status FROM snapshots s WHERE s.mesh = n.mesh
                          ORDER BY created_at DESC, id DESC LIMIT 1) w ON true
       LEFT JOIN mesh_settings ms ON ms.mesh = n.mesh
       ORDER BY n.mesh COLLATE "C"`,
      [only],
    );
    return rows.map((r) => ({
      name: r.mesh,
      snapshotCount: r.count,
      latest: r.latest_id ? { id: r.latest_id, createdAt: r.latest_created_at!, status: SnapshotStatus.READY } : null,
      newest: r.newest_id ? { id: r.newest_id, createdAt: r.newest_created_at!, status: r.newest_status! } : null,
      retention: r.has_settings ? { keepLast: r.keep_last, keepSeconds: r.keep_seconds } : null,
    }));
  }

  /** The newest READY snapshot of the mesh (`MESH@latest`), or null. */
  async latestReady(mesh: string): Promise<string | null> {
    const [row]: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM snapshots WHERE mesh = $1 AND status = 'READY' ORDER BY created_at DESC, id DESC LIMIT 1`,
      [mesh],
    );
    return row?.id ?? null;
  }

  /** The mesh of a snapshot, or null when there is no such snapshot. */
  async meshOf(snapshotId: string): Promise<string | null> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(snapshotId)) return null;
    const [row]: { mesh: string }[] = await this.dataSource.query('SELECT mesh FROM snapshots WHERE id = $1', [snapshotId]);
    return row?.mesh ?? null;
  }

  /** The mesh's own retention settings; null when it has none (the defaults apply). */
  async retention(mesh: string): Promise<RetentionPolicy | null> {
    const [row]: { keep_last: number | null; keep_seconds: number | null }[] = await this.dataSource.query(
      'SELECT keep_last, keep_seconds FROM mesh_settings WHERE mesh = $1',
      [mesh],
    );
    return row ? { keepLast: row.keep_last, keepSeconds: row.keep_seconds } : null;
  }

  async setRetention(mesh: string, policy: RetentionPolicy): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO mesh_settings (mesh, keep_last, keep_seconds) VALUES ($1, $2, $3)
       ON CONFLICT (mesh) DO UPDATE SET keep_last = $2, keep_seconds = $3, updated_at = now()`,
      [mesh, policy.keepLast, policy.keepSeconds],
    );
  }

  /** Every mesh that holds snapshots. */
  async names(): Promise<string[]> {
    // GROUP BY, not DISTINCT: Postgres refuses a DISTINCT whose ORDER BY (the collated name) is
    // not in its select list.
    const rows: { mesh: string }[] = await this.dataSource.query('SELECT mesh FROM snapshots GROUP BY mesh ORDER BY mesh COLLATE "C"');
    return rows.map((r) => r.mesh);
  }

  /**
   * Deletes the mesh's snapshots no rule keeps, in one statement (one consistent view of the mesh,
   * whatever uploads commit meanwhile): a snapshot is kept when it is among the newest `keepLast`,
   * or younger than `keepSeconds`, or (unless `protectLatest` is false) the newest READY one. A
   * policy without any rule deletes nothing. Returns the deleted ids; the rows they alone reached
   * are left to the garbage collector.
   */
  async applyRetention(mesh: string, policy: RetentionPolicy, protectLatest = true): Promise<string[]> {
    if (policy.keepLast === null && policy.keepSeconds === null) return [];
    const [rows]: [{ id: string }[], number] = await this.dataSource.query(
      `WITH ranked AS (
         SELECT id, created_at, row_number() OVER (ORDER BY created_at DESC, id DESC) AS rank
         FROM snapshots WHERE mesh = $1
       ), latest AS (
         SELECT id FROM snapshots WHERE mesh = $1 AND status = '${SnapshotStatus.READY}' ORDER BY created_at DESC, id DESC LIMIT 1
       )
       DELETE FROM snapshots s USING ranked r
       WHERE s.id = r.id
         AND ($2::int IS NULL OR r.rank > $2)
         AND ($3::int IS NULL OR r.created_at < now() - make_interval(secs => $3))
         AND (NOT $4::boolean OR s.id NOT IN (SELECT id FROM latest))
       RETURNING s.id`,
      [mesh, policy.keepLast, policy.keepSeconds, protectLatest],
    );
    return rows.map((r) => r.id);
  }
}
