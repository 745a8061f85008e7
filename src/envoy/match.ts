// Envoy's request matchers: string matchers, header matchers, query parameter matchers, paths.
import { RE2JS } from 're2js';
import { Lru } from '../cache/lru.js';
import type { HeaderMatcher, QueryParameterMatcher, RouteAction, RouteMatch, StringMatcher } from './xds.js';

/** Compiled regexes (null: RE2 refuses it), bounded: a long-lived server meets every snapshot's. */
const regexCache = new Lru<RE2JS | null>(4096);

/**
 * Envoy's safe_regex: Google RE2, the whole value must match (RE2::FullMatch). Evaluated with
 * re2js, a port of RE2, not JavaScript's RegExp, whose syntax and semantics differ where users'
 * regexes go: RE2 takes (?i) and other flag groups, \z, \Q...\E, (?P<name>), [[:alpha:]], \pL,
 * escaped punctuation (\-) and literal braces ({id}); \s is ASCII whitespace only; lookarounds and
 * backreferences do not compile (Envoy rejects such a config: nothing matches); and RE2 runs in
 * linear time, so a user's regex cannot stall the walk as a backtracking engine can.
 */
export function fullMatch(regex: string, value: string): boolean {
  const compiled = compileRegex(regex);
  return compiled !== null && compiled.testExact(value);
}

function compileRegex(regex: string): RE2JS | null {
  let compiled = regexCache.get(regex);
  if (compiled === undefined) {
    try {
      compiled = RE2JS.compile(regex);
    } catch {
      compiled = null;
    }
    regexCache.set(regex, compiled);
  }
  return compiled;
}

/**
 * Envoy's case folding (absl::AsciiStrToLower, EqualsIgnoreCase, StartsWithIgnoreCase): ASCII
 * letters only. JavaScript's toLowerCase also folds others, some onto ASCII (the Kelvin sign K
 * becomes k), which Envoy never equates.
 */
export function asciiLowerCase(s: string): string {
  return s.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

export function stringMatches(m: StringMatcher, value: string): boolean {
  const fold = (s: string) => (m.ignoreCase ? asciiLowerCase(s) : s);
  if (m.exact !== undefined) return fold(value) === fold(m.exact);
  if (m.prefix !== undefined) return fold(value).startsWith(fold(m.prefix));
  if (m.suffix !== undefined) return fold(value).endsWith(fold(m.suffix));
  if (m.contains !== undefined) return fold(value).includes(fold(m.contains));
  if (m.safeRegex?.regex !== undefined) return fullMatch(m.safeRegex.regex, value);
  // An empty matcher matches an empty value only, as Envoy's exact "" does.
  return value === '';
}

export function describeStringMatcher(m: StringMatcher): string {
  const ci = m.ignoreCase ? ' (ignoring case)' : '';
  if (m.exact !== undefined) return `is exactly "${m.exact}"${ci}`;
  if (m.prefix !== undefined) return `starts with "${m.prefix}"${ci}`;
  if (m.suffix !== undefined) return `ends with "${m.suffix}"${ci}`;
  if (m.contains !== undefined) return `contains "${m.contains}"${ci}`;
  if (m.safeRegex?.regex !== undefined) return `matches regex "${m.safeRegex.regex}"`;
  return 'is empty';
}

/** Header values by lower-case name; several values of one header are joined with "," as Envoy does. */
export type Headers = ReadonlyMap<string, string>;

export function headerMatches(h: HeaderMatcher, headers: Headers): boolean {
  let value = headers.get(h.name.toLowerCase());
  if (value === undefined && h.treatMissingHeaderAsEmpty) value = '';
  let matched: boolean;
  if (value === undefined) {
    // Envoy: a missing header fails every value matcher, inverted or not; only presence checks see it.
    if (h.presentMatch === undefined) return false;
    const matched = h.presentMatch === false;
    return h.invertMatch ? !matched : matched;
  }
  if (h.presentMatch !== undefined) matched = h.presentMatch;
  else if (h.stringMatch) matched = stringMatches(h.stringMatch, value);
  else if (h.exactMatch !== undefined) matched = value === h.exactMatch;
  else if (h.prefixMatch !== undefined) matched = value.startsWith(h.prefixMatch);
  else if (h.suffixMatch !== undefined) matched = value.endsWith(h.suffixMatch);
  else if (h.containsMatch !== undefined) matched = value.includes(h.containsMatch);
  else if (h.safeRegexMatch?.regex !== undefined) matched = fullMatch(h.safeRegexMatch.regex, value);
  else if (h.rangeMatch) matched = inRange(value, h.rangeMatch);
  else matched = true; // no matcher: presence
  return h.invertMatch ? !matched : matched;
}

function inRange(value: string, range: { start?: string | number; end?: string | number }): boolean {
  if (!/^-?\d+$/.test(value)) return false;
  const n = Number(value);
  return n >= Number(range.start ?? Number.MIN_SAFE_INTEGER) && n < Number(range.end ?? Number.MAX_SAFE_INTEGER);
}

export function describeHeaderMatcher(h: HeaderMatcher): string {
  const not = h.invertMatch ? 'not ' : '';
  if (h.presentMatch !== undefined) return `header ${h.name} ${not}${h.presentMatch ? 'present' : 'absent'}`;
  if (h.stringMatch) return `header ${h.name} ${not}${describeStringMatcher(h.stringMatch)}`;
  if (h.exactMatch !== undefined) return `header ${h.name} ${not}is exactly "${h.exactMatch}"`;
  if (h.prefixMatch !== undefined) return `header ${h.name} ${not}starts with "${h.prefixMatch}"`;
  if (h.suffixMatch !== undefined) return `header ${h.name} ${not}ends with "${h.suffixMatch}"`;
  if (h.containsMatch !== undefined) return `header ${h.name} ${not}contains "${h.containsMatch}"`;
  if (h.safeRegexMatch?.regex !== undefined) return `header ${h.name} ${not}matches regex "${h.safeRegexMatch.regex}"`;
  if (h.rangeMatch) return `header ${h.name} ${not}in [${h.rangeMatch.start}, ${h.rangeMatch.end})`;
  return `header ${h.name} ${not}present`;
}

export function queryParameterMatches(q: QueryParameterMatcher, query: ReadonlyMap<string, string>): boolean {
  const value = query.get(q.name);
  if (q.presentMatch !== undefined) return (value !== undefined) === q.presentMatch;
  if (value === undefined) return false;
  return q.stringMatch ? stringMatches(q.stringMatch, value) : true;
}

export function describeQueryParameterMatcher(q: QueryParameterMatcher): string {
  if (q.presentMatch !== undefined) return `query parameter ${q.name} ${q.presentMatch ? 'present' : 'absent'}`;
  return `query parameter ${q.name} ${q.stringMatch ? describeStringMatcher(q.stringMatch) : 'present'}`;
}

/** Envoy matches the path without its query string. */
export function pathMatches(m: RouteMatch, path: string): boolean {
  const caseSensitive = m.caseSensitive !== false;
  const fold = (s: string) => (caseSensitive ? s : asciiLowerCase(s));
  const p = fold(path);
  if (m.prefix !== undefined) return p.startsWith(fold(m.prefix));
  if (m.path !== undefined) return p === fold(m.path);
  if (m.safeRegex?.regex !== undefined) return fullMatch(m.safeRegex.regex, path);
  if (m.pathSeparatedPrefix !== undefined) {
    const prefix = fold(m.pathSeparatedPrefix);
    return p === prefix || p.startsWith(prefix + '/');
  }
  return false;
}

/**
 * The :path the upstream receives (RouteEntryImplBase::currentUrlPathAfterRewrite), query kept:
 * prefix_rewrite replaces what the route's path matcher matched (its prefix, in whatever case the
 * request wrote it; the whole path for an exact or regex matcher); regex_rewrite replaces every
 * RE2 match of its pattern in the path (RE2::GlobalReplace: \1 is a group, \\ a backslash).
 */
export function rewritePath(match: RouteMatch | undefined, action: RouteAction | undefined, full: string): string {
  const q = full.indexOf('?');
  const [path, query] = q >= 0 ? [full.slice(0, q), full.slice(q)] : [full, ''];
  if (action?.prefixRewrite !== undefined) {
    const prefix = match?.prefix ?? match?.pathSeparatedPrefix;
    return action.prefixRewrite + path.slice(prefix?.length ?? path.length) + query;
  }
  const pattern = action?.regexRewrite?.pattern?.regex;
  const compiled = pattern === undefined ? null : compileRegex(pattern);
  if (!compiled) return full;
  const substitution = action!.regexRewrite!.substitution ?? '';
  const groups = compiled.groupCount();
  return (
    compiled
      .matcher(path)
      .replaceAll((...args: (string | null)[]) =>
        substitution.replace(/\\([0-9\\])/g, (_, c: string) => (c === '\\' ? '\\' : Number(c) <= groups ? (args[Number(c)] ?? '') : '')),
      ) + query
  );
}

export function describePathMatch(m: RouteMatch): string {
  if (m.prefix !== undefined) return m.prefix === '/' ? 'any path' : `path prefix "${m.prefix}"`;
  if (m.path !== undefined) return `path exactly "${m.path}"`;
  if (m.safeRegex?.regex !== undefined) return `path matching regex "${m.safeRegex.regex}"`;
  if (m.pathSeparatedPrefix !== undefined) return `path segment prefix "${m.pathSeparatedPrefix}"`;
  return 'no path matcher';
}

/** The whole match of a route in words, for traces and tables. */
export function describeRouteMatch(m: RouteMatch | undefined): string {
  if (!m) return 'any request';
  const parts = [describePathMatch(m)];
  for (const h of m.headers ?? []) parts.push(h.name === ':method' ? describeMethod(h) : describeHeaderMatcher(h));
  for (const q of m.queryParameters ?? []) parts.push(describeQueryParameterMatcher(q));
  return parts.join(', ');
}

function describeMethod(h: HeaderMatcher): string {
  const exact = h.stringMatch?.exact ?? h.exactMatch;
  return exact !== undefined ? `method ${exact}` : describeHeaderMatcher(h);
}
