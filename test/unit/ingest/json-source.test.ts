// A JSON upload's problems are located in the text itself (json-source.ts), without parsing it a
// second time as YAML: the same lines and columns yaml gave, and a body of a million tiny items
// answered with a bounded list.
import { describe, expect, it } from 'vitest';
import { MAX_PROBLEMS, MAX_UPLOAD_VALUES, decodeManifests } from '../../../src/ingest/decode.js';
import { JsonSource } from '../../../src/ingest/json-source.js';
import { ingestText as ingest } from '../../support/admission.js';

describe('JsonSource', () => {
  const text = '{\n  "a": [1, {"b\\u0063": "x"}, [ ]],\n  "s": "q\\"}",\n  "n": null\n}';
  const source = new JsonSource(text);

  it('locates members by path: a key in an object, an item in an array, the deepest that exists', () => {
    const root = source.root();
    expect(source.locate(root, ['a'])).toBe(text.indexOf('"a"'));
    expect(source.locate(root, ['a', 1])).toBe(text.indexOf('{"b'));
    // An escaped key is the key it decodes to.
    expect(source.locate(root, ['a', 1, 'bc'])).toBe(text.indexOf('"b\\u0063"'));
    expect(source.locate(root, ['a', 2, 0])).toBe(text.indexOf('[ ]'));
    expect(source.locate(root, ['missing', 'deeper'])).toBe(root);
    expect(source.locate(root, ['n'])).toBe(text.indexOf('"n"'));
  });

  it('knows where each value ends, strings with escaped quotes and brackets included', () => {
    const s = source.child(source.root(), 's')!;
    expect(text.slice(s, source.end(s))).toBe('"q\\"}"');
    expect(source.end(source.root())).toBe(text.length);
  });

  it('finds the keys an object repeats, at any depth, and only those', () => {
    const dup = '{"a": 1, "b": {"a": 2, "a": 3}, "c": [{"x": 1}, {"x": 2}], "\\u0061": 4}';
    expect(new JsonSource(dup).duplicateKeys()).toEqual([dup.indexOf('"a": 3'), dup.indexOf('"\\u0061"')]);
  });
});

describe('JSON uploads, located without yaml', () => {
  it('a problem deep in an item of a List is at its line and column', async () => {
    const text =
      '{"apiVersion": "v1", "kind": "List", "items": [\n  {"apiVersion": "v1", "kind": "Service",\n   "metadata": {"name": "a"}, "spec": {"ports": [{"port": 80000}]}}\n]}';
    const result = await ingest(text, 'application/json');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      expect.objectContaining({ document: 0, line: 3, column: 51, path: '/spec/ports/0/port', message: expect.stringMatching(/80000/) }),
    ]);
  });

  it('a NUL in a value of the second item is located there', () => {
    const text =
      '[\n{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},\n{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},\n "data": {"k": "a\\u0000"}}\n]';
    const { problems } = decodeManifests(text, 'application/json');
    expect(problems).toEqual([
      expect.objectContaining({ document: 0, line: 4, column: 11, path: '/1/data/k', message: expect.stringMatching(/NUL/) }),
    ]);
  });

  it('a body of a million tiny items gets a bounded answer, each problem located', () => {
    const count = 350_000;
    for (const text of [`[${Array(count).fill('[]').join(',')}]`, `{"kind": "List", "items": [${Array(count).fill('[]').join(',')}]}`]) {
      const { objects, problems } = decodeManifests(text, 'application/json');
      expect(objects).toEqual([]);
      expect(problems.length).toBe(MAX_PROBLEMS + 1);
      const offset = text.indexOf('[]');
      expect(problems[1]).toMatchObject({ document: 1, line: 1, column: offset + 4, message: expect.stringMatching(/got a list/) });
    }
  });

  it('an object holding a million tiny items is decoded', () => {
    const text = `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "items": [${Array(350_000).fill('[]').join(',')}]}`;
    const { objects, problems } = decodeManifests(text, 'application/json');
    expect(problems).toEqual([]);
    expect(objects).toHaveLength(1);
    expect(objects[0].locate(['items', 2])).toEqual({ line: 1, column: text.indexOf('[]') + 7 });
  });

  it('a body of many empty objects stops at the problem cap: validation runs as each is decoded', async () => {
    const count = 300_000;
    const text = `[${Array(count).fill('{}').join(',')}]`;
    const result = await ingest(text, 'application/json');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(MAX_PROBLEMS + 1);
    expect(result.problems[2]).toMatchObject({
      document: 1,
      line: 1,
      column: 5,
      path: '/apiVersion',
      message: expect.stringMatching(/apiVersion/),
    });
    expect(result.problems.at(-1)?.message).toMatch(/more problems not listed/);
  });

  it('duplicate keys past where decoding stopped are not attributed to the first object', async () => {
    const item = '{"a": 1, "a": 2}';
    const text = `[${Array(2000).fill(item).join(',')}]`;
    const result = await ingest(text, 'application/json');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const first = result.problems.filter((problem) => problem.document === 0);
    expect(first.filter((problem) => /DUPLICATE_KEY/.test(problem.message))).toHaveLength(1);
  });

  it('a JSON upload of more values than the bound is refused before it is parsed, where the bound is crossed', () => {
    const text = `[\n${Array(MAX_UPLOAD_VALUES + 10)
      .fill('0')
      .join(',')}]`;
    const { objects, problems } = decodeManifests(text, 'application/json');
    expect(objects).toEqual([]);
    expect(problems).toEqual([
      { document: 0, line: 2, column: 2 * MAX_UPLOAD_VALUES - 2, message: expect.stringMatching(/more than 2000000 values/) },
    ]);
  });
});
