// Envoy's RBAC filters evaluated over every request at once: with the sender's identity fixed (its
// peer principal when the connection is mTLS, its address, the receiving port and address), each
// permission and principal that does not depend on the request is decided (true or false); those
// that do (methods, paths, hosts, headers, a token's claims and request principal, the server name)
// stay as conditions. The engines combine as Envoy runs them (journey/authorization.ts): CUSTOM
// first (the external authorizer decides what its rules match), DENY overriding, ALLOW needing a
// match (ALLOW with no policy: nothing is allowed); LOG and dry-run (shadow) rules never decide.
// The result is a condition in words, alternatives first. Pure.
import type { CidrRange, HeaderMatcher, StringMatcher } from '../envoy/xds.js';
import { cidrContains } from '../envoy/cidr.js';
import { describeHeaderMatcher } from '../envoy/match.js';
import { parsePolicyName, type MetadataMatcher, type Permission, type Principal, type Rbac, type ValueMatcher } from '../envoy/rbac.js';
import type { ConfigRef } from '../model/config-ref.js';
import { compareStrings } from '../model/compare.js';
import { JWT_AUTHN, rbacFilters } from '../journey/authorization.js';
import type { FilterChain } from '../envoy/xds.js';

/** What the sender fixes about every request it makes to one receiving workload's port. */
export interface FixedFacts {
  /** spiffe://… of the sender, only over mTLS. */
  principal: string | null;
  sourceIp: string;
  destinationIp: string;
  destinationPort: number;
}

type LeafKind = 'method' | 'path' | 'host' | 'header' | 'token' | 'sni' | 'extAuthz' | 'other';

export type Cond =
  | { t: 'true' }
  | { t: 'false' }
  | { t: 'leaf'; kind: LeafKind; text: string }
  | { t: 'and'; of: Cond[] }
  | { t: 'or'; of: Cond[] }
  | { t: 'not'; of: Cond };

export const TRUE: Cond = { t: 'true' };
export const FALSE: Cond = { t: 'false' };

export function and(parts: Cond[]): Cond {
  const out: Cond[] = [];
  for (const p of parts) {
    if (p.t === 'false') return FALSE;
    if (p.t === 'true') continue;
    if (p.t === 'and') out.push(...p.of);
    else out.push(p);
  }
  return out.length === 0 ? TRUE : out.length === 1 ? out[0] : { t: 'and', of: dedupe(out) };
}

export function or(parts: Cond[]): Cond {
  const out: Cond[] = [];
  for (const p of parts) {
    if (p.t === 'true') return TRUE;
    if (p.t === 'false') continue;
    if (p.t === 'or') out.push(...p.of);
    else out.push(p);
  }
  const unique = dedupe(out);
  return unique.length === 0 ? FALSE : unique.length === 1 ? unique[0] : { t: 'or', of: unique };
}

export function not(c: Cond): Cond {
  if (c.t === 'true') return FALSE;
  if (c.t === 'false') return TRUE;
  if (c.t === 'not') return c.of;
  return { t: 'not', of: c };
}

function dedupe(parts: Cond[]): Cond[] {
  const seen = new Set<string>();
  return parts.filter((p) => {
    const k = JSON.stringify(p);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const leaf = (kind: LeafKind, text: string): Cond => ({ t: 'leaf', kind, text });
const decided = (ok: boolean): Cond => (ok ? TRUE : FALSE);
/** What the facts answer, the question noted: the facts are read through here only. */
const ask = (ctx: Ctx, question: Question): Cond => {
  ctx.asked.push(question);
  return decided(question(ctx.facts));
};

/** The part of a chain's authorization that decides, for one sender. */
export interface SymbolicDecision {
  /** When a request is allowed. */
  allowed: Cond;
  /** The AuthorizationPolicies whose rules can match this sender's requests (or, denied by ALLOW policies none of which can, those). */
  policies: ConfigRef[];
}

const EXT_AUTHZ_SHADOW_PREFIX = 'istio_ext_authz_';

/** The chain's RBAC filters (in Envoy's order) evaluated for every request of a sender; `http` whether the chain runs HTTP filters. */
export function symbolicAuthorize(chain: FilterChain | null, facts: FixedFacts): SymbolicDecision {
  return evaluate(chain, facts, []);
}

/**
 * symbolicAuthorize for the many senders of a snapshot: each chain evaluated once per distinct
 * answers of the senders' facts to its questions. An evaluation walks every rule of the chain
 * whatever the answers, so it asks every sender the same questions, and its result depends on the
 * answers alone: a chain's questions are kept from its first evaluation, then asked of each
 * sender. The same answers give the same decision object.
 */
export function symbolicAuthorizer(): (chain: FilterChain | null, facts: FixedFacts) => SymbolicDecision {
  const byChain = new WeakMap<FilterChain, { questions: Question[]; decisions: Map<string, SymbolicDecision> }>();
  const answers = (questions: Question[], facts: FixedFacts) => {
    let key = '';
    for (const q of questions) key += q(facts) ? '1' : '0';
    return key;
  };
  return (chain, facts) => {
    if (!chain) return evaluate(chain, facts, []);
    const known = byChain.get(chain);
    if (!known) {
      const questions: Question[] = [];
      const decision = evaluate(chain, facts, questions);
      byChain.set(chain, { questions, decisions: new Map([[answers(questions, facts), decision]]) });
      return decision;
    }
    const key = answers(known.questions, facts);
    let decision = known.decisions.get(key);
    if (!decision) {
      decision = evaluate(chain, facts, []);
      known.decisions.set(key, decision);
    }
    return decision;
  };
}

/** A question about the sender's facts: every read of them in an evaluation is one. */
type Question = (facts: FixedFacts) => boolean;

/** symbolicAuthorize, its questions added to `asked` in the order asked. */
function evaluate(chain: FilterChain | null, facts: FixedFacts, asked: Question[]): SymbolicDecision {
  const filters = rbacFilters(chain);
  const parts: Cond[] = [];
  const policies = new Map<string, ConfigRef>();
  const allowPolicies = new Map<string, ConfigRef>();
  // DENY policies that match every request of this sender: alone, they decide a denial.
  const denying = new Map<string, ConfigRef>();
  const note = (into: Map<string, ConfigRef>, name: string) => {
    const p = parsePolicyName(name);
    if (p) into.set(`${p.namespace}/${p.name}`, { kind: 'AuthorizationPolicy', namespace: p.namespace, name: p.name });
  };
  for (const filter of filters) {
    const ctx: Ctx = { facts, asked, http: filter.layer === 'http', jwt: filter.afterJwt };
    const { rules, shadowRules, shadowRulesStatPrefix } = filter.config;
    if (shadowRules && shadowRulesStatPrefix === EXT_AUTHZ_SHADOW_PREFIX) {
      const matches = engineMatches(shadowRules, ctx, (name) => note(policies, name));
      parts.push(or([not(matches), leaf('extAuthz', 'decided by the external authorizer')]));
    }
    if (!rules) continue;
    const action = rules.action ?? 'ALLOW';
    if (action === 'LOG') continue;
    const matches = engineMatches(rules, ctx, (name, c) => {
      note(policies, name);
      if (action === 'DENY' && c.t === 'true') note(denying, name);
    });
    if (action === 'DENY') parts.push(not(matches));
    else {
      for (const name of Object.keys(rules.policies ?? {})) note(allowPolicies, name);
      parts.push(matches);
    }
  }
  const allowed = and(parts);
  if (allowed.t === 'false' && policies.size === 0) for (const [k, v] of allowPolicies) policies.set(k, v);
  const deciding = allowed.t === 'false' && denying.size ? denying : policies;
  return {
    allowed,
    policies: [...deciding.values()].sort((a, b) => compareStrings(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`)),
  };
}

interface Ctx {
  facts: FixedFacts;
  /** the questions asked of the facts so far (ask) */
  asked: Question[];
  /** An HTTP filter sees the request; a network filter only the connection. */
  http: boolean;
  /** The JWT filter ran before: a validated token's payload can be in the metadata. */
  jwt: boolean;
}

/** Whether some policy of the engine matches; `matching` hears each policy that can. */
function engineMatches(rbac: Rbac, ctx: Ctx, matching: (name: string, c: Cond) => void): Cond {
  const out: Cond[] = [];
  for (const name of Object.keys(rbac.policies ?? {}).sort(compareStrings)) {
    const policy = rbac.policies![name];
    const c = and([
      or((policy.permissions ?? []).map((p) => permission(p, ctx))),
      or((policy.principals ?? []).map((p) => principal(p, ctx))),
    ]);
    if (c.t !== 'false') matching(name, c);
    out.push(c);
  }
  return or(out);
}

function permission(p: Permission, ctx: Ctx): Cond {
  if (p.any) return TRUE;
  if (p.andRules) return and((p.andRules.rules ?? []).map((x) => permission(x, ctx)));
  if (p.orRules) return or((p.orRules.rules ?? []).map((x) => permission(x, ctx)));
  if (p.notRule) return not(permission(p.notRule, ctx));
  if (p.header) return header(p.header, ctx);
  if (p.urlPath) return ctx.http ? leaf('path', pathText(p.urlPath.path ?? {})) : FALSE;
  if (p.uriTemplate) return ctx.http ? leaf('path', p.uriTemplate.typedConfig?.pathTemplate ?? '') : FALSE;
  const { destinationIp, destinationPort } = p;
  if (destinationIp) return ask(ctx, (f) => inRange(destinationIp, f.destinationIp));
  if (destinationPort !== undefined) return ask(ctx, (f) => destinationPort === f.destinationPort);
  if (p.destinationPortRange) {
    const { start = 0, end = 0 } = p.destinationPortRange;
    return ask(ctx, (f) => f.destinationPort >= start && f.destinationPort < end);
  }
  if (p.requestedServerName) return leaf('sni', `server name ${stringText(p.requestedServerName)}`);
  if (p.metadata) return metadata(p.metadata, ctx);
  return leaf('other', 'a condition meshlens cannot evaluate');
}

function principal(p: Principal, ctx: Ctx): Cond {
  if (p.any) return TRUE;
  if (p.andIds) return and((p.andIds.ids ?? []).map((x) => principal(x, ctx)));
  if (p.orIds) return or((p.orIds.ids ?? []).map((x) => principal(x, ctx)));
  if (p.notId) return not(principal(p.notId, ctx));
  if (p.authenticated) return ask(ctx, authenticated(p.authenticated.principalName));
  if (p.filterState) {
    if (p.filterState.key !== 'io.istio.peer_principal' || !p.filterState.stringMatch)
      return leaf('other', `filter state ${p.filterState.key}`);
    return ask(ctx, authenticated(p.filterState.stringMatch));
  }
  const ip = p.directRemoteIp ?? p.sourceIp ?? p.remoteIp;
  if (ip) return ask(ctx, (f) => inRange(ip, f.sourceIp));
  if (p.header) return header(p.header, ctx);
  if (p.urlPath) return ctx.http ? leaf('path', pathText(p.urlPath.path ?? {})) : FALSE;
  if (p.metadata) return metadata(p.metadata, ctx);
  return leaf('other', 'a condition meshlens cannot evaluate');
}

/** Whether the connection's peer principal is one `m` matches (any, without `m`); none without mTLS. */
function authenticated(m: StringMatcher | undefined): Question {
  if (!m) return (f) => f.principal !== null;
  const matches = looseMatcher(m);
  return (f) => f.principal !== null && matches(f.principal);
}

function header(h: HeaderMatcher, ctx: Ctx): Cond {
  if (!ctx.http) return FALSE;
  const name = h.name.toLowerCase();
  const value = h.stringMatch ? stringText(h.stringMatch) : h.exactMatch !== undefined ? h.exactMatch : null;
  const c =
    name === ':method' && value !== null
      ? leaf('method', value)
      : (name === ':authority' || name === 'host') && value !== null
        ? leaf('host', value)
        : leaf('header', describeHeaderMatcher({ ...h, invertMatch: false }));
  return h.invertMatch ? not(c) : c;
}

/** A matcher on the dynamic metadata: a token's claims or request principal, present only after the JWT filter validated one. */
function metadata(m: MetadataMatcher, ctx: Ctx): Cond {
  const keys = (m.path ?? []).map((s) => s.key ?? '');
  const token = m.filter === JWT_AUTHN || m.filter === 'istio_authn';
  if (token && (!ctx.http || !ctx.jwt)) return m.invert ? TRUE : FALSE;
  const value = valueText(m.value ?? {});
  let text: string;
  if (token) {
    const path = m.filter === JWT_AUTHN ? keys.slice(1) : keys;
    const claim = path.join('.').replace(/^request\.auth\./, '');
    if (claim === 'principal') text = `only with a token whose request principal ${value}`;
    else if (claim === 'iss' || claim === 'sub') text = `only with a token whose ${claim === 'iss' ? 'issuer' : 'subject'} ${value}`;
    else if (claim === 'audiences' || claim === 'aud') text = `only with a token whose audience ${value}`;
    else if (claim === 'presenter' || claim === 'azp') text = `only with a token whose presenter ${value}`;
    else text = `only with a token whose claim ${claim.replace(/^claims\./, '')} ${value}`;
  } else text = `metadata ${m.filter}.${keys.join('.')} ${value}`;
  const c = leaf(token ? 'token' : 'other', text);
  return m.invert ? not(c) : c;
}

function valueText(v: ValueMatcher): string {
  if (v.presentMatch !== undefined) return v.presentMatch ? 'is present' : 'is absent';
  if (v.stringMatch) return `is ${stringText(v.stringMatch)}`;
  if (v.listMatch) return `contains ${valueText(v.listMatch.oneOf ?? {}).replace(/^is /, '')}`;
  if (v.orMatch) {
    // Istio matches a claim both as a list containing the value and as the value itself.
    const texts = [...new Set((v.orMatch.valueMatchers ?? []).map(valueText))];
    const lists = texts.filter((t) => t.startsWith('contains '));
    return texts.every((t) => lists.includes(t) || lists.includes(t.replace(/^is /, 'contains ')))
      ? lists.join(' or ')
      : texts.join(' or ');
  }
  if (v.boolMatch !== undefined) return `is ${v.boolMatch}`;
  if (v.doubleMatch) return `is ${v.doubleMatch.exact}`;
  return 'is set';
}

/** A string matcher as Istio's policy wrote it: exact `x`, prefix `x*`, suffix `*x`, presence `*`. */
function stringText(m: StringMatcher): string {
  const ci = m.ignoreCase ? ' (any case)' : '';
  if (m.exact !== undefined) return m.exact + ci;
  if (m.prefix !== undefined) return `${m.prefix}*${ci}`;
  if (m.suffix !== undefined) return `*${m.suffix}${ci}`;
  if (m.contains !== undefined) return `*${m.contains}*${ci}`;
  if (m.safeRegex?.regex !== undefined) return m.safeRegex.regex === '.+' || m.safeRegex.regex === '.*' ? '*' : `~/${m.safeRegex.regex}/`;
  return '""';
}

function pathText(m: StringMatcher): string {
  return stringText(m);
}

/** Istio's principal matchers: exact, prefix, suffix, and the regexes it writes for namespaces (compiled once per matcher). */
function looseMatcher(m: StringMatcher): (value: string) => boolean {
  const fold = (s: string) => (m.ignoreCase ? s.toLowerCase() : s);
  if (m.exact !== undefined) {
    const exact = fold(m.exact);
    return (value) => fold(value) === exact;
  }
  if (m.prefix !== undefined) {
    const prefix = fold(m.prefix);
    return (value) => fold(value).startsWith(prefix);
  }
  if (m.suffix !== undefined) {
    const suffix = fold(m.suffix);
    return (value) => fold(value).endsWith(suffix);
  }
  if (m.contains !== undefined) {
    const contains = fold(m.contains);
    return (value) => fold(value).includes(contains);
  }
  if (m.safeRegex?.regex !== undefined) {
    const source = `^(?:${m.safeRegex.regex})$`;
    // Compiled when first matched: a sender without mTLS never asks (and a bad regex throws only then).
    let regex: RegExp | undefined;
    return (value) => (regex ??= new RegExp(source)).test(value);
  }
  return (value) => fold(value) === '';
}

function inRange(range: CidrRange, ip: string): boolean {
  return cidrContains(range.addressPrefix ?? '', range.prefixLen ?? 0, ip);
}

const MAX_ALTERNATIVES = 32;

/**
 * The condition in words: one string per alternative (any of them allows the request), e.g.
 * "methods GET, HEAD on paths /api/*", "only with a token whose claim groups contains admin".
 */
export function describeCondition(c: Cond): string[] {
  if (c.t === 'true') return [];
  if (c.t === 'false') return ['never'];
  const alternatives = alternativesOf(c);
  const out = alternatives.map(describeConjunction);
  return [...new Set(out)];
}

/** Disjunctive form, as far as MAX_ALTERNATIVES allows: each alternative a list of conjuncts. */
function alternativesOf(c: Cond): Cond[][] {
  if (c.t === 'or') {
    const out = c.of.flatMap(alternativesOf);
    return out.length > MAX_ALTERNATIVES ? [[c]] : out;
  }
  if (c.t === 'and') {
    let acc: Cond[][] = [[]];
    for (const part of c.of) {
      // An OR of one kind of leaf ("methods GET, HEAD") stays whole: it reads as one phrase.
      const alts = part.t === 'or' && !sameKindLeaves(part.of) ? alternativesOf(part) : [[part]];
      if (acc.length * alts.length > MAX_ALTERNATIVES) {
        acc = acc.map((a) => [...a, part]);
        continue;
      }
      acc = acc.flatMap((a) => alts.map((b) => [...a, ...b]));
    }
    return acc;
  }
  return [[c]];
}

function sameKindLeaves(parts: Cond[]): boolean {
  return parts.every((p) => p.t === 'leaf' && p.kind === (parts[0] as { kind?: string }).kind);
}

const ORDER: Record<string, number> = { method: 0, path: 1, host: 2, sni: 3, header: 4, token: 5, other: 6, extAuthz: 7 };

function describeConjunction(parts: Cond[]): string {
  const phrases: { order: number; text: string }[] = [];
  // Per kind: the phrases that must all hold, each one text or alternatives of that kind.
  const byKind = new Map<string, string[][]>();
  const add = (kind: string, texts: string[]) => byKind.set(kind, [...(byKind.get(kind) ?? []), texts]);
  for (const p of parts) {
    if (p.t === 'leaf') add(p.kind, [p.text]);
    else if (p.t === 'or' && sameKindLeaves(p.of))
      add(
        (p.of[0] as { kind: string }).kind,
        p.of.map((x) => (x as { text: string }).text),
      );
    else if (p.t === 'not') phrases.push({ order: 8, text: `except ${describeNested(p.of)}` });
    else phrases.push({ order: 6, text: `(${describeNested(p)})` });
  }
  for (const [kind, groups] of byKind) {
    let list = groups.map((texts) => kindPhrase(kind, [...new Set(texts)]));
    // "whose subject is *" adds nothing next to the issuer it comes with.
    if (kind === 'token' && list.length > 1) list = list.filter((t) => !t.endsWith(' is *'));
    const text =
      kind === 'token' ? list.map((t, i) => (i === 0 ? t : t.replace(/^only with a token whose /, ''))).join(' and ') : list.join(' and ');
    phrases.push({ order: ORDER[kind] ?? 6, text });
  }
  phrases.sort((a, b) => a.order - b.order);
  if (phrases.length && phrases.every((p) => p.order === 8)) phrases.unshift({ order: 0, text: 'any request' });
  return phrases.map((p) => p.text).join(' ');
}

function describeNested(c: Cond): string {
  const alternatives = describeCondition(c);
  return alternatives.length > 1 ? alternatives.map((a) => `(${a})`).join(' or ') : (alternatives[0] ?? 'always');
}

function kindPhrase(kind: string, texts: string[]): string {
  const many = texts.length > 1;
  switch (kind) {
    case 'method':
      return `${many ? 'methods' : 'method'} ${texts.join(', ')}`;
    case 'path':
      return `on ${many ? 'paths' : 'path'} ${texts.join(', ')}`;
    case 'host':
      return `to ${many ? 'hosts' : 'host'} ${texts.join(', ')}`;
    default:
      return texts.join(many ? ' or ' : '');
  }
}
