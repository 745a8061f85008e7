import { Module } from '@nestjs/common';
import { ProxyConfigStore } from '../database/proxy-config.store.js';
import { SnapshotStore } from '../database/snapshot.store.js';
import { GeneratorService } from '../generator/generator.service.js';
import { DiffController } from './diff.controller.js';
import { DiffResolver } from './diff.resolver.js';
import { DiffService, PROXY_CONFIG_SOURCE } from './diff.service.js';
import { GeneratorConfigSource } from './generator-source.js';
import { StoredConfigSource } from './stored-source.js';

/**
 * Snapshot diffs over REST and GraphQL. The proxy classes come from PROXY_CONFIG_SOURCE: the
 * configs the compute job stored (both sides are READY, so every class it could generate is
 * stored); a class it could not generate is asked of the generator, that class only.
 */
@Module({
  controllers: [DiffController],
  providers: [
    DiffService,
    DiffResolver,
    {
      provide: PROXY_CONFIG_SOURCE,
      useFactory: (store: ProxyConfigStore, generator: GeneratorService, snapshots: SnapshotStore) =>
        new StoredConfigSource(store, new GeneratorConfigSource((id, method, params) => generator.ask(id, method, params)), {
          gatewayApi: (id) => snapshots.gatewayApi(id),
        }),
      inject: [ProxyConfigStore, GeneratorService, SnapshotStore],
    },
  ],
  exports: [DiffService],
})
export class DiffModule {}
