import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { SnapshotEntity } from './snapshot.entity.js';

export enum ProxyType {
  SIDECAR = 'SIDECAR',
  ROUTER = 'ROUTER',
  NONE = 'NONE',
}

/** A workload of a snapshot as the compute job derived it (a Pod, or a controller standing for its pods). */
@Entity({ name: 'workloads' })
export class WorkloadEntity {
  @PrimaryColumn({ name: 'snapshot_id', type: 'uuid' })
  snapshotId: string;

  @PrimaryColumn({ type: 'text' })
  namespace: string;

  @PrimaryColumn({ type: 'text' })
  name: string;

  @PrimaryColumn({ type: 'text' })
  kind: string;

  @Column({ name: 'proxy_type', type: 'enum', enum: ProxyType, enumName: 'proxy_type' })
  proxyType: ProxyType;

  @Column({ type: 'jsonb' })
  labels: Record<string, string>;

  @Column({ type: 'jsonb' })
  annotations: Record<string, string>;

  @Column({ type: 'text', array: true })
  ips: string[];

  @Column({ name: 'service_account', type: 'text' })
  serviceAccount: string;

  /** Hostnames of the Services selecting the workload, sorted. */
  @Column({ type: 'text', array: true })
  services: string[];

  /** The workload's proxy class (proxy_classes.class_key); null without a proxy. */
  @Column({ name: 'proxy_class', type: 'text', nullable: true })
  proxyClass: string | null;

  @ManyToOne(() => SnapshotEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'snapshot_id' })
  snapshot: Relation<SnapshotEntity>;
}
