import path from 'node:path';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Everything the service reads from its environment, parsed once at start-up. */
export interface AppConfig {
  port: number;
  /** null: start (or reuse) the embedded Postgres in `dataDir`. */
  databaseUrl: string | null;
  dataDir: string;
  maxBodyBytes: number;
  /** Threads that decode and validate uploads, off the event loop. */
  ingestThreads: number;
  /** Compute jobs this process runs at once; 0: no in-process worker (API-only replica). */
  workerConcurrency: number;
  logLevel: LogLevel;
  production: boolean;
  jobs: JobPolicy;
}

/** How compute jobs are retried and when a stuck one is given up on. */
export interface JobPolicy {
  /** Retries after the first attempt; a job failing 1 + retryLimit times marks its snapshot FAILED. */
  retryLimit: number;
  /** First retry delay; later ones back off exponentially. 0: retry at once. */
  retryDelaySeconds: number;
  /** An attempt still active after this long (stuck, its worker alive) is retried. */
  expireInSeconds: number;
  /**
   * A running attempt's worker refreshes the job this often (half of it); an attempt not
   * refreshed for this long (its worker died) is retried by another worker.
   */
  heartbeatSeconds: number;
}

export class ConfigError extends Error {}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** An integer variable in [min, max], `fallback` when unset or blank; anything else is a ConfigError. */
export function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

/** A positive number, `fallback` when unset or blank; anything else is a ConfigError. */
export function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${name} must be a positive number, got "${raw}"`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const logLevel = (env.LOG_LEVEL ?? 'info').toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    databaseUrl: env.DATABASE_URL?.trim() || null,
    dataDir: path.resolve(env.MESHLENS_DATA_DIR?.trim() || '.meshlens'),
    maxBodyBytes: integer(env, 'MESHLENS_MAX_BODY_BYTES', 32 * 1024 * 1024, 1024, 2 ** 31 - 1),
    ingestThreads: integer(env, 'MESHLENS_INGEST_THREADS', 2, 1, 64),
    workerConcurrency: integer(env, 'MESHLENS_WORKER_CONCURRENCY', 2, 0, 64),
    logLevel,
    production: env.NODE_ENV === 'production',
    jobs: {
      retryLimit: integer(env, 'MESHLENS_JOB_RETRY_LIMIT', 5, 0, 100),
      retryDelaySeconds: integer(env, 'MESHLENS_JOB_RETRY_DELAY_SECONDS', 2, 0, 3600),
      expireInSeconds: integer(env, 'MESHLENS_JOB_TIMEOUT_SECONDS', 900, 10, 86400),
      // pg-boss refuses heartbeats under 10 s.
      heartbeatSeconds: integer(env, 'MESHLENS_JOB_HEARTBEAT_SECONDS', 30, 10, 3600),
    },
  };
}

/** The parsed config, as a provider: `@Inject(APP_CONFIG) config: AppConfig`. */
export const APP_CONFIG = Symbol('APP_CONFIG');
