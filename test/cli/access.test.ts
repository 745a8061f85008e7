// The CLI against a server with access control on: `meshlens token create|list|revoke` on the
// database itself, client commands sending --token / MESHLENS_TOKEN, `push --mesh`, and the PR
// bot's `meshlens diff prod@latest --head PATH`, whose head goes to the scratch mesh.
import { execFile, execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/test-app.js';

const ROOT = join(import.meta.dirname, '..', '..');

const t = useTestApp({ config: { auth: 'tokens' } });
let server: string;

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'dist/src/main.js'), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, MESHLENS_URL: server, DATABASE_URL: t.db.url, MESHLENS_TOKEN: '', ...env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'ignore' });
  await t.app.listen(0, '127.0.0.1');
  server = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
});

describe('meshlens token and the client commands with access control on', () => {
  let token: { id: string; token: string; scopes: string[]; meshes: string[] | null; expiresAt: string | null };
  let base: string;

  it('token create prints the token once; only its hash is stored', async () => {
    const run = await cli(['token', 'create', '--scope', 'read,write', '--mesh', 'prod', '--expires', '90d', '-o', 'json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    token = JSON.parse(run.stdout);
    expect(token).toMatchObject({
      id: expect.any(String),
      token: expect.stringMatching(/^mlt_[\w-]{43}$/),
      scopes: ['read', 'write'],
      meshes: ['prod'],
    });
    expect(Date.parse(token.expiresAt!) - Date.now()).toBeGreaterThan(89 * 86400_000);
    const [row] = await t.db.query<{ hash: Buffer }>('SELECT hash FROM access_tokens WHERE id = $1', [token.id]);
    expect(row!.hash).toHaveLength(32);
    expect(JSON.stringify(await t.db.query('SELECT * FROM access_tokens'))).not.toContain(token.token.slice(4));
  });

  it('bad token create arguments are usage errors', async () => {
    expect((await cli(['token', 'create', '--scope', 'root'])).code).toBe(2);
    expect((await cli(['token', 'create', '--scope', 'read', '--expires', 'soon'])).code).toBe(2);
    expect((await cli(['token', 'create', '--scope', 'read', '--mesh', 'Bad Mesh'])).code).toBe(2);
  });

  it('client commands without a token fail with the 401; with --token or MESHLENS_TOKEN they work', async () => {
    const anonymous = await cli(['snapshots']);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/missing bearer token.*HTTP 401/);
    const push = await cli([
      'push',
      'examples/istioinaction',
      '--mesh',
      'prod',
      '--name',
      'prod',
      '--wait',
      '-o',
      'json',
      '--token',
      token.token,
    ]);
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    expect(JSON.parse(push.stdout)).toMatchObject({ mesh: 'prod', status: 'READY' });
    base = JSON.parse(push.stdout).id;
    const list = await cli(['snapshots', '--mesh', 'prod', '-o', 'json'], { MESHLENS_TOKEN: token.token });
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).items.map((s: { id: string }) => s.id)).toEqual([base]);
    const other = await cli(['push', 'examples/istioinaction', '--mesh', 'staging'], { MESHLENS_TOKEN: token.token });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/mesh "staging".*HTTP 403/);
  });

  it('diff prod@latest --head PATH: the head goes to the scratch mesh, is diffed against the stored snapshot, then deleted', async () => {
    const run = await cli(['diff', 'prod@latest', '--head', 'examples/istioinaction', '--format', 'json', '--fail-on', 'error'], {
      MESHLENS_TOKEN: token.token,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/uploaded as snapshot \S+ \(mesh prod\.scratch\)/);
    const diff = JSON.parse(run.stdout);
    expect(diff.baseId).toBe(base);
    expect(diff.resources).toEqual([]);
    const [left] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM snapshots WHERE mesh = 'prod.scratch'`);
    expect(left!.n).toBe(0);
  });

  it('token list shows tokens (never the token); a revoked token gets 401s', async () => {
    expect((await cli(['token', 'revoke', token.id])).code).toBe(0);
    expect((await cli(['token', 'revoke', token.id])).code).toBe(1);
    const list = JSON.parse((await cli(['token', 'list', '-o', 'json'])).stdout);
    expect(list).toEqual([
      expect.objectContaining({ id: token.id, scopes: ['read', 'write'], meshes: ['prod'], revokedAt: expect.any(String) }),
    ]);
    expect(JSON.stringify(list)).not.toContain(token.token);
    const after = await cli(['snapshots'], { MESHLENS_TOKEN: token.token });
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/revoked.*HTTP 401/);
  });
});
