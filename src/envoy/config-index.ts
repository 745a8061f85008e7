// Indexes over a proxy's Envoy config for the route walk, built once per list and kept as long as
// the list is (a WeakMap on it): a stored or cached config is walked many times, and every walk
// then finds its listener, route configuration, virtual host and clusters by key instead of by
// scanning. Each index keeps the first object of a key, as the scans it replaces did. Pure.
import type { VirtualHost } from './xds.js';

const byNameIndexes = new WeakMap<readonly unknown[], Map<string, unknown>>();

/** The first object of `list` named `name` (as `list.find((o) => o.name === name)`). */
export function firstNamed<T extends { name?: string }>(list: readonly T[], name: string): T | undefined {
  let index = byNameIndexes.get(list) as Map<string, T> | undefined;
  if (!index) {
    index = new Map();
    for (const o of list) if (o.name !== undefined && !index.has(o.name)) index.set(o.name, o);
    byNameIndexes.set(list, index);
  }
  return index.get(name);
}

interface BoundAddress {
  address?: { socketAddress?: { address?: string; portValue?: number } };
}
const byAddressIndexes = new WeakMap<readonly unknown[], Map<string, unknown>>();

/** The first listener bound to `address`:`port` (as a find over the listeners). */
export function firstBound<T extends BoundAddress>(listeners: readonly T[], address: string, port: number): T | undefined {
  let index = byAddressIndexes.get(listeners) as Map<string, T> | undefined;
  if (!index) {
    index = new Map();
    for (const l of listeners) {
      const s = l.address?.socketAddress;
      if (s?.address === undefined) continue;
      const key = `${s.address}\u0000${s.portValue ?? 0}`;
      if (!index.has(key)) index.set(key, l);
    }
    byAddressIndexes.set(listeners, index);
  }
  return index.get(`${address}\u0000${port}`);
}

/** A route configuration's virtual hosts by domain: exact domains (lower-cased) and the wildcard ones in order. */
export interface DomainIndex {
  exact: Map<string, VirtualHost>;
  /** `*.suffix` domains, in the order of the virtual hosts and their domains */
  suffix: { vh: VirtualHost; domain: string }[];
  /** `prefix*` domains, likewise */
  prefix: { vh: VirtualHost; domain: string }[];
  /** the first virtual host with the domain `*` */
  any?: VirtualHost;
}
const domainIndexes = new WeakMap<readonly VirtualHost[], DomainIndex>();

export function domainIndex(hosts: readonly VirtualHost[]): DomainIndex {
  let index = domainIndexes.get(hosts);
  if (index) return index;
  index = { exact: new Map(), suffix: [], prefix: [] };
  for (const vh of hosts) {
    for (const d of vh.domains ?? []) {
      const lower = d.toLowerCase();
      if (!index.exact.has(lower)) index.exact.set(lower, vh);
      if (d.length > 1 && d.startsWith('*')) index.suffix.push({ vh, domain: d });
      if (d.length > 1 && d.endsWith('*')) index.prefix.push({ vh, domain: d });
      if (d === '*' && !index.any) index.any = vh;
    }
  }
  domainIndexes.set(hosts, index);
  return index;
}

const byClusterNameIndexes = new WeakMap<readonly unknown[], Map<string, unknown>>();

/** The first cluster load assignment of `list` for `clusterName` (as a find over the list). */
export function firstAssignment<T extends { clusterName?: string }>(list: readonly T[], clusterName: string): T | undefined {
  let index = byClusterNameIndexes.get(list) as Map<string, T> | undefined;
  if (!index) {
    index = new Map();
    for (const a of list) if (a.clusterName !== undefined && !index.has(a.clusterName)) index.set(a.clusterName, a);
    byClusterNameIndexes.set(list, index);
  }
  return index.get(clusterName);
}
