import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { EnvoyConfigNodeEntity } from './envoy-config-node.entity.js';
import { EnvoyObjectEntity } from './envoy-object.entity.js';
import { SnapshotEntity } from './snapshot.entity.js';

/**
 * A proxy class of a snapshot: proxies istiod gives the same config (see src/jobs/proxy-classes.ts),
 * generated once. Workloads name their class in `workloads.proxy_class`.
 */
@Entity({ name: 'proxy_classes' })
// Garbage collection asks "does any class still reference this config / ProxyInfo?".
@Index('proxy_classes_config_hash_idx', ['configHash'])
@Index('proxy_classes_proxy_info_idx', ['proxyInfo'])
export class ProxyClassEntity {
  @PrimaryColumn({ name: 'snapshot_id', type: 'uuid' })
  snapshotId: string;

  /** hash of the canonical JSON of what the class's members share */
  @PrimaryColumn({ name: 'class_key', type: 'text' })
  classKey: string;

  /** the root of the config's tree: same hash, same config */
  @Column({ name: 'config_hash', type: 'text' })
  configHash: string;

  /** envoy_objects hash of the members' ProxyInfo without id and addresses */
  @Column({ name: 'proxy_info', type: 'text' })
  proxyInfo: string;

  @Column({ type: 'integer' })
  members: number;

  @ManyToOne(() => SnapshotEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'snapshot_id' })
  snapshot: Relation<SnapshotEntity>;

  @ManyToOne(() => EnvoyConfigNodeEntity, { onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'config_hash' })
  config: Relation<EnvoyConfigNodeEntity>;

  @ManyToOne(() => EnvoyObjectEntity, { onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'proxy_info' })
  info: Relation<EnvoyObjectEntity>;
}
