import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { PgBoss, type Db } from 'pg-boss';
import type { EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { DATABASE_URL } from '../database/database.tokens.js';

export const COMPUTE_QUEUE = 'compute';
/** Where pg-boss moves a compute job that exhausted its retries (a crash on the last try included). */
export const COMPUTE_DEAD_LETTER_QUEUE = 'compute-dead-letter';

/** Garbage collection of unreferenced content-addressed rows: one queued and one running at most (policy `stately`). */
export const GC_QUEUE = 'gc';
/** Retention of one mesh (`{mesh}`) or of every mesh (`{}`, the periodic pass): one queued per mesh. */
export const RETENTION_QUEUE = 'retention';

export interface RetentionJobData {
  mesh?: string;
}

/** How often a process's pg-boss looks for expired jobs and stale heartbeats. */
const SUPERVISE_INTERVAL_SECONDS = 10;

export interface ComputeJobData {
  snapshotId: string;
  /** The snapshot's mesh: the job's group, whose jobs run at most MESHLENS_MESH_COMPUTE_CONCURRENCY at once. */
  mesh?: string;
}

/** The pg-boss instance of this process: the queue lives in the service's own Postgres. */
@Injectable()
export class QueueService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(QueueService.name);
  readonly boss: PgBoss;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DATABASE_URL) databaseUrl: string,
  ) {
    this.boss = new PgBoss({
      connectionString: databaseUrl,
      application_name: 'meshlens-queue',
      // Wake workers on NOTIFY when a job is sent: a compute starts within milliseconds, not a poll later.
      useListenNotify: true,
      max: 4,
      // pg-boss gives up on a connection after 10 s by default, our TypeORM pool never does: on a
      // loaded machine (a fresh embedded Postgres forking backends beside busy generators) the queue
      // failed a start that the rest of the app survived. Wait as long as a slow start needs.
      connectionTimeoutMillis: 60_000,
      // The supervisor fails over jobs whose heartbeat stopped (their worker died) on these passes:
      // a dead worker's job is retried within heartbeatSeconds plus this, not at the job timeout.
      superviseIntervalSeconds: SUPERVISE_INTERVAL_SECONDS,
      monitorIntervalSeconds: SUPERVISE_INTERVAL_SECONDS,
    });
    this.boss.on('error', (error) => this.logger.error(error));
    this.boss.on('warning', (warning) => this.logger.warn(warning.message ?? warning));
  }

  async onModuleInit() {
    await this.boss.start();
    await this.boss.createQueue(COMPUTE_DEAD_LETTER_QUEUE, { notify: true });
    await this.boss.createQueue(COMPUTE_QUEUE, { notify: true, ...this.jobOptions() });
    await this.boss.createQueue(GC_QUEUE, { policy: 'stately', notify: true, retryLimit: 2, expireInSeconds: 3600 });
    await this.boss.createQueue(RETENTION_QUEUE, { policy: 'stately', notify: true, retryLimit: 2, expireInSeconds: 600 });
  }

  async beforeApplicationShutdown() {
    // Lets running jobs finish (up to the timeout); an unfinished one is retried by another worker.
    await this.boss.stop({ graceful: true, timeout: 10_000 });
  }

  /**
   * Enqueues the compute job inside the caller's transaction: it exists if and only if the snapshot
   * does. Its group is the mesh: the worker runs at most MESHLENS_MESH_COMPUTE_CONCURRENCY jobs of one
   * mesh at once (across all workers), so one mesh's bulk upload leaves room for the others.
   */
  async enqueueCompute(snapshotId: string, mesh: string, transaction: EntityManager): Promise<void> {
    const data: ComputeJobData = { snapshotId, mesh };
    // Per job too: a queue created by an older release keeps its options (createQueue leaves it).
    await this.boss.send(COMPUTE_QUEUE, data, { db: inTransaction(transaction), group: { id: mesh }, ...this.jobOptions() });
  }

  /** Asks for a garbage collection in the background (at most one waits; a request while one waits joins it). */
  async enqueueGc(): Promise<void> {
    await this.boss.send(GC_QUEUE, {});
  }

  /** Asks for the mesh's retention to run in the background (at most one waits per mesh). */
  async enqueueRetention(mesh: string): Promise<void> {
    const data: RetentionJobData = { mesh };
    await this.boss.send(RETENTION_QUEUE, data, { singletonKey: mesh });
  }

  private jobOptions() {
    const { retryLimit, retryDelaySeconds, expireInSeconds, heartbeatSeconds } = this.config.jobs;
    return {
      retryLimit,
      retryDelay: retryDelaySeconds,
      retryBackoff: retryDelaySeconds > 0,
      expireInSeconds,
      heartbeatSeconds,
      deadLetter: COMPUTE_DEAD_LETTER_QUEUE,
    };
  }

  /** Jobs of every queue by state, for the metrics. */
  async countJobsByState(): Promise<Record<string, number>> {
    const { rows } = await this.boss
      .getDb()
      .executeSql('SELECT state::text AS state, count(*)::int AS count FROM pgboss.job GROUP BY state');
    return Object.fromEntries((rows as { state: string; count: number }[]).map((r) => [r.state, r.count]));
  }
}

/** pg-boss's database interface over a TypeORM transaction. */
function inTransaction(em: EntityManager): Db {
  const runner = em.queryRunner;
  if (!runner) throw new Error('enqueueCompute needs an EntityManager from a transaction');
  return {
    executeSql: async (text: string, values?: unknown[]) => ({ rows: (await runner.query(text, values, true)).records }),
  };
}
