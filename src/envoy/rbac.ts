// Envoy's RBAC filters (network and HTTP) evaluated for one request, with Envoy's semantics
// (source/extensions/filters/common/rbac): a policy matches when any of its permissions and any of
// its principals match; an ALLOW engine lets through what a policy matches, a DENY engine what none
// matches, a LOG engine everything (marking matches for the access log). Policies are tried in name
// order (Envoy keeps them in a sorted map), so the first matching name is the effective policy.
// Shadow rules are evaluated the same way but never enforced. Pure.
import type { CidrRange, HeaderMatcher, StringMatcher, TypedConfig } from './xds.js';
import { cidrContains } from './cidr.js';
import { describeHeaderMatcher, describeStringMatcher, headerMatches, stringMatches, type Headers } from './match.js';
import { compareStrings } from '../model/compare.js';
import { Lru } from '../cache/lru.js';

export const NETWORK_RBAC = 'envoy.filters.network.rbac';
export const HTTP_RBAC = 'envoy.filters.http.rbac';

export type RbacAction = 'ALLOW' | 'DENY' | 'LOG';

export interface Rbac {
  action?: RbacAction;
  policies?: Record<string, RbacPolicy>;
}

export interface RbacPolicy {
  permissions?: Permission[];
  principals?: Principal[];
}

export interface Permission {
  any?: boolean;
  andRules?: { rules?: Permission[] };
  orRules?: { rules?: Permission[] };
  notRule?: Permission;
  header?: HeaderMatcher;
  urlPath?: { path?: StringMatcher; ignoreCase?: boolean };
  uriTemplate?: { typedConfig?: { pathTemplate?: string } };
  destinationIp?: CidrRange;
  destinationPort?: number;
  destinationPortRange?: { start?: number; end?: number };
  requestedServerName?: StringMatcher;
  metadata?: MetadataMatcher;
}

export interface Principal {
  any?: boolean;
  andIds?: { ids?: Principal[] };
  orIds?: { ids?: Principal[] };
  notId?: Principal;
  authenticated?: { principalName?: StringMatcher };
  sourceIp?: CidrRange;
  directRemoteIp?: CidrRange;
  remoteIp?: CidrRange;
  header?: HeaderMatcher;
  urlPath?: { path?: StringMatcher };
  metadata?: MetadataMatcher;
  filterState?: { key?: string; stringMatch?: StringMatcher };
}

export interface ValueMatcher {
  nullMatch?: unknown;
  doubleMatch?: { exact?: number };
  stringMatch?: StringMatcher;
  boolMatch?: boolean;
  presentMatch?: boolean;
  listMatch?: { oneOf?: ValueMatcher };
  orMatch?: { valueMatchers?: ValueMatcher[] };
}

export interface MetadataMatcher {
  filter?: string;
  path?: { key?: string }[];
  value?: ValueMatcher;
  invert?: boolean;
}

/** The RBAC filter's config (envoy.extensions.filters.{http,network}.rbac.v3.RBAC). */
export interface RbacFilterConfig extends TypedConfig {
  rules?: Rbac;
  shadowRules?: Rbac;
  shadowRulesStatPrefix?: string;
}

/** What a connection and request look like to the RBAC filters of the server. */
export interface RbacRequest {
  /** The peer certificate's URI SAN (spiffe://...), only over mTLS. */
  principal: string | null;
  /** The downstream's direct address (the connection's remote address). */
  directRemoteIp: string;
  /** The original client address (x-forwarded-for aware); the direct one when nothing forwarded it. */
  remoteIp: string;
  destinationIp: string;
  destinationPort: number;
  sni: string | null;
  /** Request headers with pseudo-headers; null for a network (TCP) filter, which sees no request. */
  headers: Headers | null;
  /** The path without its query string. */
  path: string | null;
  /** Dynamic metadata by filter name, e.g. envoy.filters.http.jwt_authn {payload: {iss, sub, ...}}. */
  metadata: Record<string, Record<string, unknown>>;
}

export interface Outcome {
  matched: boolean;
  /** Why it did not match, in words (the first failing condition). */
  miss?: string;
}

export interface EngineResult {
  action: RbacAction;
  /** The effective policy: the first matching policy name, or null. */
  matched: string | null;
  /** Why each policy missed, by name, when none matched. */
  misses: { name: string; miss: string }[];
  /** Whether the engine lets the request through. */
  allowed: boolean;
}

const MATCHED: Outcome = { matched: true };

export function evaluateEngine(rbac: Rbac, request: RbacRequest): EngineResult {
  const action = rbac.action ?? 'ALLOW';
  const misses: { name: string; miss: string }[] = [];
  let matched: string | null = null;
  for (const name of Object.keys(rbac.policies ?? {}).sort(compareStrings)) {
    const outcome = policyMatches(rbac.policies![name], request);
    if (outcome.matched) {
      matched = name;
      break;
    }
    misses.push({ name, miss: outcome.miss ?? 'no condition matched' });
  }
  const allowed = action === 'ALLOW' ? matched !== null : action === 'DENY' ? matched === null : true;
  return { action, matched, misses, allowed };
}

export function policyMatches(policy: RbacPolicy, request: RbacRequest): Outcome {
  const permission = anyOf(policy.permissions ?? [], (p) => permissionMatches(p, request));
  if (!permission.matched) return permission;
  return anyOf(policy.principals ?? [], (p) => principalMatches(p, request));
}

function anyOf<T>(items: T[], test: (item: T) => Outcome): Outcome {
  const misses: string[] = [];
  for (const item of items) {
    const o = test(item);
    if (o.matched) return MATCHED;
    if (o.miss) misses.push(o.miss);
  }
  const unique = [...new Set(misses)];
  return {
    matched: false,
    miss: unique.length === 0 ? 'nothing to match' : unique.length === 1 ? unique[0] : `none of: ${unique.join('; or ')}`,
  };
}

function allOf<T>(items: T[], test: (item: T) => Outcome): Outcome {
  for (const item of items) {
    const o = test(item);
    if (!o.matched) return o;
  }
  return MATCHED;
}

function negate(o: Outcome, what: string): Outcome {
  return o.matched ? { matched: false, miss: `it is excluded (${what})` } : MATCHED;
}

function leaf(ok: boolean, miss: () => string): Outcome {
  return ok ? MATCHED : { matched: false, miss: miss() };
}

export function permissionMatches(p: Permission, r: RbacRequest): Outcome {
  if (p.any) return MATCHED;
  if (p.andRules) return allOf(p.andRules.rules ?? [], (x) => permissionMatches(x, r));
  if (p.orRules) return anyOf(p.orRules.rules ?? [], (x) => permissionMatches(x, r));
  if (p.notRule) return negate(permissionMatches(p.notRule, r), describePermission(p.notRule));
  if (p.header) return headerLeaf(p.header, r);
  if (p.urlPath) return urlPathLeaf(p.urlPath, r);
  if (p.uriTemplate) {
    const template = p.uriTemplate.typedConfig?.pathTemplate ?? '';
    return leaf(
      r.path !== null && uriTemplateMatches(template, r.path),
      () => `path ${quote(r.path)} does not fit the template "${template}"`,
    );
  }
  if (p.destinationIp)
    return leaf(inRange(p.destinationIp, r.destinationIp), () => `destination IP ${r.destinationIp} is not in ${cidr(p.destinationIp!)}`);
  if (p.destinationPort !== undefined)
    return leaf(p.destinationPort === r.destinationPort, () => `port ${r.destinationPort} is not ${p.destinationPort}`);
  if (p.destinationPortRange) {
    const { start = 0, end = 0 } = p.destinationPortRange;
    return leaf(r.destinationPort >= start && r.destinationPort < end, () => `port ${r.destinationPort} is not in [${start}, ${end})`);
  }
  if (p.requestedServerName) {
    const m = p.requestedServerName;
    return leaf(stringMatches(m, r.sni ?? ''), () => `server name ${quote(r.sni)} ${describeStringMatcher(m).replace(/^is /, 'is not ')}`);
  }
  if (p.metadata) return metadataLeaf(p.metadata, r);
  return { matched: false, miss: 'a permission meshlens cannot evaluate' };
}

export function principalMatches(p: Principal, r: RbacRequest): Outcome {
  if (p.any) return MATCHED;
  if (p.andIds) return allOf(p.andIds.ids ?? [], (x) => principalMatches(x, r));
  if (p.orIds) return anyOf(p.orIds.ids ?? [], (x) => principalMatches(x, r));
  if (p.notId) return negate(principalMatches(p.notId, r), describePrincipal(p.notId));
  if (p.authenticated) return authenticatedLeaf(p.authenticated.principalName, r.principal);
  if (p.filterState) {
    // Istio's filter state key io.istio.peer_principal holds the same peer principal.
    if (p.filterState.key !== 'io.istio.peer_principal' || !p.filterState.stringMatch)
      return { matched: false, miss: `filter state ${p.filterState.key} is not known offline` };
    return authenticatedLeaf(p.filterState.stringMatch, r.principal);
  }
  const ip = p.directRemoteIp ?? p.sourceIp;
  if (ip) return leaf(inRange(ip, r.directRemoteIp), () => `source IP ${r.directRemoteIp} is not in ${cidr(ip)}`);
  if (p.remoteIp) return leaf(inRange(p.remoteIp, r.remoteIp), () => `client IP ${r.remoteIp} is not in ${cidr(p.remoteIp!)}`);
  if (p.header) return headerLeaf(p.header, r);
  if (p.urlPath) return urlPathLeaf(p.urlPath, r);
  if (p.metadata) return metadataLeaf(p.metadata, r);
  return { matched: false, miss: 'a principal meshlens cannot evaluate' };
}

/** Envoy: `authenticated` needs a peer certificate; without a principal name any certificate matches. */
function authenticatedLeaf(m: StringMatcher | undefined, principal: string | null): Outcome {
  if (principal === null) return { matched: false, miss: 'the connection is not mTLS, so there is no source principal' };
  if (!m) return MATCHED;
  return leaf(
    stringMatches(m, principal),
    () => `the source principal ${principal} is not listed (wanted one that ${describeStringMatcher(m)})`,
  );
}

function headerLeaf(h: HeaderMatcher, r: RbacRequest): Outcome {
  // A network filter sees no request: header matchers fail, as in Envoy's network RBAC.
  if (!r.headers) return { matched: false, miss: `${describeHeaderMatcher(h)} (a TCP connection has no headers)` };
  const headers = r.headers;
  const name = h.name.toLowerCase();
  const value = headers.get(name);
  const subject =
    name === ':method'
      ? `method ${value}`
      : name === ':authority'
        ? `host ${quote(value ?? null)}`
        : `header ${h.name} ${value === undefined ? '(absent)' : quote(value)}`;
  return leaf(headerMatches(h, headers), () => `${subject} does not satisfy: ${describeHeaderMatcher(h)}`);
}

function urlPathLeaf(u: { path?: StringMatcher; ignoreCase?: boolean }, r: RbacRequest): Outcome {
  if (r.path === null) return { matched: false, miss: 'a TCP connection has no path' };
  const m = u.path ?? {};
  return leaf(stringMatches(m, r.path), () => `path ${quote(r.path)} does not satisfy: path ${describeStringMatcher(m)}`);
}

function metadataLeaf(m: MetadataMatcher, r: RbacRequest): Outcome {
  let value: unknown = r.metadata[m.filter ?? ''];
  for (const segment of m.path ?? []) value = isRecord(value) ? value[segment.key ?? ''] : undefined;
  const ok = valueMatches(m.value ?? {}, value) !== Boolean(m.invert);
  return leaf(ok, () => `${describeMetadata(m)} is ${value === undefined ? 'absent' : JSON.stringify(value)}`);
}

function valueMatches(m: ValueMatcher, value: unknown): boolean {
  if (m.presentMatch !== undefined) return (value !== undefined) === m.presentMatch;
  if (value === undefined) return false;
  if (m.nullMatch !== undefined) return value === null;
  if (m.stringMatch) return typeof value === 'string' && stringMatches(m.stringMatch, value);
  if (m.boolMatch !== undefined) return value === m.boolMatch;
  if (m.doubleMatch) return typeof value === 'number' && value === m.doubleMatch.exact;
  if (m.listMatch) return Array.isArray(value) && value.some((item) => valueMatches(m.listMatch!.oneOf ?? {}, item));
  if (m.orMatch) return (m.orMatch.valueMatchers ?? []).some((x) => valueMatches(x, value));
  return false;
}

/** Compiled uri_templates, bounded: a connectivity evaluation asks each template once per caller. */
const uriTemplateCache = new Lru<RegExp>(1024);

/** A path segment's characters in Envoy's uri_template (RFC 3986 pchar without `*`), and with `/` for `**`. */
const SEGMENT = "[a-zA-Z0-9\\-._~%!$&'()+,;:@=]";
const SEGMENTS = "[a-zA-Z0-9\\-._~%!$&'()+,;:@=/]";

/**
 * Envoy's uri_template matcher (envoy.path.match.uri_template), in whose syntax istiod writes Istio's
 * path templates (`{*}` as `*`, `{**}` as `**`; never named variables): `*` is one non-empty path
 * segment, `**` zero or more characters across segments, the rest literal; the whole path (without
 * its query) must match.
 */
function uriTemplateMatches(template: string, path: string): boolean {
  let compiled = uriTemplateCache.get(template);
  if (compiled === undefined) {
    const pattern = template
      .split(/(\*\*|\*)/)
      .map((part) => (part === '**' ? `${SEGMENTS}*` : part === '*' ? `${SEGMENT}+` : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    compiled = new RegExp(`^${pattern}$`);
    uriTemplateCache.set(template, compiled);
  }
  return compiled.test(path);
}

const JWT_PAYLOAD = ['envoy.filters.http.jwt_authn', 'payload'];

function describeMetadata(m: MetadataMatcher): string {
  const keys = (m.path ?? []).map((s) => s.key ?? '');
  if (m.filter === JWT_PAYLOAD[0] && keys[0] === JWT_PAYLOAD[1]) {
    const claim = keys.slice(1).join('.');
    if (claim === 'iss' || claim === 'sub') return `the request principal's ${claim === 'iss' ? 'issuer' : 'subject'} (JWT claim ${claim})`;
    return `JWT claim ${claim}`;
  }
  return `metadata ${m.filter}.${keys.join('.')}`;
}

export function describePermission(p: Permission): string {
  if (p.any) return 'any request';
  if (p.andRules) return (p.andRules.rules ?? []).map(describePermission).join(' and ');
  if (p.orRules) return (p.orRules.rules ?? []).map(describePermission).join(' or ');
  if (p.notRule) return `not (${describePermission(p.notRule)})`;
  if (p.header) return describeHeaderMatcher(p.header);
  if (p.urlPath) return `path ${describeStringMatcher(p.urlPath.path ?? {})}`;
  if (p.destinationPort !== undefined) return `port ${p.destinationPort}`;
  if (p.destinationIp) return `destination IP in ${cidr(p.destinationIp)}`;
  if (p.requestedServerName) return `server name ${describeStringMatcher(p.requestedServerName)}`;
  if (p.metadata) return describeMetadata(p.metadata);
  return 'a condition';
}

export function describePrincipal(p: Principal): string {
  if (p.any) return 'anyone';
  if (p.andIds) return (p.andIds.ids ?? []).map(describePrincipal).join(' and ');
  if (p.orIds) return (p.orIds.ids ?? []).map(describePrincipal).join(' or ');
  if (p.notId) return `not (${describePrincipal(p.notId)})`;
  if (p.authenticated)
    return `source principal ${p.authenticated.principalName ? describeStringMatcher(p.authenticated.principalName) : 'present'}`;
  const ip = p.directRemoteIp ?? p.sourceIp ?? p.remoteIp;
  if (ip) return `source IP in ${cidr(ip)}`;
  if (p.header) return describeHeaderMatcher(p.header);
  if (p.metadata) return describeMetadata(p.metadata);
  return 'a condition';
}

function inRange(range: CidrRange, ip: string): boolean {
  return cidrContains(range.addressPrefix ?? '', range.prefixLen ?? 0, ip);
}

function cidr(range: CidrRange): string {
  return `${range.addressPrefix}/${range.prefixLen ?? 0}`;
}

function quote(value: string | null | undefined): string {
  return value == null ? '(none)' : `"${value}"`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A policy name as Istio writes it: `ns[NS]-policy[NAME]-rule[N]`, CUSTOM ones prefixed with
 * `istio-ext-authz-[provider-]`; a CUSTOM rule istiod turned into a DENY rule because it cannot use
 * the policy's provider (undefined or invalid in the mesh config) ends in `-deny-due-to-bad-CUSTOM-action`.
 */
export function parsePolicyName(name: string): { namespace: string; name: string; rule: number; badCustom: boolean } | null {
  const m = /ns\[([^\]]*)\]-policy\[([^\]]*)\]-rule\[(\d+)\](-deny-due-to-bad-CUSTOM-action)?$/.exec(name);
  return m ? { namespace: m[1], name: m[2], rule: Number(m[3]), badCustom: m[4] !== undefined } : null;
}
