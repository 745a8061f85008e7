// What Envoy's HTTP connection manager does to :path before any filter or route sees it
// (ConnectionManagerUtility::maybeNormalizePath), as configured by the HCM istiod generated:
// the fragment, then path_with_escaped_slashes_action, then normalize_path (RFC 3986, through
// Chromium's URL path canonicaliser), then merge_slashes. Pure.

/** The HCM fields that decide it (proto3 JSON of HttpConnectionManager). */
export interface PathNormalization {
  normalizePath?: boolean;
  mergeSlashes?: boolean;
  /** KEEP_UNCHANGED, REJECT_REQUEST, UNESCAPE_AND_REDIRECT, UNESCAPE_AND_FORWARD; absent: Envoy's default, KEEP_UNCHANGED. */
  pathWithEscapedSlashesAction?: string;
}

export type NormalizedPath =
  | { outcome: 'forward'; path: string; changes: string[] }
  /** Envoy answers 307 with this path in Location (400 for a gRPC request, which cannot follow it). */
  | { outcome: 'redirect'; path: string; changes: string[] }
  | { outcome: 'reject'; reason: string; changes: string[] };

export function normalizePath(original: string, config: PathNormalization): NormalizedPath {
  const changes: string[] = [];
  let path = original;
  // istio-agent's bootstrap turns envoy.reloadable_features.http_reject_path_with_fragment off,
  // so a fragment is stripped (http_strip_fragment_from_path_unsafe_if_disabled stays on), not refused.
  const hash = path.indexOf('#');
  if (hash >= 0) {
    path = path.slice(0, hash);
    changes.push(`the fragment "${original.slice(hash)}" is stripped`);
  }
  let redirect = false;
  const action = config.pathWithEscapedSlashesAction ?? 'KEEP_UNCHANGED';
  if (action !== 'KEEP_UNCHANGED' && action !== 'IMPLEMENTATION_SPECIFIC_DEFAULT') {
    const unescaped = unescapeSlashes(path);
    if (unescaped !== path) {
      if (action === 'REJECT_REQUEST')
        return {
          outcome: 'reject',
          reason: `the path has escaped slashes (%2F or %5C) and path_with_escaped_slashes_action is REJECT_REQUEST`,
          changes,
        };
      changes.push(`escaped slashes are unescaped ("${path}" → "${unescaped}", ${action})`);
      path = unescaped;
      redirect = action === 'UNESCAPE_AND_REDIRECT';
    }
  }
  if (config.normalizePath) {
    const canonical = canonicalPath(path);
    if (canonical === null)
      return { outcome: 'reject', reason: `normalize_path refuses "${path}": it holds a NUL character (%00)`, changes };
    if (canonical !== path) changes.push(`RFC 3986 normalisation turns "${path}" into "${canonical}"`);
    path = canonical;
  }
  if (config.mergeSlashes) {
    const merged = mergeSlashes(path);
    if (merged !== path) changes.push(`merge_slashes turns "${path}" into "${merged}"`);
    path = merged;
  }
  return { outcome: redirect ? 'redirect' : 'forward', path, changes };
}

function splitQuery(path: string): [string, string] {
  const q = path.indexOf('?');
  return q >= 0 ? [path.slice(0, q), path.slice(q)] : [path, ''];
}

/** PathUtil::unescapeSlashes: %2F and %5C (either case) in the path, never the query. */
export function unescapeSlashes(full: string): string {
  const [path, query] = splitQuery(full);
  if (!path.includes('%')) return full;
  return path.replaceAll('%2F', '/').replaceAll('%2f', '/').replaceAll('%5C', '\\').replaceAll('%5c', '\\') + query;
}

/** PathTransformer::mergeSlashes: repeated slashes of the path (not the query) become one. */
export function mergeSlashes(full: string): string {
  const [path, query] = splitQuery(full);
  if (!path.includes('//')) return full;
  const segments = path.split('/').filter((s) => s !== '');
  return (path.startsWith('/') ? '/' : '') + segments.join('/') + (path.endsWith('/') ? '/' : '') + query;
}

/**
 * PathUtil::canonicalPath: the path (not the query) with the parameters of "." and ".." segments
 * dropped (envoy.reloadable_features.strip_dotdot_segments_with_parameters), then canonicalised
 * by Chromium's url::CanonicalizePath; null when Envoy refuses it (an escaped or raw NUL).
 */
export function canonicalPath(full: string): string | null {
  const [path, query] = splitQuery(full);
  const canonical = canonicalizePath(stripParametersFromDotSegments(path));
  return canonical === null ? null : canonical + query;
}

/** "/a/..;x=y/b" → "/a/../b": a dot segment's ";params" would otherwise hide it from normalisation. */
function stripParametersFromDotSegments(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      const semicolon = segment.indexOf(';');
      const name = semicolon >= 0 ? segment.slice(0, semicolon) : segment;
      return semicolon >= 0 && (name === '.' || name === '..') ? name : segment;
    })
    .join('/');
}

// Chromium's kPathCharLookup (url_canon_path.cc, the googleurl Envoy builds): what a path byte becomes.
const PASS = 0;
const ESCAPE = 1;
/** An escaped byte that is written unescaped: unreserved characters. */
const UNESCAPE = 2;
/** A byte that fails canonicalisation (NUL), escaped or not. */
const INVALID = 3;
const PATH_CHARS: number[] = (() => {
  const table = new Array<number>(256).fill(ESCAPE);
  table[0] = INVALID;
  for (const c of "!$&'()*+,/:;=@[]") table[c.charCodeAt(0)] = PASS;
  for (const c of '-_~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz') table[c.charCodeAt(0)] = UNESCAPE;
  return table;
})();

const isHex = (b: number | undefined) =>
  b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));
const hex = (b: number) => '%' + b.toString(16).toUpperCase().padStart(2, '0');

/** url::CanonicalizePath over the path's UTF-8 bytes. */
function canonicalizePath(path: string): string | null {
  const bytes = Buffer.from(path, 'utf8');
  const at = (i: number) => bytes[i];
  /** Length of a dot at i: "." is 1, "%2e" (either case) is 3, anything else 0. */
  const dotAt = (i: number) =>
    at(i) === 0x2e ? 1 : at(i) === 0x25 && at(i + 1) === 0x32 && (at(i + 2) === 0x65 || at(i + 2) === 0x45) ? 3 : 0;
  const isSlash = (i: number) => at(i) === 0x2f || at(i) === 0x5c;
  let out = at(0) === 0x2f || at(0) === 0x5c ? '' : '/';
  let ok = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    const dot = dotAt(i);
    if (dot > 0) {
      if (!out.endsWith('/')) {
        out += '.';
        i += dot - 1;
        continue;
      }
      const after = i + dot;
      if (after === bytes.length || isSlash(after)) {
        // "." segment: dropped, with its slash.
        i = after === bytes.length ? after - 1 : after;
        continue;
      }
      const second = dotAt(after);
      if (second > 0 && (after + second === bytes.length || isSlash(after + second))) {
        // ".." segment: back up to the previous slash, never above the root.
        const trimmed = out.slice(0, -1);
        out = out.length > 1 ? trimmed.slice(0, trimmed.lastIndexOf('/') + 1) : out;
        i = after + second === bytes.length ? after + second - 1 : after + second;
        continue;
      }
      out += '.';
      i += dot - 1;
      continue;
    }
    if (b === 0x5c) {
      out += '/';
      continue;
    }
    if (b === 0x25) {
      if (isHex(at(i + 1)) && isHex(at(i + 2))) {
        const value = parseInt(String.fromCharCode(at(i + 1), at(i + 2)), 16);
        const kind = PATH_CHARS[value];
        if (kind === UNESCAPE) out += String.fromCharCode(value);
        else {
          out += '%' + String.fromCharCode(at(i + 1), at(i + 2));
          if (kind === INVALID) ok = false;
        }
        i += 2;
      } else out += '%';
      continue;
    }
    const kind = PATH_CHARS[b];
    if (kind === INVALID) {
      out += hex(b);
      ok = false;
    } else if (kind === ESCAPE) out += hex(b);
    else out += String.fromCharCode(b);
  }
  return ok ? out : null;
}
