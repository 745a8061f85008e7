// meshlens journey: a request followed from its sender to the workload that serves it (GraphQL journey).
import type { Command } from 'commander';
import type { Hop, Journey } from '../journey/journey.js';
import { action, clientCommand, graphql, outputOption, printJson, UsageError } from './common.js';
import { proxyAndCall, requestOptions, type Opts } from './resolve.js';

const QUERY = `query ($id: ID!, $from: ProxyInput!, $call: CallInput!, $identity: RequestIdentity) {
  journey(snapshotId: $id, from: $from, call: $call, identity: $identity) {
    paths {
      share outcome status destination { namespace name kind }
      hops {
        proxy { namespace name kind } proxyType direction endpoints
        resolution { listener filterChain routeConfig virtualHost route cluster weightedClusters { cluster weight } error
          virtualService { kind namespace name } destinationRule { kind namespace name } trace { stage detail } }
        tls { mode reason peerAuthentication { kind namespace name } destinationRule { kind namespace name } }
        authorization { verdict policy { kind namespace name } rule action reason dryRun }
      }
    }
    trace { stage detail }
  }
}`;

interface JourneyOpts extends Opts {
  requestPrincipal?: string;
  claims?: string;
}

export function registerJourney(program: Command) {
  requestOptions(clientCommand(program, 'journey', "a request's whole journey: every proxy on its path, mTLS and authorization included"))
    .option('--request-principal <iss/sub>', "the request principal a RequestAuthentication validated (a JWT's iss/sub)")
    .option('--claims <json>', 'the validated JWT\'s claims, as a JSON object, e.g. \'{"groups": ["admin"]}\'')
    .addOption(outputOption(['text', 'json'], 'text'))
    .action(
      action(async (opts: JourneyOpts) => {
        const { proxy, call } = proxyAndCall(opts);
        let identity: Record<string, unknown> | undefined;
        if (opts.requestPrincipal || opts.claims) {
          identity = {};
          if (opts.requestPrincipal) identity.requestPrincipal = opts.requestPrincipal;
          if (opts.claims) {
            let claims: unknown;
            try {
              claims = JSON.parse(opts.claims);
            } catch {
              throw new UsageError(`--claims takes a JSON object, got ${opts.claims}`);
            }
            if (typeof claims !== 'object' || claims === null || Array.isArray(claims))
              throw new UsageError(`--claims takes a JSON object, got ${opts.claims}`);
            identity.claims = claims;
          }
        }
        const result = (await graphql<{ journey: Journey }>(opts.server, QUERY, { id: opts.snapshot, from: proxy, call, identity }))
          .journey;
        if (opts.output === 'json') return printJson(result);
        process.stdout.write(describeJourney(result));
      }),
    );
}

export function describeJourney(j: Journey): string {
  const lines: string[] = [];
  j.paths.forEach((p, i) => {
    const to = p.destination ? ` to ${p.destination.namespace}/${p.destination.name} (${p.destination.kind})` : '';
    lines.push(`path ${i + 1}: ${p.share}% ${p.outcome}${p.status ? ` (HTTP ${p.status})` : ''}${to}`);
    p.hops.forEach((h, n) => lines.push(...describeHop(h, n + 1)));
    lines.push('');
  });
  lines.push('trace:');
  const width = Math.max(0, ...j.trace.map((t) => t.stage.length));
  j.trace.forEach((t, i) => lines.push(`${String(i + 1).padStart(3)}. ${t.stage.padEnd(width)}  ${t.detail}`));
  return lines.join('\n') + '\n';
}

function describeHop(h: Hop, n: number): string[] {
  const who = h.proxy ? `${h.proxy.namespace}/${h.proxy.name}` : 'the sender (no sidecar: kube-proxy)';
  const kind = h.proxyType === 'ROUTER' ? 'gateway' : h.proxyType === 'SIDECAR' ? 'sidecar' : 'no proxy';
  const r = h.resolution;
  const walk = [
    r.listener && `listener ${r.listener}`,
    r.filterChain && `filter chain ${r.filterChain}`,
    r.route && `route ${r.route}`,
    r.cluster && `cluster ${r.cluster}`,
  ]
    .filter(Boolean)
    .join(', ');
  const out = [`  ${n}. ${kind} ${who} (${h.direction})${walk ? `: ${walk}` : ''}${r.error ? ` [${r.error}]` : ''}`];
  if (h.endpoints?.length) out.push(`     endpoints: ${h.endpoints.join(', ')}`);
  if (h.tls) out.push(`     tls: ${h.tls.mode}: ${h.tls.reason}`);
  if (h.authorization) {
    out.push(`     authorization: ${h.authorization.verdict}: ${h.authorization.reason}`);
    for (const d of h.authorization.dryRun ?? []) out.push(`     dry-run: ${d}`);
  }
  return out;
}
