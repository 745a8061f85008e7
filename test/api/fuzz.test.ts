// The upload endpoint under fuzzed, hostile manifests (fast-check): mutations of examples/ and
// the seed scenarios with the inputs that once answered 500 (circular and dangling aliases, NUL
// and lone surrogates, deep nesting, complex keys, truncation, random bytes). Every answer is
// < 500; a 400 lists located problems; a refused upload stores nothing. A few hundred cases run
// in `npm test`; MESHLENS_FUZZ_RUNS=10000 for a long run (MESHLENS_FUZZ_SEED to replay one).
// The parse runs on an ingest thread, never on the main one.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import fc from 'fast-check';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { IngestPool } from '../../src/snapshots/ingest-pool.service.js';
import { useTestApp } from '../support/test-app.js';

const RUNS = Number(process.env.MESHLENS_FUZZ_RUNS ?? 150);
const SEED = process.env.MESHLENS_FUZZ_SEED === undefined ? undefined : Number(process.env.MESHLENS_FUZZ_SEED);

const ROOT = join(import.meta.dirname, '..', '..');
/** The shared specs' seed scenarios: next to the checkout, or where MESHLENS_FUZZ_SCENARIOS says. */
const SCENARIOS = process.env.MESHLENS_FUZZ_SCENARIOS ?? join(ROOT, '..', 'shared', 'scenarios');

/** examples/, and each case's config of the seed scenarios when the shared specs are next to the checkout. */
function seeds(): string[] {
  const examples = join(ROOT, 'examples');
  const files = readdirSync(examples).flatMap((dir) =>
    readdirSync(join(examples, dir)).map((file) => readFileSync(join(examples, dir, file), 'utf8')),
  );
  const scenarios = existsSync(SCENARIOS)
    ? readdirSync(SCENARIOS).flatMap((file) => {
        const { cases = [] } = parse(readFileSync(join(SCENARIOS, file), 'utf8')) as { cases?: { config?: string }[] };
        return cases.flatMap((c) => (c.config ? [c.config] : []));
      })
    : [];
  return [...files, ...scenarios];
}

const deep = (open: string, close: string) => fc.integer({ min: 1, max: 3000 }).map((n) => open.repeat(n) + close.repeat(n));
/** Values and fragments that once broke the service, and their neighbours. */
const hostileValue = fc.oneof(
  fc.constantFrom(
    '&a {x: *a}',
    '&a [1, *a]',
    '*nope',
    '"a\\0b"',
    '"\\udfff"',
    '"\\ud800x"',
    '? [a, b]\n: c',
    '{? {a: 1}: b}',
    '!!binary AAAA',
    '!custom x',
    '<<: *nope',
    "''",
    '~',
    '.nan',
    '0x1F',
    '1e400',
  ),
  deep('[', ']'),
  deep('{a: ', '}'),
  fc.integer({ min: 1, max: 3000 }).map((n) => `${'- '.repeat(n)}x`),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => JSON.stringify(s)),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const hostileLine = fc.oneof(
  hostileValue.map((v) => `data: ${v}`),
  hostileValue.map((v) => `  k: ${v}`),
  fc.constantFrom(
    '---',
    '...',
    '%YAML 1.2',
    '- - -',
    '? ',
    ': ',
    '&x',
    '*x',
    '\t',
    '\0',
    '#',
    'kind: List\nitems: [*x]',
    'metadata: {name: "\\0"}',
  ),
);

type Mutation = (text: string) => string;
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // a hostile line inserted at a line of the seed (indented like it)
  fc.tuple(fc.nat(), hostileLine).map(([at, line]): Mutation => (text) => {
    const lines = text.split('\n');
    const i = at % (lines.length + 1);
    const indent = /^\s*/.exec(lines[i] ?? '')![0];
    lines.splice(i, 0, indent + line.replace(/\n/g, `\n${indent}`));
    return lines.join('\n');
  }),
  // a scalar value replaced by a hostile one
  fc.tuple(fc.nat(), hostileValue).map(([at, value]): Mutation => (text) => {
    const values = [...text.matchAll(/: ([^\s{[][^\n,}\]]*)/g)];
    const target = values[at % Math.max(1, values.length)];
    return target ? text.slice(0, target.index + 2) + value + text.slice(target.index + target[0].length) : text;
  }),
  // truncated anywhere
  fc.nat().map(
    (at): Mutation =>
      (text) =>
        text.slice(0, at % (text.length + 1)),
  ),
  // characters of YAML's syntax inserted anywhere
  fc
    .tuple(fc.nat(), fc.string({ unit: fc.constantFrom(...'[]{}:-&*!|>\'"\n\t\0#?,%@\\ \ud800\udfff'), maxLength: 8 }))
    .map(([at, s]): Mutation => (text) => {
      const i = at % (text.length + 1);
      return text.slice(0, i) + s + text.slice(i);
    }),
  // the seed as a JSON array or object
  fc.constant<Mutation>((text) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [text] })),
);

const t = useTestApp({ worker: false });
const threads = new Set<number>();
beforeAll(async () => {
  const pool = t.app.get(IngestPool);
  const prepare = pool.prepare.bind(pool);
  pool.prepare = async (...args) => {
    const result = await prepare(...args);
    threads.add(result.threadId);
    return result;
  };
});

const stored = async () =>
  (await t.db.query<{ n: number }>('SELECT (SELECT count(*) FROM snapshots) + (SELECT count(*) FROM resource_bodies) AS n'))[0]!.n;

describe('fuzzed uploads', () => {
  // Roughly 20 uploads a second on a busy machine; the time limit grows with the runs.
  it(
    `${RUNS} hostile manifests: never 5xx, a 400 locates every problem, a refusal stores nothing`,
    { timeout: Math.max(60_000, RUNS * 250) },
    async () => {
      const texts = seeds();
      const upload = fc.tuple(
        fc.constantFrom(...texts),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('application/yaml', 'application/json', 'text/plain'),
      );
      let refused = 0;
      const refusalMs: number[] = [];
      await fc.assert(
        fc.asyncProperty(upload, async ([seed, mutations, contentType]) => {
          const body = mutations.reduce((text, mutate) => mutate(text), seed);
          const before = await stored();
          const started = Date.now();
          const res = await request(t.app.getHttpServer()).post('/api/v1/snapshots').set('content-type', contentType).send(body);
          expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
          if (res.status === 201) return;
          refused++;
          refusalMs.push(Date.now() - started);
          expect(await stored()).toBe(before);
          expect(res.body.error).toEqual(expect.any(String));
          if (res.status !== 400) return;
          expect(res.body.details.length).toBeGreaterThan(0);
          for (const problem of res.body.details) {
            expect(problem).toEqual(expect.objectContaining({ document: expect.any(Number), message: expect.any(String) }));
            // Located: a line, unless the upload as a whole is what is wrong.
            if (!/^more problems not listed/.test(problem.message)) expect(problem.line, JSON.stringify(problem)).toBeGreaterThan(0);
          }
        }),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
      refusalMs.sort((a, b) => a - b);
      const p99 = refusalMs[Math.ceil(0.99 * refusalMs.length) - 1];
      process.stderr.write(
        `fuzz: ${RUNS} uploads from ${texts.length} seeds, ${refused} refused (p99 ${p99} ms, max ${refusalMs.at(-1)} ms), ${RUNS - refused} stored\n`,
      );
      expect(refused).toBeGreaterThan(0);
      // The uploads were parsed on an ingest thread, not on the thread that serves requests.
      expect(threads.size).toBeGreaterThan(0);
      expect(threads.has(threadId)).toBe(false);
    },
  );
});

describe('the minimal inputs of issue 11, over HTTP', () => {
  const head = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n';
  it.each([
    ['a circular alias', `${head}data: &a {x: *a}\n`, /circular value/],
    ['a NUL character', `${head}data: {k: "a\\0b"}\n`, /NUL character/],
    ['a lone surrogate', `${head}data: {k: "\\udfff"}\n`, /lone UTF-16 surrogate/],
    ['20,000 nested arrays', `${head}data: {k: ${'['.repeat(20_000)}${']'.repeat(20_000)}}\n`, /nested deeper than 1000/],
    [
      'a dangling alias in the mesh config',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    outboundTrafficPolicy: *nope\n',
      /Unresolved alias/,
    ],
    ['a complex key', `${head}data:\n  ? [a, b]\n  : c\n`, /complex key/],
  ])('%s is a located 400, nothing stored', async (_, body, message) => {
    const before = await stored();
    const res = await request(t.app.getHttpServer()).post('/api/v1/snapshots').set('content-type', 'application/yaml').send(body);
    expect(res.status).toBe(400);
    expect(res.body.details[0]).toEqual(expect.objectContaining({ document: 0, message: expect.stringMatching(message) }));
    expect(await stored()).toBe(before);
  });

  it('an empty upload is an empty mesh, stored with a warning', async () => {
    const res = await request(t.app.getHttpServer())
      .post('/api/v1/snapshots')
      .set('content-type', 'application/yaml')
      .send('# nothing\n---\n');
    expect(res.status).toBe(201);
    expect(res.body).toEqual(
      expect.objectContaining({ resourceCount: 0, warnings: [expect.stringMatching(/^no objects: the snapshot is an empty mesh/)] }),
    );
  });

  it('a snapshot name Postgres cannot store is a 400', async () => {
    const res = await request(t.app.getHttpServer())
      .post('/api/v1/snapshots?name=a%00b')
      .set('content-type', 'application/yaml')
      .send('apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n');
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([
      { document: 0, path: 'name', message: expect.stringMatching(/^the snapshot's name: string contains a NUL/) },
    ]);
  });
});

/** Percent-encoded; a lone surrogate (which encodeURIComponent refuses) as bytes that are not UTF-8 at all. */
function enc(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return `${encodeURIComponent(value.replace(/[\ud800-\udfff]/g, ''))}%ED%A0%80%FF`;
  }
}

/** Strings a hostile client sends: NUL, lone surrogates, huge, control characters, injection-shaped, numbers as text. */
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    '',
    '\0',
    'a\u0000b',
    '\udfff',
    '\ud800x',
    '../../etc/passwd',
    "'; DROP TABLE snapshots; --",
    '%00',
    '%2F..%2F',
    '*',
    '@latest',
    'prod@latest',
  ),
  fc.integer({ min: 1, max: 200_000 }).map((n) => 'x'.repeat(n)),
);
/** JSON values nested up to a few thousand levels, or wide. */
const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.integer({ min: 1, max: 3000 }).map((n) => JSON.parse('['.repeat(n) + ']'.repeat(n)) as unknown),
  fc.integer({ min: 1, max: 3000 }).map((n) => JSON.parse('{"a":'.repeat(n) + '1' + '}'.repeat(n)) as unknown),
  hostileString,
  fc.constantFrom(null, -1, 1e308, 0.5, true, [], {}),
);
const hostileNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-1, 0, 65536, 2 ** 31, 2 ** 53, 1e308), hostileString);
const proxyInput = fc.record(
  {
    namespace: fc.oneof(hostileString, hostileJson),
    name: fc.oneof(hostileString, hostileJson),
    labels: hostileJson,
    ip: hostileString,
    ips: fc.oneof(fc.array(hostileString, { maxLength: 3 }), hostileJson),
    type: fc.oneof(fc.constantFrom('SIDECAR', 'ROUTER', 'NONE', 'sidecar'), hostileString),
    istioVersion: hostileString,
    metadata: hostileJson,
  },
  { requiredKeys: [] },
);
const callInput = fc.record(
  {
    mode: fc.oneof(fc.constantFrom('OUTBOUND', 'INBOUND', 'GATEWAY'), hostileString),
    port: hostileNumber,
    protocol: fc.oneof(fc.constantFrom('HTTP', 'HTTP2', 'TCP', 'GRPC'), hostileString),
    tls: fc.oneof(fc.constantFrom('PLAINTEXT', 'TLS', 'MTLS'), hostileString),
    address: hostileString,
    host: hostileString,
    sni: hostileString,
    alpn: fc.oneof(fc.array(hostileString, { maxLength: 3 }), hostileJson),
    path: hostileString,
    method: hostileString,
    headers: fc.oneof(fc.array(fc.record({ name: hostileString, value: hostileString }), { maxLength: 4 }), hostileJson),
  },
  { requiredKeys: [] },
);

type Shape = { method: 'GET' | 'POST' | 'DELETE'; path: string; contentType?: string; body?: string };
const manifest = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: fuzz}\n';
const contentType = fc.oneof(
  fc.constantFrom(
    'application/yaml',
    'application/json',
    'application/json; charset=latin1',
    'text/plain',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded',
    'application/octet-stream',
    'application/graphql',
    '',
    'json',
  ),
  hostileString.map((s) => s.replace(/[^\x20-\x7e]/g, '')),
);
const query = fc
  .array(fc.tuple(fc.constantFrom('name', 'limit', 'cursor', 'format', 'mesh', 'name[]', 'limit[a]', 'x'), hostileString), { maxLength: 4 })
  .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&')}` : ''));
const graphqlRequest = (snapshotId: string): fc.Arbitrary<Shape> =>
  fc.oneof(
    fc.record({ id: fc.oneof(fc.constant(snapshotId), hostileString), proxy: proxyInput, call: callInput }).map(({ id, proxy, call }) => ({
      method: 'POST' as const,
      path: '/graphql',
      contentType: 'application/json',
      body: JSON.stringify({
        query:
          'query ($id: ID!, $proxy: ProxyInput!, $call: CallInput!) { resolveRoute(snapshotId: $id, proxy: $proxy, call: $call) { cluster error trace { stage detail } } }',
        variables: { id, proxy, call },
      }),
    })),
    fc
      .record({
        id: fc.oneof(fc.constant(snapshotId), hostileString),
        from: proxyInput,
        call: callInput,
        claims: hostileJson,
        principal: hostileString,
      })
      .map(({ id, from, call, claims, principal }) => ({
        method: 'POST' as const,
        path: '/graphql',
        contentType: 'application/json',
        body: JSON.stringify({
          query:
            'query ($id: ID!, $from: ProxyInput!, $call: CallInput!, $identity: RequestIdentity) { journey(snapshotId: $id, from: $from, call: $call, identity: $identity) { paths { share outcome } trace { stage detail } } }',
          variables: { id, from, call, identity: { requestPrincipal: principal, claims } },
        }),
      })),
    // The same inputs as literals in the query text, and query texts nested deep.
    fc.record({ host: hostileString, depth: fc.integer({ min: 1, max: 5000 }) }).map(({ host, depth }) => ({
      method: 'POST' as const,
      path: '/graphql',
      contentType: 'application/json',
      body: JSON.stringify({
        query: `{ resolveRoute(snapshotId: ${JSON.stringify(snapshotId)}, proxy: {namespace: ${JSON.stringify(host)}}, call: {port: 80, host: ${JSON.stringify(host)}}) { cluster } snapshots ${'{ a '.repeat(depth)}${'}'.repeat(depth)} }`,
      }),
    })),
    // Whatever else a JSON body may be: batches, wrong types, no query.
    fc
      .oneof(hostileJson, fc.record({ query: hostileJson, variables: hostileJson, operationName: hostileJson }, { requiredKeys: [] }))
      .map((body) => ({
        method: 'POST' as const,
        path: '/graphql',
        contentType: 'application/json',
        body: JSON.stringify(body) ?? 'undefined',
      })),
    fc.tuple(hostileString, contentType).map(([body, type]) => ({ method: 'POST' as const, path: '/graphql', contentType: type, body })),
    hostileString.map((q) => ({
      method: 'GET' as const,
      path: `/graphql?query=${enc(q)}&variables=${enc(q)}`,
    })),
  );
const restRequest = (snapshotId: string): fc.Arbitrary<Shape> =>
  fc.oneof(
    // An upload in every wrapper a client might try: raw, a JSON object holding the text, a form, multipart.
    fc.tuple(contentType, query, fc.constantFrom('raw', 'json-wrapper', 'form', 'multipart')).map(([type, q, wrap]) => {
      const body =
        wrap === 'raw'
          ? manifest
          : wrap === 'json-wrapper'
            ? JSON.stringify({ manifests: manifest, name: 'x' })
            : wrap === 'form'
              ? `manifests=${enc(manifest)}`
              : `--x\r\nContent-Disposition: form-data; name="file"; filename="a.yaml"\r\n\r\n${manifest}\r\n--x--\r\n`;
      return { method: 'POST' as const, path: `/api/v1/snapshots${q}`, contentType: type, body };
    }),
    fc.tuple(fc.oneof(fc.constant(snapshotId), hostileString), query).map(([id, q]) => ({
      method: 'GET' as const,
      path: `/api/v1/snapshots/${enc(id)}${q}`,
    })),
    query.map((q) => ({ method: 'GET' as const, path: `/api/v1/snapshots${q}` })),
    fc.tuple(fc.oneof(fc.constant(snapshotId), hostileString), hostileString).map(([a, b]) => ({
      method: 'GET' as const,
      path: `/api/v1/snapshots/${enc(a)}/diff/${enc(b)}?format=${enc(b)}`,
    })),
    fc
      .record({
        id: fc.oneof(fc.constant(snapshotId), hostileString),
        from: proxyInput,
        call: callInput,
        identity: hostileJson,
        type: contentType,
      })
      .map(({ id, type, ...body }) => ({
        method: 'POST' as const,
        path: `/api/v1/snapshots/${enc(id)}/journey`,
        contentType: type,
        body: JSON.stringify(body),
      })),
    hostileString.map((id) => ({ method: 'DELETE' as const, path: `/api/v1/snapshots/${enc(id)}x` })),
  );

describe('fuzzed requests', () => {
  let snapshotId = '';
  beforeAll(async () => {
    const res = await request(t.app.getHttpServer()).post('/api/v1/snapshots').set('content-type', 'application/yaml').send(manifest);
    snapshotId = res.body.id;
  });

  it(
    `${RUNS} hostile requests (content types, query parameters, wrappers, GraphQL inputs of resolveRoute and journey): never 5xx`,
    { timeout: Math.max(60_000, RUNS * 250) },
    async () => {
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(fc.oneof(graphqlRequest(snapshotId), restRequest(snapshotId)), async (shape) => {
          const server = request(t.app.getHttpServer());
          let call =
            shape.method === 'GET'
              ? server.get(shape.path)
              : shape.method === 'DELETE'
                ? server.delete(shape.path)
                : server.post(shape.path);
          if (shape.contentType !== undefined) call = call.set('content-type', shape.contentType);
          const res = await (shape.body === undefined ? call : call.send(shape.body));
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          expect(res.status, `${shape.method} ${shape.path.slice(0, 200)}: ${JSON.stringify(res.body).slice(0, 500)}`).toBeLessThan(500);
        }),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
      process.stderr.write(`fuzz: ${RUNS} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}\n`);
    },
  );
});
