// meshlens push FILE|DIR... : one multi-document upload, optionally waiting for the worker.
import { readFileSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { extname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import {
  action,
  authHeaders,
  CliFailure,
  clientCommand,
  describeFailure,
  endpoint,
  graphql,
  outputOption,
  printJson,
  request,
  UsageError,
} from './common.js';
import { manifestFilesUnder } from './manifest-files.js';

interface Created {
  id: string;
  name: string | null;
  status: string;
  resourceCount: number;
  warnings: string[];
}

interface Summary {
  snapshot: {
    id: string;
    name: string | null;
    mesh: string;
    status: string;
    progress: number | null;
    error: string | null;
    resourceCount: number;
    istioVersion?: string | null;
    workloads: { namespace: string; name: string; proxyType: string }[];
    diagnostics: { level: string }[];
  } | null;
}

/** The files of the arguments: files as given, directories walked recursively for .yaml/.yml/.json, sorted. */
export function collectFiles(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let stat;
    try {
      stat = statSync(p);
    } catch {
      throw new UsageError(`${p}: no such file or directory`);
    }
    if (stat.isDirectory()) files.push(...manifestFilesUnder(p));
    else files.push(p);
  }
  if (!files.length) throw new UsageError(`no .yaml, .yml or .json files in ${paths.join(', ')}`);
  return files;
}

/** The files as one multi-document YAML body; a JSON array becomes a List (a YAML document must be one object). */
export function joinManifests(files: string[]): string {
  const docs: string[] = [];
  for (const file of files) {
    let text = readFileSync(file, 'utf8');
    if (extname(file).toLowerCase() === '.json') {
      try {
        const value: unknown = JSON.parse(text);
        if (Array.isArray(value)) text = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: value });
      } catch {
        // sent as is: the server locates the problem
      }
    }
    text = text.replace(/^\uFEFF/, '');
    docs.push(text.endsWith('\n') ? text : text + '\n');
  }
  return docs.join('---\n');
}

function upload(url: URL, body: Buffer, onProgress: (sent: number) => void): Promise<{ status: number; text: string; headers: Headers }> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      { method: 'POST', headers: { 'content-type': 'application/yaml', 'content-length': body.length, ...authHeaders() } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers });
        });
        res.on('error', reject);
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        new CliFailure(
          `cannot reach meshlens at ${url.origin}: ${error.code ?? error.message} (start it with "meshlens serve", or pass --server / MESHLENS_URL)`,
        ),
      ),
    );
    const CHUNK = 64 * 1024;
    let sent = 0;
    const writeNext = () => {
      while (sent < body.length) {
        const end = Math.min(sent + CHUNK, body.length);
        const ok = req.write(body.subarray(sent, end));
        sent = end;
        onProgress(sent);
        if (!ok) {
          req.once('drain', writeNext);
          return;
        }
      }
      req.end();
    };
    writeNext();
  });
}

function bars() {
  return new cliProgress.MultiBar(
    {
      format: ' {phase} |{bar}| {percentage}% {detail}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
}

export function registerPush(program: Command) {
  clientCommand(program, 'push', 'upload manifests (files, or directories of .yaml/.yml/.json, recursively) as one snapshot')
    .argument('<paths...>', 'files or directories')
    .option('--name <name>', 'the snapshot name')
    .option('--mesh <mesh>', 'the mesh it belongs to (default: default)')
    .option('--wait', 'wait until the worker has computed the snapshot (READY or FAILED)')
    .option('--timeout <seconds>', 'with --wait: give up after this long', '900')
    .addOption(outputOption(['text', 'json'], 'text'))
    .action(
      action(
        async (
          paths: string[],
          opts: { server: string; name?: string; mesh?: string; wait?: boolean; timeout: string; output: string },
        ) => {
          const timeout = Number(opts.timeout);
          if (!Number.isFinite(timeout) || timeout <= 0)
            throw new UsageError(`--timeout must be a number of seconds, got "${opts.timeout}"`);
          const files = collectFiles(paths);
          const body = Buffer.from(joinManifests(files), 'utf8');
          const interactive = process.stderr.isTTY === true && opts.output !== 'json';
          const multibar = interactive ? bars() : null;

          const uploadBar = multibar?.create(body.length, 0, {
            phase: 'upload ',
            detail: `${files.length} file(s), ${formatBytes(body.length)}`,
          });
          const url = endpoint(opts.server, '/api/v1/snapshots', { name: opts.name, mesh: opts.mesh });
          const res = await upload(url, body, (sent) => uploadBar?.update(sent)).catch((error) => {
            multibar?.stop();
            throw error;
          });
          if (res.status !== 201) {
            multibar?.stop();
            throw new CliFailure(await describeFailure(new Response(res.text, { status: res.status, headers: res.headers })));
          }
          const created = JSON.parse(res.text) as Created;
          uploadBar?.update(body.length, { detail: `${created.resourceCount} resources, snapshot ${created.id}` });

          let status = created.status;
          if (opts.wait) {
            const computeBar = multibar?.create(100, 0, { phase: 'compute', detail: status });
            const deadline = Date.now() + timeout * 1000;
            for (;;) {
              const snap = await fetchSnapshot(opts.server, created.id);
              status = snap.status;
              computeBar?.update(Math.round((status === 'READY' ? 1 : (snap.progress ?? 0)) * 100), { detail: status });
              if (status === 'READY' || status === 'FAILED') break;
              if (Date.now() > deadline) {
                multibar?.stop();
                throw new CliFailure(`snapshot ${created.id} is still ${status} after ${timeout} s`);
              }
              await sleep(400);
            }
          }
          multibar?.stop();

          const summary = (await graphql<Summary>(opts.server, SUMMARY, { id: created.id })).snapshot;
          if (!summary) throw new CliFailure(`snapshot ${created.id} disappeared`);
          const computed = summary.status === 'READY';
          const byType = (t: string) => summary.workloads.filter((w) => w.proxyType === t).length;
          // Istio's level names: Error, Warning, Info.
          const byLevel = (l: string) => summary.diagnostics.filter((d) => d.level === l).length;
          if (opts.output === 'json') {
            printJson({
              id: summary.id,
              name: summary.name,
              mesh: summary.mesh,
              status: summary.status,
              error: summary.error,
              resourceCount: summary.resourceCount,
              istioVersion: summary.istioVersion ?? null,
              files: files.length,
              workloads: computed
                ? { total: summary.workloads.length, sidecars: byType('SIDECAR'), routers: byType('ROUTER'), none: byType('NONE') }
                : null,
              diagnostics: computed
                ? { total: summary.diagnostics.length, errors: byLevel('Error'), warnings: byLevel('Warning'), info: byLevel('Info') }
                : null,
              warnings: created.warnings,
            });
          } else {
            const lines = [
              `snapshot     ${summary.id}${summary.name ? ` (${summary.name})` : ''}`,
              `status       ${summary.status}${summary.error ? `: ${summary.error}` : ''}`,
              `resources    ${summary.resourceCount} from ${files.length} file(s)`,
            ];
            if (computed) {
              lines.push(
                `workloads    ${summary.workloads.length} (${byType('SIDECAR')} sidecar, ${byType('ROUTER')} router, ${byType('NONE')} without proxy)`,
              );
              lines.push(
                `diagnostics  ${summary.diagnostics.length} (${byLevel('Error')} error, ${byLevel('Warning')} warning, ${byLevel('Info')} info)`,
              );
              if (summary.istioVersion) lines.push(`istio        ${summary.istioVersion}`);
            } else if (!opts.wait) {
              lines.push('(computing: see "meshlens snapshots", or push with --wait)');
            }
            lines.push(`mesh         ${summary.mesh}`);
            if (created.warnings.length) {
              lines.push(`warnings     ${created.warnings.length}`);
              for (const w of created.warnings) lines.push(`  - ${w}`);
            }
            process.stdout.write(lines.join('\n') + '\n');
          }
          if (summary.status === 'FAILED') throw new CliFailure(`snapshot ${summary.id} FAILED: ${summary.error ?? 'unknown reason'}`);
        },
      ),
    );
}

const SUMMARY = `query ($id: ID!) { snapshot(id: $id) { id name mesh status progress error resourceCount istioVersion
  workloads { namespace name proxyType } diagnostics { level } } }`;

async function fetchSnapshot(server: string, id: string): Promise<{ status: string; progress: number | null }> {
  const res = await request(endpoint(server, `/api/v1/snapshots/${encodeURIComponent(id)}`));
  return (await res.json()) as { status: string; progress: number | null };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
