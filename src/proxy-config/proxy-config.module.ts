import { Module } from '@nestjs/common';
import { ProxyConfigController } from './proxy-config.controller.js';
import { ProxyConfigResolver } from './proxy-config.resolver.js';
import { ProxyConfigService } from './proxy-config.service.js';
import { SnapshotProxyStatusResolver, WorkloadProxyConfigResolver } from './proxy-storage.resolver.js';

@Module({
  controllers: [ProxyConfigController],
  providers: [ProxyConfigService, ProxyConfigResolver, SnapshotProxyStatusResolver, WorkloadProxyConfigResolver],
  exports: [ProxyConfigService],
})
export class ProxyConfigModule {}
