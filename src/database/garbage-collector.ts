import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { HASH_BYTES } from './chunked-list.js';
import { CLASS_CONFIG_HASH_INDEX, CLASS_PROXY_INFO_INDEX, compactHashBytesSql, RESOURCE_BODY_HASH_INDEX } from './snapshot-lists.js';

/**
 * Advisory lock between the writers of shared, content-addressed rows (an upload, a compute job's
 * commit: shared) and the garbage collector (exclusive): a writer that found a row already stored
 * (ON CONFLICT DO NOTHING) must not see it collected before it commits its reference.
 */
const STORAGE_GC_LOCK = 0x6d6c656e766f79n; // "mlenvoy"

/** Taken by every transaction that references shared rows, before it writes. */
export async function lockAgainstCollection(em: EntityManager): Promise<void> {
  await em.query('SELECT pg_advisory_xact_lock_shared($1)', [STORAGE_GC_LOCK.toString()]);
}

/**
 * Deletes the content-addressed rows no snapshot reaches any more, by mark and sweep: list nodes
 * under no snapshot's list roots, resource bodies no resource chunk names, tree nodes under no class's config
 * root, Envoy objects in no live node and no class's ProxyInfo, virtual hosts of no live route configuration. A reverse index (who references
 * this row) would make each deletion cheaper, but it would cost every snapshot rows of its own,
 * which the chunked storage exists to avoid; deletions are rare, snapshots many.
 */
@Injectable()
export class GarbageCollector {
  private readonly logger = new Logger(GarbageCollector.name);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** One pass; what it freed (rows per table) and how long it took, also logged. */
  async collect(): Promise<CollectionResult> {
    const started = Date.now();
    const collected = await this.dataSource.transaction(async (em) => {
      await em.query('SELECT pg_advisory_xact_lock($1)', [STORAGE_GC_LOCK.toString()]);
      const split = (column: string) => `substring(${column} FROM i * ${HASH_BYTES} + 1 FOR ${HASH_BYTES})`;
      const range = (column: string) => `generate_series(0, length(${column}) / ${HASH_BYTES} - 1) AS i`;
      // Every list node under a snapshot's list roots (UNION: each once, however many lists share it).
      await em.query(
        `CREATE TEMP TABLE gc_live_list_nodes ON COMMIT DROP AS
         WITH RECURSIVE reach(hash) AS (
           SELECT resource_list FROM snapshots
           UNION SELECT workload_list FROM snapshots WHERE workload_list IS NOT NULL
           UNION SELECT proxy_class_list FROM snapshots WHERE proxy_class_list IS NOT NULL
           UNION SELECT connection_list FROM snapshots WHERE connection_list IS NOT NULL
           UNION SELECT sender_list FROM snapshots WHERE sender_list IS NOT NULL
           UNION
           SELECT ${split('n.children')} FROM reach r JOIN list_nodes n ON n.hash = r.hash AND n.level > 0
           CROSS JOIN LATERAL ${range('n.children')}
         ) SELECT hash FROM reach`,
      );
      const listNodes = await deleted(
        em,
        `DELETE FROM list_nodes c WHERE NOT EXISTS (SELECT 1 FROM gc_live_list_nodes l WHERE l.hash = c.hash)`,
      );
      const entries = (list: string, index: number) =>
        `SELECT DISTINCT ${compactHashBytesSql(`(e ->> ${index})`)} AS hash FROM list_nodes c CROSS JOIN LATERAL jsonb_array_elements(c.entries) e WHERE c.list = '${list}' AND c.level = 0`;
      await em.query(`CREATE TEMP TABLE gc_live_bodies ON COMMIT DROP AS ${entries('resources', RESOURCE_BODY_HASH_INDEX)}`);
      const resourceBodies = await deleted(
        em,
        `DELETE FROM resource_bodies b WHERE NOT EXISTS (SELECT 1 FROM gc_live_bodies l WHERE l.hash = b.hash)`,
      );
      // Every node under a live root (UNION: each once, however many trees share it).
      await em.query(
        `CREATE TEMP TABLE gc_live_nodes ON COMMIT DROP AS
         WITH RECURSIVE reach(hash) AS (
           ${entries('classes', CLASS_CONFIG_HASH_INDEX)}
           UNION
           SELECT ${split('n.children')} FROM reach r JOIN envoy_config_nodes n ON n.hash = r.hash
           CROSS JOIN LATERAL ${range('n.children')}
         ) SELECT hash FROM reach`,
      );
      const configNodes = await deleted(
        em,
        `DELETE FROM envoy_config_nodes n WHERE NOT EXISTS (SELECT 1 FROM gc_live_nodes l WHERE l.hash = n.hash)`,
      );
      await em.query(
        `CREATE TEMP TABLE gc_live_objects ON COMMIT DROP AS
         SELECT DISTINCT ${split('n.objects')} AS hash FROM envoy_config_nodes n CROSS JOIN LATERAL ${range('n.objects')}
         UNION ${entries('classes', CLASS_PROXY_INFO_INDEX)}`,
      );
      const envoyObjects = await deleted(
        em,
        `DELETE FROM envoy_objects o WHERE NOT EXISTS (SELECT 1 FROM gc_live_objects l WHERE l.hash = o.hash)`,
      );
      // A route configuration's envoy_route_hosts row went with it (ON DELETE CASCADE): its virtual
      // hosts live while another row lists them.
      await em.query(
        `CREATE TEMP TABLE gc_live_virtual_hosts ON COMMIT DROP AS
         SELECT DISTINCT ${split('r.hosts')} AS hash FROM envoy_route_hosts r CROSS JOIN LATERAL ${range('r.hosts')}`,
      );
      const virtualHosts = await deleted(
        em,
        `DELETE FROM envoy_virtual_hosts v WHERE NOT EXISTS (SELECT 1 FROM gc_live_virtual_hosts l WHERE l.hash = v.hash)`,
      );
      return { listNodes, resourceBodies, configNodes, envoyObjects, virtualHosts };
    });
    const durationMs = Date.now() - started;
    this.logger.log(`collected ${JSON.stringify(collected)} rows no snapshot reaches, in ${durationMs} ms`);
    return { durationMs, freed: collected };
  }
}

/** Rows a collection freed, per table. */
export interface CollectedRows {
  listNodes: number;
  resourceBodies: number;
  configNodes: number;
  envoyObjects: number;
  virtualHosts: number;
}

export interface CollectionResult {
  durationMs: number;
  freed: CollectedRows;
}

/** Runs a DELETE; returns how many rows it deleted (TypeORM answers [rows, count]). */
async function deleted(em: EntityManager, sql: string): Promise<number> {
  const [, count] = await em.query<[unknown[], number]>(sql);
  return count;
}
