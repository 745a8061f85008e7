// What a change does to who can talk to whom: both snapshots' stored connectivity compared per
// sending workload and service port (workloads whose sender classes are the same pair on both
// sides compared once), each change in a sentence naming the resource behind it. Pure.
import { compareStrings } from '../model/compare.js';
import type { ConfigRef } from '../model/config-ref.js';
import type { Connectivity, ConnectionGroup } from '../model/connectivity.js';
import { toRow, type ConnectionRow, type ConnectionSource } from '../connectivity/rows.js';
import type { ResourceChange } from './model.js';

export type ConnectionChangeKind = 'OPENED' | 'CLOSED' | 'NARROWED' | 'WIDENED' | 'MTLS_LOST' | 'MTLS_GAINED';

export interface ConnectionChange {
  change: ConnectionChangeKind;
  before: ConnectionRow | null;
  after: ConnectionRow | null;
  sentence: string;
}

/** Closed connections and lost mTLS first: what a reviewer must see. */
export const CHANGE_ORDER: Record<ConnectionChangeKind, number> = {
  CLOSED: 0,
  MTLS_LOST: 1,
  NARROWED: 2,
  OPENED: 3,
  WIDENED: 4,
  MTLS_GAINED: 5,
};

const open = (g: ConnectionGroup | undefined): g is ConnectionGroup => g !== undefined && g.verdict !== 'DENIED';
const refText = (r: ConfigRef) => `${r.kind} ${r.namespace}/${r.name}`;

/** The changes, ordered: kind (CHANGE_ORDER), destination, source. */
export function diffConnectivity(
  base: Connectivity | null,
  head: Connectivity | null,
  resources: readonly Pick<ResourceChange, 'kind' | 'namespace' | 'name' | 'change'>[],
): ConnectionChange[] {
  if (!base || !head) return [];
  const changed = new Map(resources.map((r) => [`${r.kind} ${r.namespace ?? ''}/${r.name}`, r.change]));
  const byClass = (c: Connectivity) => {
    const out = new Map<string, Map<string, ConnectionGroup>>();
    for (const g of c.groups)
      for (const s of g.senders) {
        let m = out.get(s);
        if (!m) out.set(s, (m = new Map<string, ConnectionGroup>()));
        m.set(g.destination, g);
      }
    return out;
  };
  const baseRows = byClass(base);
  const headRows = byClass(head);
  const classOf = (c: Connectivity) => new Map(c.senders.map((s) => [`${s.namespace}/${s.name}/${s.kind}`, s.senderClass]));
  const baseClass = classOf(base);
  const headClass = classOf(head);
  // Workloads with the same (base class, head class) pair have the same changes.
  const pairs = new Map<string, { b: string | undefined; h: string | undefined; sources: ConnectionSource[] }>();
  const paired = new Set<string>();
  for (const s of [...base.senders, ...head.senders]) {
    const key = `${s.namespace}/${s.name}/${s.kind}`;
    const b = baseClass.get(key);
    const h = headClass.get(key);
    const pk = `${b ?? ''}|${h ?? ''}`;
    let p = pairs.get(pk);
    if (!p) pairs.set(pk, (p = { b, h, sources: [] }));
    // A workload has one pair (its two classes): seen once overall is seen once in its pair.
    if (paired.has(key)) continue;
    paired.add(key);
    p.sources.push({ namespace: s.namespace, name: s.name, kind: s.kind });
  }
  const fingerprint = new Map<ConnectionGroup, string>();
  const fp = (g: ConnectionGroup) => {
    let f = fingerprint.get(g);
    if (f === undefined) fingerprint.set(g, (f = JSON.stringify({ ...g, senders: undefined })));
    return f;
  };
  const out: ConnectionChange[] = [];
  for (const { b, h, sources } of pairs.values()) {
    const bm = (b && baseRows.get(b)) || new Map<string, ConnectionGroup>();
    const hm = (h && headRows.get(h)) || new Map<string, ConnectionGroup>();
    for (const destination of new Set([...bm.keys(), ...hm.keys()])) {
      const before = bm.get(destination);
      const after = hm.get(destination);
      if (before && after && fp(before) === fp(after)) continue;
      const kinds = classify(before, after);
      for (const kind of kinds)
        for (const source of sources)
          out.push({
            change: kind,
            before: before ? toRow(source, before) : null,
            after: after ? toRow(source, after) : null,
            sentence: sentence(kind, source, destination, before, after, changed),
          });
    }
  }
  // Each change's source key written once, not in each of the sort's comparisons (tens of
  // thousands of changes on a big mesh). The sort is stable: the same order as comparing changes.
  const sorted = out
    .map((change) => ({ change, source: sourceKey(change) }))
    .sort(
      (x, y) =>
        CHANGE_ORDER[x.change.change] - CHANGE_ORDER[y.change.change] ||
        compareStrings((x.change.after ?? x.change.before)!.destination, (y.change.after ?? y.change.before)!.destination) ||
        compareStrings(x.source, y.source),
    );
  return sorted.map((x) => x.change);
}

function sourceKey(c: ConnectionChange): string {
  const s = (c.after ?? c.before)!.source;
  return `${s.namespace}/${s.name}`;
}

function classify(before: ConnectionGroup | undefined, after: ConnectionGroup | undefined): ConnectionChangeKind[] {
  if (!open(before) && !open(after)) return [];
  if (!open(before)) return ['OPENED'];
  if (!open(after)) return ['CLOSED'];
  const kinds: ConnectionChangeKind[] = [];
  if (before.verdict === 'ALLOWED' && after.verdict === 'CONDITIONAL') kinds.push('NARROWED');
  else if (before.verdict === 'CONDITIONAL' && after.verdict === 'ALLOWED') kinds.push('WIDENED');
  else if (before.verdict === 'CONDITIONAL' && JSON.stringify(before.conditions) !== JSON.stringify(after.conditions))
    kinds.push(before.conditions.some((c) => !after.conditions.includes(c)) ? 'NARROWED' : 'WIDENED');
  if (before.tls === 'MTLS' && after.tls !== 'MTLS') kinds.push('MTLS_LOST');
  if (before.tls !== 'MTLS' && after.tls === 'MTLS') kinds.push('MTLS_GAINED');
  return kinds;
}

function sentence(
  kind: ConnectionChangeKind,
  source: ConnectionSource,
  destination: string,
  before: ConnectionGroup | undefined,
  after: ConnectionGroup | undefined,
  changed: Map<string, string>,
): string {
  const who = `${source.name} (${source.namespace})`;
  // The resources behind either side that this change touched: what caused it.
  const causes = [...(after?.causes ?? []), ...(before?.causes ?? [])].map(refText).filter((r, i, all) => all.indexOf(r) === i);
  const touched = causes.filter((r) => changed.has(r));
  const because = (reason: string | undefined) => {
    const named = touched.filter((t) => !reason?.includes(t.replace(/^\S+ /, '')));
    const extra = named.length ? ` (${named.map((t) => `${t} ${changed.get(t)!.toLowerCase()}`).join(', ')})` : '';
    return `${reason ?? ''}${extra}`;
  };
  const conds = (g: ConnectionGroup) => (g.verdict === 'ALLOWED' ? 'any request' : g.conditions.join('; or '));
  switch (kind) {
    case 'CLOSED':
      return after
        ? `${who} can no longer call ${destination}: ${because(after.reason)}`
        : `${who} can no longer call ${destination}: its config no longer reaches it${because(undefined)}`;
    case 'OPENED':
      return before
        ? `${who} can now call ${destination}: ${because(after!.reason)}`
        : `${who} can now call ${destination} (${after!.verdict === 'ALLOWED' ? 'any request' : conds(after!)})${because(undefined)}`;
    case 'NARROWED':
      return `${who} can call ${destination} for fewer requests, now ${conds(after!)}: ${because(after!.reason)}`;
    case 'WIDENED':
      return `${who} can call ${destination} for more requests, now ${conds(after!)}: ${because(after!.reason)}`;
    case 'MTLS_LOST':
      return `${who} → ${destination} is no longer mTLS (now ${after!.tls})${touched.length ? `: ${touched.map((t) => `${t} ${changed.get(t)!.toLowerCase()}`).join(', ')}` : ''}`;
    case 'MTLS_GAINED':
      return `${who} → ${destination} is now mTLS (was ${before!.tls})${touched.length ? `: ${touched.map((t) => `${t} ${changed.get(t)!.toLowerCase()}`).join(', ')}` : ''}`;
  }
}
