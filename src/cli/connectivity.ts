// meshlens connectivity: who can talk to whom in a snapshot (REST /connectivity), as a table
// SOURCE / DESTINATION / VERDICT / TLS / POLICIES, or the rows as JSON.
import type { Command } from 'commander';
import type { ConnectionRow } from '../connectivity/rows.js';
import { action, clientCommand, getJson, outputOption, printJson, table } from './common.js';

export function connectivityTable(rows: readonly ConnectionRow[]): string {
  return table(
    ['SOURCE', 'DESTINATION', 'VERDICT', 'TLS', 'POLICIES'],
    rows.map((r) => [
      `${r.source.namespace}/${r.source.name}`,
      r.destination,
      r.verdict === 'CONDITIONAL' && r.conditions?.length ? `CONDITIONAL: ${r.conditions.join('; or ')}` : r.verdict,
      r.tls,
      r.policies.map((p) => `${p.namespace}/${p.name}`).join(',') || '-',
    ]),
  );
}

export function registerConnectivity(program: Command) {
  clientCommand(
    program,
    'connectivity',
    'who can talk to whom: every sending workload and service port it can address, as the destination decides it',
  )
    .requiredOption('--snapshot <id>', 'the snapshot (READY)')
    .option('-n, --namespace <ns>', 'only destinations in this namespace')
    .option('--service <name>', 'only this destination service')
    .addOption(outputOption(['table', 'json'], 'table'))
    .action(
      action(async (opts: { server: string; snapshot: string; namespace?: string; service?: string; output: string }) => {
        const { connections } = await getJson<{ connections: ConnectionRow[] }>(
          opts.server,
          `/api/v1/snapshots/${encodeURIComponent(opts.snapshot)}/connectivity`,
          { namespace: opts.namespace, service: opts.service },
        );
        if (opts.output === 'json') printJson(connections);
        else process.stdout.write(connections.length ? connectivityTable(connections) : 'No connections.\n');
      }),
    );
}
