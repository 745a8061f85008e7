// Pairing routes across the two sides of a diff: which routes have the same match, and which route
// of one side takes a request the other side's route accepts. Words for Envoy objects: src/envoy. Pure.
import type { HeaderMatcher, Route, RouteMatch } from '../envoy/xds.js';
import { headerMatches, pathMatches, queryParameterMatches } from '../envoy/match.js';
import { canonicalJson } from '../model/canonical.js';

/** Route matches equal for Envoy (case sensitivity defaults to true). */
export function matchKey(m: RouteMatch | undefined): string {
  if (!m) return '{}';
  const { caseSensitive, ...rest } = m;
  return canonicalJson(caseSensitive === false ? m : rest);
}

/** A request that the match accepts, to ask which route of the other side would take it; null when none can be made up. */
export function sampleRequest(
  m: RouteMatch | undefined,
): { path: string; headers: Map<string, string>; query: Map<string, string> } | null {
  const match = m ?? { prefix: '/' };
  let path: string | undefined;
  if (match.prefix !== undefined) path = match.prefix || '/';
  else if (match.path !== undefined) path = match.path;
  else if (match.pathSeparatedPrefix !== undefined) path = match.pathSeparatedPrefix;
  if (path === undefined) return null;
  const headers = new Map<string, string>();
  for (const h of match.headers ?? []) {
    const v = headerSample(h);
    if (v === null) return null;
    if (v !== undefined) headers.set(h.name.toLowerCase(), v);
  }
  const query = new Map<string, string>();
  for (const q of match.queryParameters ?? []) {
    if (q.presentMatch === false) continue;
    const s = q.stringMatch;
    const v = !s ? '1' : (s.exact ?? s.prefix ?? (s.suffix !== undefined ? `x${s.suffix}` : s.contains));
    if (v === undefined) return null;
    query.set(q.name, v);
  }
  return { path, headers, query };
}

function headerSample(h: HeaderMatcher): string | undefined | null {
  if (h.invertMatch) return h.presentMatch === undefined ? undefined : null;
  if (h.presentMatch === false) return undefined;
  if (h.presentMatch === true) return '1';
  const s = h.stringMatch;
  if (s) {
    if (s.exact !== undefined) return s.exact;
    if (s.prefix !== undefined) return s.prefix;
    if (s.suffix !== undefined) return `x${s.suffix}`;
    if (s.contains !== undefined) return s.contains;
    return null;
  }
  if (h.exactMatch !== undefined) return h.exactMatch;
  if (h.prefixMatch !== undefined) return h.prefixMatch;
  if (h.suffixMatch !== undefined) return `x${h.suffixMatch}`;
  if (h.containsMatch !== undefined) return h.containsMatch;
  if (h.safeRegexMatch || h.rangeMatch) return null;
  return '1';
}

/** The first route that takes the request, as Envoy picks it. */
export function firstMatching(routes: readonly Route[], req: NonNullable<ReturnType<typeof sampleRequest>>): Route | undefined {
  return routes.find((r) => {
    const m = r.match ?? { prefix: '/' };
    if (!pathMatches(m, req.path)) return false;
    if (!(m.headers ?? []).every((h) => headerMatches(h, req.headers))) return false;
    return (m.queryParameters ?? []).every((q) => queryParameterMatches(q, req.query));
  });
}
