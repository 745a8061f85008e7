// Listing, reading and deleting snapshots; content-addressed bodies; concurrent uploads.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { GarbageCollector } from '../../src/database/garbage-collector.js';
import { SnapshotStore } from '../../src/database/snapshot.store.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp({ worker: false });

const api = () => request(t.app.getHttpServer());

function configMaps(prefix: string, count: number, namespace = 'default') {
  return JSON.stringify(
    Array.from({ length: count }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${prefix}-${i}`, namespace },
      data: { index: String(i), prefix },
    })),
  );
}

async function create(name: string, body = configMaps(name, 2)): Promise<string> {
  const res = await api().post(`/api/v1/snapshots?name=${name}`).set('content-type', 'application/json').send(body);
  expect(res.status).toBe(201);
  return res.body.id as string;
}

describe('list', () => {
  it('pages newest first with limit and cursor, to the end', async () => {
    await t.db.query('DELETE FROM snapshots');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await create(`page-${i}`));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await api()
        .get('/api/v1/snapshots')
        .query({ limit: 3, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.items.map((s: { id: string }) => s.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
  });

  it('items carry the snapshot metadata', async () => {
    const res = await api().get('/api/v1/snapshots?limit=1');
    expect(res.body.items[0]).toMatchObject({
      id: expect.any(String),
      name: expect.stringMatching(/^page-/),
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      status: 'PENDING',
      resourceCount: 2,
    });
  });

  it.each([['0'], ['101'], ['abc'], ['1.5']])('limit=%s is a 400', async (limit) => {
    const res = await api().get(`/api/v1/snapshots?limit=${limit}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/limit/);
  });

  it('a forged cursor is a 400, not a 500', async () => {
    for (const cursor of ['garbage', Buffer.from('not-a-date|x').toString('base64url')]) {
      const res = await api().get(`/api/v1/snapshots?cursor=${cursor}`);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid cursor', details: [] });
    }
  });
});

describe('get', () => {
  it('returns the snapshot', async () => {
    const id = await create('get-me');
    const res = await api().get(`/api/v1/snapshots/${id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, name: 'get-me', status: 'PENDING', progress: 0, error: null, resourceCount: 2 });
  });

  it.each([['00000000-0000-0000-0000-000000000000'], ['not-a-uuid'], ["1'; DROP TABLE snapshots;--"]])(
    'unknown or malformed id %s is a 404 {error}',
    async (id) => {
      const res = await api().get(`/api/v1/snapshots/${encodeURIComponent(id)}`);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: expect.stringContaining('not found'), details: [] });
    },
  );
});

/** Distinct list nodes under the remaining snapshots' list roots. */
async function listedChunks(): Promise<number> {
  const [row] = await t.db.query<{ n: number }>(
    `WITH RECURSIVE reach(hash) AS (
       SELECT resource_list FROM snapshots UNION SELECT workload_list FROM snapshots UNION SELECT proxy_class_list FROM snapshots
       UNION SELECT substring(n.children FROM i * 32 + 1 FOR 32) FROM reach r JOIN list_nodes n ON n.hash = r.hash AND n.level > 0
       CROSS JOIN LATERAL generate_series(0, length(n.children) / 32 - 1) i
     ) SELECT count(*)::int AS n FROM reach WHERE hash IS NOT NULL`,
  );
  return row!.n;
}

describe('delete', () => {
  it('removes the snapshot and its resources; a body another snapshot shares survives', async () => {
    const shared = configMaps('shared', 1);
    const onlyA = JSON.parse(configMaps('only-a', 1));
    const a = await create('a', JSON.stringify([...JSON.parse(shared), ...onlyA]));
    const b = await create('b', shared);
    const bodies = async (prefix: string) =>
      (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM resource_bodies WHERE body->'data'->>'prefix' = $1`, [prefix]))[0]!
        .n;
    expect([await bodies('shared'), await bodies('only-a')]).toEqual([1, 1]);

    const res = await api().delete(`/api/v1/snapshots/${a}`);
    expect(res.status).toBe(204);
    expect((await api().get(`/api/v1/snapshots/${a}`)).status).toBe(404);
    expect(await t.app.get(SnapshotStore).resources(a)).toEqual([]);
    // the list nodes only `a` reached went with it: collected by the background job, which a worker
    // runs (this app has none), never inside the DELETE; run a collection here.
    await t.app.get(GarbageCollector).collect();
    const [chunks] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM list_nodes`);
    expect(chunks!.n).toBe(await listedChunks());
    expect([await bodies('shared'), await bodies('only-a')]).toEqual([1, 0]);

    await api().delete(`/api/v1/snapshots/${b}`).expect(204);
    await t.app.get(GarbageCollector).collect();
    expect(await bodies('shared')).toBe(0);
  });

  it('an unknown or malformed id is a 404', async () => {
    expect((await api().delete('/api/v1/snapshots/00000000-0000-0000-0000-000000000000')).status).toBe(404);
    expect((await api().delete('/api/v1/snapshots/nope')).status).toBe(404);
  });
});

describe('concurrency', () => {
  it('20 concurrent uploads, sharing some bodies, are all stored intact', async () => {
    const uploads = Array.from({ length: 20 }, (_, i) => {
      const own = JSON.parse(configMaps(`concurrent-${i}`, 25));
      const common = JSON.parse(configMaps('concurrent-common', 10, 'common'));
      return JSON.stringify([...own, ...common]);
    });
    const responses = await Promise.all(
      uploads.map((body, i) => api().post(`/api/v1/snapshots?name=concurrent-${i}`).set('content-type', 'application/json').send(body)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    for (const [i, res] of responses.entries()) {
      const rows = await t.app.get(SnapshotStore).resources(res.body.id);
      expect(rows).toHaveLength(35);
      expect(rows.slice(0, 25).map((r) => r.name)).toEqual(Array.from({ length: 25 }, (_, j) => `concurrent-${i}-${j}`));
      expect(rows.every((r) => (r.body.metadata as { name?: string }).name === r.name)).toBe(true);
    }
    const [common] = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM resource_bodies WHERE body->'data'->>'prefix' = 'concurrent-common'`,
    );
    expect(common!.n).toBe(10);
    const [jobs] = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'compute' AND data->>'snapshotId' = ANY($1)`,
      [responses.map((r) => r.body.id)],
    );
    expect(jobs!.n).toBe(20);
  });
});
