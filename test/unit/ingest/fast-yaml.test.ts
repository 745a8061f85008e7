// The js-yaml reader of block YAML (fast-yaml.ts) against the yaml library, on fuzzed manifests: every document it
// decodes is the value yaml's toJS gives (at the same place), and an upload decodes to the same
// objects and the same located problems whichever reads it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify, type Document } from 'yaml';
import { decodeManifests } from '../../../src/ingest/decode.js';
import { fastYamlGroups } from '../../../src/ingest/fast-yaml.js';
import { validateObject } from '../../../src/ingest/validate.js';

/** Every document of a text, decoded or declined, in one group (undefined: the text is yaml's). */
const fastYamlDocuments = (text: string) => fastYamlGroups(text, Infinity)?.groups.flatMap((group) => group());

/** As the upload fuzz test: a few hundred cases in `npm test`, MESHLENS_FUZZ_RUNS for a long run. */
const RUNS = Number(process.env.MESHLENS_FUZZ_RUNS ?? 300);

const ROOT = join(import.meta.dirname, '..', '..', '..');
const examples = readdirSync(join(ROOT, 'examples')).flatMap((dir) =>
  readdirSync(join(ROOT, 'examples', dir)).map((file) => readFileSync(join(ROOT, 'examples', dir, file), 'utf8')),
);

/** Values as manifests hold them, and the strings YAML reads otherwise than as text. */
const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom(
    'true',
    'False',
    'null',
    '~',
    '',
    '0x1F',
    '0o17',
    '-0',
    '+12',
    '1e3',
    '.5',
    '1.',
    '.inf',
    '-.Inf',
    '.NaN',
    'a: b',
    'a #b',
    '#c',
    '- x',
    'x:',
    '*x',
    '&x',
  ),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const tree = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('items', 'name', '<<', '1', 'true', 'a b')), tie('value'), {
    maxKeys: 4,
  }),
})).value;
/** A manifest written by yaml itself, in the styles people and kubectl use. */
const written = fc
  .record({
    data: tree,
    list: fc.boolean(),
    indentSeq: fc.boolean(),
    blockQuote: fc.constantFrom(true, false, 'literal' as const, 'folded' as const),
    defaultStringType: fc.constantFrom('PLAIN' as const, 'QUOTE_DOUBLE' as const, 'QUOTE_SINGLE' as const, 'BLOCK_LITERAL' as const),
    lineWidth: fc.constantFrom(0, 20, 80),
  })
  .map(({ data, list, ...options }) => {
    const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data };
    const value = list ? { apiVersion: 'v1', kind: 'List', items: [object, data, object] } : object;
    return `${stringify(value, options)}---\n${stringify(object, options)}`;
  });

/** Edits that once broke parsers: YAML's syntax characters, indentation, anchors and aliases, markers. */
const edit = fc.oneof(
  fc
    .tuple(fc.nat(), fc.string({ unit: fc.constantFrom(...'[]{}:-&*!|>\'"\n\t#?,%@\\ ~.0'), maxLength: 6 }))
    .map(([at, s]) => (text: string) => {
      const i = at % (text.length + 1);
      return text.slice(0, i) + s + text.slice(i);
    }),
  fc
    .tuple(
      fc.nat(),
      fc.constantFrom('---', '...', '- ', '  ', '&a ', '*a', '|', '|-', '|+', '>', '# c', 'k: v', '"', "'", '<<: *a', ''),
      fc.boolean(),
    )
    .map(([at, s, replace]) => (text: string) => {
      const lines = text.split('\n');
      const i = at % (lines.length + 1);
      const indent = /^ */.exec(lines[i] ?? '')![0];
      lines.splice(i, replace ? 1 : 0, indent + s);
      return lines.join('\n');
    }),
  fc.nat().map((at) => (text: string) => text.slice(0, at % (text.length + 1))),
);
const text = fc
  .tuple(fc.oneof(fc.constantFrom(...examples), written), fc.array(edit, { maxLength: 3 }))
  .map(([seed, edits]) => edits.reduce((t, apply) => apply(t), seed));

const options = { merge: true, uniqueKeys: true, logLevel: 'error' } as const;

/** yaml's document of the stream whose contents are between `start` and `end`. */
function documentIn(documents: Document.Parsed[], start: number, end: number): Document.Parsed | undefined {
  return documents.find((doc) => doc.contents && start <= doc.contents.range[0] && doc.contents.range[0] < end);
}

describe('the fast YAML reader', () => {
  it('decodes block YAML as yaml does, documents and the places of objects included', () => {
    fc.assert(
      fc.property(text, (source) => {
        const fast = fastYamlDocuments(source);
        if (!fast) return;
        // decode.ts reads the whole upload with yaml when yaml finds an error in a declined document.
        const alone = (document: (typeof fast)[number]) => parseAllDocuments(source.slice(document.start, document.end), options);
        if (fast.some((document) => document.declined && alone(document).some((doc) => doc.errors.length > 0))) return;
        // Otherwise the stream is YAML without an error, the documents of the fast reader are yaml's.
        const documents = parseAllDocuments(source, options);
        expect(documents.flatMap((doc) => doc.errors)).toEqual([]);
        for (const document of fast) {
          if (document.declined || document.value === null) continue;
          const doc = documentIn(documents, document.start, document.end);
          expect(isDeepStrictEqual(doc!.toJS({ maxAliasCount: 1000 }), document.value), source).toBe(true);
          if (document.root) expect(document.root.start, source).toBe(doc!.contents!.range[0]);
          const items = doc!.get('items', true) as { items: { range: number[] }[] } | undefined;
          document.items?.forEach((range, index) => range && expect(range.start, source).toBe(items!.items[index].range[0]));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('an upload decodes to the same objects and located problems as with yaml alone', () => {
    fc.assert(
      fc.property(text, (source) => {
        const withYaml = decodeManifests(source, 'application/yaml', validateObject, { fastYaml: false });
        const either = decodeManifests(source, 'application/yaml', validateObject);
        const summary = (result: typeof either) => ({
          objects: result.objects.map(({ document, line, column, object }) => ({ document, line, column, object })),
          problems: result.problems,
          checked: result.checked,
        });
        expect(summary(either), source).toEqual(summary(withYaml));
      }),
      { numRuns: RUNS },
    );
  });

  it('builds the documents of a text in groups as at once', () => {
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 4 }), fc.nat({ max: 400 }), (sources, size) => {
        const source = sources.join('\n---\n');
        const whole = fastYamlDocuments(source);
        const grouped = fastYamlGroups(source, size);
        expect(
          grouped?.groups.flatMap((group) => group()),
          source,
        ).toEqual(whole);
        expect(grouped?.documents, source).toBe(whole?.length);
      }),
      { numRuns: RUNS },
    );
  });

  it('an upload of many groups decodes as with yaml alone, its problems located', () => {
    const bad = ['apiVersion: v1', 'kind: Service', 'metadata: {name: web}', 'spec:', '  ports: [{port: 80000}]', ''].join('\n');
    // A document yaml alone reads (a merge key), and a problem, in the groups after the first.
    const merged = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: &m', '  name: merged', 'data:', '  <<: *m', ''].join('\n');
    const source = Array.from({ length: 8 }, () => [...examples, ...examples, ...examples, merged, ...examples, bad])
      .flat()
      .join('\n---\n');
    // Groups of decode.ts's 256 KiB.
    expect(fastYamlGroups(source, 256 * 1024)?.groups.length).toBeGreaterThanOrEqual(3);
    const summary = (result: ReturnType<typeof decodeManifests>) => ({
      objects: result.objects.map(({ document, line, column, object }) => ({ document, line, column, object })),
      problems: result.problems,
      checked: result.checked,
    });
    const either = decodeManifests(source, 'application/yaml', validateObject);
    expect(either.checked.length).toBeGreaterThan(0);
    expect(summary(either)).toEqual(summary(decodeManifests(source, 'application/yaml', validateObject, { fastYaml: false })));
  });

  it('reads the bench shapes itself (anchors, literal blocks, compact sequences, Lists), not merge keys', () => {
    const source = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: a',
      '  labels: &l',
      '    app: a',
      'spec:',
      '  selector: {matchLabels: *l}',
      '---',
      'apiVersion: v1',
      'kind: List',
      'items:',
      '- apiVersion: v1',
      '  kind: ConfigMap',
      '  metadata: &md {}',
      '  annotations: *md',
      '  data:',
      "    a: 'it''s'",
      '    b: "tab\\there" # comment',
      '    c: |',
      '      line 1',
      '',
      '        line 2',
      '    d: 0x1F',
      '- &m',
      '  apiVersion: v1',
      '  kind: Namespace',
      '  metadata: {}',
      '- *m',
      '---',
      'metadata: &md',
      '  name: a',
      'spec:',
      '  <<: *md',
      '',
    ].join('\n');
    const documents = fastYamlDocuments(source)!;
    expect(documents.map((document) => document.declined ?? false)).toEqual([false, false, true]);
    expect(documents[0].value).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'a', labels: { app: 'a' } },
      spec: { selector: { matchLabels: { app: 'a' } } },
    });
    // Where yaml says each mapping of the List starts; an anchored or aliased one is yaml's to locate.
    expect(documents[1].items?.map((range) => range && source.slice(range.start).split('\n')[0])).toEqual([
      'apiVersion: v1',
      undefined,
      undefined,
    ]);
    expect(documents[1].value).toEqual({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {},
          annotations: {},
          data: { a: "it's", b: 'tab\there', c: 'line 1\n\n  line 2\n', d: 31 },
        },
        { apiVersion: 'v1', kind: 'Namespace', metadata: {} },
        { apiVersion: 'v1', kind: 'Namespace', metadata: {} },
      ],
    });
  });
});
