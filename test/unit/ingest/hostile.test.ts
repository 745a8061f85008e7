// Regression tests for hostile or careless uploads (issue 11): each is a located problem, never
// an exception, and nothing recursive runs over input deeper than the bound.
import { describe, expect, it, vi } from 'vitest';
import { MAX_NESTING_DEPTH, MAX_OBJECT_LENGTH, MAX_STRING_LENGTH } from '../../../src/ingest/bounded-yaml.js';
import { jsonErrorOffset, MAX_PROBLEMS } from '../../../src/ingest/decode.js';
import { EMPTY_UPLOAD_WARNING } from '../../../src/ingest/ingest.js';
import { ingestText as ingest } from '../../support/admission.js';
import type { IngestProblem } from '../../../src/model/snapshot.js';

async function problemsOf(text: string, contentType?: string): Promise<IngestProblem[]> {
  const result = await ingest(text, contentType);
  if (result.ok) throw new Error('expected the upload to be refused');
  return result.problems;
}

const head = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n';

describe('hostile uploads', () => {
  it('a circular alias is refused where the alias is', async () => {
    expect(await problemsOf(`${head}data: &a {x: *a}\n`)).toEqual([
      { document: 0, line: 4, column: 11, path: '/data/x', message: expect.stringMatching(/circular value/) },
    ]);
  });

  it('a List that contains itself is refused, not flattened forever', async () => {
    expect(await problemsOf('&l {apiVersion: v1, kind: List, items: [*l]}\n')).toEqual([
      expect.objectContaining({ document: 0, path: '/items/0', message: expect.stringMatching(/circular value/) }),
    ]);
  });

  it('a NUL character in a string is refused with its path, never altered', async () => {
    expect(await problemsOf(`${head}data: {k: "a\\0b"}\n`)).toEqual([
      { document: 0, line: 4, column: 8, path: '/data/k', message: expect.stringMatching(/NUL character \(at character 2\)/) },
    ]);
  });

  it('a NUL character in a key and in JSON is refused too', async () => {
    expect((await problemsOf(`${head}data: {"a\\0": b}\n`))[0]).toMatchObject({
      path: '/data/a\u0000',
      message: expect.stringMatching(/^key: .*NUL/),
    });
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 'a\u0000' } });
    expect(await problemsOf(json, 'application/json')).toEqual([
      { document: 0, line: 1, column: 71, path: '/data/k', message: expect.stringMatching(/NUL/) },
    ]);
  });

  it('a lone UTF-16 surrogate is refused', async () => {
    expect(await problemsOf(`${head}data: {k: "\\udfff"}\n`)).toEqual([
      { document: 0, line: 4, column: 8, path: '/data/k', message: expect.stringMatching(/lone UTF-16 surrogate \\uDFFF/) },
    ]);
    expect((await problemsOf(JSON.stringify([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: '\ud800' } }])))[0]).toMatchObject({
      path: '/0/metadata/name',
      message: expect.stringMatching(/\\uD800/),
    });
  });

  it.each([
    ['arrays', (n: number) => `${head}data: {k: ${'['.repeat(n)}${']'.repeat(n)}}\n`],
    ['objects', (n: number) => `${head}data: {k: ${'{a: '.repeat(n)}1${'}'.repeat(n)}}\n`],
    ['block sequences', (n: number) => `${head}spec:\n  ${'- '.repeat(n)}1\n`],
  ])('nesting of %s deeper than the bound is refused while parsing', async (_, nest) => {
    expect((await ingest(nest(MAX_NESTING_DEPTH - 10))).ok).toBe(false); // ConfigMap data must be strings: refused, but decoded
    for (const depth of [MAX_NESTING_DEPTH + 10, 20_000, 1_000_000]) {
      const problems = await problemsOf(nest(depth));
      expect(problems).toEqual([
        {
          document: 0,
          line: expect.any(Number),
          column: expect.any(Number),
          message: expect.stringMatching(/nested deeper than 1000 levels/),
        },
      ]);
    }
  });

  it('nesting past the bound in a body that looks like JSON is located before JSON.parse', async () => {
    const text = `{"apiVersion": "v1", "kind": "List",\n "items": ["${'\\"['.repeat(5)}", ${'['.repeat(MAX_NESTING_DEPTH + 5)}`;
    expect(await problemsOf(text)).toEqual([
      { document: 0, line: 2, column: 1029, message: expect.stringMatching(/nested deeper than 1000 levels/) },
    ]);
  });

  it('deep nesting in an unknown kind and in a Service port is refused, not overflowed', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    expect((await problemsOf(`apiVersion: x.io/v1\nkind: Thing\nmetadata: {name: t}\nspec: ${deep}\n`))[0]!.message).toMatch(
      /nested deeper/,
    );
    expect(
      (await problemsOf(`apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: ${deep}}]}\n`))[0]!.message,
    ).toMatch(/nested deeper/);
    expect(
      (await problemsOf(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"ports":[{"port":${deep}}]}}`))[0]!.message,
    ).toMatch(/nested deeper/);
  });

  it('aliases cannot nest past the bound either', async () => {
    const levels =
      'a0: &a0 [1]\n' + Array.from({ length: 3 }, (_, i) => `a${i + 1}: &a${i + 1} ${'['.repeat(400)}*a${i}${']'.repeat(400)}`).join('\n');
    expect(await problemsOf(`${head}spec:\n${levels.replace(/^/gm, '  ')}\n`)).toEqual([
      expect.objectContaining({ document: 0, message: expect.stringMatching(/nested deeper than 1000 levels \(aliases included\)/) }),
    ]);
  });

  it('an alias without an anchor inside the mesh config is located in it', async () => {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    outboundTrafficPolicy: *nope\n`;
    expect(await problemsOf(text)).toEqual([
      expect.objectContaining({ document: 0, line: 6, path: '/data/mesh', message: expect.stringMatching(/Unresolved alias.*nope/) }),
    ]);
  });

  it('block mappings nested past the bound are refused', async () => {
    const text = `${head}spec:\n${Array.from({ length: MAX_NESTING_DEPTH + 5 }, (_, i) => `${' '.repeat(i + 1)}a${i}:`).join('\n')} 1\n`;
    expect(await problemsOf(text)).toEqual([
      { document: 0, line: MAX_NESTING_DEPTH + 4, column: expect.any(Number), message: expect.stringMatching(/nested deeper/) },
    ]);
  });

  it('a circular or too deep mesh config is refused', async () => {
    const mesh = (value: string) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: ${JSON.stringify(value)}\n`;
    expect((await problemsOf(mesh('a: &a {x: *a}')))[0]!.message).toMatch(/circular value/);
    expect((await problemsOf(mesh(`a: ${'['.repeat(3000)}`)))[0]!.message).toMatch(/nested deeper/);
  });

  it('a complex key is refused, without a warning on the console', async () => {
    const warn = vi.spyOn(process, 'emitWarning');
    expect(await problemsOf(`${head}data:\n  ? [a, b]\n  : c\n`)).toEqual([
      { document: 0, line: 5, column: 5, message: expect.stringMatching(/complex key/) },
    ]);
    expect((await problemsOf(`${head}data:\n  ? &k [a]\n  : c\n  x: *k\n`))[0]!.message).toMatch(/complex key/);
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  it('strings and objects over their bounds are refused', async () => {
    const long = 'x'.repeat(MAX_STRING_LENGTH + 1);
    expect(await problemsOf(`${head}data: {k: ${long}}\n`)).toEqual([
      {
        document: 0,
        line: 4,
        column: 8,
        path: '/data/k',
        message: `string of ${MAX_STRING_LENGTH + 1} characters, over the limit of ${MAX_STRING_LENGTH}`,
      },
    ]);
    const values = Array.from({ length: 4 }, (_, i) => `  k${i}: ${'y'.repeat(MAX_OBJECT_LENGTH / 4)}`).join('\n');
    expect(await problemsOf(`${head}data:\n${values}\n`)).toEqual([
      { document: 0, line: 1, column: 1, message: expect.stringMatching(/^object of \d+ characters, over the limit/) },
    ]);
  });

  it.each(['', '   \n', '---', '---\n---\n', '# only a comment\n', '[]', 'null', '{"apiVersion": "v1", "kind": "List", "items": []}'])(
    'an empty upload %j is an empty mesh, with a warning',
    async (text) => {
      expect(await ingest(text)).toEqual({ ok: true, resources: [], warnings: [EMPTY_UPLOAD_WARNING] });
      const json = await ingest(text, 'application/json');
      if (json.ok) expect(json).toEqual({ ok: true, resources: [], warnings: [EMPTY_UPLOAD_WARNING] });
      else expect(json.problems[0]!.message).toMatch(/JSON syntax error/);
    },
  );

  it('thousands of bad strings or items are answered with a bounded list', async () => {
    expect((await problemsOf(`${head}data: [${Array(20_000).fill('"\\0"').join(',')}]\n`)).length).toBe(100);
    const items = await problemsOf(`[${Array(20_000).fill('[]').join(',')}]`);
    expect(items).toHaveLength(MAX_PROBLEMS + 1);
    expect(items.at(-1)!.message).toMatch(/^more problems not listed/);
    expect(await problemsOf('---\n[]\n'.repeat(20_000))).toHaveLength(MAX_PROBLEMS + 1);
  });
});

describe('jsonErrorOffset', () => {
  it.each([
    ['{"a": 1,}', 8],
    ['[1, 2,, 3]', 6],
    ['{"a" 1}', 5],
    ['# comment', 0],
    ['{"a": "b\u0001"}', 6],
    ['{"a": [1, {"b": tru}]}', 16],
    ['[[[', 3],
    ['{"a": 1} x', 9],
    ['{"a": "\\x"}', 6],
    ['[-01]', 3],
  ])('%j fails at %i', (text, offset) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(jsonErrorOffset(text)).toBe(offset);
  });
});
