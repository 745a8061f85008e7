// meshlens token create|list|revoke: access tokens, on the database itself (DATABASE_URL, or the
// embedded Postgres of the current folder, as `meshlens serve` finds it), so that the first admin
// token needs no token. A token is printed once; only its SHA-256 is stored.
import { Command, Option } from 'commander';
import { loadConfig } from '../config/config.js';
import type { StoredToken, TokenStore } from '../database/token.store.js';
import { meshNameProblem, parseDuration, SCOPES, type Scope } from '../model/access.js';
import { newToken, tokenHash } from '../model/tokens.js';
import { action, CliFailure, printJson, table, UsageError } from './common.js';

/** Runs `fn` with the token store on the service's database (migrations applied), then closes it. */
async function withTokenStore<T>(fn: (store: TokenStore) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const [{ DataSource }, { dataSourceOptions }, { resolveDatabase }, { TokenStore }] = await Promise.all([
    import('typeorm'),
    import('../database/data-source.js'),
    import('../database/resolve-database.js'),
    import('../database/token.store.js'),
  ]);
  let database: Awaited<ReturnType<typeof resolveDatabase>> | undefined;
  let dataSource: InstanceType<typeof DataSource> | undefined;
  try {
    database = await resolveDatabase(config, () => {});
    dataSource = new DataSource({ ...dataSourceOptions(database.url), extra: { max: 2 } });
    await dataSource.initialize();
    return await fn(new TokenStore(dataSource));
  } catch (error) {
    if (error instanceof UsageError || error instanceof CliFailure) throw error;
    throw new CliFailure(
      `the token database (${config.databaseUrl ? 'DATABASE_URL' : `embedded in ${config.dataDir}`}): ${(error as Error).message}`,
    );
  } finally {
    await dataSource?.destroy().catch(() => undefined);
    await database?.stop().catch(() => undefined);
  }
}

function parseScopes(value: string): Scope[] {
  const scopes = [
    ...new Set(
      value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  const unknown = scopes.filter((s) => !SCOPES.includes(s as Scope));
  if (!scopes.length || unknown.length) {
    throw new UsageError(`--scope takes a comma-separated list of ${SCOPES.join(', ')}, got "${value}"`);
  }
  return scopes as Scope[];
}

function parseMeshes(values: string[] | undefined): string[] | null {
  if (!values?.length) return null;
  const meshes = [
    ...new Set(
      values
        .flatMap((v) => v.split(','))
        .map((m) => m.trim())
        .filter(Boolean),
    ),
  ];
  for (const mesh of meshes) {
    const problem = meshNameProblem(mesh);
    if (problem) throw new UsageError(`--mesh: ${problem}`);
  }
  return meshes;
}

function view(t: StoredToken) {
  return {
    id: t.id,
    name: t.name,
    scopes: t.scopes,
    meshes: t.meshes,
    createdAt: t.createdAt.toISOString(),
    expiresAt: t.expiresAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
  };
}

function state(t: StoredToken, now: Date): string {
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt && t.expiresAt <= now) return 'expired';
  return 'active';
}

export function tokenCommand(): Command {
  const cmd = new Command('token').description(
    'access tokens (scopes read, write, admin; optionally limited to meshes), on the database directly (DATABASE_URL, else the embedded one of this folder)',
  );
  cmd
    .command('create')
    .description('create a token and print it once (only its hash is stored)')
    .requiredOption('--scope <scopes>', `comma-separated: ${SCOPES.join(', ')}`)
    .option(
      '--mesh <mesh>',
      'limit the token to this mesh (repeat, or comma-separate, for several); default: every mesh',
      (v: string, p: string[] = []) => [...p, v],
    )
    .option('--expires <duration>', 'expire after this long: 90d, 12h, 30m, 3600s; default: never')
    .option('--name <name>', 'what the token is for (shown by token list)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(
      action(async (opts: { scope: string; mesh?: string[]; expires?: string; name?: string; output: string }) => {
        const scopes = parseScopes(opts.scope);
        const meshes = parseMeshes(opts.mesh);
        let expiresAt: Date | null = null;
        if (opts.expires !== undefined) {
          const seconds = parseDuration(opts.expires);
          if (seconds === null) throw new UsageError(`--expires takes a duration such as 90d, 12h, 30m or 3600s, got "${opts.expires}"`);
          expiresAt = new Date(Date.now() + seconds * 1000);
        }
        const token = newToken();
        const stored = await withTokenStore((store) =>
          store.create({ hash: tokenHash(token), name: opts.name ?? null, scopes, meshes, expiresAt }),
        );
        if (opts.output === 'json') {
          printJson({
            id: stored.id,
            token,
            scopes: stored.scopes,
            meshes: stored.meshes,
            expiresAt: stored.expiresAt?.toISOString() ?? null,
          });
          return;
        }
        process.stdout.write(
          [
            `token    ${token}`,
            `id       ${stored.id}`,
            `scopes   ${stored.scopes.join(',')}`,
            `meshes   ${stored.meshes?.join(',') ?? '(all)'}`,
            `expires  ${stored.expiresAt?.toISOString() ?? 'never'}`,
            '',
          ].join('\n'),
        );
        process.stderr.write('Keep the token now: it is not shown again (only its hash is stored).\n');
      }),
    );
  cmd
    .command('list')
    .description('the tokens (never the tokens themselves), newest first')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(
      action(async (opts: { output: string }) => {
        const tokens = await withTokenStore((store) => store.list());
        if (opts.output === 'json') return printJson(tokens.map(view));
        const now = new Date();
        process.stdout.write(
          table(
            ['ID', 'NAME', 'SCOPES', 'MESHES', 'STATE', 'CREATED', 'EXPIRES'],
            tokens.map((t) => [
              t.id,
              t.name ?? '',
              t.scopes.join(','),
              t.meshes?.join(',') ?? '(all)',
              state(t, now),
              t.createdAt.toISOString(),
              t.expiresAt?.toISOString() ?? 'never',
            ]),
          ),
        );
      }),
    );
  cmd
    .command('revoke')
    .description('revoke a token: its next request is a 401')
    .argument('<id>', 'the token id (token list)')
    .action(
      action(async (id: string) => {
        const revoked = await withTokenStore((store) => store.revoke(id));
        if (!revoked) throw new CliFailure(`no active token ${id}`);
        process.stdout.write(`token ${id} revoked\n`);
      }),
    );
  return cmd;
}
