// Meshes: listing, MESH@latest wherever a snapshot id is taken, retention (count, age, the newest
// READY kept, scratch meshes cleared) under concurrent uploads, and the background garbage
// collection, which never removes what a concurrent upload references.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { GarbageCollector } from '../../src/database/garbage-collector.js';
import { SnapshotStore } from '../../src/database/snapshot.store.js';
import { RetentionService } from '../../src/jobs/retention.service.js';
import { IngestPool } from '../../src/snapshots/ingest-pool.service.js';
import { eventually, gcSettled, useTestApp, waitReady } from '../support/test-app.js';

const t = useTestApp();

/** A small mesh: a namespace and a few ConfigMaps, `tag` making bodies distinct where wanted. */
const manifests = (name: string, tag = name) =>
  [
    `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}}`,
    `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared, namespace: ${name}}\ndata: {k: shared}`,
    `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: own, namespace: ${name}}\ndata: {k: "${tag}"}`,
  ].join('\n---\n') + '\n';

async function upload(mesh: string | null, name: string, tag?: string): Promise<string> {
  const res = await t
    .api()
    .post(`/api/v1/snapshots?name=${name}${mesh ? `&mesh=${mesh}` : ''}`)
    .set('content-type', 'application/yaml')
    .send(manifests(name, tag));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

const idsOf = async (mesh: string) =>
  (await t.db.query<{ id: string }>('SELECT id FROM snapshots WHERE mesh = $1 ORDER BY created_at DESC, id DESC', [mesh])).map((r) => r.id);

const gql = async (query: string, variables: Record<string, unknown> = {}) =>
  (await t.api().post('/graphql').send({ query, variables })).body as {
    data?: Record<string, never>;
    errors?: { message: string; extensions: { code: string } }[];
  };

describe('meshes and MESH@latest', () => {
  let old: string;
  let latest: string;
  let failed: string;

  it('a snapshot without a mesh is in `default`; GET /api/v1/meshes lists each with its latest READY snapshot', async () => {
    const plain = await upload(null, 'plain');
    old = await upload('prod', 'old');
    await waitReady(t.app, old);
    latest = await upload('prod', 'new');
    await waitReady(t.app, latest);
    await waitReady(t.app, plain);
    // The newest snapshot of prod did not compute: `prod@latest` still names the newest READY one.
    failed = await upload('prod', 'broken');
    await waitReady(t.app, failed);
    await t.db.query(`UPDATE snapshots SET status = 'FAILED', error = 'test' WHERE id = $1`, [failed]);

    expect((await t.api().get(`/api/v1/snapshots/${plain}`)).body.mesh).toBe('default');
    const res = await t.api().get('/api/v1/meshes');
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      {
        name: 'default',
        snapshotCount: 1,
        latest: expect.objectContaining({ id: plain, status: 'READY' }),
        newest: expect.objectContaining({ id: plain }),
      },
      {
        name: 'prod',
        snapshotCount: 3,
        latest: { id: latest, status: 'READY', createdAt: expect.any(String) },
        newest: expect.objectContaining({ id: failed, status: 'FAILED' }),
      },
    ]);
    const q = await gql('{ meshes { name snapshotCount latest { id createdAt status } } }');
    expect(q.data!.meshes).toEqual([
      { name: 'default', snapshotCount: 1, latest: { id: plain, createdAt: expect.any(String), status: 'READY' } },
      { name: 'prod', snapshotCount: 3, latest: { id: latest, createdAt: expect.any(String), status: 'READY' } },
    ]);
    expect((await t.api().get('/api/v1/snapshots?mesh=prod')).body.items.map((s: { id: string }) => s.id)).toEqual([failed, latest, old]);
  });

  it('MESH@latest stands for the newest READY snapshot in REST paths', async () => {
    expect((await t.api().get('/api/v1/snapshots/prod@latest')).body).toMatchObject({ id: latest, mesh: 'prod', status: 'READY' });
    expect((await t.api().get('/api/v1/snapshots/prod@latest/proxy-status?format=json')).status).toBe(200);
    const diff = await t.api().get(`/api/v1/snapshots/${old}/diff/prod@latest`);
    expect(diff.status, JSON.stringify(diff.body)).toBe(200);
    expect(diff.body).toMatchObject({ baseId: old, headId: latest });
    const md = await t.api().get(`/api/v1/snapshots/prod@latest/diff/${old}?format=markdown`);
    expect(md.status).toBe(200);
  });

  it('MESH@latest in GraphQL arguments', async () => {
    expect((await gql('{ snapshot(id: "prod@latest") { id mesh } }')).data!.snapshot).toEqual({ id: latest, mesh: 'prod' });
    const diff = await gql('query ($b: ID!) { diff(baseId: $b, headId: "prod@latest") { markdown } }', { b: old });
    expect(diff.errors).toBeUndefined();
    expect(diff.data!.diff).toHaveProperty('markdown');
  });

  it('a mesh without a READY snapshot: 404 naming it; a bad mesh name: 400', async () => {
    const res = await t.api().get('/api/v1/snapshots/nope@latest');
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('mesh nope has no READY snapshot (nope@latest)');
    expect((await gql('{ snapshot(id: "nope@latest") { id } }')).errors![0]!.extensions.code).toBe('NOT_FOUND');
    const bad = await t.api().post('/api/v1/snapshots?mesh=Not_A_Mesh').set('content-type', 'application/yaml').send(manifests('x'));
    expect(bad.status).toBe(400);
    expect(bad.body.details[0]).toMatchObject({ path: 'mesh', message: expect.stringMatching(/must be a DNS label/) });
    const created = await gql(
      'mutation { createSnapshot(manifests: "apiVersion: v1\\nkind: Namespace\\nmetadata: {name: g}\\n", mesh: "gql") { mesh } }',
    );
    expect(created.data!.createSnapshot).toEqual({ mesh: 'gql' });
  });

  it('listing by a name no mesh can have is a 400, not a query (a NUL reached Postgres: 500)', async () => {
    for (const mesh of ['%00', 'Not_A_Mesh']) {
      const res = await t.api().get(`/api/v1/snapshots?mesh=${mesh}`);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/must be a DNS label/);
    }
    const listed = await gql('query($m: String) { snapshots(mesh: $m) { totalCount } }', { m: 'a\u0000b' });
    expect(listed.errors![0]!.extensions.code).toBe('BAD_USER_INPUT');
  });

  it("compute jobs are grouped by mesh (each mesh's jobs bounded apart from the others')", async () => {
    const rows = await t.db.query<{ mesh: string; group_id: string }>(
      `SELECT data->>'mesh' AS mesh, group_id FROM pgboss.job WHERE name = 'compute' AND data->>'snapshotId' = ANY($1)`,
      [[old, latest]],
    );
    expect(rows).toEqual([
      { mesh: 'prod', group_id: 'prod' },
      { mesh: 'prod', group_id: 'prod' },
    ]);
  });
});

describe('retention', () => {
  it('PUT and GET /api/v1/meshes/:mesh/retention; bad values are 400s', async () => {
    expect((await t.api().get('/api/v1/meshes/ret/retention')).body).toEqual({
      mesh: 'ret',
      keepLast: null,
      maxAgeSeconds: null,
      source: 'defaults',
      keepsLatestReady: true,
    });
    const put = await t.api().put('/api/v1/meshes/ret/retention').send({ keepLast: 3, maxAge: '2h' });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ mesh: 'ret', keepLast: 3, maxAgeSeconds: 7200, source: 'mesh', keepsLatestReady: true });
    for (const body of [{ keepLast: 0 }, { keepLast: 'x' }, { maxAge: '3 fortnights' }]) {
      const res = await t.api().put('/api/v1/meshes/ret/retention').send(body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    expect((await t.api().get('/api/v1/meshes/ret.scratch/retention')).body).toMatchObject({ source: 'scratch', keepsLatestReady: false });
  });

  it('keeps exactly the newest N of the mesh under concurrent uploads, other meshes untouched', async () => {
    await t.api().put('/api/v1/meshes/ret/retention').send({ keepLast: 3, maxAge: null }).expect(200);
    const other = await upload('bystander', 'bystander');
    // Uploads and retention passes at once: retention sees a consistent mesh each time.
    const apply = () => t.api().post('/api/v1/meshes/ret/retention/apply').expect(200);
    const uploads = Array.from({ length: 8 }, (_, i) => upload('ret', `r${i}`, `r${i}`));
    await Promise.all([...uploads, apply(), sleep(50).then(apply), sleep(150).then(apply)]);
    const created = await Promise.all(uploads);
    // Every snapshot of the mesh computed, or removed by retention meanwhile.
    await eventually(
      async () => {
        const [row] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM snapshots WHERE mesh = 'ret' AND status <> 'READY'`);
        return row!.n === 0 ? true : undefined;
      },
      150_000,
      'the snapshots of ret computed',
    );
    await apply();
    await eventually(async () => ((await idsOf('ret')).length === 3 ? true : undefined), 50_000, 'retention of ret');
    // The three kept are the three newest of all eight (by created_at, id), whatever order they committed in.
    const remaining = await idsOf('ret');
    const newest = (
      await t.db.query<{ id: string }>(`SELECT id FROM snapshots WHERE id = ANY($1) ORDER BY created_at DESC, id DESC`, [created])
    ).map((r) => r.id);
    expect(remaining).toEqual(newest.slice(0, 3));
    expect(await idsOf('bystander')).toEqual([other]);
    // What the removed snapshots alone reached is collected in the background; the kept ones read whole.
    await gcSettled(t.db);
    for (const id of remaining) expect((await t.app.get(SnapshotStore).resources(id)).length).toBe(3);
  }, 240_000);

  it('never removes the newest READY snapshot; age rules; scratch meshes are cleared', async () => {
    await t.api().put('/api/v1/meshes/aged/retention').send({ keepLast: null, maxAge: '1h' }).expect(200);
    const ready = await upload('aged', 'ready');
    await waitReady(t.app, ready);
    const pending = await upload('aged', 'pending');
    await waitReady(t.app, pending);
    await t.db.query(`UPDATE snapshots SET status = 'FAILED' WHERE id = $1`, [pending]);
    // Both older than an hour: the age rule removes both, but `ready` is the newest READY one.
    await t.db.query(`UPDATE snapshots SET created_at = created_at - interval '2 hours' WHERE mesh = 'aged'`);
    const young = await upload('aged', 'young');
    // `young`'s compute, once READY, runs the mesh's retention too: either pass may remove `pending`.
    const removed = (await t.api().post('/api/v1/meshes/aged/retention/apply').expect(200)).body.removed as string[];
    expect(removed.filter((id) => id !== pending)).toEqual([]);
    expect(new Set(await idsOf('aged'))).toEqual(new Set([young, ready]));

    const scratch = await upload('aged.scratch', 'head');
    await waitReady(t.app, scratch);
    await t.db.query(`UPDATE snapshots SET created_at = created_at - interval '2 hours' WHERE id = $1`, [scratch]);
    // The compute worker's pass after READY races the ageing above: whichever pass runs last after
    // it removes the snapshot; the explicit one removes nothing else.
    const removedScratch = (await t.api().post('/api/v1/meshes/aged.scratch/retention/apply').expect(200)).body.removed as string[];
    expect(removedScratch.filter((id) => id !== scratch)).toEqual([]);
    expect(await idsOf('aged.scratch')).toEqual([]);
  });

  it("the periodic pass applies every mesh's retention", async () => {
    for (const mesh of ['every-b', 'every-a']) {
      for (const name of ['one', 'two']) await waitReady(t.app, await upload(mesh, `${mesh}-${name}`));
      await t.api().put(`/api/v1/meshes/${mesh}/retention`).send({ keepLast: 1, maxAge: null }).expect(200);
    }
    // The compute worker's own pass after READY may already have run; the periodic one must not
    // fail, and leaves each mesh at its policy.
    await t.app.get(RetentionService).applyAll();
    expect((await idsOf('every-a')).length).toBe(1);
    expect((await idsOf('every-b')).length).toBe(1);
  });
});

describe('garbage collection in the background', () => {
  it('a DELETE answers before collecting; the collection is measured in /metrics', async () => {
    const id = await upload('gc', 'gone', 'only-here');
    await waitReady(t.app, id);
    const bodies = async () =>
      (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM resource_bodies WHERE body->'data'->>'k' = 'only-here'`))[0]!.n;
    expect(await bodies()).toBe(1);
    await t.api().delete(`/api/v1/snapshots/${id}`).expect(204);
    const [job] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'gc'`);
    expect(job!.n).toBeGreaterThan(0);
    await gcSettled(t.db);
    expect(await bodies()).toBe(0);
    const metrics = (await t.api().get('/metrics')).text;
    expect(metrics).toMatch(/^meshlens_gc_duration_seconds_count [1-9]/m);
    expect(metrics).toMatch(/^meshlens_gc_freed_rows_total\{table="resourceBodies"\} [1-9]/m);
  });

  it('never removes a row an upload still in its transaction references', async () => {
    const store = t.app.get(SnapshotStore);
    const gc = t.app.get(GarbageCollector);
    // A snapshot whose bodies, once it is deleted, nothing references...
    const first = await upload('race', 'race', 'race-body');
    await store.delete(first);
    // ...and an upload of the very same bodies (found stored: ON CONFLICT DO NOTHING) that has not committed
    // when a collection starts. The collection waits for it, then keeps what it references.
    const prepared = await t.app.get(IngestPool).prepare(manifests('race', 'race-body'));
    if (!prepared.upload.ok) throw new Error('the upload was refused');
    const resources = prepared.upload.resources;
    let collection: Promise<unknown> | undefined;
    let collectedEarly = false;
    const second = await store.create('race', { mesh: 'race', createdBy: null }, resources, async () => {
      collection = gc.collect().then(() => (collectedEarly = true));
      await sleep(500);
      expect(collectedEarly).toBe(false);
    });
    await collection;
    expect((await store.resources(second.id)).map((r) => r.body)).toHaveLength(3);
    // A later collection keeps them too, and deleting the snapshot frees them.
    await gc.collect();
    expect(await store.resources(second.id)).toHaveLength(3);
  });

  it('uploads racing deletions and collections all stay whole', async () => {
    const store = t.app.get(SnapshotStore);
    const gc = t.app.get(GarbageCollector);
    let previous = await upload('churn', 'churn', 'churn');
    const kept: string[] = [];
    for (let round = 0; round < 6; round++) {
      const [next] = await Promise.all([upload('churn', 'churn', 'churn'), store.delete(previous), gc.collect(), gc.collect()]);
      kept.push(next);
      previous = next;
    }
    await gcSettled(t.db);
    await gc.collect();
    const alive = kept.filter((id) => id !== undefined);
    for (const id of (await idsOf('churn')).filter((id) => alive.includes(id))) {
      expect((await store.resources(id)).length).toBe(3);
    }
    expect((await idsOf('churn')).length).toBeGreaterThan(0);
  });
});
