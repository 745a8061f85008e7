// Field-level differences between two JSON values, as readable paths. Pure.
//
// Paths: `spec.http[0].route[1].weight`; members that are not identifiers are quoted
// (`metadata.annotations["example.com/x"]`); elements of arrays whose every element is an object
// with a distinct string `name` are addressed by it (`virtualHosts[name=catalog:80].routes[name=canary]`),
// so an insertion does not shift everything after it. Other arrays of objects are aligned on their
// equal elements (longest common subsequence) before what is left is compared pairwise; arrays of
// scalars are compared as one value.
import { canonicalJson } from '../model/canonical.js';

export type ChangeKind = 'ADDED' | 'REMOVED' | 'CHANGED';

export interface FieldChange {
  path: string;
  change: ChangeKind;
  /** undefined when ADDED */
  before?: unknown;
  /** undefined when REMOVED */
  after?: unknown;
}

export interface DiffOptions {
  /** Paths to leave out (the change and everything under it), e.g. noise. */
  ignore?: (path: string, segments: readonly string[]) => boolean;
  /** Stop after this many changes (a value changed wholesale counts once). */
  limit?: number;
}

// Beyond this many elements on both sides, arrays are compared index by index (LCS is quadratic).
const LCS_MAX = 400;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$@-]*$/;

export function memberSegment(key: string): string {
  return IDENT.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function joinPath(base: string, segment: string): string {
  const joined = base + segment;
  return joined.startsWith('.') ? joined.slice(1) : joined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * `canonicalJson(a) === canonicalJson(b)`, without building either string: a walk that stops at
 * the first difference. (Canonicalising whole route configurations of a big mesh, megabytes each,
 * at every level of the walk was most of a diff's time.)
 */
export function canonicalEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ao = a !== null && typeof a === 'object';
  const bo = b !== null && typeof b === 'object';
  if (!ao || !bo) {
    if (ao || bo) return false;
    if (typeof a === 'string' && typeof b === 'string') return false;
    if (typeof a === 'number' && typeof b === 'number') return !Number.isFinite(a) && !Number.isFinite(b);
    return (JSON.stringify(a) ?? 'null') === (JSON.stringify(b) ?? 'null');
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!canonicalEqual(a[i], b[i])) return false;
    return true;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let defined = 0;
  for (const key of Object.keys(ra)) {
    const av = ra[key];
    if (av === undefined) continue;
    defined++;
    if (!Object.hasOwn(rb, key) || !canonicalEqual(av, rb[key])) return false;
  }
  for (const key of Object.keys(rb)) if (rb[key] !== undefined) defined--;
  return defined === 0;
}

/** Every field-level change from `before` to `after`, in document order. */
export function diffJson(before: unknown, after: unknown, options: DiffOptions = {}): FieldChange[] {
  const out: FieldChange[] = [];
  const limit = options.limit ?? Infinity;
  walk(before, after, '', [], out, options, limit);
  return out;
}

function walk(a: unknown, b: unknown, path: string, segments: string[], out: FieldChange[], opts: DiffOptions, limit: number): void {
  if (out.length >= limit) return;
  if (path && opts.ignore?.(path, segments)) return;
  if (a === b) return;
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of [...keys].sort()) {
      const p = joinPath(path, memberSegment(key));
      const segs = [...segments, key];
      const av = a[key];
      const bv = b[key];
      if (av === undefined && bv === undefined) continue;
      if (av === undefined) {
        if (!opts.ignore?.(p, segs)) out.push({ path: p, change: 'ADDED', after: bv });
      } else if (bv === undefined) {
        if (!opts.ignore?.(p, segs)) out.push({ path: p, change: 'REMOVED', before: av });
      } else walk(av, bv, p, segs, out, opts, limit);
      if (out.length >= limit) return;
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    walkArray(a, b, path, segments, out, opts, limit);
    return;
  }
  if (!canonicalEqual(a, b)) out.push({ path, change: 'CHANGED', before: a, after: b });
}

function namesOf(items: unknown[]): string[] | null {
  const names: string[] = [];
  for (const item of items) {
    if (!isObject(item) || typeof item.name !== 'string') return null;
    names.push(item.name);
  }
  return new Set(names).size === names.length ? names : null;
}

function walkArray(
  a: unknown[],
  b: unknown[],
  path: string,
  segments: string[],
  out: FieldChange[],
  opts: DiffOptions,
  limit: number,
): void {
  const keyed = a.length + b.length > 0 ? [namesOf(a), namesOf(b)] : [null, null];
  if (keyed[0] && keyed[1]) {
    // No equality check of the whole array first: each element is compared anyway, and a route
    // configuration's thousand virtual hosts would be walked twice.
    const [na, nb] = keyed as [string[], string[]];
    const inA = new Map(na.map((n, i) => [n, i]));
    const inB = new Map(nb.map((n, i) => [n, i]));
    // Head order first, then what only the base had.
    for (let j = 0; j < nb.length; j++) {
      const name = nb[j];
      const seg = `[name=${name}]`;
      const p = joinPath(path, seg);
      const i = inA.get(name);
      if (i === undefined) out.push({ path: p, change: 'ADDED', after: b[j] });
      else if (!canonicalEqual(a[i], b[j])) walk(a[i], b[j], p, [...segments, seg], out, opts, limit);
      if (out.length >= limit) return;
    }
    for (let i = 0; i < na.length; i++) {
      if (inB.has(na[i])) continue;
      out.push({ path: joinPath(path, `[name=${na[i]}]`), change: 'REMOVED', before: a[i] });
      if (out.length >= limit) return;
    }
    return;
  }
  if (canonicalEqual(a, b)) return;
  const scalars = [...a, ...b].every((v) => v === null || typeof v !== 'object');
  if (scalars) {
    out.push({ path, change: 'CHANGED', before: a, after: b });
    return;
  }
  // Unnamed objects: aligned on their canonical JSON.
  const sa = a.map(canonicalJson);
  const sb = b.map(canonicalJson);
  for (const step of align(sa, sb)) {
    if (out.length >= limit) return;
    if (step.i !== undefined && step.j !== undefined) {
      if (sa[step.i] !== sb[step.j])
        walk(a[step.i], b[step.j], joinPath(path, `[${step.j}]`), [...segments, String(step.j)], out, opts, limit);
    } else if (step.j !== undefined) out.push({ path: joinPath(path, `[${step.j}]`), change: 'ADDED', after: b[step.j] });
    else if (step.i !== undefined) out.push({ path: joinPath(path, `[${step.i}]`), change: 'REMOVED', before: a[step.i] });
  }
}

/**
 * Pairs of indexes: equal elements matched by LCS; between two matches, leftovers are paired in
 * order (changed), the rest added or removed.
 */
export function align(sa: readonly string[], sb: readonly string[]): { i?: number; j?: number }[] {
  const n = sa.length;
  const m = sb.length;
  let anchors: [number, number][] = [];
  if (n <= LCS_MAX && m <= LCS_MAX) {
    const dp: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--) dp[i][j] = sa[i] === sb[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (sa[i] === sb[j]) {
        anchors.push([i, j]);
        i++;
        j++;
      } else if (dp[i + 1][j] >= dp[i][j + 1]) i++;
      else j++;
    }
  } else {
    anchors = [];
  }
  const steps: { i?: number; j?: number }[] = [];
  let pi = 0;
  let pj = 0;
  const gap = (ei: number, ej: number) => {
    while (pi < ei && pj < ej) steps.push({ i: pi++, j: pj++ });
    while (pj < ej) steps.push({ j: pj++ });
    while (pi < ei) steps.push({ i: pi++ });
  };
  for (const [ai, aj] of anchors) {
    gap(ai, aj);
    steps.push({ i: pi++, j: pj++ });
  }
  gap(n, m);
  return steps;
}

/** A value for one line of text: JSON, shortened. */
export function briefJson(value: unknown, max = 80): string {
  if (value === undefined) return '(none)';
  const s = typeof value === 'string' ? JSON.stringify(value) : canonicalJson(value);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
