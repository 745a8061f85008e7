// The change in every proxy class's Envoy config: objects added, removed and changed field by field,
// and the routing sentences. Pure, over content hashes: unchanged classes and unchanged objects are
// never loaded, and an object pair shared by many classes is compared once.
import type { EnvoyObject } from '../generator/protocol.js';
import { diffJson } from './json-diff.js';
import { ENVOY_TYPES, type EnvoyObjectChange, type EnvoyType, type ProxyConfigChange } from './model.js';
import { objectDelta, pairClasses, type ClassPair, type ProxyClass } from './proxy-class.js';
import { referencedClusters, routingChanges, sideView, type Memo } from './routing.js';

export type Delta = Record<EnvoyType, { added: string[]; removed: string[]; changed: string[] }>;

export interface ProxyDiffPlan {
  pairs: ClassPair[];
  deltas: Delta[];
  /** The objects the comparison reads (changed, added and removed ones). */
  hashes: string[];
}

const FIELD_LIMIT = 50;

export function planProxyDiff(base: readonly ProxyClass[], head: readonly ProxyClass[], memo?: Memo): ProxyDiffPlan {
  const pairs = pairClasses(base, head);
  const hashes = new Set<string>();
  const deltas = pairs.map((pair) => {
    // The delta of two configs depends on their hashes only (thousands of names per class on a big mesh).
    const compute = () => Object.fromEntries(ENVOY_TYPES.map((t) => [t, objectDelta(pair, t)])) as Delta;
    const delta = pair.base && pair.head && memo ? memoised(memo, `d|${pair.base.configHash}|${pair.head.configHash}`, compute) : compute();
    if (pair.base && pair.head) {
      for (const t of ENVOY_TYPES) {
        for (const n of [...delta[t].changed, ...delta[t].removed]) hashes.add(pair.base.objects[t][n]!);
        for (const n of [...delta[t].changed, ...delta[t].added]) hashes.add(pair.head.objects[t][n]!);
      }
    }
    return delta;
  });
  return { pairs, deltas, hashes: [...hashes].sort() };
}

/** Further objects the sentences read once the changed ones are loaded: the clusters and endpoints routes now send to. */
export function contextHashes(plan: ProxyDiffPlan, lookup: (hash: string) => EnvoyObject | undefined, memo?: Memo): string[] {
  const out = new Set<string>();
  plan.pairs.forEach((pair, i) => {
    if (!pair.base || !pair.head) return;
    const delta = plan.deltas[i]!;
    const names = [...referencedClusters(delta.routes, sideView(pair.base, lookup), sideView(pair.head, lookup), memo), ...delta.clusters.added];
    for (const n of names) {
      const c = pair.head.objects.clusters[n];
      const e = pair.head.objects.endpoints[n];
      if (c && !lookup(c)) out.add(c);
      if (e && !lookup(e)) out.add(e);
    }
  });
  return [...out].sort();
}

export function diffProxies(plan: ProxyDiffPlan, lookup: (hash: string) => EnvoyObject | undefined, memo: Memo = new Map()): ProxyConfigChange[] {
  return plan.pairs.map((pair, i) => {
    const delta = plan.deltas[i]!;
    const cls = (pair.head ?? pair.base)!;
    if (!pair.base || !pair.head) {
      const counts = ENVOY_TYPES.map((t) => `${Object.keys(cls.objects[t]).length} ${t}`).join(', ');
      const type = cls.proxyType === 'ROUTER' ? 'a gateway proxy' : 'a sidecar';
      return {
        classKey: cls.classKey,
        proxyType: cls.proxyType,
        workloads: pair.workloads,
        change: pair.head ? 'ADDED' : 'REMOVED',
        objects: [],
        routing: [
          {
            kind: 'LISTENER',
            destination: '*',
            sentence: pair.head ? `Now has ${type} (${counts}).` : `No longer has ${type} (it had ${counts}): its traffic is no longer routed by Istio.`,
          },
        ],
      } satisfies ProxyConfigChange;
    }
    // What changed between two configs depends on their hashes only: computed once, kept in `memo`.
    const sides = { base: pair.base, head: pair.head };
    const { objects, routing } = memoised(memo, `p|${sides.base.configHash}|${sides.head.configHash}`, () => changeOf(sides, delta, lookup, memo));
    return { classKey: cls.classKey, proxyType: cls.proxyType, workloads: pair.workloads, change: 'CHANGED', objects, routing } satisfies ProxyConfigChange;
  });
}

function changeOf(
  pair: { base: ProxyClass; head: ProxyClass },
  delta: Delta,
  lookup: (hash: string) => EnvoyObject | undefined,
  memo: Memo,
): Pick<ProxyConfigChange, 'objects' | 'routing'> {
  const objects: EnvoyObjectChange[] = [];
  for (const type of ENVOY_TYPES) {
    const d = delta[type];
    for (const name of d.added) objects.push({ type, name, change: 'ADDED', fields: [], truncated: false });
    for (const name of d.removed) objects.push({ type, name, change: 'REMOVED', fields: [], truncated: false });
    for (const name of d.changed) {
      const hb = pair.base.objects[type][name]!;
      const hh = pair.head.objects[type][name]!;
      const fields = memoised(memo, `f|${hb}|${hh}`, () => diffJson(lookup(hb), lookup(hh), { limit: FIELD_LIMIT + 1 }));
      objects.push({ type, name, change: 'CHANGED', fields: fields.slice(0, FIELD_LIMIT), truncated: fields.length > FIELD_LIMIT });
    }
  }
  objects.sort((a, b) => ENVOY_TYPES.indexOf(a.type) - ENVOY_TYPES.indexOf(b.type) || a.name.localeCompare(b.name));
  const routing = routingChanges(delta, sideView(pair.base, lookup), sideView(pair.head, lookup), memo);
  return { objects, routing };
}

function memoised<T>(m: Memo, key: string, compute: () => T): T {
  if (m.has(key)) return m.get(key) as T;
  const v = compute();
  m.set(key, v);
  return v;
}
