import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { EnvoyObject, GeneratedConfig, ProxyInfo } from '../generator/protocol.js';
import type { Workload } from '../snapshots/ingest/types.js';
import { toGeneratedLists, type PreparedObject, type TreeNode } from './envoy-tree.js';
import { WorkloadStore } from './workload.store.js';

const INSERT_CHUNK = 1000;
// Objects are large (a route configuration of a big mesh is a megabyte): fewer per statement.
const OBJECT_BYTES_PER_STATEMENT = 8 * 1024 * 1024;
/**
 * Advisory lock between writers of shared rows (a compute job's commit, shared) and the garbage
 * collector (exclusive): a job that found an object already stored (ON CONFLICT DO NOTHING) must
 * not see it collected before it commits its reference.
 */
const ENVOY_GC_LOCK = 0x6d6c656e766f79n; // "mlenvoy"

export interface StoredClass {
  classKey: string;
  configHash: string;
  proxyInfoHash: string;
  members: number;
}

/** Everything a compute job stores, written in one transaction. */
export interface ComputedSnapshot {
  objects: PreparedObject[];
  nodes: TreeNode[];
  classes: StoredClass[];
  /** each workload, with its class key when it has a proxy */
  workloads: (Workload & { proxyClass: string | null })[];
  istioVersion: string;
  diagnostics: unknown[];
}

export interface ProxyStatusRow {
  namespace: string;
  name: string;
  proxyType: string;
  listeners: number;
  routes: number;
  clusters: number;
  endpoints: number;
  configHash: string;
}

export interface WorkloadRef {
  namespace: string;
  name: string;
}

/** Generated proxy config, content-addressed (see envoy-tree.ts): every SQL statement about it. */
@Injectable()
export class ProxyConfigStore {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly workloadStore: WorkloadStore,
  ) {}

  /**
   * Stores a snapshot's computation in one transaction: the objects and tree nodes it needs (each
   * once, whoever else has it; sorted, so concurrent jobs lock shared keys in one order), its
   * classes, its workloads and the generator's results. Replaces what an earlier attempt stored:
   * recomputing yields the same rows, and a job killed before the commit leaves nothing visible.
   */
  async saveComputation(snapshotId: string, computed: ComputedSnapshot): Promise<void> {
    const objects = [...computed.objects].sort((a, b) => cmp(a.hash, b.hash));
    const nodes = [...computed.nodes].sort((a, b) => cmp(a.hash, b.hash));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.dataSource.transaction(async (em) => {
          await em.query('SELECT pg_advisory_xact_lock_shared($1)', [ENVOY_GC_LOCK.toString()]);
          await this.insertObjects(em, objects);
          await this.insertNodes(em, nodes);
          await em.query('DELETE FROM proxy_classes WHERE snapshot_id = $1', [snapshotId]);
          const classes = [...computed.classes].sort((a, b) => cmp(a.classKey, b.classKey));
          for (let i = 0; i < classes.length; i += INSERT_CHUNK) {
            const chunk = classes.slice(i, i + INSERT_CHUNK);
            await em.query(
              `INSERT INTO proxy_classes (snapshot_id, class_key, config_hash, proxy_info, members)
               SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::int[])`,
              [snapshotId, chunk.map((c) => c.classKey), chunk.map((c) => c.configHash), chunk.map((c) => c.proxyInfoHash), chunk.map((c) => c.members)],
            );
          }
          await this.workloadStore.replaceIn(em, snapshotId, computed.workloads);
          await em.query(`UPDATE snapshots SET istio_version = $2, diagnostics = $3::jsonb WHERE id = $1`, [
            snapshotId,
            computed.istioVersion,
            JSON.stringify(computed.diagnostics),
          ]);
        });
        return;
      } catch (error) {
        // A deadlock or serialisation failure against another job: the whole transaction again.
        if (attempt < 3 && ['40P01', '40001'].includes((error as { code?: string }).code ?? '')) continue;
        throw error;
      }
    }
  }

  private async insertObjects(em: EntityManager, objects: PreparedObject[]) {
    for (let i = 0; i < objects.length; ) {
      const chunk: PreparedObject[] = [];
      let bytes = 0;
      while (i < objects.length && chunk.length < INSERT_CHUNK && (chunk.length === 0 || bytes < OBJECT_BYTES_PER_STATEMENT)) {
        bytes += objects[i]!.json.length;
        chunk.push(objects[i++]!);
      }
      await em.query(
        `INSERT INTO envoy_objects (hash, type, name, body)
         SELECT hash, type, name, body::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS o(hash, type, name, body)
         ON CONFLICT (hash) DO NOTHING`,
        [chunk.map((o) => o.hash), chunk.map((o) => o.type), chunk.map((o) => o.name), chunk.map((o) => o.json)],
      );
    }
  }

  private async insertNodes(em: EntityManager, nodes: TreeNode[]) {
    for (let i = 0; i < nodes.length; i += INSERT_CHUNK) {
      const chunk = nodes.slice(i, i + INSERT_CHUNK);
      await em.query(
        `INSERT INTO envoy_config_nodes (hash, level, children, listeners, routes, clusters, endpoints)
         SELECT n.hash, n.level, ARRAY(SELECT jsonb_array_elements_text(n.children::jsonb)), n.listeners, n.routes, n.clusters, n.endpoints
         FROM unnest($1::text[], $2::smallint[], $3::text[], $4::int[], $5::int[], $6::int[], $7::int[])
           AS n(hash, level, children, listeners, routes, clusters, endpoints)
         ON CONFLICT (hash) DO NOTHING`,
        [
          chunk.map((n) => n.hash),
          chunk.map((n) => n.level),
          // Arrays of arrays are not rectangular; each node's children travel as JSON.
          chunk.map((n) => JSON.stringify(n.children)),
          chunk.map((n) => n.counts.listener),
          chunk.map((n) => n.counts.route),
          chunk.map((n) => n.counts.cluster),
          chunk.map((n) => n.counts.endpoint),
        ],
      );
    }
  }

  /** The roots and ProxyInfos a snapshot's classes reference: what to collect after deleting it. */
  async referencesOf(em: EntityManager, snapshotId: string): Promise<{ roots: string[]; infos: string[] }> {
    const rows: { config_hash: string; proxy_info: string }[] = await em.query(
      'SELECT DISTINCT config_hash, proxy_info FROM proxy_classes WHERE snapshot_id = $1',
      [snapshotId],
    );
    return { roots: [...new Set(rows.map((r) => r.config_hash))], infos: [...new Set(rows.map((r) => r.proxy_info))] };
  }

  /**
   * Deletes the tree nodes and objects under `roots` (and the ProxyInfos `infos`) that nothing
   * references any more: top down, a node goes when no class and no other node references it,
   * then its children are candidates. Holds the exclusive lock, so no job commits a reference to
   * a row being collected.
   */
  async collect(refs: { roots: string[]; infos: string[] }): Promise<void> {
    if (refs.roots.length === 0 && refs.infos.length === 0) return;
    await this.dataSource.transaction(async (em) => {
      await em.query('SELECT pg_advisory_xact_lock($1)', [ENVOY_GC_LOCK.toString()]);
      const objectCandidates = new Set(refs.infos);
      let candidates = [...new Set(refs.roots)].sort();
      while (candidates.length > 0) {
        // TypeORM answers a DELETE ... RETURNING with [rows, count].
        const [deleted]: [{ level: number; children: string[] }[], number] = await em.query(
          `DELETE FROM envoy_config_nodes n
           WHERE n.hash = ANY($1::text[])
             AND NOT EXISTS (SELECT 1 FROM proxy_classes c WHERE c.config_hash = n.hash)
             AND NOT EXISTS (SELECT 1 FROM envoy_config_nodes p WHERE p.children @> ARRAY[n.hash])
           RETURNING n.level, n.children`,
          [candidates],
        );
        const next = new Set<string>();
        for (const d of deleted) for (const c of d.children) (d.level === 0 ? objectCandidates : next).add(c);
        candidates = [...next].sort();
      }
      const objects = [...objectCandidates].sort();
      for (let i = 0; i < objects.length; i += INSERT_CHUNK) {
        await em.query(
          `DELETE FROM envoy_objects o
           WHERE o.hash = ANY($1::text[])
             AND NOT EXISTS (SELECT 1 FROM envoy_config_nodes p WHERE p.children @> ARRAY[o.hash])
             AND NOT EXISTS (SELECT 1 FROM proxy_classes c WHERE c.proxy_info = o.hash)`,
          [objects.slice(i, i + INSERT_CHUNK)],
        );
      }
    });
  }

  /** One row per proxy of the snapshot, like `istioctl proxy-status`. */
  async proxyStatus(snapshotId: string): Promise<ProxyStatusRow[]> {
    const rows: {
      namespace: string;
      name: string;
      proxy_type: string;
      listeners: number;
      routes: number;
      clusters: number;
      endpoints: number;
      config_hash: string;
    }[] = await this.dataSource.query(
      `SELECT w.namespace, w.name, w.proxy_type, n.listeners, n.routes, n.clusters, n.endpoints, c.config_hash
       FROM workloads w
       JOIN proxy_classes c ON c.snapshot_id = w.snapshot_id AND c.class_key = w.proxy_class
       JOIN envoy_config_nodes n ON n.hash = c.config_hash
       WHERE w.snapshot_id = $1
       ORDER BY w.namespace, w.name`,
      [snapshotId],
    );
    return rows.map((r) => ({
      namespace: r.namespace,
      name: r.name,
      proxyType: r.proxy_type,
      listeners: r.listeners,
      routes: r.routes,
      clusters: r.clusters,
      endpoints: r.endpoints,
      configHash: r.config_hash,
    }));
  }

  /**
   * The stored configs of named workloads of one snapshot, in a fixed number of queries however
   * many workloads: the workloads and their classes, each tree level, the objects. A workload
   * without a stored config (no proxy, not computed) is absent from the result.
   */
  async configsOf(snapshotId: string, workloads: WorkloadRef[]): Promise<Map<string, GeneratedConfig>> {
    const out = new Map<string, GeneratedConfig>();
    if (workloads.length === 0) return out;
    const rows: { namespace: string; name: string; ips: string[]; config_hash: string; info: Omit<ProxyInfo, 'id' | 'ips'> }[] =
      await this.dataSource.query(
        `SELECT w.namespace, w.name, w.ips, c.config_hash, i.body AS info
         FROM unnest($2::text[], $3::text[]) AS q(namespace, name)
         JOIN workloads w ON w.snapshot_id = $1 AND w.namespace = q.namespace AND w.name = q.name
         JOIN proxy_classes c ON c.snapshot_id = w.snapshot_id AND c.class_key = w.proxy_class
         JOIN envoy_objects i ON i.hash = c.proxy_info`,
        [snapshotId, workloads.map((w) => w.namespace), workloads.map((w) => w.name)],
      );
    const lists = await this.objectsUnder([...new Set(rows.map((r) => r.config_hash))]);
    for (const r of rows) {
      const objects = lists.get(r.config_hash);
      if (!objects) continue;
      const proxy: ProxyInfo = { ...r.info, id: `${r.name}.${r.namespace}`, ips: r.ips };
      out.set(workloadKey(r), { proxy, ...toGeneratedLists(objects) });
    }
    return out;
  }

  /** Each root's objects, in leaf order. */
  private async objectsUnder(roots: string[]): Promise<Map<string, { type: string; body: EnvoyObject }[]>> {
    const nodes = new Map<string, { level: number; children: string[] }>();
    for (let wanted = roots; wanted.length > 0; ) {
      const rows: { hash: string; level: number; children: string[] }[] = await this.dataSource.query(
        'SELECT hash, level, children FROM envoy_config_nodes WHERE hash = ANY($1::text[])',
        [wanted],
      );
      const next = new Set<string>();
      for (const r of rows) {
        nodes.set(r.hash, r);
        if (r.level > 0) for (const c of r.children) if (!nodes.has(c)) next.add(c);
      }
      wanted = [...next];
    }
    const objectHashes = new Set<string>();
    for (const n of nodes.values()) if (n.level === 0) for (const c of n.children) objectHashes.add(c);
    const objects = new Map<string, { type: string; body: EnvoyObject }>();
    const hashes = [...objectHashes];
    for (let i = 0; i < hashes.length; i += 5000) {
      const rows: { hash: string; type: string; body: EnvoyObject }[] = await this.dataSource.query(
        'SELECT hash, type, body FROM envoy_objects WHERE hash = ANY($1::text[])',
        [hashes.slice(i, i + 5000)],
      );
      for (const r of rows) objects.set(r.hash, r);
    }
    const out = new Map<string, { type: string; body: EnvoyObject }[]>();
    for (const root of roots) {
      const list: { type: string; body: EnvoyObject }[] = [];
      const walk = (hash: string): boolean => {
        const node = nodes.get(hash);
        if (!node) return false;
        for (const c of node.children) {
          if (node.level > 0) {
            if (!walk(c)) return false;
          } else {
            const o = objects.get(c);
            if (!o) return false;
            list.push(o);
          }
        }
        return true;
      };
      if (walk(root)) out.set(root, list);
    }
    return out;
  }

  /** Bytes each table of this storage takes (relation, indexes, TOAST), for the benchmark and metrics. */
  async tableSizes(): Promise<Record<string, number>> {
    const rows: { name: string; bytes: string }[] = await this.dataSource.query(
      `SELECT c.relname AS name, pg_total_relation_size(c.oid)::text AS bytes
       FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
       WHERE s.nspname = 'public' AND c.relkind = 'r'`,
    );
    return Object.fromEntries(rows.map((r) => [r.name, Number(r.bytes)]));
  }
}

export function workloadKey(w: WorkloadRef): string {
  return `${w.namespace}/${w.name}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
