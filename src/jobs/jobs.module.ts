import { Module, type DynamicModule } from '@nestjs/common';
import { ComputeService } from './compute.service.js';
import { ComputeWorker } from './compute.worker.js';
import { QueueService } from './queue.service.js';

/** The queue (every process sends jobs) and, when `worker` is set, the compute worker. */
@Module({})
export class JobsModule {
  static forRoot(options: { worker: boolean }): DynamicModule {
    return {
      module: JobsModule,
      global: true,
      providers: [QueueService, ComputeService, ...(options.worker ? [ComputeWorker] : [])],
      exports: [QueueService, ComputeService],
    };
  }
}
