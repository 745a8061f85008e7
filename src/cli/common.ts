// What every client command of the CLI shares: the server to talk to, HTTP and GraphQL calls,
// errors as exit codes (0 ok, 1 failure, 2 usage), options given as k=v.
import { loadCliConfig } from '../config/config.js';
import { Command, Option } from 'commander';

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {}

/** The command ran and failed (server unreachable, 4xx, 5xx, a failed snapshot): exit code 1. */
export class CliFailure extends Error {}

export interface ClientOptions {
  server?: string;
}

/** The bearer token the client commands send (`--token`, else MESHLENS_TOKEN); null: none. */
let bearer: string | null = null;

export function setBearerToken(token: string | null | undefined) {
  bearer = token?.trim() || null;
}

/** The Authorization header of a client request, when there is a token. */
export function authHeaders(): Record<string, string> {
  return bearer ? { authorization: `Bearer ${bearer}` } : {};
}

/** The `--token` option: sent as `Authorization: Bearer` (the server's access control). */
export function tokenOption(): Option {
  return new Option('--token <token>', 'access token sent as the bearer (default: MESHLENS_TOKEN)');
}

/**
 * `--server URL` (env MESHLENS_URL, default http://127.0.0.1:3000) and `--token` (env MESHLENS_TOKEN)
 * on a client command.
 */
export function clientCommand(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .addOption(
      new Option('--server <url>', 'meshlens service to talk to').default(
        loadCliConfig().serverUrl,
        'MESHLENS_URL, else http://127.0.0.1:3000',
      ),
    )
    .addOption(tokenOption())
    .hook('preAction', (command) => setBearerToken(command.opts<{ token?: string }>().token ?? loadCliConfig().token));
}

/** `-o, --output` restricted to the given formats. */
export function outputOption(formats: string[], fallback: string): Option {
  return new Option('-o, --output <format>', 'output format').choices(formats).default(fallback);
}

/** Runs an action; errors become a message on stderr and the exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`Error: ${message}\n`);
      process.exitCode = error instanceof UsageError ? 2 : 1;
    }
  };
}

export function baseUrl(server: string | undefined): URL {
  const raw = server || loadCliConfig().serverUrl;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--server: "${raw}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--server: "${raw}" is not an http(s) URL`);
  return url;
}

export function endpoint(server: string | undefined, path: string, query: Record<string, string | number | boolean | undefined> = {}): URL {
  const url = new URL(path.replace(/^\//, ''), baseUrl(server).toString().replace(/\/?$/, '/'));
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
  return url;
}

/** A request; a non-2xx answer is a CliFailure carrying the server's `{error}`. */
export async function request(url: URL, init: RequestInit = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers: { ...authHeaders(), ...(init.headers as Record<string, string> | undefined) } });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new CliFailure(
      `cannot reach meshlens at ${url.origin}: ${cause?.code ?? cause?.message ?? (error as Error).message} (start it with "meshlens serve", or pass --server / MESHLENS_URL)`,
    );
  }
  if (!res.ok) throw new CliFailure(await describeFailure(res));
  return res;
}

export async function describeFailure(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown; details?: unknown[] };
    const main = typeof body.error === 'string' ? body.error : typeof body.message === 'string' ? body.message : text;
    const details =
      Array.isArray(body.details) && body.details.length ? '\n' + body.details.map((d) => `  - ${describeDetail(d)}`).join('\n') : '';
    return `${main} (HTTP ${res.status})${details}`;
  } catch {
    return `${text.trim() || res.statusText} (HTTP ${res.status})`;
  }
}

function describeDetail(d: unknown): string {
  if (d && typeof d === 'object') {
    const p = d as { document?: number; line?: number; kind?: string; namespace?: string; name?: string; message?: string };
    const where = [
      p.document !== undefined ? `document ${p.document}` : '',
      p.line !== undefined ? `line ${p.line}` : '',
      [p.kind, p.namespace, p.name].filter(Boolean).join('/'),
    ]
      .filter(Boolean)
      .join(', ');
    return `${where ? `${where}: ` : ''}${p.message ?? JSON.stringify(d)}`;
  }
  return String(d);
}

export async function getJson<T>(
  server: string | undefined,
  path: string,
  query: Record<string, string | number | boolean | undefined> = {},
): Promise<T> {
  return (await request(endpoint(server, path, query))).json() as Promise<T>;
}

export async function getText(
  server: string | undefined,
  path: string,
  query: Record<string, string | number | boolean | undefined> = {},
): Promise<string> {
  return (await request(endpoint(server, path, query))).text();
}

export async function graphql<T>(server: string | undefined, query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await request(endpoint(server, '/graphql'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new CliFailure(body.errors.map((e) => e.message).join('; '));
  if (!body.data) throw new CliFailure('the server returned no data');
  return body.data;
}

/** Repeated option values, collected. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `k=v` pairs as an object. */
export function pairs(values: string[] | undefined, option: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i <= 0) throw new UsageError(`${option} takes key=value, got "${v}"`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

export function parsePort(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new UsageError(`${option} must be a port number from 1 to 65535, got "${value}"`);
  return n;
}

export function printJson(value: unknown) {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Rows as a table: columns padded to the widest cell plus three spaces, like kubectl. */
export function table(header: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return (
    cells
      .map((r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3)))
          .join('')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
