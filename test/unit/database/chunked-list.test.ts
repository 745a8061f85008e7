import { describe, expect, it } from 'vitest';
import { chunkList, documentAt, documentRuns, packHashes, unpackHashes } from '../../../src/database/chunked-list.js';

const keys = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('chunkList', () => {
  it('keeps every entry, in order, in chunks averaging a few entries', () => {
    const entries = keys(2000);
    const chunks = chunkList('resources', entries, entries);
    expect(chunks.flatMap((c) => JSON.parse(c.json))).toEqual(entries);
    expect(chunks.length).toBeGreaterThan(2000 / 64);
    expect(chunks.length).toBeLessThan(2000 / 4);
  });

  it('an entry changed, added or removed replaces only the chunks around it', () => {
    const entries = keys(2000);
    const before = new Set(chunkList('resources', entries, entries).map((c) => c.hash));
    const changed = entries.map((e) => (e === 'k-1000' ? 'k-1000-changed' : e));
    const added = [...entries.slice(0, 700), 'k-new', ...entries.slice(700)];
    const removed = entries.filter((e) => e !== 'k-1500');
    for (const [after, keysOf] of [
      [changed, entries], // same key, new content
      [added, added],
      [removed, removed],
    ] as const) {
      const fresh = chunkList('resources', after, keysOf).filter((c) => !before.has(c.hash));
      expect(fresh.length).toBeGreaterThanOrEqual(1);
      expect(fresh.length).toBeLessThanOrEqual(2);
    }
  });

  it('the same entries in different lists are different chunks', () => {
    const entries = keys(10);
    expect(chunkList('resources', entries, entries)[0]!.hash).not.toBe(chunkList('workloads', entries, entries)[0]!.hash);
  });

  it('no entries, no chunks', () => {
    expect(chunkList('classes', [], [])).toEqual([]);
  });
});

describe('packHashes / unpackHashes', () => {
  it('round-trips hex hashes through 32 bytes each', () => {
    const hashes = ['a'.repeat(64), '0123456789abcdef'.repeat(4)];
    const packed = packHashes(hashes);
    expect(packed.length).toBe(64);
    expect(unpackHashes(packed)).toEqual(hashes);
    expect(unpackHashes(null)).toEqual([]);
  });
});

describe('documentRuns / documentAt', () => {
  it('one run when every resource is its own document', () => {
    expect(documentRuns([0, 1, 2, 3])).toEqual([[0, 0]]);
  });

  it('a List expanding into several resources, an empty document skipped: runs that give every document back', () => {
    const documents = [0, 0, 0, 1, 3, 4, 4];
    const runs = documentRuns(documents);
    expect(runs.length).toBeLessThan(documents.length);
    expect(documents.map((_, position) => documentAt(runs, position))).toEqual(documents);
  });
});
