import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A stored route configuration (envoy_objects) as its virtual hosts' hashes, for diffs
 * (src/database/route-hosts.ts). Derived from the object: deleted with it.
 */
@Entity({ name: 'envoy_route_hosts' })
export class EnvoyRouteHostsEntity {
  /** the route configuration's envoy_objects hash */
  @PrimaryColumn({ type: 'bytea' })
  route: Buffer;

  /** its fields but virtualHosts */
  @Column({ type: 'jsonb' })
  rest: Record<string, unknown>;

  /** its virtual hosts' envoy_virtual_hosts hashes in order, 32 bytes each, concatenated */
  @Column({ type: 'bytea' })
  hosts: Buffer;

  /** 1-based positions of the virtual hosts whose domains include `*` */
  @Column({ type: 'integer', array: true })
  wildcards: number[];

  /** virtualHosts is an array of objects with distinct string names (else a diff reads it whole) */
  @Column({ type: 'boolean' })
  keyed: boolean;
}

/** A virtual host of stored route configurations, once however many hold it. */
@Entity({ name: 'envoy_virtual_hosts' })
export class EnvoyVirtualHostEntity {
  /** sha256 of the body's jsonb text */
  @PrimaryColumn({ type: 'bytea' })
  hash: Buffer;

  @Column({ type: 'jsonb' })
  body: Record<string, unknown>;
}
