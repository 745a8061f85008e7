// `meshlens serve` / `meshlens worker` start-up as an operator sees it: a bad configuration value
// is one line on stderr and exit code 2; MESHLENS_WORKER_CONCURRENCY=0 is an API-only replica.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, useTestDatabase } from '../support/test-app.js';

const MAIN = join(import.meta.dirname, '..', '..', 'dist/src/main.js');

function meshlens(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('a bad configuration value', () => {
  it.each([
    ['serve', { MESHLENS_WORKER_CONCURRENCY: '-1' }, /^MESHLENS_WORKER_CONCURRENCY must be an integer between 0 and 64, got "-1"$/],
    ['serve', { MESHLENS_JOB_HEARTBEAT_SECONDS: '5' }, /^MESHLENS_JOB_HEARTBEAT_SECONDS must be an integer between 10 and 3600/],
    ['serve', { MESHLENS_GENERATOR_TIMEOUT_SECONDS: 'soon' }, /^MESHLENS_GENERATOR_TIMEOUT_SECONDS must be a positive number/],
    ['worker', { MESHLENS_WORKER_CONCURRENCY: '0' }, /^MESHLENS_WORKER_CONCURRENCY=0 leaves `meshlens worker` nothing to run/],
  ])('meshlens %s with %j: one line on stderr, exit code 2', async (command, env, message) => {
    const run = await meshlens([command], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', ...env });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.replace(/^meshlens: bad configuration: /, '')).toMatch(message);
  });
});

describe('MESHLENS_WORKER_CONCURRENCY=0', () => {
  const t = useTestDatabase();
  let serve: ChildProcess | undefined;
  afterAll(async () => {
    if (serve && serve.exitCode === null) {
      serve.kill('SIGTERM');
      await once(serve, 'exit');
    }
  });

  it('serves the API and runs no compute job', async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    probe.close();
    serve = spawn(process.execPath, [MAIN, 'serve'], {
      env: { ...process.env, DATABASE_URL: t.db.url, PORT: String(port), MESHLENS_WORKER_CONCURRENCY: '0', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let log = '';
    serve.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await eventually(async () => (log.includes('meshlens serving') ? true : undefined), 60_000, 'meshlens serving');
    for (const line of log.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();

    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const manifests = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n';
    const created = await fetch(`${base}/api/v1/snapshots`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: manifests,
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    await new Promise((r) => setTimeout(r, 500));
    expect(((await (await fetch(`${base}/api/v1/snapshots/${id}`)).json()) as { status: string }).status).toBe('PENDING');
    expect(await t.db.query(`SELECT state::text FROM pgboss.job WHERE name = 'compute'`)).toEqual([{ state: 'created' }]);
  });
});
