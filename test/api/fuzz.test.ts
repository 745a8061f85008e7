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
