import { Module, type DynamicModule } from '@nestjs/common';
import { ComputeService } from './compute.service.js';
import { ComputeWorker } from './compute.worker.js';
import { MaintenanceWorker } from './maintenance.worker.js';
import { NormalisedSnapshots } from './normalised-snapshots.js';
import { QueueService } from './queue.service.js';
import { RetentionService } from './retention.service.js';
import { CONNECTIVITY_MODULE } from './derived.js';

/** The queue (every process sends jobs) and, when `worker` is set, the compute worker; `connectivity`: the URL of the module that computes it (jobs/derived.ts). */
@Module({})
export class JobsModule {
  static forRoot(options: { worker: boolean; connectivity?: URL }): DynamicModule {
    return {
      module: JobsModule,
      global: true,
      providers: [
        QueueService,
        ComputeService,
        NormalisedSnapshots,
        RetentionService,
        ...(options.worker ? [ComputeWorker, MaintenanceWorker] : []),
        ...(options.connectivity ? [{ provide: CONNECTIVITY_MODULE, useValue: options.connectivity }] : []),
      ],
      exports: [QueueService, ComputeService, RetentionService, NormalisedSnapshots],
    };
  }
}
