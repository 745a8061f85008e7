import { Module } from '@nestjs/common';
import { SnapshotsResolver } from './graphql/snapshots.resolver.js';
import { SnapshotsController } from './snapshots.controller.js';
import { SnapshotsService } from './snapshots.service.js';

@Module({
  controllers: [SnapshotsController],
  providers: [SnapshotsService, SnapshotsResolver],
  exports: [SnapshotsService],
})
export class SnapshotsModule {}
