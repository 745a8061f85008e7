import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { ResourceBodyEntity } from './resource-body.entity.js';
import { SnapshotEntity } from './snapshot.entity.js';

/** One object of a snapshot: its identity, and a reference to its body. */
@Entity({ name: 'snapshot_resources' })
@Index('snapshot_resources_kind_idx', ['snapshotId', 'kind', 'namespace'])
// Garbage collection of bodies asks "does anything still reference this hash?".
@Index('snapshot_resources_body_hash_idx', ['bodyHash'])
export class SnapshotResourceEntity {
  @PrimaryColumn({ name: 'snapshot_id', type: 'uuid' })
  snapshotId: string;

  /** 0-based order of the object in the upload (a List yields several objects per document). */
  @PrimaryColumn({ type: 'integer' })
  position: number;

  /** 0-based index of the upload's document the object came from. */
  @Column({ type: 'integer' })
  document: number;

  @Column({ name: 'api_version', type: 'text' })
  apiVersion: string;

  @Column({ type: 'text' })
  kind: string;

  /** null for cluster-scoped kinds. */
  @Column({ type: 'text', nullable: true })
  namespace: string | null;

  @Column({ type: 'text' })
  name: string;

  /** false: stored and listed only; meshlens does not evaluate this kind. */
  @Column({ type: 'boolean' })
  evaluated: boolean;

  @Column({ name: 'body_hash', type: 'text' })
  bodyHash: string;

  @ManyToOne(() => SnapshotEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'snapshot_id' })
  snapshot: Relation<SnapshotEntity>;

  @ManyToOne(() => ResourceBodyEntity, { onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'body_hash' })
  body: Relation<ResourceBodyEntity>;
}
