import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { chunkList, packHashes, unpackHashes } from './chunked-list.js';
import type { ListCodec } from './snapshot-lists.js';

const INSERT_CHUNK = 1000;
/** Entries of decoded chunks kept in memory (chunks are content-addressed: never stale). */
const CACHED_ENTRIES = 60_000;

/** Reads and writes the chunks of snapshots' lists (chunked-list.ts): every SQL statement about list_chunks. */
@Injectable()
export class ListChunkStore {
  private readonly cache = new Map<string, unknown[]>();
  private cachedEntries = 0;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores the chunks of `entries` that are not stored yet, in the caller's transaction (which holds
   * the garbage collector's shared lock), and returns the list's stored form.
   */
  async write<E, T>(em: EntityManager, codec: ListCodec<E, T>, entries: readonly E[]): Promise<Buffer> {
    const chunks = chunkList(codec.name, entries.map(codec.encode), entries.map(codec.key));
    // Sorted, so concurrent writers sharing chunks lock them in one order (no deadlock).
    const unique = [...new Map(chunks.map((c) => [c.hash, c])).values()].sort((a, b) => (a.hash < b.hash ? -1 : 1));
    for (let i = 0; i < unique.length; i += INSERT_CHUNK) {
      const part = unique.slice(i, i + INSERT_CHUNK);
      await em.query(
        `INSERT INTO list_chunks (hash, list, entries)
         SELECT decode(c.hash, 'hex'), $1, c.entries::jsonb FROM unnest($2::text[], $3::text[]) AS c(hash, entries)
         ON CONFLICT (hash) DO NOTHING`,
        [codec.name, part.map((c) => c.hash), part.map((c) => c.json)],
      );
    }
    return packHashes(chunks.map((c) => c.hash));
  }

  /** The entries of a stored list, in order; an empty list for none (not computed). */
  async read<E, T>(codec: ListCodec<E, T>, packed: Buffer | null | undefined): Promise<E[]> {
    const hashes = unpackHashes(packed);
    const unread = [...new Set(hashes.filter((h) => !this.cache.has(h)))];
    const read = new Map<string, unknown[]>();
    for (let i = 0; i < unread.length; i += INSERT_CHUNK) {
      const part = unread.slice(i, i + INSERT_CHUNK);
      // As text, parsed here: faster than pg's jsonb parsing of the same bytes.
      const rows: { hash: string; entries: string }[] = await this.dataSource.query(
        `SELECT encode(hash, 'hex') AS hash, entries::text AS entries FROM list_chunks WHERE hash = ANY($1::bytea[])`,
        [part.map((h) => Buffer.from(h, 'hex'))],
      );
      for (const r of rows) read.set(r.hash, JSON.parse(r.entries) as unknown[]);
    }
    const out: E[] = [];
    for (const h of hashes) {
      const entries = this.cache.get(h) ?? read.get(h);
      if (!entries) throw new Error(`stored ${codec.name} list is incomplete: chunk ${h} not found`);
      for (const t of entries) out.push(codec.decode(t as T));
    }
    for (const [h, entries] of read) this.remember(h, entries);
    return out;
  }

  private remember(hash: string, entries: unknown[]): void {
    if (entries.length > CACHED_ENTRIES / 4) return;
    this.cache.set(hash, entries);
    this.cachedEntries += entries.length;
    for (const [h, e] of this.cache) {
      if (this.cachedEntries <= CACHED_ENTRIES) break;
      this.cache.delete(h);
      this.cachedEntries -= e.length;
    }
  }
}
