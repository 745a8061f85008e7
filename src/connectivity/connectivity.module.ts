import { Module } from '@nestjs/common';
import { ConnectivityController } from './connectivity.controller.js';
import { SnapshotConnectivityResolver } from './connectivity.resolver.js';
import { ConnectivityService } from './connectivity.service.js';

/** Who can talk to whom: reading the connectivity the compute job stored (REST and GraphQL). */
@Module({
  providers: [ConnectivityService, SnapshotConnectivityResolver],
  controllers: [ConnectivityController],
  exports: [ConnectivityService],
})
export class ConnectivityModule {}
