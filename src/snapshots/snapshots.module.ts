import { Module } from '@nestjs/common';
import { SnapshotsResolver } from './graphql/snapshots.resolver.js';
import { IngestPool } from './ingest-pool.service.js';
import { SnapshotsController } from './snapshots.controller.js';
import { SnapshotsService } from './snapshots.service.js';

@Module({
  controllers: [SnapshotsController],
  providers: [SnapshotsService, SnapshotsResolver, IngestPool],
  exports: [SnapshotsService],
})
export class SnapshotsModule {}
