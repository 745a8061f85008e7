// GraphQL at /graphql: the snapshot half of the contract.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { namespace, pod, service, virtualService, yaml } from '../support/mesh.js';
import { eventually, useTestApp } from '../support/test-app.js';

const t = useTestApp();

async function gql(query: string, variables: Record<string, unknown> = {}) {
  const res = await request(t.app.getHttpServer()).post('/graphql').send({ query, variables });
  return res.body as { data?: Record<string, any>; errors?: { message: string; extensions?: Record<string, any> }[] };
}

const MANIFESTS = yaml(
  namespace('shop'),
  service('shop', 'web', [{ name: 'http', port: 80 }]),
  pod('shop', 'web-1', { labels: { app: 'web' }, image: 'nginx', ip: '10.0.0.7' }),
  virtualService('shop', 'web', { hosts: ['web'], http: [{ route: [{ destination: { host: 'web' } }] }] }),
);

const CREATE = `mutation($name: String, $manifests: String!) {
  createSnapshot(name: $name, manifests: $manifests) { id name status resourceCount createdAt progress error }
}`;

describe('createSnapshot', () => {
  it('stores the manifests like the REST upload', async () => {
    const { data, errors } = await gql(CREATE, { name: 'gql', manifests: MANIFESTS });
    expect(errors).toBeUndefined();
    expect(data!.createSnapshot).toMatchObject({ name: 'gql', status: 'PENDING', resourceCount: 4, error: null });
    expect(Date.parse(data!.createSnapshot.createdAt)).not.toBeNaN();
  });

  it('invalid manifests: an error with every problem in extensions.details, nothing stored', async () => {
    const [before] = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM snapshots');
    const { data, errors } = await gql(CREATE, {
      manifests: 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 0}]}\n---\nkind: Pod\n',
    });
    expect(data).toBeNull();
    expect(errors![0]!.message).toBe('invalid manifests');
    expect(errors![0]!.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      details: [
        expect.objectContaining({ document: 0, line: 4, kind: 'Service', path: '/spec/ports/0/port' }),
        expect.objectContaining({ document: 1 }),
        ...Array(errors![0]!.extensions!.details.length - 2).fill(expect.anything()),
      ],
    });
    const [after] = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM snapshots');
    expect(after).toEqual(before);
  });
});

describe('snapshot(id)', () => {
  let id: string;
  beforeAll(async () => {
    id = (await gql(CREATE, { name: 'detail', manifests: MANIFESTS })).data!.createSnapshot.id;
    await eventually(async () =>
      (await gql('query($id: ID!) { snapshot(id: $id) { status } }', { id })).data!.snapshot.status === 'READY' ? true : undefined,
    );
  });

  it('resources, filtered by kind and namespace', async () => {
    const { data } = await gql(
      `query($id: ID!) { snapshot(id: $id) {
         status progress
         all: resources { kind namespace name evaluated }
         services: resources(kind: "Service") { name spec }
         shop: resources(namespace: "shop") { kind }
       } }`,
      { id },
    );
    expect(data!.snapshot.status).toBe('READY');
    expect(data!.snapshot.progress).toBe(1);
    expect(data!.snapshot.all).toEqual([
      { kind: 'Namespace', namespace: null, name: 'shop', evaluated: true },
      { kind: 'Service', namespace: 'shop', name: 'web', evaluated: true },
      { kind: 'Pod', namespace: 'shop', name: 'web-1', evaluated: true },
      { kind: 'VirtualService', namespace: 'shop', name: 'web', evaluated: true },
    ]);
    expect(data!.snapshot.services).toEqual([{ name: 'web', spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] } }]);
    expect(data!.snapshot.shop.map((r: { kind: string }) => r.kind)).toEqual(['Service', 'Pod', 'VirtualService']);
  });

  it('workloads, filtered by namespace, with the ProxyType enum', async () => {
    const { data, errors } = await gql(
      `query($id: ID!) { snapshot(id: $id) {
         workloads { namespace name kind proxyType labels ips services serviceAccount }
         none: workloads(namespace: "elsewhere") { name }
       } }`,
      { id },
    );
    expect(errors).toBeUndefined();
    expect(data!.snapshot.workloads).toEqual([
      {
        namespace: 'shop',
        name: 'web-1',
        kind: 'Pod',
        proxyType: 'SIDECAR',
        labels: { app: 'web' },
        ips: ['10.0.0.7'],
        services: ['web.shop.svc.cluster.local'],
        serviceAccount: 'default',
      },
    ]);
    expect(data!.snapshot.none).toEqual([]);
  });

  it('null for an unknown or malformed id', async () => {
    for (const unknown of ['00000000-0000-0000-0000-000000000000', 'nope']) {
      const { data, errors } = await gql('query($id: ID!) { snapshot(id: $id) { id } }', { id: unknown });
      expect(errors).toBeUndefined();
      expect(data!.snapshot).toBeNull();
    }
  });
});

describe('snapshots connection', () => {
  it('pages newest first with first/after, cursors per edge, pageInfo and totalCount', async () => {
    const created: string[] = [];
    for (let i = 0; i < 3; i++) created.push((await gql(CREATE, { name: `conn-${i}`, manifests: MANIFESTS })).data!.createSnapshot.id);
    const PAGE = `query($after: String) { snapshots(first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name } } } }`;
    const first = (await gql(PAGE)).data!.snapshots;
    const [total] = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM snapshots');
    expect(first.totalCount).toBe(total!.n);
    expect(first.edges.map((e: any) => e.node.id)).toEqual([created[2], created[1]]);
    expect(first.pageInfo).toEqual({ hasNextPage: true, endCursor: first.edges[1].cursor });
    const second = (await gql(PAGE, { after: first.pageInfo.endCursor })).data!.snapshots;
    expect(second.edges[0].node.id).toBe(created[0]);

    const all: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = (await gql(PAGE, { after })).data!.snapshots;
      all.push(...page.edges.map((e: any) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(all).toHaveLength(total!.n);
    expect(new Set(all).size).toBe(total!.n);
  });

  it('a bad first or after is a user error', async () => {
    expect((await gql('{ snapshots(first: 0) { totalCount } }')).errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect((await gql('{ snapshots(after: "garbage") { totalCount } }')).errors![0]!.message).toMatch(/invalid cursor/);
  });
});

describe('deleteSnapshot', () => {
  it('true when deleted, false when there was none', async () => {
    const id = (await gql(CREATE, { manifests: MANIFESTS })).data!.createSnapshot.id;
    const DELETE = 'mutation($id: ID!) { deleteSnapshot(id: $id) }';
    expect((await gql(DELETE, { id })).data).toEqual({ deleteSnapshot: true });
    expect((await gql(DELETE, { id })).data).toEqual({ deleteSnapshot: false });
    expect((await gql('query($id: ID!) { snapshot(id: $id) { id } }', { id })).data!.snapshot).toBeNull();
  });
});

describe('schema', () => {
  it("has the contract's enums and scalars", async () => {
    const { data } = await gql(`{
      status: __type(name: "SnapshotStatus") { enumValues { name } }
      proxy: __type(name: "ProxyType") { enumValues { name } }
      json: __type(name: "JSON") { kind }
      date: __type(name: "DateTime") { kind }
    }`);
    const names = (type: { enumValues: { name: string }[] }) => type.enumValues.map((v) => v.name).sort();
    expect(names(data!.status)).toEqual(['COMPUTING', 'FAILED', 'PENDING', 'READY']);
    expect(names(data!.proxy)).toEqual(['NONE', 'ROUTER', 'SIDECAR']);
    expect(data!.json.kind).toBe('SCALAR');
    expect(data!.date.kind).toBe('SCALAR');
  });

  it('answers are never cached: cache-control no-store, on data as on errors', async () => {
    for (const query of ['{ __typename }', '{ snapshot(id: 1) { id } }', '{ nope }']) {
      const res = await request(t.app.getHttpServer()).post('/graphql').send({ query });
      expect(res.headers['cache-control'], query).toBe('no-store');
    }
  });

  it('serves the GraphiQL IDE outside production', async () => {
    const res = await request(t.app.getHttpServer()).get('/graphql').set('accept', 'text/html');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/graphiql/i);
  });
});
