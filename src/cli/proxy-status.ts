// meshlens proxy-status: every proxy of a snapshot, as istioctl proxy-status prints it.
import { Option, type Command } from 'commander';
import { action, clientCommand, getText, outputOption } from './common.js';

export function registerProxyStatus(program: Command) {
  clientCommand(program, 'proxy-status', 'the proxies of a snapshot as istioctl proxy-status prints them')
    .alias('ps')
    .requiredOption('--snapshot <id>', 'the snapshot (READY)')
    .option('-n, --namespace <ns>', 'only the proxies of this namespace')
    .addOption(new Option('-v, --verbosity <level>', '1: a column per xDS type').choices(['0', '1']).default('0'))
    .addOption(outputOption(['table', 'json', 'yaml'], 'table'))
    .action(
      action(async (opts: { server: string; snapshot: string; namespace?: string; verbosity: string; output: string }) => {
        const text = await getText(opts.server, `/api/v1/snapshots/${encodeURIComponent(opts.snapshot)}/proxy-status`, {
          format: opts.output,
          namespace: opts.namespace,
          verbosity: opts.verbosity === '0' ? undefined : opts.verbosity,
        });
        process.stdout.write(text);
      }),
    );
}
