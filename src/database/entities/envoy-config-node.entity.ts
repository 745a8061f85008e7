import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A node of a proxy config's Merkle tree (see envoy-tree.ts): a leaf lists object hashes in
 * (type, name) order, an inner node lists child nodes. Keyed by the hash of its children, so
 * shared by every config (of any snapshot) that has the same run of objects. A root's hash is a
 * config's hash. Hashes are sha256, stored as 32 bytes.
 */
@Entity({ name: 'envoy_config_nodes' })
export class EnvoyConfigNodeEntity {
  @PrimaryColumn({ type: 'bytea' })
  hash: Buffer;

  /** 0: children are envoy_objects hashes; n > 0: children are nodes of level n-1 */
  @Column({ type: 'smallint' })
  level: number;

  /** the children's hashes, concatenated (32 bytes each): no array header, no per-element overhead */
  @Column({ type: 'bytea' })
  children: Buffer;

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
