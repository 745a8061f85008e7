import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Lru } from '../cache/lru.js';
import { buildList, unpackHashes, type ListNode } from './chunked-list.js';
import type { ListCodec } from './snapshot-lists.js';

const INSERT_CHUNK = 1000;
/** Entries of decoded chunks kept in memory (content-addressed: never stale). */
const CACHED_ENTRIES = 60_000;
/** Index nodes kept in memory. */
const CACHED_INDEXES = 4_096;
/** Whole decoded lists kept by root (a 5,000-pod mesh's workloads: one list). */
const CACHED_LISTS = 8;

/** Reads and writes the trees of snapshots' lists (chunked-list.ts): every SQL statement about list_nodes. */
@Injectable()
export class ListNodeStore {
  private readonly chunks = new Lru<unknown[]>(CACHED_ENTRIES, (entries) => entries.length);
  private readonly indexes = new Lru<string[]>(CACHED_INDEXES);
  private readonly lists = new Lru<unknown[]>(CACHED_LISTS);

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
      // The chunks' entries as one JSON array (an index node's JSON null is SQL NULL: a chunk is
      // an array), not a text[] whose literal escapes every quote, in JavaScript and in Postgres.
      await em.query(
        `INSERT INTO list_nodes (hash, list, level, entries, children)
         SELECT decode(n.hash, 'hex'), $1, n.level, NULLIF(n.entries, 'null'::jsonb), decode(n.children, 'hex')
         FROM ROWS FROM (unnest($2::text[]), unnest($3::smallint[]), jsonb_array_elements($4::jsonb), unnest($5::text[]))
           AS n(hash, level, entries, children)
         ON CONFLICT (hash) DO NOTHING`,
        [
          codec.name,
          part.map((n) => n.hash),
          part.map((n) => n.level),
          `[${part.map((n) => n.json ?? 'null').join(',')}]`,
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

  private async readTree<E, T>(codec: ListCodec<E, T>, rootHash: string): Promise<E[]> {
    const chunks = new Map<string, unknown[]>();
    const indexes = new Map<string, string[]>();
    // Down the tree, one query per level for what the caches lack.
    for (let wanted = [rootHash]; wanted.length > 0;) {
      const next: string[] = [];
      const unknown: string[] = [];
      for (const h of wanted) {
        const cachedIndex = this.indexes.get(h);
        const cachedChunk = this.chunks.get(h);
        if (cachedIndex) {
          indexes.set(h, cachedIndex);
          next.push(...cachedIndex);
        } else if (cachedChunk) {
          chunks.set(h, cachedChunk);
        } else {
          unknown.push(h);
        }
      }
      for (let i = 0; i < unknown.length; i += INSERT_CHUNK) {
        const rows: { hash: string; entries: string | null; children: Buffer | null }[] = await this.dataSource.query(
          // Entries as text, parsed here: faster than pg's jsonb parsing of the same bytes.
          `SELECT encode(hash, 'hex') AS hash, entries::text AS entries, children FROM list_nodes WHERE hash = ANY($1::bytea[])`,
          [unknown.slice(i, i + INSERT_CHUNK).map((h) => Buffer.from(h, 'hex'))],
        );
        for (const r of rows) {
          if (r.entries !== null) {
            const entries = JSON.parse(r.entries) as unknown[];
            chunks.set(r.hash, entries);
            this.chunks.set(r.hash, entries);
          } else {
            const children = unpackHashes(r.children);
            indexes.set(r.hash, children);
            this.indexes.set(r.hash, children);
            next.push(...children);
          }
        }
      }
      wanted = [...new Set(next)];
    }
    const out: E[] = [];
    const walk = (hash: string) => {
      const children = indexes.get(hash);
      if (children) return children.forEach(walk);
      const entries = chunks.get(hash);
      if (!entries) throw new Error(`stored ${codec.name} list is incomplete: node ${hash} not found`);
      for (const t of entries) out.push(codec.decode(t as T));
    };
    walk(rootHash);
    return out;
  }
}

function packedChildren(node: ListNode): string | null {
  return node.level === 0 ? null : node.children.join('');
}
