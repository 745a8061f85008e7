import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { JobResult, JobWithMetadata } from 'pg-boss';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { SnapshotStatus } from '../database/entities/index.js';
import { SnapshotStore } from '../database/snapshot.store.js';
import { ComputeService } from './compute.service.js';
import { RetentionService } from './retention.service.js';
import { COMPUTE_DEAD_LETTER_QUEUE, COMPUTE_QUEUE, QueueService, type ComputeJobData } from './queue.service.js';

/**
 * Runs compute jobs: PENDING → COMPUTING → READY, or FAILED with the reason once the retries are
 * spent. Several processes may run it at once; pg-boss hands each job to one (SKIP LOCKED).
 */
@Injectable()
export class ComputeWorker implements OnApplicationBootstrap {
  private readonly logger = new Logger(ComputeWorker.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly queue: QueueService,
    private readonly snapshots: SnapshotStore,
    private readonly computeService: ComputeService,
    private readonly retention: RetentionService,
  ) {}

  async onApplicationBootstrap() {
    const concurrency = this.config.workerConcurrency;
    // A batch of `concurrency` jobs runs in parallel. While batches come back full (a backlog),
    // the worker fetches again at once; otherwise NOTIFY wakes it when a job is sent, and the
    // poll is only a backstop.
    await this.queue.boss.work(
      COMPUTE_QUEUE,
      {
        batchSize: concurrency,
        burstWhenBatchFull: true,
        includeMetadata: true,
        perJobResults: true,
        pollingIntervalSeconds: 2,
        notifyPollingIntervalSeconds: 2,
        // Jobs are grouped by mesh: one mesh's bulk upload takes at most this many slots of all workers.
        groupConcurrency: this.config.meshComputeConcurrency,
      },
      (jobs) => Promise.all(jobs.map((job) => this.run(job))),
    );
    await this.queue.boss.work(
      COMPUTE_DEAD_LETTER_QUEUE,
      { batchSize: 10, pollingIntervalSeconds: 5, notifyPollingIntervalSeconds: 30 },
      async (jobs) => {
        for (const job of jobs) {
          const { snapshotId } = job.data as ComputeJobData;
          this.logger.warn(`compute of snapshot ${snapshotId} abandoned after its last attempt`);
          await this.snapshots.markAbandoned(
            snapshotId,
            'the compute job did not finish: its worker stopped or timed out on the last attempt',
          );
        }
      },
    );
  }

  /** pg-boss's verdict on an attempt it took back, in the words of our configuration. */
  private whyInterrupted(job: JobWithMetadata<unknown>): string {
    const output = job.output as { message?: unknown; value?: { message?: unknown } } | null;
    const raw = output?.value?.message ?? output?.message ?? '';
    const message = typeof raw === 'string' ? raw : JSON.stringify(raw);
    if (/heartbeat/.test(message)) {
      return `its worker sent no heartbeat for ${job.heartbeatSeconds} s (MESHLENS_JOB_HEARTBEAT_SECONDS): the process died or lost its database`;
    }
    if (/expire|timeout|timed out/i.test(message)) return `it ran longer than ${job.expireInSeconds} s (MESHLENS_JOB_TIMEOUT_SECONDS)`;
    return 'its worker stopped';
  }

  private async run(job: JobWithMetadata<unknown>): Promise<JobResult> {
    const { snapshotId } = job.data as ComputeJobData;
    const attempt = `attempt ${job.retryCount + 1} of ${job.retryLimit + 1}`;
    const started = Date.now();
    try {
      return await this.snapshots.withComputeLock(snapshotId, async (): Promise<JobResult> => {
        const current = await this.snapshots.get(snapshotId);
        if (!current) return { id: job.id, status: 'completed', output: { skipped: 'snapshot deleted' } };
        // Another attempt of this job (one that outlived its expiry) finished while this one waited.
        if (current.status === SnapshotStatus.READY) return { id: job.id, status: 'completed', output: { skipped: 'already computed' } };
        // Still COMPUTING: the previous attempt never got to record its end (its worker died).
        const interrupted = job.retryCount > 0 && current.status === SnapshotStatus.COMPUTING;
        const retryNote = interrupted
          ? `retrying (${attempt}): attempt ${job.retryCount} did not finish: ${this.whyInterrupted(job)}`
          : undefined;
        if (retryNote) this.logger.warn(`compute of snapshot ${snapshotId}: ${retryNote}`);
        if (!(await this.snapshots.markComputing(snapshotId, retryNote))) {
          return { id: job.id, status: 'completed', output: { skipped: 'snapshot deleted' } };
        }
        const stats = await this.computeService.compute(snapshotId, (fraction) => this.snapshots.setProgress(snapshotId, fraction));
        await this.snapshots.markReady(snapshotId);
        const classes = stats
          ? `, ${stats.proxies} proxies in ${stats.classes} classes, ${stats.reusedClasses} reused from an earlier snapshot; connectivity ${Math.round(stats.connectivityMs)} ms, ${stats.senderClasses} sender classes, ${stats.connectionGroups} connection groups; ${phaseLine(stats.phases)}`
          : '';
        this.logger.log(`computed snapshot ${snapshotId} in ${Date.now() - started} ms (${attempt}${classes})`);
        // A new READY snapshot: older ones of its mesh may now be past its retention.
        await this.retention
          .afterChange(current.mesh)
          .catch((error: unknown) => this.logger.warn(`retention of mesh ${current.mesh}: ${String(error)}`));
        return { id: job.id, status: 'completed' };
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (!(await this.snapshots.get(snapshotId))) {
        return { id: job.id, status: 'completed', output: { skipped: 'snapshot deleted' } };
      }
      const final = job.retryCount >= job.retryLimit;
      this.logger.error(
        `compute of snapshot ${snapshotId} failed (${attempt}): ${reason}`,
        error instanceof Error ? error.stack : undefined,
      );
      await this.snapshots.recordFailure(snapshotId, reason, final);
      return { id: job.id, status: 'failed', output: { message: reason } };
    }
  }
}

/** Where the job's time went, step by step, for operators: `normalise 412, session 2310, …, save 180 ms`. */
function phaseLine(phases: Record<string, number>): string {
  return `${Object.entries(phases)
    .map(([phase, ms]) => `${phase} ${Math.round(ms)}`)
    .join(', ')} ms`;
}
