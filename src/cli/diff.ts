// `meshlens diff`: the PR bot.
//   offline: meshlens diff --base PATH --head PATH [--format markdown|json] [--fail-on error|warning|never]
//            no server, no database: read the manifests, ingest, normalise, one generator per side, diff.
//   server:  meshlens diff BASE_ID HEAD_ID [--format ...] [--server URL]: the REST diff of two stored snapshots
//            (either may be MESH@latest, the newest READY snapshot of a mesh).
//   PR bot:  meshlens diff MESH@latest --head PATH [--server URL]: uploads PATH to the mesh's scratch mesh
//            (MESH.scratch, which retention clears), waits for it, diffs the stored snapshot against it.
// Exit codes: 0 done; 1 the --fail-on level was reached, or a failure; 2 usage.
import { readFileSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { loadCliConfig, type GeneratorConfig } from '../config/config.js';
import { generatorBinary } from '../generator/binary.js';
import { GeneratorProcess } from '../generator/generator-process.js';
import { loadParams, type Methods } from '../generator/protocol.js';
import type { AnalyzerMessage } from '../model/diagnostics.js';
import { composeDiff, failLevelReached, proxyChanges } from '../diff/diff.js';
import { offlineConnectivity } from '../connectivity/offline.js';
import { withIstiodProxyTypes } from '../jobs/compute.service.js';
import type { Connectivity } from '../model/connectivity.js';
import { GeneratorConfigSource } from '../diff/generator-source.js';
import type { SnapshotDiffResult } from '../diff/model.js';
import { ingest } from '../ingest/ingest.js';
import { normaliseWithIstiod } from '../ingest/gateway-deployments.js';
import type { Admission, SnapshotResource } from '../model/snapshot.js';
import { manifestFilesUnder } from './manifest-files.js';
import { latestRefMesh, scratchMeshOf } from '../model/access.js';
import { authHeaders, setBearerToken, tokenOption } from './common.js';
import { collectFiles, joinManifests } from './push.js';

type Format = 'markdown' | 'json';
type FailOn = 'error' | 'warning' | 'never' | 'connectivity';

export class UsageError extends Error {}
export class InputError extends Error {}

/** Every manifest file under `path` (or `path` itself), sorted, hidden folders skipped. */
export function manifestFiles(path: string): string[] {
  const st = statSync(path);
  if (st.isFile()) return [path];
  return manifestFilesUnder(path, { skipHidden: true });
}

/** The resources of every manifest under `path`; every problem of every file, located, otherwise. */
export async function readManifests(path: string, admit: Admission): Promise<{ resources: SnapshotResource[]; warnings: string[] }> {
  let files: string[];
  try {
    files = manifestFiles(path);
  } catch (error) {
    throw new InputError(
      `${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (error as Error).message}`,
    );
  }
  const resources: SnapshotResource[] = [];
  const warnings: string[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (!text.trim()) continue;
    const result = await ingest(text, file.toLowerCase().endsWith('.json') ? 'application/json' : 'application/yaml', admit);
    const name = relative(process.cwd(), file) || file;
    if (!result.ok) {
      for (const p of result.problems) {
        const where = [p.kind, p.namespace && p.name ? `${p.namespace}/${p.name}` : p.name].filter(Boolean).join(' ');
        problems.push(
          `${name}${p.line ? `:${p.line}${p.column ? `:${p.column}` : ''}` : ` (document ${p.document})`}: ${where ? `${where}: ` : ''}${p.message}`,
        );
      }
      continue;
    }
    resources.push(...result.resources);
    warnings.push(...result.warnings.map((w) => `${name}: ${w}`));
  }
  if (problems.length) throw new InputError(`invalid manifests under ${path}:\n  ${problems.join('\n  ')}`);
  return { resources, warnings };
}

interface Side {
  resources: SnapshotResource[];
  process: GeneratorProcess;
  diagnostics: AnalyzerMessage[];
  istioVersion: string;
  connectivity: Connectivity;
}

async function loadSide(path: string, generator: GeneratorConfig): Promise<Side> {
  const timeoutMs = generator.requestTimeoutMs;
  const process = new GeneratorProcess(generatorBinary(generator.binary));
  try {
    // The side's generator validates its manifests before it loads them (`validate` needs no snapshot).
    const { resources } = await readManifests(path, async (objects) => (await process.request('validate', { objects }, timeoutMs)).results);
    const normalised = await normaliseWithIstiod(resources, (params) => process.request('gatewayDeployments', params, timeoutMs));
    await process.request('load', loadParams(normalised), timeoutMs * 10);
    const [version, diagnostics] = await Promise.all([
      process.request('version', undefined, timeoutMs),
      process.request('analyze', undefined, timeoutMs),
    ]);
    const connectivity = await offlineConnectivity(
      normalised,
      resources,
      {
        proxies: () => process.request('proxies', {}, timeoutMs),
        mesh: () => process.request('mesh', undefined, timeoutMs),
        proxyConfig: (proxy) => process.request('proxyConfig', { proxy }, timeoutMs),
        peerAuthentication: (proxy) => process.request('peerAuthentication', { proxy }, timeoutMs),
      },
      withIstiodProxyTypes,
    );
    return { resources, process, diagnostics, istioVersion: version.istio, connectivity };
  } catch (error) {
    process.close();
    throw error;
  }
}

/** The offline pipeline: both sides computed in this process, then the same diff the server makes. */
export async function offlineDiff(basePath: string, headPath: string, options: { maxLength?: number } = {}): Promise<SnapshotDiffResult> {
  const { generator } = loadCliConfig();
  const sides = await Promise.allSettled([loadSide(basePath, generator), loadSide(headPath, generator)]);
  const [b, h] = sides;
  try {
    if (b.status === 'rejected') throw b.reason;
    if (h.status === 'rejected') throw h.reason;
    const base = b.value;
    const head = h.value;
    const bySide: Record<string, GeneratorProcess> = { base: base.process, head: head.process };
    const ask = <M extends keyof Methods>(id: string, method: M, params: Methods[M]['params']) =>
      bySide[id].request(method, params, generator.requestTimeoutMs);
    const proxies = await proxyChanges(new GeneratorConfigSource(ask, { concurrency: 2 }), 'base', 'head');
    return composeDiff(
      {
        base: { id: null, name: basePath },
        head: { id: null, name: headPath },
        resources: { base: base.resources, head: head.resources },
        diagnostics: { base: base.diagnostics, head: head.diagnostics },
        proxies,
        istioVersion: head.istioVersion,
        connectivity: { base: base.connectivity, head: head.connectivity },
      },
      { maxLength: options.maxLength },
    );
  } finally {
    for (const s of sides) if (s.status === 'fulfilled') s.value.process.close();
  }
}

/** A call to the server with the bearer token; a non-2xx answer is an InputError naming the path and the server's error. */
async function call<T>(server: string, path: string, init: RequestInit = {}): Promise<T> {
  const url = new URL(path, server);
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers: { ...authHeaders(), ...(init.headers as Record<string, string> | undefined) } });
  } catch (error) {
    throw new InputError(`cannot reach ${server}: ${(error as Error).message}`);
  }
  const text = await res.text();
  let body: { error?: string } = {};
  try {
    body = text ? (JSON.parse(text) as { error?: string }) : {};
  } catch {
    // not JSON: the status says enough
  }
  if (!res.ok) throw new InputError(`${init.method ?? 'GET'} ${url.pathname}: HTTP ${res.status}: ${body.error ?? res.statusText}`);
  return body as T;
}

async function serverDiff(server: string, baseId: string, headId: string): Promise<SnapshotDiffResult & { [k: string]: unknown }> {
  return call(server, `/api/v1/snapshots/${encodeURIComponent(baseId)}/diff/${encodeURIComponent(headId)}?format=json`);
}

interface StoredSnapshot {
  id: string;
  mesh: string;
  status: string;
  error: string | null;
}

/**
 * The PR bot's diff: a stored snapshot (`prod@latest`, or an id) against local manifests. The head
 * is uploaded to the base mesh's scratch mesh (`prod.scratch`: retention clears it, and it is
 * deleted here once diffed), computed by the server, then diffed like two stored snapshots.
 */
export async function storedVsLocalDiff(
  server: string,
  baseRef: string,
  headPath: string,
  options: { timeoutMs?: number; log?: (line: string) => void } = {},
): Promise<SnapshotDiffResult & { [k: string]: unknown }> {
  const baseMesh = latestRefMesh(baseRef) ?? (await call<StoredSnapshot>(server, `/api/v1/snapshots/${encodeURIComponent(baseRef)}`)).mesh;
  let files: string[];
  try {
    files = collectFiles([headPath]);
  } catch (error) {
    throw new InputError((error as Error).message);
  }
  const scratch = scratchMeshOf(baseMesh);
  const created = await call<StoredSnapshot>(
    server,
    `/api/v1/snapshots?mesh=${encodeURIComponent(scratch)}&name=${encodeURIComponent(`diff head ${headPath}`)}`,
    { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: joinManifests(files) },
  ).catch((error: unknown) => {
    throw error instanceof InputError ? new InputError(`uploading ${headPath}: ${error.message}`) : error;
  });
  options.log?.(`meshlens diff: head ${headPath} uploaded as snapshot ${created.id} (mesh ${scratch})\n`);
  try {
    const deadline = Date.now() + (options.timeoutMs ?? 900_000);
    for (;;) {
      const head = await call<StoredSnapshot>(server, `/api/v1/snapshots/${created.id}`);
      if (head.status === 'READY') break;
      if (head.status === 'FAILED') throw new InputError(`the head snapshot ${created.id} FAILED: ${head.error ?? 'unknown reason'}`);
      if (Date.now() > deadline)
        throw new InputError(
          `the head snapshot ${created.id} is still ${head.status} after ${Math.round((options.timeoutMs ?? 900_000) / 1000)} s`,
        );
      await new Promise((r) => setTimeout(r, 300));
    }
    return await serverDiff(server, baseRef, created.id);
  } finally {
    // Best effort: retention clears the scratch mesh anyway.
    await call(server, `/api/v1/snapshots/${created.id}`, { method: 'DELETE' }).catch(() => undefined);
  }
}

export interface DiffCommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  exit: (code: number) => void;
}

const defaultIo: DiffCommandIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  exit: (code) => process.exit(code),
};

/** `meshlens diff`; register with `program.addCommand(diffCommand())`. */
export function diffCommand(io: DiffCommandIo = defaultIo): Command {
  const cmd = new Command('diff')
    .description(
      "what a change does: resources, each proxy's Envoy config and routing, istioctl analyze diagnostics; " +
        'offline with --base/--head (no server, no database), or between two stored snapshots (BASE HEAD ids) of a running server',
    )
    .argument('[base]', 'base snapshot id or MESH@latest (server mode)')
    .argument('[head]', 'head snapshot id or MESH@latest (server mode)')
    .option('--base <path>', 'offline: the base manifests (a file, or a folder read recursively: *.yaml, *.yml, *.json)')
    .option(
      '--head <path>',
      'offline: the head manifests; with a BASE snapshot (e.g. prod@latest): uploaded to the server and diffed against it',
    )
    .addOption(new Option('--format <format>', 'output').choices(['markdown', 'json']).default('markdown'))
    .addOption(
      new Option(
        '--fail-on <level>',
        'exit 1 when the change introduces a diagnostic of this level or worse; connectivity: when it closes a connection or loses mTLS',
      )
        .choices(['error', 'warning', 'never', 'connectivity'])
        .default('never'),
    )
    .option('--max-length <n>', 'cap of the markdown, in characters', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1000) throw new UsageError('--max-length must be an integer of at least 1000');
      return n;
    })
    .option(
      '--server <url>',
      'server mode: the meshlens service (default: MESHLENS_URL, else http://127.0.0.1:3000)',
      loadCliConfig().serverUrl,
    )
    .addOption(tokenOption())
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride((err: CommanderError) => {
      io.exit(err.exitCode === 0 ? 0 : 2);
      throw err;
    })
    .action(
      async (
        baseId: string | undefined,
        headId: string | undefined,
        opts: { base?: string; head?: string; format: Format; failOn: FailOn; maxLength?: number; server: string; token?: string },
      ) => {
        setBearerToken(opts.token ?? loadCliConfig().token);
        const code = await runDiff(baseId, headId, opts, io);
        io.exit(code);
      },
    );
  return cmd;
}

export async function runDiff(
  baseId: string | undefined,
  headId: string | undefined,
  opts: { base?: string; head?: string; format: Format; failOn: FailOn; maxLength?: number; server: string },
  io: Pick<DiffCommandIo, 'stdout' | 'stderr'>,
): Promise<number> {
  // A stored base against local manifests: the PR bot's `meshlens diff prod@latest --head ./deploy`.
  const againstStored = Boolean(baseId) && !headId && opts.head !== undefined && opts.base === undefined;
  const offline = !againstStored && (opts.base !== undefined || opts.head !== undefined);
  try {
    if (offline && (baseId || headId))
      throw new UsageError('give either --base PATH --head PATH (offline) or BASE HEAD snapshot ids (server), not both');
    if (offline && (!opts.base || !opts.head)) throw new UsageError('offline mode needs both --base PATH and --head PATH');
    if (!offline && !againstStored && (!baseId || !headId))
      throw new UsageError(
        'usage: meshlens diff --base PATH --head PATH, or meshlens diff BASE_ID HEAD_ID [--server URL], or meshlens diff MESH@latest --head PATH [--server URL]',
      );
    const diff = againstStored
      ? await storedVsLocalDiff(opts.server, baseId!, opts.head!, { log: io.stderr })
      : offline
        ? await offlineDiff(opts.base!, opts.head!, { maxLength: opts.maxLength })
        : await serverDiff(opts.server, baseId!, headId!);
    io.stdout(
      opts.format === 'json' ? `${JSON.stringify(diff, null, 2)}\n` : diff.markdown.endsWith('\n') ? diff.markdown : `${diff.markdown}\n`,
    );
    if (failLevelReached(diff, opts.failOn)) {
      io.stderr(
        opts.failOn === 'connectivity'
          ? `meshlens diff: the change closes a connection or loses mTLS (--fail-on connectivity)\n`
          : `meshlens diff: the change introduces ${opts.failOn === 'error' ? 'an error' : 'a warning or an error'} (--fail-on ${opts.failOn})\n`,
      );
      return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`meshlens diff: ${error.message}\n`);
      return 2;
    }
    io.stderr(`meshlens diff: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
