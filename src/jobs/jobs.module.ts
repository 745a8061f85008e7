import { Module, type DynamicModule } from '@nestjs/common';
import { ComputeService } from './compute.service.js';
import { ComputeWorker } from './compute.worker.js';
import { MaintenanceWorker } from './maintenance.worker.js';
import { QueueService } from './queue.service.js';
import { RetentionService } from './retention.service.js';

/** The queue (every process sends jobs) and, when `worker` is set, the compute worker. */
@Module({})
export class JobsModule {
  static forRoot(options: { worker: boolean }): DynamicModule {
    return {
      module: JobsModule,
      global: true,
      providers: [QueueService, ComputeService, RetentionService, ...(options.worker ? [ComputeWorker, MaintenanceWorker] : [])],
      exports: [QueueService, ComputeService, RetentionService],
    };
  }
}
