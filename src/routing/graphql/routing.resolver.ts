import { Args, ID, Query, Resolver } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';
import { isIP } from 'node:net';
import { graphqlError } from '../../graphql/errors.js';
import { ProxyInput } from '../../proxy-config/proxy-config.types.js';
import type { Call } from '../resolve.js';
import { stripPort } from '../resolve.js';
import { RoutingService } from '../routing.service.js';
import { CallInput, RouteResolution, TlsMode } from './route-resolution.types.js';
import { FIELD_COST } from '../../graphql/limits.js';

@Resolver(() => RouteResolution)
export class RoutingResolver {
  constructor(private readonly routing: RoutingService) {}

  @Query(() => RouteResolution, { description: 'Where this request goes from this proxy, and why', complexity: FIELD_COST.proxyWalk })
  async resolveRoute(
    @Args('snapshotId', { type: () => ID }) snapshotId: string,
    @Args('proxy') proxy: ProxyInput,
    @Args('call') call: CallInput,
  ): Promise<RouteResolution> {
    validateCall(call);
    try {
      return await this.routing.resolve(snapshotId, proxy, toCall(call));
    } catch (error) {
      throw graphqlError(error);
    }
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
