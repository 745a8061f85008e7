import { Module } from '@nestjs/common';
import { GeneratorService } from '../generator/generator.service.js';
import { DiffController } from './diff.controller.js';
import { DiffResolver } from './diff.resolver.js';
import { DiffService, PROXY_CONFIG_SOURCE } from './diff.service.js';
import { GeneratorConfigSource } from './generator-source.js';

/**
 * Snapshot diffs over REST and GraphQL. The proxy classes come from PROXY_CONFIG_SOURCE: the
 * generator for now; the stored per-class configs replace it by overriding that one provider.
 */
@Module({
  controllers: [DiffController],
  providers: [
    DiffService,
    DiffResolver,
    {
      provide: PROXY_CONFIG_SOURCE,
      useFactory: (generator: GeneratorService) => new GeneratorConfigSource((id, method, params) => generator.ask(id, method, params)),
      inject: [GeneratorService],
    },
  ],
  exports: [DiffService],
})
export class DiffModule {}
