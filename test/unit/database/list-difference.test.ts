// ListNodeStore.difference over list_nodes rows held in memory (no database): the entries not in
// both lists, as the whole lists' multiset difference, reading the chunks around the changes only.
import type { DataSource } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { buildList } from '../../../src/database/chunked-list.js';
import { ListNodeStore } from '../../../src/database/list-node.store.js';
import { entryCodec as codec, entryList as list, naiveDifference as naive, type Entry } from '../../support/list-entries.js';

type Row = { hash: string; level: number; entries: string | null; children: Buffer | null };

/** A store over the rows of the given lists' trees; `read` counts the rows it returned. */
function storeOf(...lists: Entry[][]) {
  const rows = new Map<string, Row>();
  const roots = lists.map((entries) => {
    const tree = buildList(codec.name, entries, entries.map(codec.key));
    for (const n of tree.nodes)
      rows.set(n.hash, {
        hash: n.hash,
        level: n.level,
        entries: n.json,
        children: n.level === 0 ? null : Buffer.from(n.children.join(''), 'hex'),
      });
    return Buffer.from(tree.root, 'hex');
  });
  const counter = { read: 0, queries: 0, chunks: 0 };
  // As the store's statement: the nodes asked for, and every index node below them.
  const dataSource = {
    query: async (_text: string, [hashes]: [Buffer[]]) => {
      counter.queries++;
      const found = new Map<string, Row>();
      const visit = (hash: string) => {
        const row = rows.get(hash);
        if (!row || found.has(hash)) return;
        found.set(hash, row);
        if (row.level > 1) for (let i = 0; i < row.children!.length; i += 32) visit(row.children!.toString('hex', i, i + 32));
      };
      for (const h of hashes) visit(h.toString('hex'));
      counter.read += found.size;
      counter.chunks += [...found.values()].filter((r) => r.level === 0).length;
      return [...found.values()];
    },
  } as unknown as DataSource;
  const chunks = [...rows.values()].filter((r) => r.level === 0).length;
  return { store: new ListNodeStore(dataSource), roots, counter, total: rows.size, chunks };
}

describe('ListNodeStore.difference', () => {
  it('gives the entries not in both lists, each side in its order, reading little of two lists 1 % apart', async () => {
    const base = list(4000);
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    const head = base.slice();
    for (let i = 0; i < 13; i++) head[rand(head.length)] = [head[rand(head.length)]![0], -i - 1]; // changed
    for (let i = 0; i < 13; i++) head.splice(rand(head.length), 1); // removed
    for (let i = 0; i < 14; i++) head.splice(rand(head.length), 0, [`new-${i}`, i]); // added
    const { store, roots, counter, total } = storeOf(base, head);
    const diff = await store.difference(codec, roots[0], roots[1]);
    expect(diff).toEqual(naive(base, head));
    expect(diff.b.length).toBeGreaterThan(0);
    expect(counter.read).toBeLessThan(total / 4);
    // both sides at once: the roots with the index nodes below them, then the chunks the walk reaches
    expect(counter.queries).toBe(2);
  });

  it('reads only the roots of equal lists; an absent root is an empty list', async () => {
    const { store, roots, counter } = storeOf(list(500), list(500));
    expect(await store.difference(codec, roots[0], roots[1])).toEqual({ a: [], b: [] });
    expect(counter.read).toBe(0);
    expect(await store.difference(codec, roots[0], null)).toEqual({ a: list(500), b: [] });
    expect(await store.difference(codec, null, null)).toEqual({ a: [], b: [] });
  });

  it('agrees with the whole lists for lists of different heights', async () => {
    const small = list(30);
    const big = list(3000);
    const { store, roots } = storeOf(small, big);
    expect(await store.difference(codec, roots[0], roots[1])).toEqual(naive(small, big));
    expect(await store.difference(codec, roots[1], roots[0])).toEqual(naive(big, small));
  });

  it('reads a chunk two lists share once when both are read at once', async () => {
    const base = list(2000);
    const head = [...base.slice(0, 1000), ['k-01000-new', 1] as Entry, ...base.slice(1000)];
    const { store, roots, counter, chunks } = storeOf(base, head);
    expect(await Promise.all([store.read(codec, roots[0]), store.read(codec, roots[1])])).toEqual([base, head]);
    expect(counter.chunks).toBe(chunks);
  });
});
