// meshlens proxy-config listener|route|cluster|endpoint|all WORKLOAD.NAMESPACE: istioctl's tables.
import { Option, type Command } from 'commander';
import type { RenderFlags } from '../generator/protocol.js';
import { action, clientCommand, getText, outputOption, parsePort, UsageError } from './common.js';

const TYPES: Record<string, string> = {
  listener: 'listeners',
  listeners: 'listeners',
  l: 'listeners',
  route: 'routes',
  routes: 'routes',
  r: 'routes',
  cluster: 'clusters',
  clusters: 'clusters',
  c: 'clusters',
  endpoint: 'endpoints',
  endpoints: 'endpoints',
  ep: 'endpoints',
  all: 'all',
  a: 'all',
};

/** `name.namespace` as istioctl reads it (the last dot separates), or `name` with --namespace. */
export function parseWorkload(arg: string, namespace: string | undefined): { namespace: string; name: string } {
  const i = arg.lastIndexOf('.');
  if (i > 0 && i < arg.length - 1) return { name: arg.slice(0, i), namespace: arg.slice(i + 1) };
  if (i !== -1) throw new UsageError(`"${arg}" is not WORKLOAD.NAMESPACE`);
  return { name: arg, namespace: namespace || 'default' };
}

/** istioctl's flags as commander parses them: the string-valued ones as they are, the rest as text. */
interface Opts extends Pick<RenderFlags, 'fqdn' | 'subset' | 'direction' | 'name' | 'address' | 'type' | 'cluster' | 'status'> {
  server: string;
  snapshot: string;
  namespace?: string;
  output: string;
  port?: string;
  verbose: string;
}

export function registerProxyConfig(program: Command) {
  clientCommand(program, 'proxy-config', "a workload's Envoy config as istioctl proxy-config prints it")
    .alias('pc')
    .argument('<type>', "listener|route|cluster|endpoint|all (or istioctl's aliases l, r, c, ep, a)")
    .argument('<workload>', 'WORKLOAD.NAMESPACE (a pod, or a deployment standing for its pods)')
    .requiredOption('--snapshot <id>', 'the snapshot')
    .option('-n, --namespace <ns>', 'the namespace when WORKLOAD has none (default: default)')
    .addOption(outputOption(['short', 'json', 'yaml'], 'short'))
    .option('--fqdn <fqdn>', 'cluster, all: substring of the cluster name')
    .option('--port <port>', 'cluster, listener, endpoint, all: port')
    .option('--subset <subset>', 'cluster, all: substring of the cluster name')
    .addOption(new Option('--direction <direction>', 'cluster, all: inbound or outbound').choices(['inbound', 'outbound']))
    .option('--name <name>', 'route, all: the route configuration name')
    .option('--address <address>', 'listener: an address; endpoint: an IP')
    .option('--type <type>', 'listener: HTTP, TCP or HTTP+TCP')
    .option('--cluster <cluster>', 'endpoint: the cluster name')
    .option('--status <status>', 'endpoint: health status (HEALTHY, ...)')
    .addOption(new Option('--verbose <bool>', 'listener, route, all: istioctl --verbose').choices(['true', 'false']).default('true'))
    .action(
      action(async (type: string, workload: string, opts: Opts) => {
        const view = TYPES[type];
        if (!view) throw new UsageError(`unknown type "${type}": one of listener, route, cluster, endpoint, all`);
        const { namespace, name } = parseWorkload(workload, opts.namespace);
        const port = parsePort(opts.port, '--port');
        const text = await getText(
          opts.server,
          `/api/v1/snapshots/${encodeURIComponent(opts.snapshot)}/proxies/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${view}`,
          {
            format: opts.output,
            fqdn: opts.fqdn,
            port,
            subset: opts.subset,
            direction: opts.direction,
            name: opts.name,
            address: opts.address,
            type: opts.type,
            cluster: opts.cluster,
            status: opts.status,
            verbose: opts.verbose === 'false' ? 'false' : undefined,
          },
        );
        process.stdout.write(text);
      }),
    );
}
