// canonicalEqual is canonicalJson equality without the strings: the same answer on every pair.
import { describe, expect, it } from 'vitest';
import { canonicalEqual } from '../../../src/diff/json-diff.js';
import { canonicalJson } from '../../../src/model/canonical.js';

const values: unknown[] = [
  null,
  undefined,
  0,
  -0,
  1,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  '',
  '0',
  'null',
  'a',
  true,
  false,
  [],
  {},
  [null],
  [undefined],
  [1, 2],
  [2, 1],
  [[1], { a: 1 }],
  { a: 1 },
  { a: 1, b: undefined },
  { b: undefined },
  { a: 1, b: 2 },
  { b: 2, a: 1 },
  { a: null },
  { a: NaN },
  { a: [] },
  { a: {} },
  { a: { b: [1, { c: 'x' }] } },
  { a: { b: [1, { c: 'y' }] } },
  { constructor: null },
  { toString: 1 },
  { '0': 1 },
  ['1'],
  { length: 0 },
];

describe('canonicalEqual', () => {
  it('answers canonicalJson(a) === canonicalJson(b) for every pair', () => {
    for (const a of values) {
      for (const b of values) {
        expect(canonicalEqual(a, b), `${canonicalJson(a)} vs ${canonicalJson(b)}`).toBe(canonicalJson(a) === canonicalJson(b));
      }
    }
  });

  it('on deep structures built independently', () => {
    const make = (n: number, change?: number) => ({
      virtualHosts: Array.from({ length: n }, (_, i) => ({
        name: `h${i}`,
        domains: [`h${i}`, `h${i}:80`],
        routes: [{ match: { prefix: '/' }, route: { cluster: `c${i === change ? 'x' : i}`, timeout: '0s' } }],
      })),
      name: '80',
    });
    expect(canonicalEqual(make(500), make(500))).toBe(true);
    expect(canonicalEqual(make(500), make(500, 499))).toBe(false);
    expect(canonicalEqual(make(500), make(499))).toBe(false);
  });
});
