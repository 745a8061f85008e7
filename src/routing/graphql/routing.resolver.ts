import { Args, ID, Query, Resolver } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';
import { isIP } from 'node:net';
import { SnapshotStore } from '../../database/snapshot.store.js';
import { graphqlError } from '../../graphql/errors.js';
import { GeneratorError } from '../../generator/protocol.js';
import { ProxyConfigService } from '../../proxy-config/proxy-config.service.js';
import { ProxyInput } from '../../proxy-config/proxy-config.types.js';
import { ProxyType } from '../../graphql/enums.js';
import { GeneratorService } from '../../generator/generator.service.js';
import type { Call, EnvoyConfig } from '../resolve.js';
import { kubeProxyResolution } from '../kube-proxy.js';
import { resolveRoute, stripPort } from '../resolve.js';
import { CallInput, RouteResolution, TlsMode } from './route-resolution.types.js';

@Resolver(() => RouteResolution)
export class RoutingResolver {
  constructor(
    private readonly proxyConfig: ProxyConfigService,
    private readonly snapshots: SnapshotStore,
    private readonly generator: GeneratorService,
  ) {}

  @Query(() => RouteResolution, { description: 'Where this request goes from this proxy, and why' })
  async resolveRoute(
    @Args('snapshotId', { type: () => ID }) snapshotId: string,
    @Args('proxy') proxy: ProxyInput,
    @Args('call') call: CallInput,
  ): Promise<RouteResolution> {
    validateCall(call);
    if (proxy.type === ProxyType.NONE) return this.withoutProxy(snapshotId, proxy, call);
    let generated;
    try {
      generated = await this.proxyConfig.generate(snapshotId, proxy);
    } catch (error) {
      if (error instanceof GeneratorError && error.code === 'NO_PROXY') return this.withoutProxy(snapshotId, proxy, call);
      throw graphqlError(error);
    }
    const config: EnvoyConfig = { ...(generated as unknown as EnvoyConfig), routeSources: await this.proxyConfig.routeSources(snapshotId) };
    return resolveRoute(config, toCall(call));
  }

  private async withoutProxy(snapshotId: string, proxy: ProxyInput, call: CallInput): Promise<RouteResolution> {
    // As the generator loads the snapshot: the Services istiod deploys for Gateways are kube-proxy's too.
    const snapshot = await this.snapshots.normalised(snapshotId, (params) => this.generator.deployGateways(params));
    if (!snapshot) throw new GraphQLError(`snapshot ${snapshotId} not found`, { extensions: { code: 'NOT_FOUND' } });
    return kubeProxyResolution(snapshot.generatorInput, proxy.namespace, call.host ?? undefined, call.port);
  }
}

/** The GraphQL call as the route walk takes it. */
export function toCall(call: CallInput): Call {
  return {
    mode: call.mode,
    address: call.address ?? undefined,
    port: call.port,
    protocol: call.protocol,
    // MIXED describes connections, never a call: callProblems refuses it first.
    tls: call.tls as Call['tls'],
    host: call.host ?? undefined,
    // A TLS client sends the host it connects to as SNI, never with a port.
    sni: call.sni ?? (call.tls === TlsMode.TLS && call.host ? stripPort(call.host) : undefined),
    alpn: call.alpn ?? undefined,
    path: call.path,
    method: call.method,
    headers: call.headers ?? [],
  };
}

function validateCall(call: CallInput) {
  const problems = callProblems(call);
  if (problems.length) throw new GraphQLError(`invalid call: ${problems.join('; ')}`, { extensions: { code: 'BAD_USER_INPUT' } });
}

/** What is wrong with a call, in words; empty when nothing is. */
export function callProblems(call: CallInput): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(call.port) || call.port < 1 || call.port > 65535) problems.push(`port ${call.port} is not in 1..65535`);
  if (call.address != null && !isIP(call.address)) problems.push(`address "${call.address}" is not an IP address`);
  if (!call.path.startsWith('/')) problems.push(`path "${call.path}" must start with /`);
  if ((call.tls as string) === 'MIXED') problems.push('tls MIXED describes connections (connectivity), not a call: PLAINTEXT, TLS or MTLS');
  return problems;
}
