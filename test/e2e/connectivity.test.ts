// Snapshot.connectivity and GET /api/v1/snapshots/:id/connectivity: computed by the worker with the
// snapshot (test/e2e/journey/policies.yaml), stored, and read back as rows per sending workload.
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../support/journey.js';
import { deployment, namespace, yaml } from '../support/mesh.js';
import {
  createTestDatabase,
  seedManifests,
  startTestApp,
  uploadReady,
  uploadSnapshot,
  waitReady,
  type TestDatabase,
} from '../support/test-app.js';

const QUERY = `query ($id: ID!, $ns: String, $svc: String) {
  snapshot(id: $id) { connectivity(namespace: $ns, service: $svc) {
    source { namespace name kind } destination verdict conditions tls policies { kind namespace name } reason causes { kind namespace name }
  } }
}`;

interface Row {
  source: { namespace: string; name: string; kind: string };
  destination: string;
  verdict: string;
  conditions: string[] | null;
  tls: string;
  policies: { kind: string; namespace: string; name: string }[];
  reason: string;
}

describe('connectivity of a stored snapshot', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let id: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp({ databaseUrl: db.url });
    id = await uploadSnapshot(app, fixture('policies.yaml'), 'policies');
    await waitReady(app, id, 120_000);
  }, 300_000);
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const ask = async (variables: Record<string, unknown>): Promise<Row[]> => {
    const res = await request(app.getHttpServer())
      .post('/graphql')
      .send({ query: QUERY, variables: { id, ...variables } });
    expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
    return res.body.data.snapshot.connectivity as Row[];
  };
  const from = (rows: Row[], ns: string, name: string) => rows.find((r) => r.source.namespace === ns && r.source.name === name)!;

  it('every sender of the destination, with the verdict, conditions in words, transport and deciding policies', async () => {
    const rows = await ask({ ns: 'shop', svc: 'api' });
    expect(new Set(rows.map((r) => r.destination))).toEqual(new Set(['api.shop.svc.cluster.local:80']));
    // Every workload can address the Service: sidecars, and batch without one through kube-proxy.
    expect(rows.map((r) => `${r.source.namespace}/${r.source.name}`).sort()).toEqual(
      ['legacy/batch', 'partner/reporter', 'shop/api', 'shop/api-v2', 'shop/ext-authz', 'shop/web'].sort(),
    );
    const web = from(rows, 'shop', 'web');
    expect(web).toMatchObject({ verdict: 'CONDITIONAL', tls: 'MTLS' });
    expect(web.conditions).toContain('on shop/api: methods GET, HEAD on path /items* except methods POST, DELETE on path /admin');
    expect(web.policies.map((p) => p.name)).toEqual(['api-readers', 'deny-admin-writes', 'ext']);
    // The partner's rule needs the admin claim; batch has no sidecar: plaintext, no principal.
    expect(from(rows, 'partner', 'reporter').conditions!.join('\n')).toContain('only with a token whose claim groups contains admin');
    expect(from(rows, 'legacy', 'batch')).toMatchObject({ tls: 'PLAINTEXT', verdict: 'CONDITIONAL' });
    expect(from(rows, 'legacy', 'batch').conditions!.join('\n')).not.toContain('/items');
  });

  it('a destination without policies is ALLOWED for everyone; filters narrow by namespace and service', async () => {
    const rows = await ask({ ns: 'shop', svc: 'ext-authz' });
    expect(rows).toHaveLength(6);
    expect(rows.every((r) => r.verdict === 'ALLOWED' && r.conditions === null && r.policies.length === 0)).toBe(true);
    expect(from(rows, 'legacy', 'batch').tls).toBe('PLAINTEXT');
    expect(from(rows, 'shop', 'web').tls).toBe('MTLS');
    expect(await ask({ ns: 'partner' })).toEqual([]);
  });

  it('REST answers the same rows; an unknown snapshot is 404', async () => {
    const res = await request(app.getHttpServer()).get(`/api/v1/snapshots/${id}/connectivity?namespace=shop&service=api`).expect(200);
    expect(res.body.connections).toHaveLength(6);
    expect(res.body.connections[0]).toMatchObject({
      destination: 'api.shop.svc.cluster.local:80',
      source: { namespace: 'legacy', name: 'batch' },
    });
    await request(app.getHttpServer()).get('/api/v1/snapshots/00000000-0000-4000-8000-000000000000/connectivity').expect(404);
  });

  it('pages with limit and offset, filters by sending workload, and counts the total (REST and GraphQL)', async () => {
    const http = request(app.getHttpServer());
    const all = (await http.get(`/api/v1/snapshots/${id}/connectivity?namespace=shop`).expect(200)).body;
    expect(all.total).toBe(all.connections.length);
    const page = (await http.get(`/api/v1/snapshots/${id}/connectivity?namespace=shop&limit=4&offset=3`).expect(200)).body;
    expect(page).toEqual({ connections: all.connections.slice(3, 7), total: all.total });
    const batch = (await http.get(`/api/v1/snapshots/${id}/connectivity?source=legacy/batch`).expect(200)).body;
    expect(batch.total).toBeGreaterThan(0);
    expect(batch.connections.every((r: Row) => r.source.namespace === 'legacy' && r.source.name === 'batch')).toBe(true);
    const bad = await http.get(`/api/v1/snapshots/${id}/connectivity?limit=0`).expect(400);
    expect(bad.body.error).toMatch(/^limit must be a whole number from 1 to/);
    await http.get(`/api/v1/snapshots/${id}/connectivity?offset=-1`).expect(400);

    const paged = await http.post('/graphql').send({
      query: `query ($id: ID!) { snapshot(id: $id) { connectivity(namespace: "shop", source: "shop/web", limit: 2, offset: 1) { source { name } destination } } }`,
      variables: { id },
    });
    expect(paged.body.errors).toBeUndefined();
    const web = all.connections.filter((r: Row) => r.source.namespace === 'shop' && r.source.name === 'web');
    expect(paged.body.data.snapshot.connectivity).toEqual(
      web.slice(1, 3).map((r: Row) => ({ source: { name: r.source.name }, destination: r.destination })),
    );
  });

  it('the GraphQL cost counts the rows: a limit past the cost limit is refused, an unpaged read fits', async () => {
    const http = request(app.getHttpServer());
    const big = await http.post('/graphql').send({
      query: `query ($id: ID!) { snapshot(id: $id) { connectivity(limit: 100000) { destination } } }`,
      variables: { id },
    });
    expect(big.status).toBe(400);
    expect(big.body.errors[0].extensions).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'cost' });
    await ask({});
  });
});

// The Istio in Action example with a batch job without a sidecar; the change: STRICT mTLS in istioinaction.
const LEGACY = `---\n${yaml(namespace('legacy', { injection: false }), deployment('legacy', 'batch', { serviceAccount: 'batch' }))}`;
const STRICT = `---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istioinaction}
spec: {mtls: {mode: STRICT}}
`;

describe('the PR comment of a PeerAuthentication STRICT change', () => {
  let db: TestDatabase;
  let app: INestApplication;
  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp({ databaseUrl: db.url });
  }, 300_000);
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('lists exactly the connections it closes, first, and counts them in the summary', async () => {
    const example = seedManifests() + LEGACY;
    const [base, head] = await uploadReady(
      app,
      [
        [example, 'base'],
        [example + STRICT, 'head'],
      ],
      180_000,
    );

    // What STRICT must close: batch's (no sidecar, plaintext) open connections into istioinaction.
    const before = await request(app.getHttpServer()).get(`/api/v1/snapshots/${base}/connectivity?namespace=istioinaction`).expect(200);
    const expected = (before.body.connections as Row[])
      .filter((r) => r.source.name === 'batch' && r.verdict !== 'DENIED')
      .map((r) => r.destination)
      .sort();
    expect(expected.length).toBeGreaterThan(0);

    const res = await request(app.getHttpServer()).get(`/api/v1/snapshots/${base}/diff/${head}?format=json`).expect(200);
    const changes = res.body.connectivity as { change: string; sentence: string; after: Row | null }[];
    expect(changes.map((c) => `${c.change} ${c.after!.source.namespace}/${c.after!.source.name} ${c.after!.destination}`)).toEqual(
      expected.map((d) => `CLOSED legacy/batch ${d}`),
    );
    expect(res.body.summary).toMatchObject({ connectionsClosed: expected.length, mtlsLost: 0 });
    const markdown = res.body.markdown as string;
    if (process.env.SHOW_MARKDOWN) console.log(markdown);
    expect(markdown).toContain(
      `changes who can talk to whom (${expected.length} connection${expected.length > 1 ? 's' : ''}: ${expected.length} closed)`,
    );
    const section = markdown.split('#### Who can talk to whom\n\n')[1]!.split('\n\n')[0]!.split('\n');
    expect(section).toHaveLength(expected.length);
    expected.forEach((d, i) =>
      expect(section[i]).toMatch(
        new RegExp(
          `^- ⛔ batch \\(legacy\\) can no longer call ${d.replace(/\./g, '\\.')}: PeerAuthentication istioinaction/default requires mTLS on `,
        ),
      ),
    );
    expect(section.every((l) => l.includes('and legacy/batch sends plaintext (it has no sidecar)'))).toBe(true);
  }, 400_000);
});
