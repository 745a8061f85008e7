import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { GarbageCollector } from '../database/garbage-collector.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { GC_QUEUE, QueueService, RETENTION_QUEUE, type RetentionJobData } from './queue.service.js';
import { RetentionService } from './retention.service.js';

/**
 * The background maintenance a worker process runs beside compute jobs: retention (queued after
 * uploads; every MESHLENS_RETENTION_INTERVAL_MINUTES over every mesh) and garbage collection (after a
 * deletion), never inside a request. Each collection's duration and what it freed go to the log
 * and to the metrics.
 */
@Injectable()
export class MaintenanceWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(MaintenanceWorker.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly queue: QueueService,
    private readonly retention: RetentionService,
    private readonly garbage: GarbageCollector,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap() {
    const polling = { pollingIntervalSeconds: 5, notifyPollingIntervalSeconds: 30 };
    await this.queue.boss.work(GC_QUEUE, { batchSize: 1, ...polling }, async () => {
      await this.collect();
    });
    await this.queue.boss.work(RETENTION_QUEUE, { batchSize: 1, ...polling }, async ([job]) => {
      const { mesh } = (job?.data ?? {}) as RetentionJobData;
      if (mesh) await this.retention.apply(mesh);
      else await this.retention.applyAll();
    });
    // The periodic pass (ages move on without uploads): in each worker process, off the queue (a pass
    // is one DELETE per mesh over a consistent view, so two processes passing at once do no harm).
    this.timer = setInterval(() => void this.periodic(), this.config.retention.intervalMinutes * 60_000);
    this.timer.unref();
  }

  beforeApplicationShutdown() {
    clearInterval(this.timer);
  }

  private async periodic(): Promise<void> {
    try {
      const removed = await this.retention.applyAll();
      if (removed) this.logger.log(`periodic retention removed ${removed} snapshot(s)`);
    } catch (error) {
      this.logger.warn(`periodic retention failed: ${String(error)}`);
    }
  }

  /** One collection: logged (GarbageCollector) and measured. */
  async collect(): Promise<void> {
    const { durationMs, freed } = await this.garbage.collect();
    this.metrics.gcDuration.observe(durationMs / 1000);
    for (const [table, rows] of Object.entries(freed) as [string, number][]) this.metrics.gcFreed.inc({ table }, rows);
    this.logger.debug(`garbage collection done in ${durationMs} ms`);
  }
}
