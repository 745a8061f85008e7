import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A run of entries of snapshots' lists (resources, workloads, proxy classes; see chunked-list.ts),
 * stored once however many snapshots list it. A snapshot keeps its lists as sequences of these
 * chunks' hashes.
 */
@Entity({ name: 'list_chunks' })
export class ListChunkEntity {
  /** sha256 of the list's name and the entries' JSON */
  @PrimaryColumn({ type: 'bytea' })
  hash: Buffer;

  /** resources, workloads or classes */
  @Column({ type: 'text' })
  list: string;

  /** the entries, as tuples (snapshot-lists.ts) */
  @Column({ type: 'jsonb' })
  entries: unknown[];
}
