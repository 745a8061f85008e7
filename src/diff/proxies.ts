// The change in every proxy class's Envoy config: objects added, removed and changed field by field,
// and the routing sentences. Pure, over content hashes: unchanged classes and unchanged objects are
// never loaded, and an object pair shared by many classes is compared once. Classes whose change is
// the very same are reported once, with all their workloads: on a big mesh, one changed service
// changes every caller's config the same way.
import { createHash } from 'node:crypto';
import { CONFIG_KEY, ENVOY_TYPES, type EnvoyObject } from '../model/proxy.js';
import { contentHash, jsonHash } from '../model/canonical.js';
import { diffJson, type FieldChange } from './json-diff.js';
import type { EnvoyObjectChange, ProxyConfigChange, RoutingChange } from './model.js';
import { compareWorkloads, objectDelta, pairClasses, type ClassPair, type ObjectDelta, type ProxyClass } from './proxy-class.js';
import type { RouteSources } from '../envoy/provenance.js';
import {
  memoised,
  memoisedPair,
  PairMemo,
  referencedClusters,
  routeSourcesKey,
  routingChanges,
  sideView,
  type Memo,
  type SideView,
} from './routing.js';
import { compareStrings } from '../model/compare.js';

export type Delta = ObjectDelta;

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
    const compute = () =>
      (pair.base && pair.head && pair.base.deltaTo?.(pair.head)) ??
      (Object.fromEntries(ENVOY_TYPES.map((t) => [t, objectDelta(pair, t)])) as Delta);
    const delta = pair.base && pair.head && memo ? memoised(memo, `d|${pair.base.configHash}|${pair.head.configHash}`, compute) : compute();
    if (pair.base && pair.head) {
      for (const t of ENVOY_TYPES) {
        for (const n of [...delta[t].changed, ...delta[t].removed]) hashes.add(pair.base.objects[t][n]);
        for (const n of [...delta[t].changed, ...delta[t].added]) hashes.add(pair.head.objects[t][n]);
      }
    }
    return delta;
  });
  return { pairs, deltas, hashes: [...hashes].sort() };
}

/**
 * The changed route configurations that may be read trimmed (ProxyConfigSource.trimmedRoutePairs):
 * pairs (base hash, head hash) of which each side is in no other pair and read in full nowhere
 * (added or removed in a class). Why a pair trimmed on each side to the virtual hosts that differ
 * (by position) gives the diff the full pair gives, when both sides' virtual hosts have distinct
 * names: diffJson addresses them by name (`virtualHosts[name=…]`) in head order, then base order,
 * and skips equal ones; changedVhosts skips equal ones too. A virtual host left out is at a
 * position where both sides hold it equal, so it is equal by name and changes nothing; a name
 * kept on one side only is absent from the other (else the other would hold it twice). Those
 * whose domains include `*` are kept on both sides, for the wildcard fallback a removed host
 * falls to. A hash in two pairs could need two trimmings at once, hence the exclusivity.
 */
export function trimmableRoutePairs(plan: ProxyDiffPlan): { base: string; head: string }[] {
  const pairs = new Map<string, { base: string; head: string }>();
  const full = new Set<string>();
  plan.pairs.forEach((pair, i) => {
    if (!pair.base || !pair.head) return;
    const d = plan.deltas[i].route;
    for (const n of d.removed) full.add(pair.base.objects.route[n]);
    for (const n of d.added) full.add(pair.head.objects.route[n]);
    for (const n of d.changed) {
      const p = { base: pair.base.objects.route[n], head: pair.head.objects.route[n] };
      pairs.set(`${p.base}|${p.head}`, p);
    }
  });
  const uses = new Map<string, number>();
  for (const p of pairs.values()) for (const h of [p.base, p.head]) uses.set(h, (uses.get(h) ?? 0) + 1);
  return [...pairs.values()].filter((p) => [p.base, p.head].every((h) => uses.get(h) === 1 && !full.has(h)));
}

/** Further objects the sentences read once the changed ones are loaded: the clusters and endpoints routes now send to. */
export function contextHashes(plan: ProxyDiffPlan, lookup: (hash: string) => EnvoyObject | undefined, memo?: Memo): string[] {
  const out = new Set<string>();
  plan.pairs.forEach((pair, i) => {
    if (!pair.base || !pair.head) return;
    const delta = plan.deltas[i];
    const names = [
      ...referencedClusters(delta.route, sideView(pair.base, lookup), sideView(pair.head, lookup), memo),
      ...delta.cluster.added,
    ];
    for (const n of names) {
      const c = pair.head.objects.cluster[n];
      const e = pair.head.objects.endpoint[n];
      if (c && !lookup(c)) out.add(c);
      if (e && !lookup(e)) out.add(e);
    }
  });
  return [...out].sort();
}

/** One class pair's change, before classes with the same change are merged. */
interface PairChange {
  change: ProxyConfigChange;
  /** Equal for two pairs exactly when their proxy type, change kind, objects (fields included) and routing are equal. */
  signature: string;
}

export function diffProxies(
  plan: ProxyDiffPlan,
  lookup: (hash: string) => EnvoyObject | undefined,
  memo: Memo = new Map(),
  sources: { base?: RouteSources; head?: RouteSources } = {},
): ProxyConfigChange[] {
  const perDiff = new PairMemo(memo);
  const changes = plan.pairs.map((pair, i): PairChange => {
    const delta = plan.deltas[i];
    const cls = (pair.head ?? pair.base)!;
    const common = { classKey: cls.classKey, classKeys: [cls.classKey], proxyType: cls.proxyType, workloads: pair.workloads };
    if (!pair.base || !pair.head) {
      const counts = ENVOY_TYPES.map((t) => `${Object.keys(cls.objects[t]).length} ${CONFIG_KEY[t]}`).join(', ');
      const type = cls.proxyType === 'ROUTER' ? 'a gateway proxy' : 'a sidecar';
      const change: ProxyConfigChange = {
        ...common,
        change: pair.head ? 'ADDED' : 'REMOVED',
        objects: [],
        routing: [
          {
            kind: 'LISTENER',
            destination: '*',
            sentence: pair.head
              ? `Now has ${type} (${counts}).`
              : `No longer has ${type} (it had ${counts}): its traffic is no longer routed by Istio.`,
          },
        ],
      };
      return { change, signature: `${cls.proxyType}|${change.change}|${routingKey(change.routing)}` };
    }
    // What changed between two configs depends on their hashes only: computed once, kept in `memo`.
    const sides = { base: pair.base, head: pair.head };
    const views = { base: sideView(pair.base, lookup, sources.base), head: sideView(pair.head, lookup, sources.head) };
    const key = `p|${sides.base.configHash}|${sides.head.configHash}${routeSourcesKey(views.base, views.head)}`;
    const { objects, routing, signature } = memoised(memo, key, () => changeOf(sides, views, delta, lookup, perDiff));
    return { change: { ...common, change: 'CHANGED', objects, routing }, signature: `${cls.proxyType}|CHANGED|${signature}` };
  });
  return mergeEqualChanges(changes);
}

/**
 * Pairs with the very same change as one entry: their workloads and class keys together (sorted);
 * `classKey` stays the class of the first workload. Pairs come sorted by first workload, so the
 * entries are too.
 */
function mergeEqualChanges(changes: readonly PairChange[]): ProxyConfigChange[] {
  const merged = new Map<string, ProxyConfigChange>();
  for (const { change, signature } of changes) {
    const m = merged.get(signature);
    if (!m) merged.set(signature, { ...change, workloads: [...change.workloads], classKeys: [...change.classKeys] });
    else {
      m.workloads.push(...change.workloads);
      m.classKeys.push(...change.classKeys);
    }
  }
  const out = [...merged.values()];
  for (const m of out) {
    m.workloads.sort(compareWorkloads);
    m.classKeys = [...new Set(m.classKeys)].sort();
  }
  return out;
}

/** Field changes of one object pair, capped, with a key (a digest) equal for equal lists (to merge equal class changes). */
interface FieldDiff {
  fields: FieldChange[];
  truncated: boolean;
  key: string;
}

function changeOf(
  pair: { base: ProxyClass; head: ProxyClass },
  views: { base: SideView; head: SideView },
  delta: Delta,
  lookup: (hash: string) => EnvoyObject | undefined,
  memo: Memo,
): Pick<ProxyConfigChange, 'objects' | 'routing'> & { signature: string } {
  const objects: EnvoyObjectChange[] = [];
  const keys = new Map<EnvoyObjectChange, string>();
  for (const envoyType of ENVOY_TYPES) {
    const d = delta[envoyType];
    const type = CONFIG_KEY[envoyType];
    // Sorted by type (this loop's order), then by name.
    const ofType: EnvoyObjectChange[] = [];
    for (const name of d.added) ofType.push({ type, name, change: 'ADDED', fields: [], truncated: false });
    for (const name of d.removed) ofType.push({ type, name, change: 'REMOVED', fields: [], truncated: false });
    for (const name of d.changed) {
      // Through the views: the routing sentences look the same names up again.
      const hb = views.base.hash(envoyType, name)!;
      const hh = views.head.hash(envoyType, name)!;
      const f = memoisedPair(memo, 'f', hb, hh, (): FieldDiff => {
        const all = diffJson(lookup(hb), lookup(hh), { limit: FIELD_LIMIT + 1 });
        const fields = all.slice(0, FIELD_LIMIT);
        return { fields, truncated: all.length > FIELD_LIMIT, key: contentHash(fields) };
      });
      const o: EnvoyObjectChange = { type, name, change: 'CHANGED', fields: f.fields, truncated: f.truncated };
      keys.set(o, f.key);
      ofType.push(o);
    }
    objects.push(...ofType.sort((a, b) => compareStrings(a.name, b.name)));
  }
  const routing = routingChanges(delta, views.base, views.head, memo);
  // The lines hashed in one update (the digest of their concatenation): a call per line into the
  // hash, for every object and sentence of every class, cost more than the lines.
  const lines = objects.map((o) => `${o.type}\u0000${o.name}\u0000${o.change}\u0000${o.truncated}\u0000${keys.get(o) ?? ''}\n`);
  for (const r of routing) lines.push(`${routingId(r)}\n`);
  return { objects, routing, signature: createHash('sha256').update(lines.join('')).digest('hex') };
}

/**
 * A routing change's key as a digest, computed once per change object: the memos hand the same
 * objects to every class that shares a change, so a class's signature costs a digest per sentence,
 * not the JSON of all its sentences again. Equal digests: equal routingKey (the sequence of them
 * is as telling as the JSON of the whole list).
 */
const routingIds = new WeakMap<RoutingChange, string>();
export function routingId(r: RoutingChange): string {
  let id = routingIds.get(r);
  if (id === undefined) routingIds.set(r, (id = jsonHash(routingKey(r))));
  return id;
}

/**
 * Routing changes as a key: equal keys mean equal changes. Plain JSON, not canonical: they are flat
 * records of strings built in a fixed key order, and canonicalising every sentence of every class
 * was a tenth of a first diff on a big mesh; a change built in another key order would only be kept
 * apart, never merged wrongly.
 */
function routingKey(routing: RoutingChange | readonly RoutingChange[]): string {
  return JSON.stringify(routing);
}
