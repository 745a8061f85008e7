// meshlens resolve: where one request goes from a proxy, and why (GraphQL resolveRoute).
import { Option, type Command } from 'commander';
import type { RouteResolution as Resolution } from '../routing/resolve.js';
import type { ConfigRef } from '../model/config-ref.js';
import { action, clientCommand, collect, graphql, outputOption, pairs, parsePort, printJson, UsageError } from './common.js';

const QUERY = `query ($id: ID!, $proxy: ProxyInput!, $call: CallInput!) {
  resolveRoute(snapshotId: $id, proxy: $proxy, call: $call) {
    listener filterChain routeConfig virtualHost route cluster weightedClusters { cluster weight }
    virtualService { kind namespace name } destinationRule { kind namespace name } error
    trace { stage detail }
  }
}`;

export interface Opts {
  server: string;
  snapshot: string;
  from?: string;
  labels?: string[];
  namespace?: string;
  ip?: string;
  proxyType?: string;
  host?: string;
  port?: string;
  path?: string;
  method?: string;
  header?: string[];
  mode?: string;
  address?: string;
  protocol?: string;
  tls?: string;
  sni?: string;
  output: string;
}

export function registerResolve(program: Command) {
  requestOptions(clientCommand(program, 'resolve', 'where a request from a proxy goes, and why (Envoy matching on the generated config)'))
    .addOption(outputOption(['text', 'json'], 'text'))
    .action(
      action(async (opts: Opts) => {
        const { proxy, call } = proxyAndCall(opts);
        const result = (await graphql<{ resolveRoute: Resolution }>(opts.server, QUERY, { id: opts.snapshot, proxy, call })).resolveRoute;
        if (opts.output === 'json') return printJson(result);
        process.stdout.write(describe(result));
      }),
    );
}

/** The options naming the calling proxy and the request, shared by `resolve` and `journey`. */
export function requestOptions(command: Command): Command {
  return command
    .requiredOption('--snapshot <id>', 'the snapshot')
    .option('--from <namespace/name>', 'the calling workload (a pod, or a deployment standing for its pods)')
    .option('--labels <k=v>', 'or an ad-hoc proxy with these labels (repeatable; needs --namespace)', collect)
    .option('--namespace <ns>', "the ad-hoc proxy's namespace")
    .option('--ip <ip>', "the ad-hoc proxy's IP")
    .addOption(new Option('--proxy-type <type>', "the ad-hoc proxy's type").choices(['SIDECAR', 'ROUTER']))
    .option('--host <host>', 'Host / :authority (may carry :port)')
    .option('--port <port>', "destination port (OUTBOUND/INBOUND) or the router's listener port (GATEWAY); default: from --host, else 80")
    .option('--path <path>', 'request path', '/')
    .option('--method <method>', 'request method', 'GET')
    .option('--header <k=v>', 'request header (repeatable)', collect)
    .addOption(
      new Option('--mode <mode>', 'OUTBOUND (default for sidecars), INBOUND or GATEWAY (default for routers)').choices([
        'OUTBOUND',
        'INBOUND',
        'GATEWAY',
      ]),
    )
    .option('--address <ip>', 'destination IP, when it matters')
    .addOption(new Option('--protocol <protocol>', 'HTTP, HTTP2 or TCP').choices(['HTTP', 'HTTP2', 'TCP']))
    .addOption(new Option('--tls <mode>', 'PLAINTEXT, TLS or MTLS').choices(['PLAINTEXT', 'TLS', 'MTLS']))
    .option('--sni <sni>', 'TLS server name');
}

/** The ProxyInput and CallInput the options describe. */
export function proxyAndCall(opts: Opts): { proxy: Record<string, unknown>; call: Record<string, unknown> } {
  if (Boolean(opts.from) === Boolean(opts.labels?.length))
    throw new UsageError('give the calling proxy with either --from NAMESPACE/NAME or --labels k=v (with --namespace)');
  let proxy: Record<string, unknown>;
  if (opts.from) {
    const [namespace, name, ...rest] = opts.from.split('/');
    if (!namespace || !name || rest.length) throw new UsageError(`--from takes NAMESPACE/NAME, got "${opts.from}"`);
    proxy = { namespace, name };
    if (opts.proxyType) proxy.type = opts.proxyType;
  } else {
    if (!opts.namespace) throw new UsageError('--labels needs --namespace');
    proxy = { namespace: opts.namespace, labels: pairs(opts.labels, '--labels') };
    if (opts.ip) proxy.ip = opts.ip;
    if (opts.proxyType) proxy.type = opts.proxyType;
  }
  if (!opts.host && !opts.port && !opts.address)
    throw new UsageError('give the request with --host (and --port, --path, ...) or --address/--port');
  const hostPort = opts.host && /:(\d+)$/.exec(opts.host)?.[1];
  const port = parsePort(opts.port, '--port') ?? parsePort(hostPort ?? undefined, '--host port') ?? 80;
  const call: Record<string, unknown> = { port, path: opts.path, method: opts.method };
  if (opts.host) call.host = opts.host;
  if (opts.mode) call.mode = opts.mode;
  else if (opts.proxyType === 'ROUTER') call.mode = 'GATEWAY';
  if (opts.address) call.address = opts.address;
  if (opts.protocol) call.protocol = opts.protocol;
  if (opts.tls) call.tls = opts.tls;
  if (opts.sni) call.sni = opts.sni;
  if (opts.header?.length) call.headers = Object.entries(pairs(opts.header, '--header')).map(([name, value]) => ({ name, value }));
  return { proxy, call };
}

export function describe(r: Resolution): string {
  const ref = (x: ConfigRef | null) => (x ? `${x.namespace}/${x.name}` : null);
  const rows: [string, string | null][] = [
    ['listener', r.listener],
    ['filter chain', r.filterChain],
    ['route config', r.routeConfig],
    ['virtual host', r.virtualHost],
    ['route', r.route],
    ['cluster', r.cluster],
    ['weighted', r.weightedClusters?.length ? r.weightedClusters.map((w) => `${w.cluster} (${w.weight})`).join(', ') : null],
    ['VirtualService', ref(r.virtualService)],
    ['DestinationRule', ref(r.destinationRule)],
  ];
  const lines = [
    r.error
      ? `not routed: ${r.error}`
      : `routed to ${r.cluster ?? (r.weightedClusters?.length ? 'weighted clusters' : 'no cluster (redirect or direct response)')}`,
    '',
  ];
  for (const [k, v] of rows) if (v) lines.push(`${k.padEnd(16)}${v}`);
  if (r.trace.length) {
    lines.push('', 'trace:');
    const width = Math.max(...r.trace.map((t) => t.stage.length));
    r.trace.forEach((t, i) => lines.push(`${String(i + 1).padStart(3)}. ${t.stage.padEnd(width)}  ${t.detail}`));
  }
  return lines.join('\n') + '\n';
}
