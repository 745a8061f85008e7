// A snapshot's lists (its resources, its workloads, its proxy classes) stored as content-addressed
// trees of chunks: pure functions, no I/O.
//
// A snapshot rarely differs from the one before it by more than a few entries, yet each holds
// thousands (a 5,000-pod mesh: 10,000 resources, 5,000 workloads). Stored as rows per snapshot,
// every snapshot would cost the whole list again. Instead a list is cut into chunks at
// content-defined boundaries (after every entry whose key hashes to some zero bits), each chunk
// stored once by hash; the chunks' hashes are cut the same way (by their own bits) into index
// nodes, and so on up to one root, whose hash is all the snapshot keeps. The boundaries depend on
// the keys alone, never on positions, so an entry changed, added or removed replaces only the chunk
// around it and the nodes above it, and everything else is shared with the snapshots that have it.
// (A chunk cut at its maximum length shifts its successors' cuts up to the next content-defined
// boundary.)
import { createHash } from 'node:crypto';

/** Which list a node belongs to: part of its hash, so equal entries of different lists never collide. */
export type ListName = 'resources' | 'workloads' | 'classes' | 'connections' | 'senders';

/** sha256: 32 bytes. */
export const HASH_BYTES = 32;

/**
 * Average chunk length is 2^bits entries, at most `max`, so that a chunk stays in its row (under
 * Postgres's 2 KiB TOAST threshold, compressed if need be) rather than out of line. Smaller chunks
 * cost a changed entry less and the index above them more.
 */
const CHUNKING: Record<ListName, { bits: number; max: number }> = {
  resources: { bits: 2, max: 8 },
  workloads: { bits: 3, max: 8 },
  classes: { bits: 3, max: 12 },
  connections: { bits: 2, max: 8 },
  senders: { bits: 3, max: 12 },
};
/** Index nodes: 2^3 children on average, at most 56 (32 bytes each: under 2 KiB). */
const INDEX_BITS = 3;
const INDEX_MAX = 56;

/** A node of a list's tree: a chunk of entries (level 0) or an index of child nodes. */
export interface ListNode {
  /** sha256 hex of the list's name, the level and the content */
  hash: string;
  level: number;
  /** level 0: the entries, as a JSON array */
  json: string | null;
  /** level > 0: the child nodes' hashes */
  children: string[];
}

export interface ListTree {
  root: string;
  /** every node of the tree, root included, each once */
  nodes: ListNode[];
}

/**
 * The tree of `entries` (in their order). `keys[i]` names entry i the way the list is keyed (a
 * resource's kind, namespace and name): equal keys, equal boundaries in every snapshot. An empty
 * list is one empty chunk.
 */
export function buildList(list: ListName, entries: readonly unknown[], keys: readonly string[]): ListTree {
  const { bits, max } = CHUNKING[list];
  const nodes = new Map<string, ListNode>();
  const add = (level: number, json: string | null, children: string[]): ListNode => {
    const hash = sha256Hex(`${list}\u0000${level}\u0000${json ?? children.join(',')}`);
    const node = nodes.get(hash) ?? { hash, level, json, children };
    nodes.set(hash, node);
    return node;
  };
  let level: ListNode[] = [];
  let current: unknown[] = [];
  const flush = () => {
    level.push(add(0, JSON.stringify(current), []));
    current = [];
  };
  entries.forEach((entry, i) => {
    current.push(entry);
    if (lowBitsZero(sha256(keys[i]), bits) || current.length === max) flush();
  });
  if (current.length > 0 || level.length === 0) flush();
  for (let depth = 1; level.length > 1; depth++) {
    const next: ListNode[] = [];
    let group: string[] = [];
    for (const node of level) {
      group.push(node.hash);
      if (lowBitsZero(Buffer.from(node.hash, 'hex'), INDEX_BITS) || group.length === INDEX_MAX) {
        next.push(add(depth, null, group));
        group = [];
      }
    }
    if (group.length > 0) next.push(add(depth, null, group));
    // A level that did not shrink (every child a boundary) is grouped in fixed pairs instead.
    if (next.length === level.length) {
      next.length = 0;
      for (let i = 0; i < level.length; i += 2)
        next.push(
          add(
            depth,
            null,
            level.slice(i, i + 2).map((n) => n.hash),
          ),
        );
    }
    level = next;
  }
  return { root: level[0].hash, nodes: [...nodes.values()] };
}

/** The hashes (hex) of a column holding hashes as stored: 32 bytes each, concatenated. */
export function unpackHashes(packed: Buffer | null | undefined): string[] {
  const out: string[] = [];
  if (!packed) return out;
  for (let i = 0; i + HASH_BYTES <= packed.length; i += HASH_BYTES) out.push(packed.toString('hex', i, i + HASH_BYTES));
  return out;
}

/**
 * Where each entry came from, stored apart from the entries so that a document inserted early in
 * an upload (which renumbers every later one) does not change every chunk: runs of
 * [first position, document - position], one run per change of that difference (usually one run).
 */
export function documentRuns(documents: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  documents.forEach((document, position) => {
    const offset = document - position;
    if (runs.length === 0 || runs.at(-1)![1] !== offset) runs.push([position, offset]);
  });
  return runs;
}

/** The document of the entry at `position`, from documentRuns' runs. */
export function documentAt(runs: readonly [number, number][], position: number): number {
  let lo = 0;
  let hi = runs.length - 1;
  let offset = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (runs[mid][0] <= position) {
      offset = runs[mid][1];
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return position + offset;
}

function lowBitsZero(digest: Buffer, bits: number): boolean {
  return (digest.readUInt16BE(digest.length - 2) & ((1 << bits) - 1)) === 0;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
