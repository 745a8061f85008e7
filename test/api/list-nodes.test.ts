// ListNodeStore's statements on a real Postgres: lists written as trees of list_nodes read back
// whole (`read`) and as the entries not in both of two lists (`difference`), each in two
// statements however tall the trees (the roots with every index node below them, then the
// chunks), nothing read for what the store's caches hold.
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { beforeAll, describe, expect, it } from 'vitest';
import { ListNodeStore } from '../../src/database/list-node.store.js';
import { writeTransaction } from '../../src/database/transaction.js';
import { useTestApp } from '../support/test-app.js';
import { entryCodec as codec, entryList as list, naiveDifference as naive, type Entry } from '../support/list-entries.js';

const t = useTestApp();
let dataSource: DataSource;

/** A ListNodeStore of its own (empty caches), recording the statements it sends. */
function recordingStore(): { store: ListNodeStore; sql: string[] } {
  const sql: string[] = [];
  const recording = {
    query: (text: string, params?: unknown[]) => (sql.push(text), dataSource.query(text, params)),
  } as unknown as DataSource;
  return { store: new ListNodeStore(recording), sql };
}

async function written(entries: Entry[]): Promise<Buffer> {
  return writeTransaction(dataSource, (em) => recordingStore().store.write(em, codec, entries));
}

beforeAll(() => {
  dataSource = t.app.get(getDataSourceToken());
});

describe('ListNodeStore on Postgres', () => {
  it('reads a tall list whole in two statements, then from its cache', async () => {
    const entries = list(3000);
    const root = await written(entries);
    const [{ levels }]: { levels: number }[] = await dataSource.query('SELECT max(level)::int + 1 AS levels FROM list_nodes');
    expect(levels).toBeGreaterThanOrEqual(4);
    const { store, sql } = recordingStore();
    expect(await store.read(codec, root)).toEqual(entries);
    expect(sql).toHaveLength(2);
    expect(await store.read(codec, root)).toEqual(entries);
    expect(sql).toHaveLength(2);
    expect(await store.read(codec, null)).toEqual([]);
  });

  it('gives the entries not in both of two lists in two statements, and reads nothing the caches hold', async () => {
    const base = list(6000);
    const head = base.slice();
    head[100] = [head[100]![0], -1]; // changed
    head.splice(2500, 3); // removed
    head.splice(4000, 0, ['k-03999-new', 1], ['k-03999-newer', 2]); // added
    const [a, b] = [await written(base), await written(head)];
    const { store, sql } = recordingStore();
    const diff = await store.difference(codec, a, b);
    expect(diff).toEqual(naive(base, head));
    expect(diff.a).toHaveLength(4);
    expect(sql).toHaveLength(2);
    // the other way round: every node it walks is cached
    expect(await store.difference(codec, b, a)).toEqual(naive(head, base));
    expect(sql).toHaveLength(2);
  });

  it('agrees with the whole lists for lists of different heights and for an absent side', async () => {
    const small = list(30, 's');
    const big = list(3000, 'b');
    const [s, b] = [await written(small), await written(big)];
    const { store } = recordingStore();
    expect(await store.difference(codec, s, b)).toEqual(naive(small, big));
    expect(await store.difference(codec, b, null)).toEqual({ a: big, b: [] });
    expect(await store.read(codec, s)).toEqual(small);
  });

  it('names a node it cannot find', async () => {
    const { store } = recordingStore();
    await expect(store.read(codec, Buffer.alloc(32, 7))).rejects.toThrow(/stored resources list is incomplete: node 0707/);
  });
});
