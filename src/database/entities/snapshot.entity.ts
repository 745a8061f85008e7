import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export enum SnapshotStatus {
  PENDING = 'PENDING',
  COMPUTING = 'COMPUTING',
  READY = 'READY',
  FAILED = 'FAILED',
}

@Entity({ name: 'snapshots' })
// Keyset pagination walks this index newest first.
@Index('snapshots_created_at_id_idx', ['createdAt', 'id'])
export class SnapshotEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text', nullable: true })
  name: string | null;

  /** The mesh (a named stream of snapshots) it belongs to; `default` when uploaded without one. */
  @Column({ type: 'text', default: 'default' })
  mesh: string;

  /** The id of the access token that uploaded it; null when access control was off. */
  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'enum', enum: SnapshotStatus, enumName: 'snapshot_status', default: SnapshotStatus.PENDING })
  status: SnapshotStatus;

  /** 0..1 while the worker computes. */
  @Column({ type: 'real', default: 0 })
  progress: number;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'resource_count', type: 'integer', default: 0 })
  resourceCount: number;

  /** The Istio release the generator computed this snapshot with (set by the generator's job). */
  @Column({ name: 'istio_version', type: 'text', nullable: true })
  istioVersion: string | null;

  /** `istioctl analyze`-like diagnostics (set by the generator's job). */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  diagnostics: unknown[];

  /** What istiod derived from the Gateway API objects (generator protocol `GatewayApi`; set by the generator's job). */
  @Column({ name: 'gateway_api', type: 'jsonb', select: false, default: () => `'{"status":[],"virtualServices":[]}'` })
  gatewayApi: unknown;

  /** The resources, in upload order: the root hash of their list's tree (chunked-list.ts). */
  @Column({ name: 'resource_list', type: 'bytea', select: false })
  resourceList: Buffer;

  /** Each resource's document in the upload, as runs (chunked-list.ts documentRuns). */
  @Column({ name: 'resource_documents', type: 'jsonb', select: false, default: () => "'[]'" })
  resourceDocuments: [number, number][];

  /** The workloads the compute job derived (a list's root hash); null until computed. */
  @Column({ name: 'workload_list', type: 'bytea', select: false, nullable: true })
  workloadList: Buffer | null;

  /** The proxy classes the compute job generated (a list's root hash); null until computed. */
  @Column({ name: 'proxy_class_list', type: 'bytea', select: false, nullable: true })
  proxyClassList: Buffer | null;

  /** Who can talk to whom (connectivity/build.ts): connections by destination and outcome (a list's root hash); null until computed. */
  @Column({ name: 'connection_list', type: 'bytea', select: false, nullable: true })
  connectionList: Buffer | null;

  /** Each sending workload's connectivity class (a list's root hash); null until computed. */
  @Column({ name: 'sender_list', type: 'bytea', select: false, nullable: true })
  senderList: Buffer | null;

  /** The mesh's trust domain and its proxy classes' PeerAuthentication resolutions (model/mesh-security.ts); null until computed. */
  @Column({ name: 'mesh_security', type: 'jsonb', select: false, nullable: true })
  meshSecurity: unknown;
}
