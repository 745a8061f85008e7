import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A node of a proxy config's Merkle tree (see envoy-tree.ts): a leaf lists object hashes in
 * (type, name) order, an inner node lists child nodes. Keyed by the hash of its children, so
 * shared by every config (of any snapshot) that has the same run of objects. A root's hash is a
 * config's hash.
 */
@Entity({ name: 'envoy_config_nodes' })
// Garbage collection asks "does any node still reference this hash?"; a GIN index answers
// `children @> ARRAY[hash]` (created by the migration: TypeORM cannot declare GIN).
@Index('envoy_config_nodes_children_idx', { synchronize: false })
export class EnvoyConfigNodeEntity {
  @PrimaryColumn({ type: 'text' })
  hash: string;

  /** 0: children are envoy_objects hashes; n > 0: children are nodes of level n-1 */
  @Column({ type: 'smallint' })
  level: number;

  @Column({ type: 'text', array: true })
  children: string[];

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
