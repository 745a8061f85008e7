// Stored connectivity prepared for reading: built once per stored list (the service keeps a few in
// a bounded LRU), then every read is a walk over the destinations that pass the filter, expanding
// only the page asked for. Rows come out by destination, then by source (as expandConnections).
// Pure.
import { compareStrings } from '../model/compare.js';
import type { Connectivity, ConnectionGroup } from '../model/connectivity.js';
import { matchesFilter, toRow, type ConnectionFilter, type ConnectionRow, type ConnectionSource } from './rows.js';

/** A sending workload and its place in the order by `namespace/name`. */
interface Member {
  source: ConnectionSource;
  rank: number;
}

/** One destination (service port) and the groups that reach it. */
interface Destination {
  namespace: string;
  service: string;
  destination: string;
  groups: ConnectionGroup[];
}

export interface ConnectivityIndex {
  /** every destination, sorted */
  destinations: Destination[];
  /** the destinations of each namespace, sorted */
  byNamespace: Map<string, Destination[]>;
  /** the members of each sender class, by rank */
  members: Map<string, Member[]>;
}

/** Which page of rows: `offset` rows skipped, at most `limit` returned (all when absent). */
export interface ConnectionPage {
  offset?: number | null;
  limit?: number | null;
}

export interface ConnectionQuery extends ConnectionFilter {
  /** a sending workload: `namespace/name`, or a name in any namespace */
  source?: string | null;
}

export function buildConnectivityIndex(stored: Connectivity): ConnectivityIndex {
  const ordered = stored.senders
    .map((s) => ({ namespace: s.namespace, name: s.name, kind: s.kind, key: `${s.namespace}/${s.name}`, senderClass: s.senderClass }))
    .sort((a, b) => compareStrings(a.key, b.key));
  const members = new Map<string, Member[]>();
  ordered.forEach((s, rank) => {
    const list = members.get(s.senderClass) ?? [];
    list.push({ source: { namespace: s.namespace, name: s.name, kind: s.kind }, rank });
    members.set(s.senderClass, list);
  });
  const byDestination = new Map<string, Destination>();
  for (const g of stored.groups) {
    const d = byDestination.get(g.destination);
    if (d) d.groups.push(g);
    else byDestination.set(g.destination, { namespace: g.namespace, service: g.service, destination: g.destination, groups: [g] });
  }
  const destinations = [...byDestination.values()].sort((a, b) => compareStrings(a.destination, b.destination));
  const byNamespace = new Map<string, Destination[]>();
  for (const d of destinations) {
    const list = byNamespace.get(d.namespace) ?? [];
    list.push(d);
    byNamespace.set(d.namespace, list);
  }
  return { destinations, byNamespace, members };
}

function sourceMatcher(source: string | null | undefined): ((s: ConnectionSource) => boolean) | null {
  if (!source) return null;
  const slash = source.indexOf('/');
  if (slash < 0) return (s) => s.name === source;
  const namespace = source.slice(0, slash);
  const name = source.slice(slash + 1);
  return (s) => s.namespace === namespace && s.name === name;
}

/** The members of one group that the source filter keeps. */
function groupMembers(index: ConnectivityIndex, g: ConnectionGroup, keep: ((s: ConnectionSource) => boolean) | null): Member[] {
  const out: Member[] = [];
  for (const c of g.senders) {
    const list = index.members.get(c);
    if (!list) continue;
    if (!keep) out.push(...list);
    else for (const m of list) if (keep(m.source)) out.push(m);
  }
  return out;
}

function groupCount(index: ConnectivityIndex, g: ConnectionGroup): number {
  let n = 0;
  for (const c of g.senders) n += index.members.get(c)?.length ?? 0;
  return n;
}

/**
 * The rows that pass the query, by destination then source, and how many there are in all
 * (before paging). Only the rows of the page are built.
 */
export function queryConnections(
  index: ConnectivityIndex,
  query: ConnectionQuery,
  page: ConnectionPage = {},
): { rows: ConnectionRow[]; total: number } {
  const candidates = query.namespace ? (index.byNamespace.get(query.namespace) ?? []) : index.destinations;
  const keep = sourceMatcher(query.source);
  const offset = Math.max(0, page.offset ?? 0);
  const limit = page.limit == null ? Infinity : Math.max(0, page.limit);
  const rows: ConnectionRow[] = [];
  let total = 0;
  for (const d of candidates) {
    const groups = d.groups.filter((g) => matchesFilter(g, query));
    if (groups.length === 0) continue;
    const before = total;
    if (!keep) {
      // Counting alone, unless part of this destination falls in the page.
      for (const g of groups) total += groupCount(index, g);
      if (total <= offset || before >= offset + limit) continue;
    }
    const entries: { m: Member; g: ConnectionGroup }[] = [];
    for (const g of groups) for (const m of groupMembers(index, g, keep)) entries.push({ m, g });
    if (keep) total += entries.length;
    if (total <= offset || before >= offset + limit) continue;
    entries.sort((a, b) => a.m.rank - b.m.rank);
    const from = Math.max(0, offset - before);
    const to = Math.min(entries.length, offset + limit - before);
    for (let i = from; i < to; i++) rows.push(toRow(entries[i].m.source, entries[i].g));
  }
  return { rows, total };
}
