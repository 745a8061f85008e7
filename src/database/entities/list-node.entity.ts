import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A node of a snapshot list's tree (resources, workloads, proxy classes; see chunked-list.ts): a
 * chunk of entries, or an index of child nodes. Stored once however many snapshots list it; a
 * snapshot keeps each list's root hash.
 */
@Entity({ name: 'list_nodes' })
export class ListNodeEntity {
  /** sha256 of the list's name, the level and the content */
  @PrimaryColumn({ type: 'bytea' })
  hash: Buffer;

  /** resources, workloads or classes */
  @Column({ type: 'text' })
  list: string;

  /** 0: a chunk of entries; n > 0: an index of nodes of level n-1 */
  @Column({ type: 'smallint' })
  level: number;

  /** level 0: the entries, as tuples (snapshot-lists.ts) */
  @Column({ type: 'jsonb', nullable: true })
  entries: unknown[] | null;

  /** level > 0: the child nodes' hashes, 32 bytes each, concatenated */
  @Column({ type: 'bytea', nullable: true })
  children: Buffer | null;
}
