// Access control (MESHLENS_AUTH=tokens): every 401 and 403, REST and GraphQL alike; revoked and
// expired tokens; a token limited to a mesh sees nothing of another mesh (by id, listed, diffed,
// in `snapshots`, `meshes`, `MESH@latest`); each snapshot records the token that created it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../../src/database/token.store.js';
import { newToken, tokenHash } from '../../src/model/tokens.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp({ config: { auth: 'tokens' }, worker: false });

const NAMESPACE = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}}\n`;

async function token(scopes: string[], options: { meshes?: string[]; expiresAt?: Date; revoke?: boolean } = {}) {
  const secret = newToken();
  const store = t.app.get(TokenStore);
  const stored = await store.create({
    hash: tokenHash(secret),
    name: null,
    scopes,
    meshes: options.meshes ?? null,
    expiresAt: options.expiresAt ?? null,
  });
  if (options.revoke) await store.revoke(stored.id);
  return { id: stored.id, secret, auth: `Bearer ${secret}` };
}

let admin: Awaited<ReturnType<typeof token>>;
let reader: Awaited<ReturnType<typeof token>>;
let writer: Awaited<ReturnType<typeof token>>;
let dev: Awaited<ReturnType<typeof token>>;
let prodId: string;
let devId: string;

const upload = async (auth: string, mesh: string, name = mesh) =>
  t
    .api()
    .post(`/api/v1/snapshots?mesh=${mesh}&name=${name}`)
    .set('authorization', auth)
    .set('content-type', 'application/yaml')
    .send(NAMESPACE(name));

const gql = (auth: string | null, query: string, variables: Record<string, unknown> = {}) => {
  const req = t.api().post('/graphql').set('content-type', 'application/json');
  if (auth) req.set('authorization', auth);
  return req.send({ query, variables });
};

beforeAll(async () => {
  admin = await token(['read', 'write', 'admin']);
  reader = await token(['read']);
  writer = await token(['write']);
  dev = await token(['read', 'write'], { meshes: ['dev'] });
  const prod = await upload(admin.auth, 'prod');
  expect(prod.status, JSON.stringify(prod.body)).toBe(201);
  prodId = prod.body.id;
  const devUpload = await upload(dev.auth, 'dev');
  expect(devUpload.status, JSON.stringify(devUpload.body)).toBe(201);
  devId = devUpload.body.id;
});

describe('401: no valid token, nothing but 401', () => {
  const routes: [string, string][] = [
    ['get', '/api/v1/snapshots'],
    ['get', '/api/v1/snapshots/00000000-0000-0000-0000-000000000000'],
    ['post', '/api/v1/snapshots'],
    ['delete', '/api/v1/snapshots/00000000-0000-0000-0000-000000000000'],
    ['get', '/api/v1/snapshots/a/diff/b'],
    ['get', '/api/v1/meshes'],
    ['put', '/api/v1/meshes/prod/retention'],
    ['get', '/api/docs'],
    ['get', '/graphql'],
    ['get', '/nowhere'],
  ];

  it.each(routes)('%s %s without a token', async (method, path) => {
    const res = await (t.api() as unknown as Record<string, (p: string) => import('supertest').Test>)[method]!(path);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="meshlens"');
    expect(res.body.error).toMatch(/missing bearer token/);
  });

  it('a GraphQL request without a token is an HTTP 401, not a field error', async () => {
    const res = await gql(null, '{ snapshots { totalCount } }');
    expect(res.status).toBe(401);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors[0]).toMatchObject({
      message: expect.stringMatching(/missing bearer token/),
      extensions: { code: 'UNAUTHENTICATED' },
    });
  });

  it('an unknown token, a malformed header, a revoked and an expired token are 401s', async () => {
    const revoked = await token(['read'], { revoke: true });
    const expired = await token(['read'], { expiresAt: new Date(Date.now() - 1000) });
    const cases: [string, RegExp][] = [
      [`Bearer ${newToken()}`, /invalid token/],
      ['Basic dXNlcjpwYXNz', /malformed Authorization header/],
      ['Bearer', /malformed Authorization header/],
      [revoked.auth, new RegExp(`token ${revoked.id} was revoked`)],
      [expired.auth, new RegExp(`token ${expired.id} expired at`)],
    ];
    for (const [auth, error] of cases) {
      const rest = await t.api().get('/api/v1/snapshots').set('authorization', auth);
      expect({ auth, status: rest.status }).toEqual({ auth, status: 401 });
      expect(rest.body.error).toMatch(error);
      const graphql = await gql(auth, '{ meshes { name } }');
      expect({ auth, status: graphql.status }).toEqual({ auth, status: 401 });
      expect(graphql.body.errors[0].message).toMatch(error);
    }
  });

  it('a token revoked while in use fails from its next request on', async () => {
    const soon = await token(['read']);
    expect((await t.api().get('/api/v1/snapshots').set('authorization', soon.auth)).status).toBe(200);
    await t.app.get(TokenStore).revoke(soon.id);
    expect((await t.api().get('/api/v1/snapshots').set('authorization', soon.auth)).status).toBe(401);
  });

  it('/healthz, /readyz and /metrics need no token', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics'])
      expect({ path, status: (await t.api().get(path)).status }).toEqual({ path, status: 200 });
  });
});

describe('403: the scope needed', () => {
  it('a read token cannot upload, delete, or set retention; it can read', async () => {
    const post = await upload(reader.auth, 'prod');
    expect(post.status).toBe(403);
    expect(post.body.error).toMatch(/needs a token with scope "write"/);
    const del = await t.api().delete(`/api/v1/snapshots/${prodId}`).set('authorization', reader.auth);
    expect(del.status).toBe(403);
    expect(del.body.error).toMatch(/scope "write"/);
    const put = await t.api().put('/api/v1/meshes/prod/retention').set('authorization', reader.auth).send({ keepLast: 3 });
    expect(put.status).toBe(403);
    expect(put.body.error).toMatch(/scope "admin"/);
    expect((await t.api().get(`/api/v1/snapshots/${prodId}`).set('authorization', reader.auth)).status).toBe(200);
    expect((await t.api().get('/api/v1/meshes').set('authorization', reader.auth)).status).toBe(200);
  });

  it('GraphQL: a mutation needs write (setMeshRetention admin), as an HTTP 403', async () => {
    const create = await gql(
      reader.auth,
      'mutation { createSnapshot(manifests: "apiVersion: v1\\nkind: Namespace\\nmetadata: {name: x}\\n", mesh: "prod") { id } }',
    );
    expect(create.status).toBe(403);
    expect(create.body.errors[0]).toMatchObject({ message: expect.stringMatching(/scope "write"/), extensions: { code: 'FORBIDDEN' } });
    const del = await gql(reader.auth, `mutation { deleteSnapshot(id: "${prodId}") }`);
    expect(del.status).toBe(403);
    const retention = await gql(writer.auth, 'mutation { setMeshRetention(mesh: "prod", keepLast: 2) { keepLast } }');
    expect(retention.status).toBe(403);
    expect(retention.body.errors[0].message).toMatch(/scope "admin"/);
    const ok = await gql(admin.auth, 'mutation { setMeshRetention(mesh: "prod", keepLast: 50) { keepLast source } }');
    expect(ok.status).toBe(200);
    expect(ok.body.data.setMeshRetention).toEqual({ keepLast: 50, source: 'mesh' });
  });

  it('a write-only token cannot read', async () => {
    const get = await t.api().get('/api/v1/snapshots').set('authorization', writer.auth);
    expect(get.status).toBe(403);
    expect(get.body.error).toMatch(/scope "read"/);
    const query = await gql(writer.auth, '{ snapshots { totalCount } }');
    expect(query.status).toBe(403);
    expect(query.body.errors[0].message).toMatch(/scope "read"/);
  });

  it('POST journey is a read', async () => {
    const res = await t.api().post(`/api/v1/snapshots/${prodId}/journey`).set('authorization', writer.auth).send({});
    expect(res.status).toBe(403);
    expect(res.body.error).toMatch(/scope "read"/);
  });
});

describe('a token limited to a mesh', () => {
  it('records who created a snapshot', async () => {
    const res = await t.api().get(`/api/v1/snapshots/${devId}`).set('authorization', dev.auth);
    expect(res.body).toMatchObject({ id: devId, mesh: 'dev', createdBy: dev.id });
    expect((await t.api().get(`/api/v1/snapshots/${prodId}`).set('authorization', admin.auth)).body).toMatchObject({
      mesh: 'prod',
      createdBy: admin.id,
    });
  });

  it("cannot upload to another mesh (but to its own mesh's scratch mesh)", async () => {
    const res = await upload(dev.auth, 'prod');
    expect(res.status).toBe(403);
    expect(res.body.error).toMatch(/mesh "prod".*limited to "dev"/);
    expect((await upload(dev.auth, 'dev.scratch', 'head')).status).toBe(201);
    expect((await upload(dev.auth, 'prod.scratch', 'head')).status).toBe(403);
  });

  it("cannot read another mesh's snapshot by id, REST and GraphQL", async () => {
    for (const path of [
      `/api/v1/snapshots/${prodId}`,
      `/api/v1/snapshots/${prodId}/proxy-status`,
      `/api/v1/snapshots/${prodId}/proxies/x/y/config_dump`,
    ]) {
      const res = await t.api().get(path).set('authorization', dev.auth);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(res.body.error).toMatch(new RegExp(`snapshot ${prodId} belongs to mesh "prod"`));
    }
    const journey = await t.api().post(`/api/v1/snapshots/${prodId}/journey`).set('authorization', dev.auth).send({});
    expect(journey.status).toBe(403);
    const del = await t.api().delete(`/api/v1/snapshots/${prodId}`).set('authorization', dev.auth);
    expect(del.status).toBe(403);
    const query = await gql(dev.auth, `{ snapshot(id: "${prodId}") { id } }`);
    expect(query.status).toBe(403);
    expect(query.body.errors[0]).toMatchObject({
      message: expect.stringMatching(/belongs to mesh "prod"/),
      extensions: { code: 'FORBIDDEN' },
    });
    const byVariable = await gql(dev.auth, 'query ($id: ID!) { snapshot(id: $id) { id } }', { id: prodId });
    expect(byVariable.status).toBe(403);
    expect((await gql(dev.auth, `{ snapshot(id: "${devId}") { id mesh } }`)).body.data.snapshot).toEqual({ id: devId, mesh: 'dev' });
  });

  it('cannot diff against another mesh', async () => {
    for (const path of [
      `/api/v1/snapshots/${devId}/diff/${prodId}`,
      `/api/v1/snapshots/${prodId}/diff/${devId}`,
      `/api/v1/snapshots/prod@latest/diff/${devId}`,
    ]) {
      const res = await t.api().get(path).set('authorization', dev.auth);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(res.body.error).toMatch(/mesh "prod"/);
    }
    const query = await gql(dev.auth, `{ diff(baseId: "${devId}", headId: "${prodId}") { markdown } }`);
    expect(query.status).toBe(403);
  });

  it("does not see another mesh's snapshots listed, in `snapshots`, or in `meshes`", async () => {
    const list = await t.api().get('/api/v1/snapshots').set('authorization', dev.auth);
    expect(list.status).toBe(200);
    expect(list.body.items.map((s: { mesh: string }) => s.mesh).sort()).toEqual(['dev', 'dev.scratch']);
    const filtered = await t.api().get('/api/v1/snapshots?mesh=prod').set('authorization', dev.auth);
    expect(filtered.status).toBe(403);
    expect(filtered.body.error).toMatch(/mesh "prod"/);
    const all = await t.api().get('/api/v1/snapshots').set('authorization', admin.auth);
    expect(new Set(all.body.items.map((s: { mesh: string }) => s.mesh))).toEqual(new Set(['prod', 'dev', 'dev.scratch']));

    const query = await gql(dev.auth, '{ snapshots { totalCount edges { node { id mesh } } } }');
    expect(query.status).toBe(200);
    expect(query.body.data.snapshots.totalCount).toBe(2);
    expect(query.body.data.snapshots.edges.map((e: { node: { mesh: string } }) => e.node.mesh).sort()).toEqual(['dev', 'dev.scratch']);
    expect((await gql(dev.auth, '{ snapshots(mesh: "prod") { totalCount } }')).status).toBe(403);

    const meshes = await t.api().get('/api/v1/meshes').set('authorization', dev.auth);
    expect(meshes.body.items.map((m: { name: string }) => m.name)).toEqual(['dev', 'dev.scratch']);
    const gqlMeshes = await gql(dev.auth, '{ meshes { name snapshotCount } }');
    expect(gqlMeshes.body.data.meshes.map((m: { name: string }) => m.name)).toEqual(['dev', 'dev.scratch']);
  });

  it('cannot resolve another mesh@latest', async () => {
    const res = await t.api().get('/api/v1/snapshots/prod@latest').set('authorization', dev.auth);
    expect(res.status).toBe(403);
    expect(res.body.error).toMatch(/mesh "prod"/);
    expect((await gql(dev.auth, '{ snapshot(id: "prod@latest") { id } }')).status).toBe(403);
  });

  it("cannot read or set another mesh's retention", async () => {
    expect((await t.api().get('/api/v1/meshes/prod/retention').set('authorization', dev.auth)).status).toBe(403);
  });
});

afterAll(() => {});
