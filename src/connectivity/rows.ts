// Stored connectivity read back as rows: every workload of a sender class gets its class's
// connections, filtered by the destination's namespace and service. Pure.
import { compareStrings } from '../model/compare.js';
import type { ConfigRef } from '../model/config-ref.js';
import type { ConnectionGroup, ConnectionTls, ConnectivityVerdict as Verdict, SenderEntry } from '../model/connectivity.js';

export interface ConnectionSource {
  namespace: string;
  name: string;
  kind: string;
}

/** A Connection of the contract. */
export interface ConnectionRow {
  source: ConnectionSource;
  destination: string;
  verdict: Verdict;
  conditions: string[] | null;
  tls: ConnectionTls;
  policies: ConfigRef[];
  reason: string;
  causes: ConfigRef[];
}

export interface ConnectionFilter {
  /** the destination service's namespace */
  namespace?: string | null;
  /** the destination service's name (or host) */
  service?: string | null;
}

export function matchesFilter(g: Pick<ConnectionGroup, 'namespace' | 'service' | 'destination'>, f: ConnectionFilter): boolean {
  if (f.namespace && g.namespace !== f.namespace) return false;
  if (f.service && g.service !== f.service && !g.destination.startsWith(`${f.service}:`)) return false;
  return true;
}

export function membersByClass(senders: readonly SenderEntry[]): Map<string, ConnectionSource[]> {
  const out = new Map<string, ConnectionSource[]>();
  for (const s of senders) {
    const list = out.get(s.senderClass) ?? [];
    list.push({ namespace: s.namespace, name: s.name, kind: s.kind });
    out.set(s.senderClass, list);
  }
  return out;
}

export function toRow(source: ConnectionSource, g: ConnectionGroup): ConnectionRow {
  return {
    source,
    destination: g.destination,
    verdict: g.verdict,
    conditions: g.verdict === 'CONDITIONAL' ? g.conditions : null,
    tls: g.tls,
    policies: g.policies,
    reason: g.reason,
    causes: g.causes,
  };
}

/** The rows of the groups that pass the filter, by destination then source. */
export function expandConnections(
  groups: readonly ConnectionGroup[],
  senders: readonly SenderEntry[],
  filter: ConnectionFilter,
): ConnectionRow[] {
  const members = membersByClass(senders);
  const rows: ConnectionRow[] = [];
  for (const g of groups) {
    if (!matchesFilter(g, filter)) continue;
    for (const c of g.senders) for (const m of members.get(c) ?? []) rows.push(toRow(m, g));
  }
  return rows.sort(
    (a, b) =>
      compareStrings(a.destination, b.destination) ||
      compareStrings(`${a.source.namespace}/${a.source.name}`, `${b.source.namespace}/${b.source.name}`),
  );
}
