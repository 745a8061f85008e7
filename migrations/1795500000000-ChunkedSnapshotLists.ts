import type { MigrationInterface, QueryRunner } from 'typeorm';
import { buildList, documentRuns } from '../src/database/chunked-list.js';
import { EnvoyObjectCollector, type ConfigEntry } from '../src/database/envoy-tree.js';
import type { EnvoyType } from '../src/model/proxy.js';
import {
  classListCodec,
  compareWorkloads,
  resourceListCodec,
  workloadListCodec,
  type ListCodec,
  type StoredWorkload,
} from '../src/database/snapshot-lists.js';

/**
 * Per-snapshot rows (snapshot_resources, workloads, proxy_classes) become trees of content-addressed
 * chunks, the snapshot keeping their roots (src/database/chunked-list.ts), so a further snapshot that changes 1 % of a mesh stores
 * about 1 % more; hashes become 32 bytes instead of 64 hex characters; config trees are rebuilt
 * with segment trees (src/database/envoy-tree.ts), and the GIN index on tree nodes' children goes
 * (garbage collection marks and sweeps instead). Existing snapshots are converted, not dropped.
 * The chunking and trees are the application's own: content addressing must agree with what the
 * stores write from now on.
 */
export class ChunkedSnapshotLists1795500000000 implements MigrationInterface {
  name = 'ChunkedSnapshotLists1795500000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "list_nodes" ("hash" bytea NOT NULL, "list" text NOT NULL, "level" smallint NOT NULL, "entries" jsonb, "children" bytea,
       CONSTRAINT "PK_list_nodes" PRIMARY KEY ("hash"))`,
    );
    await q.query(
      `ALTER TABLE "snapshots" ADD "resource_list" bytea, ADD "resource_documents" jsonb NOT NULL DEFAULT '[]',
       ADD "workload_list" bytea, ADD "proxy_class_list" bytea`,
    );

    const { configs, collector } = await rebuildConfigTrees(q);
    const snapshots: { id: string }[] = await q.query('SELECT id FROM snapshots ORDER BY created_at, id');
    for (const { id } of snapshots) {
      const resources: {
        document: number;
        api_version: string;
        kind: string;
        namespace: string | null;
        name: string;
        evaluated: boolean;
        body_hash: string;
      }[] = await q.query(
        'SELECT document, api_version, kind, namespace, name, evaluated, body_hash FROM snapshot_resources WHERE snapshot_id = $1 ORDER BY position',
        [id],
      );
      const resourceList = await writeList(
        q,
        resourceListCodec,
        resources.map((r) => ({
          apiVersion: r.api_version,
          kind: r.kind,
          namespace: r.namespace,
          name: r.name,
          evaluated: r.evaluated,
          bodyHash: r.body_hash,
        })),
      );
      await q.query('UPDATE snapshots SET resource_list = $2, resource_documents = $3::jsonb WHERE id = $1', [
        id,
        resourceList,
        JSON.stringify(documentRuns(resources.map((r) => r.document))),
      ]);
      const workloads: StoredWorkload[] = (
        await q.query(
          `SELECT namespace, name, kind, proxy_type::text AS "proxyType", labels, annotations, ips, service_account AS "serviceAccount", services, proxy_class AS "proxyClass"
           FROM workloads WHERE snapshot_id = $1`,
          [id],
        )
      ).sort(compareWorkloads);
      const classes: { classKey: string; configHash: string; proxyInfoHash: string; members: number }[] = (
        await q.query(
          `SELECT class_key AS "classKey", config_hash AS "configHash", proxy_info AS "proxyInfoHash", members FROM proxy_classes WHERE snapshot_id = $1 ORDER BY class_key`,
          [id],
        )
      ).map((c: { configHash: string }) => ({ ...c, configHash: configs.get(c.configHash)! }));
      // Never computed (no workloads, no classes): both lists stay null, as for a new snapshot.
      if (workloads.length === 0 && classes.length === 0) continue;
      await q.query('UPDATE snapshots SET workload_list = $2, proxy_class_list = $3 WHERE id = $1', [
        id,
        await writeList(q, workloadListCodec, workloads),
        await writeList(q, classListCodec, classes),
      ]);
    }

    await q.query(`ALTER TABLE "snapshots" ALTER COLUMN "resource_list" SET NOT NULL`);
    await q.query(`DROP TABLE "proxy_classes"`);
    await q.query(`DROP TABLE "workloads"`);
    await q.query(`DROP TYPE "public"."proxy_type"`);
    await q.query(`DROP TABLE "snapshot_resources"`);
    await q.query(`ALTER TABLE "resource_bodies" ALTER COLUMN "hash" TYPE bytea USING decode("hash", 'hex')`);
    await q.query(`ALTER TABLE "envoy_objects" ALTER COLUMN "hash" TYPE bytea USING decode("hash", 'hex')`);
    await q.query(`DROP INDEX "public"."envoy_config_nodes_children_idx"`);
    await q.query(`DELETE FROM "envoy_config_nodes"`);
    await q.query(
      `ALTER TABLE "envoy_config_nodes" ALTER COLUMN "hash" TYPE bytea USING decode("hash", 'hex'),
       ALTER COLUMN "children" TYPE bytea USING ''::bytea, ADD "objects" bytea NOT NULL`,
    );
    for (const n of collector.nodes.values()) {
      await q.query(
        `INSERT INTO envoy_config_nodes (hash, level, children, objects, listeners, routes, clusters, endpoints)
         VALUES (decode($1, 'hex'), $2, decode($3, 'hex'), decode($4, 'hex'), $5, $6, $7, $8)`,
        [n.hash, n.level, n.children.join(''), n.objects.join(''), n.counts.listener, n.counts.route, n.counts.cluster, n.counts.endpoint],
      );
    }
  }

  public async down(): Promise<void> {
    // The per-snapshot rows could be rebuilt from the lists, but nothing reads them any more: a
    // database goes back only by restoring a backup taken before this migration.
    throw new Error('ChunkedSnapshotLists cannot be reverted; restore a backup taken before it');
  }
}

/** Every stored config's tree rebuilt from its objects (old roots: children text[], leaves at level 0): old root → new root. */
async function rebuildConfigTrees(q: QueryRunner): Promise<{ configs: Map<string, string>; collector: EnvoyObjectCollector }> {
  const roots: string[] = (await q.query('SELECT DISTINCT config_hash FROM proxy_classes')).map(
    (r: { config_hash: string }) => r.config_hash,
  );
  const nodes = new Map<string, { level: number; children: string[] }>();
  for (let wanted = roots; wanted.length > 0;) {
    const rows: { hash: string; level: number; children: string[] }[] = await q.query(
      'SELECT hash, level, children FROM envoy_config_nodes WHERE hash = ANY($1::text[])',
      [wanted],
    );
    for (const r of rows) nodes.set(r.hash, r);
    wanted = [...new Set(rows.filter((r) => r.level > 0).flatMap((r) => r.children))].filter((h) => !nodes.has(h));
  }
  const objectHashes = [...new Set([...nodes.values()].filter((n) => n.level === 0).flatMap((n) => n.children))];
  const names = new Map<string, { type: EnvoyType; name: string }>();
  for (let i = 0; i < objectHashes.length; i += 5000) {
    const rows: { hash: string; type: EnvoyType; name: string }[] = await q.query(
      'SELECT hash, type, name FROM envoy_objects WHERE hash = ANY($1::text[])',
      [objectHashes.slice(i, i + 5000)],
    );
    for (const r of rows) names.set(r.hash, r);
  }
  const collector = new EnvoyObjectCollector();
  const configs = new Map<string, string>();
  for (const root of roots) {
    const entries: ConfigEntry[] = [];
    const walk = (hash: string) => {
      const n = nodes.get(hash)!;
      for (const c of n.children) {
        if (n.level > 0) walk(c);
        else entries.push({ ...names.get(c)!, hash: c });
      }
    };
    walk(root);
    configs.set(root, collector.addTree(entries).root);
  }
  return { configs, collector };
}

async function writeList<E, T>(q: QueryRunner, codec: ListCodec<E, T>, entries: E[]): Promise<Buffer> {
  const tree = buildList(codec.name, entries.map(codec.encode), entries.map(codec.key));
  for (const n of tree.nodes) {
    await q.query(
      `INSERT INTO list_nodes (hash, list, level, entries, children) VALUES (decode($1, 'hex'), $2, $3, $4::jsonb, decode($5, 'hex')) ON CONFLICT (hash) DO NOTHING`,
      [n.hash, codec.name, n.level, n.json, n.level === 0 ? null : n.children.join('')],
    );
  }
  return Buffer.from(tree.root, 'hex');
}
