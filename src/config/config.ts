import { availableParallelism } from 'node:os';
import path from 'node:path';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Everything the service reads from its environment, parsed once at start-up. */
export interface AppConfig {
  port: number;
  /** HOST: the address `meshlens serve` listens on (default 127.0.0.1, loopback only). */
  host: string;
  /** Access control: `tokens` (a bearer token on every API call) or `off`; MESHLENS_AUTH, else `tokens` whenever `host` is not loopback. */
  auth: AuthMode;
  retention: RetentionDefaults;
  /** Compute jobs of one mesh running at once across all workers, so one mesh's bulk upload cannot starve the others. */
  meshComputeConcurrency: number;
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
  generator: GeneratorConfig;
  /** proxyConfig requests one compute job has in flight at once (the generator answers them concurrently). */
  computeConcurrency: number;
  limits: RequestLimits;
}

/** What one client may ask of the API. */
export interface RequestLimits {
  /** MESHLENS_GRAPHQL_MAX_DEPTH: deepest selection of a GraphQL operation. */
  graphqlMaxDepth: number;
  /** MESHLENS_GRAPHQL_MAX_COST: largest cost of a GraphQL operation (src/graphql/limits.ts). */
  graphqlMaxCost: number;
  /** MESHLENS_RATE_LIMIT: requests per minute per token (or per client address); 0: no limit. */
  ratePerMinute: number;
}

/** The generator binary and its session pool. */
export interface GeneratorConfig extends GeneratorPoolLimits {
  /** MESHLENS_GENERATOR_BIN; null: generator/bin/generator, built by `npm ci`. */
  binary: string | null;
}

export interface GeneratorPoolLimits {
  /** Sessions kept at once (each holds one snapshot in Istio's memory). */
  maxSessions: number;
  /** Total resident memory of all sessions before the least recently used idle one is closed. */
  maxRssBytes: number;
  /** A session unused this long is closed. */
  idleMs: number;
  /** A request taking longer fails with a TIMEOUT error; loading a snapshot gets ten times as long. */
  requestTimeoutMs: number;
}

export type AuthMode = 'off' | 'tokens';

/** Retention defaults (a mesh's own settings, PUT /api/v1/meshes/:mesh/retention, take precedence). */
export interface RetentionDefaults {
  /** MESHLENS_RETAIN_LAST: keep a mesh's newest N snapshots; null: no count rule. */
  keepLast: number | null;
  /** MESHLENS_RETAIN_DAYS: keep snapshots younger than this; null: no age rule. */
  keepSeconds: number | null;
  /** MESHLENS_RETAIN_SCRATCH_MINUTES: snapshots of scratch meshes (`diff --head`) older than this are removed. */
  scratchSeconds: number;
  /** MESHLENS_RETENTION_INTERVAL_MINUTES: how often retention runs over every mesh (besides after each upload). */
  intervalMinutes: number;
}

/** What the command-line client reads from its environment. */
export interface CliConfig {
  /** MESHLENS_URL: the meshlens service the client commands talk to. */
  serverUrl: string;
  /** MESHLENS_TOKEN: the bearer token the client commands send (`--token` overrides); null: none. */
  token: string | null;
  generator: GeneratorConfig;
}

export const DEFAULT_SERVER_URL = 'http://127.0.0.1:3000';

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

/** The limits from the environment; a value set but not a positive number is a ConfigError. */
export function poolLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): GeneratorPoolLimits {
  const num = (name: string, fallback: number) => positiveNumber(env, name, fallback);
  return {
    maxSessions: num('MESHLENS_GENERATOR_SESSIONS', 4),
    maxRssBytes: num('MESHLENS_GENERATOR_MAX_RSS_MB', 4096) * 1024 * 1024,
    idleMs: num('MESHLENS_GENERATOR_IDLE_SECONDS', 300) * 1000,
    requestTimeoutMs: num('MESHLENS_GENERATOR_TIMEOUT_SECONDS', 60) * 1000,
  };
}

function generatorConfig(env: NodeJS.ProcessEnv): GeneratorConfig {
  return { binary: env.MESHLENS_GENERATOR_BIN?.trim() || null, ...poolLimitsFromEnv(env) };
}

/** proxyConfig requests one job has in flight at once (the generator answers them concurrently). */
export function generatorConcurrency(env: NodeJS.ProcessEnv = process.env): number {
  return integer(env, 'MESHLENS_COMPUTE_CONCURRENCY', Math.max(2, Math.min(8, availableParallelism())), 1, 256);
}

export function loadCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  return {
    serverUrl: env.MESHLENS_URL?.trim() || DEFAULT_SERVER_URL,
    token: env.MESHLENS_TOKEN?.trim() || null,
    generator: generatorConfig(env),
  };
}

/** Whether `host` is a loopback address (or name): only then may access control default to off. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

function authMode(env: NodeJS.ProcessEnv, host: string): AuthMode {
  const raw = env.MESHLENS_AUTH?.trim().toLowerCase();
  if (!raw) return isLoopbackHost(host) ? 'off' : 'tokens';
  if (raw !== 'off' && raw !== 'tokens') throw new ConfigError(`MESHLENS_AUTH must be off or tokens, got "${env.MESHLENS_AUTH}"`);
  return raw;
}

function optionalInteger(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | null {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return null;
  return integer(env, name, 0, min, max);
}

function retentionDefaults(env: NodeJS.ProcessEnv): RetentionDefaults {
  const days = optionalInteger(env, 'MESHLENS_RETAIN_DAYS', 1, 36500);
  return {
    keepLast: optionalInteger(env, 'MESHLENS_RETAIN_LAST', 1, 1_000_000),
    keepSeconds: days === null ? null : days * 86400,
    scratchSeconds: integer(env, 'MESHLENS_RETAIN_SCRATCH_MINUTES', 60, 1, 525600) * 60,
    intervalMinutes: integer(env, 'MESHLENS_RETENTION_INTERVAL_MINUTES', 10, 1, 1440),
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const logLevel = (env.LOG_LEVEL ?? 'info').toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }
  const host = env.HOST?.trim() || '127.0.0.1';
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    host,
    auth: authMode(env, host),
    retention: retentionDefaults(env),
    meshComputeConcurrency: integer(env, 'MESHLENS_MESH_COMPUTE_CONCURRENCY', 1, 1, 64),
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
    generator: generatorConfig(env),
    computeConcurrency: generatorConcurrency(env),
    limits: {
      graphqlMaxDepth: integer(env, 'MESHLENS_GRAPHQL_MAX_DEPTH', 15, 2, 1000),
      graphqlMaxCost: integer(env, 'MESHLENS_GRAPHQL_MAX_COST', 10_000, 10, 100_000_000),
      ratePerMinute: integer(env, 'MESHLENS_RATE_LIMIT', 600, 0, 1_000_000),
    },
  };
}

/** The parsed config, as a provider: `@Inject(APP_CONFIG) config: AppConfig`. */
export const APP_CONFIG = Symbol('APP_CONFIG');
