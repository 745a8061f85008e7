import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A node of a proxy config's Merkle tree (see envoy-tree.ts): a leaf lists object hashes in
 * (type, name) order, an inner node lists child nodes, a config's root both (its segment trees
 * and its small segments' objects). Keyed by the hash of its content, so shared by every config
 * (of any snapshot) that has the same run of objects. A root's hash is a config's hash. Hashes are
 * sha256, stored as 32 bytes each, concatenated: no array header, no per-element overhead.
 */
@Entity({ name: 'envoy_config_nodes' })
export class EnvoyConfigNodeEntity {
  @PrimaryColumn({ type: 'bytea' })
  hash: Buffer;

  /** height: 0 for a leaf */
  @Column({ type: 'smallint' })
  level: number;

  /** child nodes */
  @Column({ type: 'bytea' })
  children: Buffer;

  /** envoy_objects held directly */
  @Column({ type: 'bytea' })
  objects: Buffer;

  /** objects of each type under this node */
  @Column({ type: 'integer' })
  listeners: number;

  @Column({ type: 'integer' })
  routes: number;

  @Column({ type: 'integer' })
  clusters: number;

  @Column({ type: 'integer' })
  endpoints: number;
}
