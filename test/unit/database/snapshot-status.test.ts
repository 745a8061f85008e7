// SnapshotStore.status: a READY snapshot is remembered (its questions wait for no query), rechecked
// in the background after a second; any other status is read each time; a deletion is forgotten at once.
import type { DataSource } from 'typeorm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SnapshotStatus } from '../../../src/database/entities/index.js';
import type { ListNodeStore } from '../../../src/database/list-node.store.js';
import { SnapshotStore } from '../../../src/database/snapshot.store.js';

const ID = '00000000-0000-4000-8000-000000000001';

function store(initial: SnapshotStatus | null) {
  const row = { status: initial };
  const query = vi.fn(async () => (row.status === null ? [] : [{ status: row.status }]));
  const dataSource = {
    query,
    getRepository: () => ({ delete: async () => ({ affected: 1 }) }),
  } as unknown as DataSource;
  return { store: new SnapshotStore(dataSource, {} as ListNodeStore), row, query };
}

afterEach(() => vi.useRealTimers());

describe('SnapshotStore.status', () => {
  it('reads a READY snapshot once, then answers from memory, rechecking in the background after a second', async () => {
    vi.useFakeTimers();
    const { store: s, row, query } = store(SnapshotStatus.READY);
    expect(await s.status(ID)).toBe(SnapshotStatus.READY);
    expect(await s.status(ID)).toBe(SnapshotStatus.READY);
    expect(query).toHaveBeenCalledTimes(1);
    // Deleted by another process: still READY here until the recheck has answered.
    row.status = null;
    vi.advanceTimersByTime(1001);
    expect(await s.status(ID)).toBe(SnapshotStatus.READY);
    expect(query).toHaveBeenCalledTimes(2);
    expect(await s.status(ID)).toBeNull();
  });

  it('reads any other status every time; an id that is no snapshot id asks nothing', async () => {
    const { store: s, row, query } = store(SnapshotStatus.COMPUTING);
    expect(await s.status(ID)).toBe(SnapshotStatus.COMPUTING);
    row.status = SnapshotStatus.READY;
    expect(await s.status(ID)).toBe(SnapshotStatus.READY);
    expect(query).toHaveBeenCalledTimes(2);
    expect(await s.status('not-an-id')).toBeNull();
    expect(query).toHaveBeenCalledTimes(2);
  });

  it('forgets a snapshot it deletes', async () => {
    const { store: s, row } = store(SnapshotStatus.READY);
    expect(await s.status(ID)).toBe(SnapshotStatus.READY);
    row.status = null;
    expect(await s.delete(ID)).toBe(true);
    expect(await s.status(ID)).toBeNull();
  });
});
