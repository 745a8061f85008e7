// A snapshot's lists (its resources, its workloads, its proxy classes) stored as content-addressed
// chunks: pure functions, no I/O.
//
// A snapshot rarely differs from the one before it by more than a few entries, yet each holds
// thousands (a 5,000-pod mesh: 10,000 resources, 5,000 workloads). Stored as rows per snapshot,
// every snapshot would cost the whole list again. Instead a list is cut into chunks at
// content-defined boundaries (after every entry whose key hashes to CHUNK_BITS zero bits), each
// chunk stored once by hash, and the snapshot keeps only the sequence of its chunks' hashes. The
// boundaries depend on the keys alone, never on positions, so an entry changed, added or removed
// replaces only the chunk around it, and the chunks before and after it are shared with the
// snapshots that have them.
import { createHash } from 'node:crypto';

/** Which list a chunk belongs to: part of its hash, so equal entries of different lists never collide. */
export type ListName = 'resources' | 'workloads' | 'classes';

/** Average chunk length is 2^CHUNK_BITS entries. */
const CHUNK_BITS = 4;
/** sha256: 32 bytes per chunk in a snapshot's list. */
export const HASH_BYTES = 32;

export interface ListChunk {
  /** sha256 hex of `list` and the entries' JSON */
  hash: string;
  /** the entries, as a JSON array */
  json: string;
}

/**
 * Cuts `entries` (in their order) into chunks. `keys[i]` names entry i the way the list is keyed
 * (a resource's kind, namespace and name): equal keys, equal boundaries in every snapshot.
 */
export function chunkList(list: ListName, entries: readonly unknown[], keys: readonly string[]): ListChunk[] {
  const chunks: ListChunk[] = [];
  let current: unknown[] = [];
  const flush = () => {
    const json = JSON.stringify(current);
    chunks.push({ hash: sha256Hex(`${list}\u0000${json}`), json });
    current = [];
  };
  entries.forEach((entry, i) => {
    current.push(entry);
    if (isBoundary(keys[i]!)) flush();
  });
  if (current.length > 0) flush();
  return chunks;
}

/** The stored form of a list: its chunks' hashes, concatenated. */
export function packHashes(hexHashes: readonly string[]): Buffer {
  return Buffer.from(hexHashes.join(''), 'hex');
}

/** The chunks' hashes (hex) of a stored list. */
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
    if (runs[mid]![0] <= position) {
      offset = runs[mid]![1];
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return position + offset;
}

function isBoundary(key: string): boolean {
  return (createHash('sha256').update(key).digest().readUInt16BE(30) & ((1 << CHUNK_BITS) - 1)) === 0;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
