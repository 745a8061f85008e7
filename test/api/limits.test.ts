// Limits of a shared service (issue 16): GraphQL depth and cost refused with 400 before any work,
// and the per-client rate limit (429 with Retry-After, per token when the request has one, probes
// exempt), REST and GraphQL alike.
import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/test-app.js';

const MAX_DEPTH = 6;
const MAX_COST = 2000;
const RATE = 4;

describe('GraphQL depth and cost limits', () => {
  const t = useTestApp({
    worker: false,
    config: { limits: { graphqlMaxDepth: MAX_DEPTH, graphqlMaxCost: MAX_COST, ratePerMinute: 0 } },
  });
  const graphql = (query: string, variables?: Record<string, unknown>) => t.api().post('/graphql').send({ query, variables });

  it('a query within both limits runs', async () => {
    const res = await graphql('{ snapshots(first: 5) { totalCount edges { node { id workloads { name } } } } }');
    expect(res.status).toBe(200);
    expect(res.body.data.snapshots.totalCount).toBe(0);
  });

  it('a query deeper than the limit is a 400 naming the limit, before any resolver', async () => {
    const res = await graphql('{ snapshots { edges { node { workloads { proxyConfig { listeners { name } } } } } } }');
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors[0].message).toMatch(/^query depth 7 exceeds the limit of 6 \(MESHLENS_GRAPHQL_MAX_DEPTH\)/);
    // Apollo's code for every validation error; the limit's own facts beside it.
    expect(res.body.errors[0].extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', limit: 'depth', value: 7, max: MAX_DEPTH });
  });

  it('fragments count their depth too', async () => {
    const res = await graphql(
      'query { snapshots { ...page } } fragment page on SnapshotConnection { edges { node { workloads { proxyConfig { listeners { name } } } } } }',
    );
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions.limit).toBe('depth');
  });

  it('a query text nested thousands deep is a 400 before graphql-js parses it (it would overflow the stack)', async () => {
    const res = await graphql(`{ snapshots ${'{ a '.repeat(5000)}${'}'.repeat(5000)} }`);
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({
      message: expect.stringMatching(/^query text nested deeper than 64 levels/),
      extensions: { limit: 'depth' },
    });
  });

  it("a list of proxies' configs costs more than a count of them: over the cost limit is a 400", async () => {
    const counts = await graphql('query ($n: Int!) { snapshots(first: $n) { edges { node { proxyStatus { name listeners } } } } }', {
      n: 10,
    });
    expect(counts.status).toBe(200);
    const configs = await graphql(
      'query ($n: Int!) { snapshots(first: $n) { edges { node { workloads { proxyConfig { configDump } } } } } }',
      { n: 10 },
    );
    expect(configs.status).toBe(400);
    expect(configs.body.data).toBeUndefined();
    expect(configs.body.errors[0].message).toMatch(/^query cost \d+ exceeds the limit of 2000 \(MESHLENS_GRAPHQL_MAX_COST\)/);
    expect(configs.body.errors[0].extensions).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'cost', max: MAX_COST });
    expect(configs.body.errors[0].extensions.value).toBeGreaterThan(MAX_COST);
  });

  it('the cost follows the variables: a smaller page fits', async () => {
    const query = 'query ($n: Int!) { snapshots(first: $n) { edges { node { workloads { proxyConfig { configDump } } } } } }';
    expect((await graphql(query, { n: 1 })).status).toBe(200);
  });

  it('resolveRoute and journey cost what they compute', async () => {
    const call = '{mode: OUTBOUND, port: 80, host: "a"}';
    const proxy = '{namespace: "a", name: "b"}';
    const one = `r0: resolveRoute(snapshotId: "00000000-0000-0000-0000-000000000000", proxy: ${proxy}, call: ${call}) { cluster }`;
    const many = Array.from({ length: 30 }, (_, i) => `j${i}: journey(snapshotId: "x", from: ${proxy}, call: ${call}) { paths { share } }`);
    const res = await graphql(`{ ${one} ${many.join(' ')} }`);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions.limit).toBe('cost');
  });
});

describe('JSON request bodies, bounded before any work', () => {
  const t = useTestApp({ worker: false });
  const post = (body: string) => t.api().post('/graphql').set('content-type', 'application/json').send(body);

  it('a GraphQL body of too many values is a 400 naming the bound (parsed on an ingest thread)', async () => {
    const res = await post(`{"query": "{ snapshots { totalCount } }", "variables": {"x": [${Array(150_000).fill('[]').join(',')}]}}`);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'JSON body holds more than 100000 values', details: [] });
  });

  it('a GraphQL body nested past the bound is a 400', async () => {
    const res = await post(`{"query": "{ snapshots { totalCount } }", "variables": {"x": ${'['.repeat(5000)}${']'.repeat(5000)}}}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^JSON body nested deeper than 1000 levels/);
  });

  it('a large GraphQL body within the bounds is served', async () => {
    const manifests = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {k: "${'x'.repeat(200_000)}"}\n`;
    const res = await t
      .api()
      .post('/graphql')
      .send({ query: 'mutation ($m: String!) { createSnapshot(manifests: $m) { name resourceCount } }', variables: { m: manifests } });
    expect(res.status).toBe(200);
    expect(res.body.data.createSnapshot).toEqual({ name: null, resourceCount: 1 });
  });
});

describe('rate limit', () => {
  const t = useTestApp({
    worker: false,
    config: { limits: { graphqlMaxDepth: 15, graphqlMaxCost: 10_000, ratePerMinute: RATE } },
    // Stands for access control (issue 16): it attaches the request's token.
    middleware: (req, _res, next) => {
      const token = /^Bearer (\w+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (token) (req as Request & { accessToken?: unknown }).accessToken = { id: token, scopes: ['read'], meshes: null };
      next();
    },
  });

  it('counts REST and GraphQL alike per client, then answers 429 with Retry-After; probes stay open', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < RATE - 1; i++) statuses.push((await t.api().get('/api/v1/snapshots')).status);
    // A GraphQL request with several top-level fields is one request.
    statuses.push((await t.api().post('/graphql').send({ query: '{ a: snapshots { totalCount } b: snapshots { totalCount } }' })).status);
    expect(statuses).toEqual(Array(RATE).fill(200));

    const rest = await t.api().get('/api/v1/snapshots');

    expect(rest.status).toBe(429);
    expect(Number(rest.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(rest.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(rest.body).toEqual({
      error: expect.stringMatching(/^rate limit exceeded: 4 requests per minute \(MESHLENS_RATE_LIMIT\)/),
      details: [],
    });

    const gql = await t.api().post('/graphql').send({ query: '{ snapshots { totalCount } }' });
    expect(gql.status).toBe(429);
    expect(Number(gql.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(gql.body.errors[0]).toMatchObject({
      message: expect.stringMatching(/^rate limit exceeded/),
      extensions: { code: 'RATE_LIMITED' },
    });

    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await t.api().get(path)).status).toBe(200);
  });

  it('keeps one budget per token, apart from the address', async () => {
    for (let i = 0; i < RATE; i++) expect((await t.api().get('/api/v1/snapshots').set('authorization', 'Bearer alice')).status).toBe(200);
    const over = await t.api().get('/api/v1/snapshots').set('authorization', 'Bearer alice');
    expect(over.status).toBe(429);
    expect(over.headers['retry-after']).toBeDefined();
    expect((await t.api().get('/api/v1/snapshots').set('authorization', 'Bearer bob')).status).toBe(200);
  });
});
