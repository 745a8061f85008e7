import { describe, expect, it } from 'vitest';
import { buildList, documentAt, documentRuns, unpackHashes, type ListTree } from '../../../src/database/chunked-list.js';

const keys = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** The entries under the root, in order. */
function entriesOf(tree: ListTree): unknown[] {
  const byHash = new Map(tree.nodes.map((n) => [n.hash, n]));
  const walk = (hash: string): unknown[] => {
    const n = byHash.get(hash)!;
    return n.level === 0 ? (JSON.parse(n.json!) as unknown[]) : n.children.flatMap(walk);
  };
  return walk(tree.root);
}

describe('buildList', () => {
  it('keeps every entry, in order, in chunks of a few entries under index nodes', () => {
    const entries = keys(2000);
    const tree = buildList('resources', entries, entries);
    expect(entriesOf(tree)).toEqual(entries);
    const chunks = tree.nodes.filter((n) => n.level === 0);
    expect(chunks.length).toBeGreaterThan(2000 / 16);
    expect(chunks.length).toBeLessThan(2000 / 2);
    for (const n of tree.nodes) expect(n.level === 0 ? JSON.parse(n.json!).length : n.children.length).toBeLessThanOrEqual(56);
  });

  it('an entry changed, added or removed replaces only the chunk around it and the index nodes above it', () => {
    const entries = keys(2000);
    const before = buildList('resources', entries, entries);
    const known = new Set(before.nodes.map((n) => n.hash));
    const depth = Math.max(...before.nodes.map((n) => n.level));
    const changed = entries.map((e) => (e === 'k-1000' ? 'k-1000-changed' : e));
    const added = [...entries.slice(0, 700), 'k-new', ...entries.slice(700)];
    const removed = entries.filter((e) => e !== 'k-1500');
    for (const [after, keysOf] of [
      [changed, entries], // same key, new content
      [added, added],
      [removed, removed],
    ] as const) {
      const fresh = buildList('resources', after, keysOf).nodes.filter((n) => !known.has(n.hash));
      expect(fresh.filter((n) => n.level === 0).length).toBeGreaterThanOrEqual(1);
      expect(fresh.filter((n) => n.level === 0).length).toBeLessThanOrEqual(2);
      expect(fresh.length).toBeLessThanOrEqual(2 + 2 * depth);
    }
  });

  it('the same list, the same root; the same entries in different lists, different roots', () => {
    const entries = keys(100);
    expect(buildList('resources', entries, entries).root).toBe(buildList('resources', [...entries], entries).root);
    expect(buildList('resources', entries, entries).root).not.toBe(buildList('workloads', entries, entries).root);
  });

  it('an empty list is one empty chunk', () => {
    const tree = buildList('classes', [], []);
    expect(tree.nodes).toEqual([expect.objectContaining({ hash: tree.root, level: 0, json: '[]' })]);
  });
});

describe('unpackHashes', () => {
  it('reads 32-byte hashes back as hex', () => {
    const hashes = ['a'.repeat(64), '0123456789abcdef'.repeat(4)];
    expect(unpackHashes(Buffer.from(hashes.join(''), 'hex'))).toEqual(hashes);
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
