// A database holding snapshots in the per-snapshot-rows schema (migrations up to ProxyStorage) is
// converted by ChunkedSnapshotLists, not emptied: the same resources, documents, workloads, proxy
// status and stored configs read back afterwards, and garbage collection still finds every row.
import { DataSource } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../migrations/index.js';
import { dataSourceOptions } from '../../src/database/data-source.js';
import { EnvoyObjectCollector, PROXY_INFO_TYPE } from '../../src/database/envoy-tree.js';
import { ProxyConfigStore } from '../../src/database/proxy-config.store.js';
import { GarbageCollector } from '../../src/database/garbage-collector.js';
import { SnapshotStore } from '../../src/database/snapshot.store.js';
import { WorkloadStore } from '../../src/database/workload.store.js';
import { contentHash, canonicalJson } from '../../src/model/canonical.js';
import { useTestApp, type TestDatabase } from '../support/test-app.js';

const SNAPSHOT = '11111111-2222-3333-4444-555555555555';
const bodies = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ port: 80 }] } },
];
const config = {
  listeners: [{ name: 'virtualOutbound', address: { socketAddress: { address: '0.0.0.0', portValue: 15001 } } }],
  routes: [{ name: '80', virtualHosts: [] }],
  clusters: [{ name: 'outbound|80||web.shop.svc.cluster.local', type: 'EDS' }],
  endpoints: [{ clusterName: 'outbound|80||web.shop.svc.cluster.local', endpoints: [] }],
};
const proxyInfo = { type: 'SIDECAR', namespace: 'shop', labels: { app: 'web' } };

/** The old schema, with one READY snapshot in it, before the app runs the later migrations. */
async function oldDatabase(db: TestDatabase) {
  const old = new DataSource({ ...dataSourceOptions(db.url), migrations: MIGRATIONS.slice(0, 2), migrationsRun: false });
  await old.initialize();
  await old.runMigrations();
  await old.query(
    `INSERT INTO snapshots (id, name, status, progress, resource_count, istio_version) VALUES ($1, 'old', 'READY', 1, 2, '1.31.0')`,
    [SNAPSHOT],
  );
  for (const [position, body] of bodies.entries()) {
    await old.query('INSERT INTO resource_bodies (hash, body) VALUES ($1, $2::jsonb)', [contentHash(body), canonicalJson(body)]);
    await old.query(
      `INSERT INTO snapshot_resources (snapshot_id, position, document, api_version, kind, namespace, name, evaluated, body_hash)
       VALUES ($1, $2, $3, 'v1', $4, $5, $6, true, $7)`,
      // documents 0 and 2: an empty document between them
      [SNAPSHOT, position, position * 2, body.kind, body.metadata.namespace ?? null, body.metadata.name, contentHash(body)],
    );
  }
  const collector = new EnvoyObjectCollector();
  collector.addConfig(config);
  const info = collector.addObject(PROXY_INFO_TYPE, '', proxyInfo);
  for (const o of collector.objects.values())
    await old.query('INSERT INTO envoy_objects (hash, type, name, body) VALUES ($1, $2, $3, $4::jsonb)', [o.hash, o.type, o.name, o.json]);
  // The old tree: a leaf listing the config's objects (children at level 0 are objects), under a root.
  const leaf = contentHash('old leaf');
  const root = contentHash('old root');
  const objects = [...collector.objects.values()].filter((o) => o.type !== PROXY_INFO_TYPE).map((o) => o.hash);
  const node =
    'INSERT INTO envoy_config_nodes (hash, level, children, listeners, routes, clusters, endpoints) VALUES ($1, $2, $3, 1, 1, 1, 1)';
  await old.query(node, [leaf, 0, objects]);
  await old.query(node, [root, 1, [leaf]]);
  await old.query(
    `INSERT INTO proxy_classes (snapshot_id, class_key, config_hash, proxy_info, members) VALUES ($1, 'class-web', $2, $3, 1)`,
    [SNAPSHOT, root, info],
  );
  const workload = `INSERT INTO workloads (snapshot_id, namespace, name, kind, proxy_type, labels, annotations, ips, service_account, services, proxy_class)
                    VALUES ($1, 'shop', $2, 'Pod', $3, $4::jsonb, '{}', $5, 'default', $6, $7)`;
  await old.query(workload, [
    SNAPSHOT,
    'web-1',
    'SIDECAR',
    JSON.stringify({ app: 'web' }),
    ['10.0.0.1'],
    ['web.shop.svc.cluster.local'],
    'class-web',
  ]);
  await old.query(workload, [SNAPSHOT, 'legacy', 'NONE', '{}', ['10.0.0.9'], [], null]);
  await old.destroy();
}

const t = useTestApp({ worker: false, beforeStart: oldDatabase });

describe('ChunkedSnapshotLists on a database with snapshots', () => {
  it('keeps the resources, in order, with their documents and bodies', async () => {
    const resources = await t.app.get(SnapshotStore).resources(SNAPSHOT);
    expect(resources.map((r) => [r.kind, r.name, r.document])).toEqual([
      ['Namespace', 'shop', 0],
      ['Service', 'web', 2],
    ]);
    expect(resources.map((r) => r.body)).toEqual(bodies);
  });

  it('keeps the workloads, the proxy status and the stored config', async () => {
    expect((await t.app.get(WorkloadStore).list(SNAPSHOT)).map((w) => [w.name, w.proxyType, w.ips, w.proxyClass])).toEqual([
      ['legacy', 'NONE', ['10.0.0.9'], null],
      ['web-1', 'SIDECAR', ['10.0.0.1'], 'class-web'],
    ]);
    const store = t.app.get(ProxyConfigStore);
    expect(await store.proxyStatus(SNAPSHOT)).toEqual([
      expect.objectContaining({ namespace: 'shop', name: 'web-1', listeners: 1, routes: 1, clusters: 1, endpoints: 1 }),
    ]);
    const stored = (await store.configsOf(SNAPSHOT, [{ namespace: 'shop', name: 'web-1' }])).get('shop/web-1')!;
    expect({ listeners: stored.listeners, routes: stored.routes, clusters: stored.clusters, endpoints: stored.endpoints }).toEqual(config);
    expect(stored.proxy).toMatchObject({ ...proxyInfo, id: 'web-1.shop', ips: ['10.0.0.1'] });
    // the config's hash is the rebuilt tree's, as the worker would store it now
    expect((await store.classesOf(SNAPSHOT))[0]!.configHash).toBe(new EnvoyObjectCollector().addConfig(config).root);
  });

  it('drops the per-snapshot tables; deleting the snapshot leaves no row behind', async () => {
    const [tables] = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('snapshot_resources', 'workloads', 'proxy_classes')`,
    );
    expect(tables!.n).toBe(0);
    expect(await t.app.get(SnapshotStore).delete(SNAPSHOT)).toBe(true);
    // A deletion leaves the collection to the background job; run one here.
    await t.app.get(GarbageCollector).collect();
    const [left] = await t.db.query(
      `SELECT (SELECT count(*)::int FROM list_nodes) AS chunks, (SELECT count(*)::int FROM resource_bodies) AS bodies,
              (SELECT count(*)::int FROM envoy_objects) AS objects, (SELECT count(*)::int FROM envoy_config_nodes) AS nodes`,
    );
    expect(left).toEqual({ chunks: 0, bodies: 0, objects: 0, nodes: 0 });
  });
});
