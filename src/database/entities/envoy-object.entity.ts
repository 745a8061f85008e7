import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A generated Envoy object (listener, route configuration, cluster, cluster load assignment) or a
 * proxy class's ProxyInfo, stored once however many proxies and snapshots have it.
 */
@Entity({ name: 'envoy_objects' })
export class EnvoyObjectEntity {
  /** contentHash of the canonical JSON of `body` (sha256, 32 bytes). */
  @PrimaryColumn({ type: 'bytea' })
  hash: Buffer;

  /** listener, route, cluster, endpoint, or proxy (a class's ProxyInfo without id and addresses) */
  @Column({ type: 'text' })
  type: string;

  /** the object's name (a cluster load assignment's clusterName); '' for a ProxyInfo */
  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'jsonb' })
  body: Record<string, unknown>;
}
