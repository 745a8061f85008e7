// meshlens snapshots: the stored snapshots, newest first.
import type { Command } from 'commander';
import { action, clientCommand, getJson, outputOption, printJson, table, UsageError } from './common.js';

interface SnapshotRow {
  id: string;
  name: string | null;
  createdAt: string;
  status: string;
  progress: number;
  error: string | null;
  resourceCount: number;
}

export function registerSnapshots(program: Command) {
  clientCommand(program, 'snapshots', 'list the snapshots, newest first')
    .option('--limit <n>', 'how many (1..100)', '20')
    .option('--cursor <cursor>', 'the next page: nextCursor of the previous one')
    .option('--mesh <mesh>', "only this mesh's snapshots")
    .addOption(outputOption(['table', 'json'], 'table'))
    .action(
      action(async (opts: { server: string; limit: string; cursor?: string; mesh?: string; output: string }) => {
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100)
          throw new UsageError(`--limit must be an integer from 1 to 100, got "${opts.limit}"`);
        const page = await getJson<{ items: SnapshotRow[]; nextCursor: string | null }>(opts.server, '/api/v1/snapshots', {
          limit,
          cursor: opts.cursor,
          mesh: opts.mesh,
        });
        if (opts.output === 'json') return printJson(page);
        process.stdout.write(
          table(
            ['ID', 'NAME', 'STATUS', 'RESOURCES', 'CREATED'],
            page.items.map((s) => [
              s.id,
              s.name ?? '',
              s.status === 'COMPUTING' ? `COMPUTING ${Math.round(s.progress * 100)}%` : s.status,
              s.resourceCount,
              s.createdAt,
            ]),
          ),
        );
        if (page.nextCursor) process.stderr.write(`more: meshlens snapshots --cursor ${page.nextCursor}\n`);
      }),
    );
}

interface MeshRow {
  name: string;
  snapshotCount: number;
  latest: { id: string; createdAt: string; status: string } | null;
  newest: { id: string; createdAt: string; status: string } | null;
}

export function registerMeshes(program: Command) {
  clientCommand(program, 'meshes', 'list the meshes: snapshot count, latest READY snapshot (MESH@latest), newest snapshot')
    .addOption(outputOption(['table', 'json'], 'table'))
    .action(
      action(async (opts: { server: string; output: string }) => {
        const { items } = await getJson<{ items: MeshRow[] }>(opts.server, '/api/v1/meshes');
        if (opts.output === 'json') return printJson(items);
        process.stdout.write(
          table(
            ['MESH', 'SNAPSHOTS', 'LATEST', 'NEWEST'],
            items.map((m) => [m.name, m.snapshotCount, m.latest?.id ?? '', m.newest ? `${m.newest.id} ${m.newest.status}` : '']),
          ),
        );
      }),
    );
}
