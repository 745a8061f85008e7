// Small keyed entries for ListNodeStore's tests (unit and on Postgres): a codec, lists of them, and
// the difference of two lists computed the slow way to compare the store's with.
import type { ListCodec } from '../../src/database/snapshot-lists.js';

export type Entry = [string, number];

export const entryCodec: ListCodec<Entry, Entry> = { name: 'resources', key: (e) => e[0], encode: (e) => e, decode: (t) => t };

/** `n` entries with keys in order; `tag` makes another list's keys distinct. */
export const entryList = (n: number, tag = ''): Entry[] =>
  Array.from({ length: n }, (_, i) => [`k-${String(i).padStart(5, '0')}${tag}`, i]);

/** The entries not in both lists (as multisets), each side in its order, the slow way. */
export function naiveDifference(a: Entry[], b: Entry[]): { a: Entry[]; b: Entry[] } {
  const minus = (x: Entry[], y: Entry[]) => {
    const left = y.map((e) => JSON.stringify(e));
    return x.filter((e) => {
      const i = left.indexOf(JSON.stringify(e));
      if (i >= 0) left.splice(i, 1);
      return i < 0;
    });
  };
  return { a: minus(a, b), b: minus(b, a) };
}
