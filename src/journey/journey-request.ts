// The REST body of POST /api/v1/snapshots/:id/journey, checked and given GraphQL's defaults. Pure.
import type { ProxyInput } from '../proxy-config/proxy-config.types.js';
import { CallMode, CallProtocol, TlsMode, type CallInput } from '../routing/graphql/route-resolution.types.js';
import { ProxyType } from '../graphql/enums.js';
import type { RequestIdentity } from './journey.js';

export type ParsedJourneyRequest = { from: ProxyInput; call: CallInput; identity: RequestIdentity | null } | { problems: string[] };

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseJourneyRequest(body: unknown): ParsedJourneyRequest {
  const problems: string[] = [];
  if (!isObject(body)) return { problems: ['the body must be a JSON object {"from": {...}, "call": {...}, "identity": {...}}'] };
  const at = (where: string, v: Json, key: string, kind: 'string' | 'number' | 'object' | 'strings', required = false): unknown => {
    const value = v[key];
    if (value === undefined || value === null) {
      if (required) problems.push(`${where}.${key} is required`);
      return undefined;
    }
    const ok =
      kind === 'strings'
        ? Array.isArray(value) && value.every((x) => typeof x === 'string')
        : kind === 'object'
          ? isObject(value)
          : typeof value === kind;
    if (!ok)
      problems.push(`${where}.${key} must be ${kind === 'strings' ? 'a list of strings' : kind === 'object' ? 'an object' : `a ${kind}`}`);
    return ok ? value : undefined;
  };
  const oneOf = <T extends string>(where: string, v: Json, key: string, values: readonly T[], fallback: T): T => {
    const value = at(where, v, key, 'string');
    if (value === undefined) return fallback;
    if (!values.includes(value as T))
      problems.push(
        `${where}.${key} must be one of ${values.join(', ')}, got "${typeof value === 'string' ? value : JSON.stringify(value)}"`,
      );
    return value as T;
  };

  const f = isObject(body.from) ? body.from : (problems.push('from is required: {"namespace", "name"} or an ad-hoc proxy'), {});
  const from: ProxyInput = {
    namespace: at('from', f, 'namespace', 'string', true) as string,
    name: at('from', f, 'name', 'string') as string | undefined,
    labels: at('from', f, 'labels', 'object') as Record<string, string> | undefined,
    ip: at('from', f, 'ip', 'string') as string | undefined,
    ips: at('from', f, 'ips', 'strings') as string[] | undefined,
    type: oneOf('from', f, 'type', Object.values(ProxyType), ProxyType.SIDECAR),
    istioVersion: at('from', f, 'istioVersion', 'string') as string | undefined,
    metadata: at('from', f, 'metadata', 'object') as Record<string, unknown> | undefined,
  };

  const c = isObject(body.call) ? body.call : (problems.push('call is required: {"port", "host", "path", ...}'), {});
  const headers = c.headers;
  if (
    headers !== undefined &&
    !(Array.isArray(headers) && headers.every((h) => isObject(h) && typeof h.name === 'string' && typeof h.value === 'string'))
  )
    problems.push('call.headers must be a list of {"name", "value"} strings');
  const call: CallInput = {
    mode: oneOf('call', c, 'mode', Object.values(CallMode), CallMode.OUTBOUND),
    address: at('call', c, 'address', 'string') as string | undefined,
    port: at('call', c, 'port', 'number', true) as number,
    protocol: oneOf('call', c, 'protocol', Object.values(CallProtocol), CallProtocol.HTTP),
    tls: oneOf(
      'call',
      c,
      'tls',
      Object.values(TlsMode).filter((m) => m !== TlsMode.MIXED),
      TlsMode.PLAINTEXT,
    ),
    host: at('call', c, 'host', 'string') as string | undefined,
    sni: at('call', c, 'sni', 'string') as string | undefined,
    alpn: at('call', c, 'alpn', 'strings') as string[] | undefined,
    path: (at('call', c, 'path', 'string') as string | undefined) ?? '/',
    method: (at('call', c, 'method', 'string') as string | undefined) ?? 'GET',
    headers: headers as CallInput['headers'],
  };

  let identity: RequestIdentity | null = null;
  if (body.identity !== undefined && body.identity !== null) {
    if (!isObject(body.identity)) problems.push('identity must be an object {"requestPrincipal", "claims"}');
    else
      identity = {
        requestPrincipal: at('identity', body.identity, 'requestPrincipal', 'string') as string | undefined,
        claims: at('identity', body.identity, 'claims', 'object') as Json | undefined,
      };
  }
  for (const key of Object.keys(body))
    if (!['from', 'call', 'identity'].includes(key)) problems.push(`unknown field "${key}" (from, call, identity)`);
  return problems.length ? { problems } : { from, call, identity };
}
