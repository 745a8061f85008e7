import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A resource's whole object, stored once however many snapshots contain it. */
@Entity({ name: 'resource_bodies' })
export class ResourceBodyEntity {
  /** contentHash of the canonical JSON of `body` (sha256, 32 bytes). */
  @PrimaryColumn({ type: 'bytea' })
  hash: Buffer;

  @Column({ type: 'jsonb' })
  body: Record<string, unknown>;
}
