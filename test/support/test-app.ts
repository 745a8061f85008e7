import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { configureHttpApp } from '../../src/app.js';
import { AppModule } from '../../src/app.module.js';
import { loadConfig, type AppConfig } from '../../src/config/config.js';
import { JsonLogger } from '../../src/logging/json-logger.js';

export interface TestDatabase {
  url: string;
  /** A client on the test database, for counting rows behind the API's back. */
  query<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** A fresh database on the test server, so test files neither see nor disturb each other. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject('databaseServerUrl');
  const name = `meshlens_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  // The DROP below terminates stragglers; a terminated idle client must not become an uncaught error.
  pool.on('error', () => {});
  return {
    url: url.toString(),
    query: async (sql, params) => (await pool.query(sql, params)).rows,
    drop: async () => {
      await pool.end();
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      // Closed pools may still be disconnecting; give them a moment before forcing them out.
      for (let i = 0; i < 40; i++) {
        const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
        if (rows[0].n === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface TestAppOptions {
  databaseUrl: string;
  /** Run the compute worker in the app (default true). */
  worker?: boolean;
  config?: Partial<AppConfig>;
  /** e.g. `(b) => b.overrideProvider(ComputeService).useValue(...)` */
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  /** Express middleware in front of every route (e.g. one standing for access control). */
  middleware?: (req: import('express').Request, res: import('express').Response, next: () => void) => void;
}

/** The HTTP app exactly as `meshlens serve` builds it, on the given database, not listening. */
export async function startTestApp(options: TestAppOptions): Promise<INestApplication> {
  const base = loadConfig({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error' });
  const config: AppConfig = {
    ...base,
    databaseUrl: options.databaseUrl,
    // Fast retries, so failure paths finish within a test.
    jobs: { retryLimit: 1, retryDelaySeconds: 0, expireInSeconds: 30, heartbeatSeconds: 10 },
    // No rate limit unless a test sets one: a test file sends many requests from one address.
    limits: { ...base.limits, ratePerMinute: 0 },
    ...options.config,
  };
  const logger = new JsonLogger(config.logLevel);
  let builder = Test.createTestingModule({
    imports: [AppModule.forRoot({ config, databaseUrl: options.databaseUrl, http: true, worker: options.worker ?? true })],
  });
  if (options.override) builder = options.override(builder);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication({ logger, bodyParser: false });
  if (options.middleware) app.use(options.middleware);
  configureHttpApp(app, { config }, logger);
  await app.init();
  return app;
}

/** The test file's app, on a database of its own: started before its tests, closed and dropped after. */
export interface TestApp {
  readonly app: INestApplication;
  readonly db: TestDatabase;
  /** supertest on the app's HTTP server */
  api(): ReturnType<typeof request>;
  /** Closes the app and starts another on the same database (e.g. a worker after an API-only app);
   *  `options` replace the file's options where given. */
  restart(options?: Omit<TestAppOptions, 'databaseUrl'>): Promise<INestApplication>;
  /** A further app on the same database (e.g. with other configuration), closed after the file's tests. */
  startAnother(options?: Omit<TestAppOptions, 'databaseUrl'>): Promise<INestApplication>;
}

export interface UseTestAppOptions extends Omit<TestAppOptions, 'databaseUrl'> {
  /** Runs on the fresh database before the app starts (e.g. rows in an older schema to migrate). */
  beforeStart?: (db: TestDatabase) => Promise<void>;
}

/** Registers the hooks that start an app on a fresh database for this test file (or describe
 *  block: call it there), and stop it. Call it before the file's own `beforeAll` hooks, which can
 *  then use the app. */
export function useTestApp(options: UseTestAppOptions = {}): TestApp {
  const { beforeStart, ...appOptions } = options;
  let app: INestApplication | undefined;
  let db: TestDatabase | undefined;
  const others: INestApplication[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    if (beforeStart) await beforeStart(db);
    app = await startTestApp({ ...appOptions, databaseUrl: db.url });
  });
  afterAll(async () => {
    for (const other of others) await other.close();
    await app?.close();
    await db?.drop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useTestApp: the app starts in beforeAll; use it inside tests and hooks');
    return value;
  };
  return {
    get app() {
      return started(app);
    },
    get db() {
      return started(db);
    },
    api: () => request(started(app).getHttpServer()),
    restart: async (next = appOptions) => {
      await started(app).close();
      app = undefined;
      app = await startTestApp({ ...next, databaseUrl: started(db).url });
      return app;
    },
    startAnother: async (other = appOptions) => {
      const another = await startTestApp({ ...other, databaseUrl: started(db).url });
      others.push(another);
      return another;
    },
  };
}

/** A fresh database for this test file (or describe block), dropped after it: for tests that start
 *  meshlens as a process rather than an app. */
export function useTestDatabase(): { readonly db: TestDatabase } {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());
  return {
    get db() {
      if (db === undefined) throw new Error('useTestDatabase: the database is created in beforeAll; use it inside tests and hooks');
      return db;
    },
  };
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`: generous, since
 *  tests assert outcomes, not speed, and a loaded 2-core machine computes slowly. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 50_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Uploads manifests as a snapshot (expects 201) and returns its id. */
export async function uploadSnapshot(app: INestApplication, manifests: string, name = 'test'): Promise<string> {
  const res = await request(app.getHttpServer())
    .post(`/api/v1/snapshots?name=${encodeURIComponent(name)}`)
    .set('content-type', 'application/yaml')
    .send(manifests);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

/** Waits until the snapshot is READY and returns it; a FAILED snapshot fails at once with its reason. */
export async function waitReady(app: INestApplication, id: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  return eventually(
    async () => {
      const s = (await request(app.getHttpServer()).get(`/api/v1/snapshots/${id}`)).body;
      if (s.status === 'FAILED') throw new Error(`snapshot ${id} failed: ${s.error}`);
      return s.status === 'READY' ? s : undefined;
    },
    timeoutMs,
    `snapshot ${id} READY`,
  );
}

/** Waits until the background garbage collections asked for so far (a DELETE, retention) have run. */
export async function gcSettled(db: TestDatabase, timeoutMs = 50_000): Promise<void> {
  await eventually(
    async () => {
      const [row] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'gc' AND state::text IN ('created', 'retry', 'active')`,
      );
      return row!.n === 0 ? true : undefined;
    },
    timeoutMs,
    'the background garbage collection',
  );
}
