import { describe, expect, it } from 'vitest';
import { Lru } from '../../src/cache/lru.js';

describe('Lru', () => {
  it('keeps the most recently used entries within the budget', () => {
    const lru = new Lru<string>(24, (v) => v.length);
    lru.set('a', 'aaa');
    lru.set('b', 'bbb');
    expect(lru.get('a')).toBe('aaa'); // a is now the most recent
    lru.set('c', 'c'.repeat(3));
    for (let i = 0; i < 6; i++) lru.set(`x${i}`, 'xxx');
    // 9 entries of 3 and room for 8: b (the least recently used) went first
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe('aaa');
    expect(lru.size).toBe(8);
  });

  it('does not keep an entry heavier than an eighth of the budget; replacing an entry re-weighs it', () => {
    const lru = new Lru<string>(80, (v) => v.length);
    lru.set('big', 'x'.repeat(11));
    expect(lru.get('big')).toBeUndefined();
    lru.set('k', 'x'.repeat(10));
    lru.set('k', 'y');
    for (let i = 0; i < 79; i++) lru.set(`n${i}`, 'n');
    expect(lru.get('k')).toBe('y');
  });
});

describe('Lru counting entries', () => {
  it('keeps up to `budget` entries, however few', () => {
    const lru = new Lru<number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    expect([lru.get('a'), lru.get('b'), lru.get('c')]).toEqual([undefined, 2, 3]);
  });
});
