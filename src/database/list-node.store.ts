import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Lru } from '../cache/lru.js';
import { buildList, HASH_BYTES, unpackHashes, type ListNode } from './chunked-list.js';
import { jsonLines } from './json-lines.js';
import type { ListCodec } from './snapshot-lists.js';

const INSERT_CHUNK = 1000;
/** Entries of decoded chunks kept in memory (content-addressed: never stale). */
const CACHED_ENTRIES = 60_000;
/** Index nodes kept in memory. */
const CACHED_INDEXES = 4_096;
/** Whole decoded lists kept by root (a 5,000-pod mesh's workloads: one list). */
const CACHED_LISTS = 8;

/** A node of a list's tree as read: an index of child nodes, or a chunk of entries (level 0). */
type TreeNode = { level: number; children: string[] } | { level: 0; entries: unknown[] };
/** A list_nodes row as the store selects it (entries as text: SQL NULL for an index node). */
interface NodeRow {
  hash: string;
  level: number;
  entries: string | null;
  children: Buffer | null;
}

/** Reads and writes the trees of snapshots' lists (chunked-list.ts): every SQL statement about list_nodes. */
@Injectable()
export class ListNodeStore {
  private readonly chunks = new Lru<unknown[]>(CACHED_ENTRIES, (entries) => entries.length);
  private readonly indexes = new Lru<{ level: number; children: string[] }>(CACHED_INDEXES);
  private readonly lists = new Lru<unknown[]>(CACHED_LISTS);
  /**
   * Node reads under way, by the hashes each asked for: a diff reads its two snapshots' lists at
   * once, and their trees share most chunks; the second walk waits for the first's read of a
   * shared chunk rather than reading (and parsing) it again.
   */
  private readonly reading = new Map<string, Promise<Map<string, TreeNode>>>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores the nodes of the list's tree that are not stored yet, in the caller's transaction (which
   * holds the garbage collector's shared lock); returns the root's hash, what the snapshot keeps.
   */
  async write<E, T>(em: EntityManager, codec: ListCodec<E, T>, entries: readonly E[]): Promise<Buffer> {
    const tree = buildList(codec.name, entries.map(codec.encode), entries.map(codec.key));
    // Sorted, so concurrent writers sharing nodes lock them in one order (no deadlock).
    const nodes = [...tree.nodes].sort((a, b) => (a.hash < b.hash ? -1 : 1));
    for (let i = 0; i < nodes.length; i += INSERT_CHUNK) {
      const part = nodes.slice(i, i + INSERT_CHUNK);
      // An index node's entries are JSON null, SQL NULL (a chunk's are an array).
      await em.query(
        `INSERT INTO list_nodes (hash, list, level, entries, children)
         SELECT decode(n.hash, 'hex'), $1, n.level, NULLIF(n.entries::jsonb, 'null'::jsonb), decode(n.children, 'hex')
         FROM unnest($2::text[], $3::smallint[], string_to_array($4, E'\\n'), $5::text[]) AS n(hash, level, entries, children)
         ON CONFLICT (hash) DO NOTHING`,
        [
          codec.name,
          part.map((n) => n.hash),
          part.map((n) => n.level),
          jsonLines(part.map((n) => n.json ?? 'null')),
          part.map(packedChildren),
        ],
      );
    }
    return Buffer.from(tree.root, 'hex');
  }

  /**
   * The entries of a stored list, in order; an empty list for none (not computed). The entries may
   * be shared with other callers: read them, never change them.
   */
  async read<E, T>(codec: ListCodec<E, T>, root: Buffer | null | undefined): Promise<E[]> {
    if (!root) return [];
    const rootHash = root.toString('hex');
    const known = this.lists.get(rootHash);
    if (known) return known as E[];
    const list = await this.readTree(codec, rootHash);
    this.lists.set(rootHash, list);
    return list;
  }

  /**
   * The entries of two stored lists that are not in both, each side's in its list order: the two
   * trees walked down from their roots together, highest level first, never into a node both hold
   * (content-addressed: the same entries below it). What the caches lack is read in two
   * statements, however tall the trees: the roots with every index node below them (small: hashes
   * only), then the chunks the walk reaches. Two snapshots 1 % apart read the chunks around their
   * changed entries, not their whole lists. Equal entries of chunks only one side holds (a
   * boundary moved) are left out too. An absent root is an empty list.
   */
  async difference<E, T>(
    codec: ListCodec<E, T>,
    rootA: Buffer | null | undefined,
    rootB: Buffer | null | undefined,
  ): Promise<{ a: E[]; b: E[] }> {
    const nodes = new Map<string, TreeNode>();
    // Each side's frontier, in list order.
    let a = rootA ? [rootA.toString('hex')] : [];
    let b = rootB ? [rootB.toString('hex')] : [];
    for (;;) {
      [a, b] = withoutCommon(a, b, (h) => h);
      await this.load(codec.name, nodes, [...a, ...b]);
      const top = Math.max(0, ...[...a, ...b].map((h) => nodes.get(h)!.level));
      if (top === 0) break;
      // Only the highest level is opened: a lower node may still be under one the other side holds.
      const open = (side: string[]) =>
        side.flatMap((h) => {
          const n = nodes.get(h)!;
          return n.level === top && 'children' in n ? n.children : [h];
        });
      a = open(a);
      b = open(b);
    }
    const entries = (side: string[]) => side.flatMap((h) => (nodes.get(h) as { entries: unknown[] }).entries);
    const [ea, eb] = withoutCommon(entries(a), entries(b), (t) => JSON.stringify(t));
    return { a: ea.map((t) => codec.decode(t as T)), b: eb.map((t) => codec.decode(t as T)) };
  }

  /**
   * Puts the nodes `hashes` into `nodes`, from the caches, from a read under way, or read; a node
   * read brings every index node below it (one recursive statement), so a walk down from it reads
   * only the chunks it reaches (one more), not a statement per level.
   */
  private async load(list: string, nodes: Map<string, TreeNode>, hashes: readonly string[]): Promise<void> {
    const unknown = new Set<string>();
    const reads = new Set<Promise<Map<string, TreeNode>>>();
    for (const h of hashes) {
      if (nodes.has(h)) continue;
      const known = this.indexes.get(h) ?? this.chunks.get(h);
      if (known) nodes.set(h, Array.isArray(known) ? { level: 0, entries: known } : known);
      else if (this.reading.has(h)) reads.add(this.reading.get(h)!);
      else unknown.add(h);
    }
    if (unknown.size) {
      const wanted = [...unknown];
      const read = this.readNodes(wanted);
      for (const h of wanted) this.reading.set(h, read);
      const done = () => {
        for (const h of wanted) if (this.reading.get(h) === read) this.reading.delete(h);
      };
      read.then(done, done);
      reads.add(read);
    }
    for (const found of await Promise.all(reads)) for (const [h, n] of found) nodes.set(h, n);
    const missing = hashes.find((h) => !nodes.has(h));
    if (missing) throw new Error(`stored ${list} list is incomplete: node ${missing} not found`);
  }

  /** The rows of these nodes and of the index nodes below them (see load), parsed and kept in the caches. */
  private async readNodes(hashes: readonly string[]): Promise<Map<string, TreeNode>> {
    const out = new Map<string, TreeNode>();
    for (let i = 0; i < hashes.length; i += INSERT_CHUNK) {
      const rows: NodeRow[] = await this.dataSource.query(
        // The nodes asked for and the index nodes below them, a level's hashes per row of the
        // recursion: a level-1 node's children are chunks, not followed. (A row per node would
        // have the planner expect many times the rows there are, and compile the statement.)
        // Entries as text, parsed here: faster than pg's jsonb parsing of the same bytes.
        `WITH RECURSIVE frontier (hashes) AS (
           SELECT $1::bytea[]
           UNION ALL
           SELECT (SELECT array_agg(DISTINCT substring(n.children FROM i * ${HASH_BYTES} + 1 FOR ${HASH_BYTES}))
                   FROM list_nodes n CROSS JOIN LATERAL generate_series(0, length(n.children) / ${HASH_BYTES} - 1) AS i
                   WHERE n.hash = ANY(f.hashes) AND n.level > 1)
           FROM frontier f WHERE f.hashes IS NOT NULL
         )
         SELECT encode(n.hash, 'hex') AS hash, n.level, n.entries::text AS entries, n.children
         FROM list_nodes n WHERE n.hash IN (SELECT unnest(hashes) FROM frontier)`,
        [hashes.slice(i, i + INSERT_CHUNK).map((h) => Buffer.from(h, 'hex'))],
      );
      for (const r of rows) out.set(r.hash, this.remember(r));
    }
    return out;
  }

  /** A row read, kept in the caches. */
  private remember(r: NodeRow): TreeNode {
    if (r.entries !== null) {
      const entries = JSON.parse(r.entries) as unknown[];
      this.chunks.set(r.hash, entries);
      return { level: 0 as const, entries };
    }
    const index = { level: r.level, children: unpackHashes(r.children) };
    this.indexes.set(r.hash, index);
    return index;
  }

  /** The whole list under a root, down its tree a level at a time (two statements at most for what the caches lack: see load). */
  private async readTree<E, T>(codec: ListCodec<E, T>, rootHash: string): Promise<E[]> {
    const nodes = new Map<string, TreeNode>();
    for (let wanted = [rootHash]; wanted.length > 0;) {
      await this.load(codec.name, nodes, wanted);
      wanted = [
        ...new Set(
          wanted.flatMap((h) => {
            const n = nodes.get(h)!;
            return 'children' in n ? n.children : [];
          }),
        ),
      ];
    }
    const out: E[] = [];
    const walk = (hash: string) => {
      const n = nodes.get(hash)!;
      if ('children' in n) return n.children.forEach(walk);
      for (const t of n.entries) out.push(codec.decode(t as T));
    };
    walk(rootHash);
    return out;
  }
}

/** Both sequences without the items they have in common (as multisets, by key), each in its order. */
function withoutCommon<X>(a: readonly X[], b: readonly X[], key: (x: X) => string): [X[], X[]] {
  const counts = (xs: readonly X[]) => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
    return m;
  };
  const without = (xs: readonly X[], other: Map<string, number>) =>
    xs.filter((x) => {
      const n = other.get(key(x)) ?? 0;
      if (n > 0) other.set(key(x), n - 1);
      return n === 0;
    });
  return [without(a, counts(b)), without(b, counts(a))];
}

function packedChildren(node: ListNode): string | null {
  return node.level === 0 ? null : node.children.join('');
}
