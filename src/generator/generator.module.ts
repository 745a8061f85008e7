import { Global, Module, type DynamicModule, type Type } from '@nestjs/common';
import { GeneratorService, SNAPSHOT_SOURCE, type SnapshotSource } from './generator.service.js';

@Global()
@Module({})
export class GeneratorModule {
  /** `source` (a provider of the application, e.g. the snapshot store) gives sessions their snapshots. */
  static forRoot(source: Type<SnapshotSource>): DynamicModule {
    return {
      module: GeneratorModule,
      providers: [GeneratorService, { provide: SNAPSHOT_SOURCE, useExisting: source }],
      exports: [GeneratorService],
    };
  }
}
