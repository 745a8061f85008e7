import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SnapshotStatus } from '../database/entities/index.js';
import type { SnapshotMetadata } from '../database/snapshot.store.js';

/** A snapshot's metadata and status, as REST returns it. */
export class SnapshotDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ type: String, nullable: true }) name: string | null;
  @ApiProperty({ description: 'the mesh it belongs to' }) mesh: string;
  @ApiProperty({ type: String, nullable: true, description: 'the id of the access token that uploaded it (null: access control was off)' })
  createdBy: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ enum: SnapshotStatus, enumName: 'SnapshotStatus' }) status: SnapshotStatus;
  @ApiProperty({ description: '0..1 while the worker computes' }) progress: number;
  @ApiProperty({ type: String, nullable: true, description: 'why the computation failed' }) error: string | null;
  @ApiProperty() resourceCount: number;

  static from(entity: SnapshotMetadata): SnapshotDto {
    return Object.assign(new SnapshotDto(), {
      id: entity.id,
      name: entity.name,
      mesh: entity.mesh,
      createdBy: entity.createdBy,
      createdAt: entity.createdAt.toISOString(),
      status: entity.status,
      progress: entity.progress,
      error: entity.error,
      resourceCount: entity.resourceCount,
    });
  }
}

export class CreatedSnapshotDto extends SnapshotDto {
  @ApiProperty({ type: [String], description: 'e.g. kinds meshlens stores but does not evaluate' }) warnings: string[];
}

export class SnapshotListDto {
  @ApiProperty({ type: [SnapshotDto] }) items: SnapshotDto[];
  @ApiPropertyOptional({ type: String, nullable: true, description: 'pass as `cursor` for the next page; null on the last' })
  nextCursor: string | null;
}

export class ErrorDto {
  @ApiProperty() error: string;
  @ApiProperty({
    type: 'array',
    items: { type: 'object' },
    description: 'for invalid manifests, one entry per problem: document, line, column, kind, namespace, name, path, message',
  })
  details: unknown[];
}
