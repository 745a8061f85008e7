import { describe, expect, it } from 'vitest';
import { jsonParts } from '../../../src/http/json-parts.js';

const joined = (value: unknown, itemsPerPart?: number) => [...jsonParts(value, itemsPerPart)].join('');

describe('jsonParts', () => {
  it('joins to exactly what JSON.stringify writes', () => {
    class Result {
      id = 'a';
      items = Array.from({ length: 1234 }, (_, i) => ({ n: i, s: i % 7 === 0 ? 'x → y' : 'z', u: undefined }));
      none: unknown = undefined;
      fn = () => 1;
      empty: unknown[] = [];
      nested = { list: [1, [2, 3], null], when: new Date(0) };
      sparse = [undefined, () => 1, Symbol('s')];
    }
    const values: unknown[] = [
      new Result(),
      {},
      { only: undefined },
      [1, 2, 3],
      'text',
      42,
      null,
      { when: new Date(5) },
      { toJSON: () => ({ replaced: true }) },
      { list: { toJSON: () => 'list' } },
    ];
    for (const value of values) for (const size of [1, 2, 500, 5000]) expect(joined(value, size)).toBe(JSON.stringify(value));
  });

  it('writes an array property a slice of elements a part', () => {
    const parts = [...jsonParts({ a: 1, list: Array.from({ length: 10 }, (_, i) => i), b: [1] }, 4)];
    expect(parts).toEqual(['{"a":1', ',"list":[', '0,1,2,3', ',4,5,6,7', ',8,9', ']', ',"b":[1]', '}']);
  });
});
