// GraphQL inputs as the API hands them to resolvers: the schema's defaults filled in.
import { ProxyType } from '../../src/graphql/enums.js';
import { ProxyInput } from '../../src/proxy-config/proxy-config.types.js';
import { CallInput, CallMode, CallProtocol, TlsMode } from '../../src/routing/graphql/route-resolution.types.js';

/** A ProxyInput (type SIDECAR unless given, as the schema defaults it). */
export function proxyInput(fields: Partial<ProxyInput> & { namespace: string }): ProxyInput {
  return Object.assign(new ProxyInput(), { type: ProxyType.SIDECAR, ...fields });
}

/** A CallInput with the schema's defaults: OUTBOUND, HTTP, PLAINTEXT, GET /. */
export function callInput(fields: Partial<CallInput> & { port: number }): CallInput {
  return Object.assign(new CallInput(), {
    mode: CallMode.OUTBOUND,
    protocol: CallProtocol.HTTP,
    tls: TlsMode.PLAINTEXT,
    path: '/',
    method: 'GET',
    ...fields,
  });
}
