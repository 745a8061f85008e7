// Proxy classes: workloads that get the same Envoy config, which is stored and compared once.
// The diff reads them through ProxyConfigSource: computed by the generator today, read from the
// stored per-class tables later, with the same content-addressed shape (object name → hash).
import { createHash } from 'node:crypto';
import { objectName } from '../envoy/names.js';
import { contentHash } from '../model/canonical.js';
import {
  CONFIG_KEY,
  ENVOY_TYPES,
  type ConfigKey,
  type EnvoyObject,
  type EnvoyType,
  type GeneratedConfig,
  type ProxyInfo,
} from '../model/proxy.js';
import type { RouteSources } from '../envoy/provenance.js';
import type { IndexedProxyClass } from '../model/proxy-class.js';
import type { WorkloadRef } from './model.js';
import { compareStrings } from '../model/compare.js';

/** Names of each type added, removed and changed from one config to another, each list sorted. */
export type ObjectDelta = Record<EnvoyType, { added: string[]; removed: string[]; changed: string[] }>;

/** The diff compares classes with their config (src/model/proxy-class.ts). */
export interface ProxyClass extends IndexedProxyClass<WorkloadRef> {
  /**
   * Optional: the delta from this class's config to `head`'s, from what the two do not share (a
   * stored config's tree: equal subtrees are skipped), where the source can; otherwise undefined,
   * and every name of both is compared.
   */
  deltaTo?(head: ProxyClass): ObjectDelta | undefined;
}

/** Where the diff reads the proxies of a snapshot from. */
export interface ProxyConfigSource {
  classes(snapshotId: string): Promise<ProxyClass[]>;
  /** Envoy objects by content hash (any unknown hash is left out). */
  objects(snapshotId: string, hashes: readonly string[]): Promise<Map<string, EnvoyObject>>;
  /**
   * Optional: the classes of both sides at once, where a source can skip reading what does not
   * change: a class whose every workload keeps an equal config on the other side (pairClasses
   * drops it unread) may come without its objects.
   */
  classesOfPair?(baseId: string, headId: string): Promise<{ base: ProxyClass[]; head: ProxyClass[] }>;
  /** Optional: objects of either side in one read, for a source whose hashes mean the same object in every snapshot. */
  objectsOfPair?(baseId: string, headId: string, hashes: readonly string[]): Promise<Map<string, EnvoyObject>>;
  /**
   * Optional: route configuration pairs (by hash) trimmed to the virtual hosts that differ
   * position by position, plus those whose domains include `*` (see trimmableRoutePairs), by hash;
   * a pair the source cannot trim is left out whole (both its hashes), and is read as usual.
   */
  trimmedRoutePairs?(pairs: readonly { base: string; head: string }[]): Promise<Map<string, EnvoyObject>>;
  /** Optional: the Gateway API routes behind the snapshot's routes, for sentences that name them. */
  routeSources?(snapshotId: string): Promise<RouteSources>;
}

/** A generated config as an index of hashes, adding its objects to `pool`. */
export function indexConfig(
  config: Pick<GeneratedConfig, ConfigKey>,
  pool?: Map<string, EnvoyObject>,
): { objects: ProxyClass['objects']; configHash: string } {
  const objects: ProxyClass['objects'] = { listener: {}, route: {}, cluster: {}, endpoint: {} };
  const all = createHash('sha256');
  for (const type of ENVOY_TYPES) {
    for (const object of config[CONFIG_KEY[type]] ?? []) {
      const hash = contentHash(object);
      const name = objectName(type, object);
      objects[type][name] = hash;
      pool?.set(hash, object);
    }
    for (const name of Object.keys(objects[type]).sort()) all.update(`${CONFIG_KEY[type]}\u0000${name}\u0000${objects[type][name]}\n`);
  }
  return { objects, configHash: all.digest('hex') };
}

/**
 * What makes istiod build the same config for two proxies: type, namespaces, labels, version,
 * the services they serve and their Sidecar; not their own id and addresses.
 */
export function classKeyOf(proxy: ProxyInfo): string {
  const { id: _id, ips: _ips, ...rest } = proxy;
  return contentHash(rest).slice(0, 16);
}

export function compareWorkloads(a: WorkloadRef, b: WorkloadRef): number {
  return compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name);
}

export function workloadName(w: WorkloadRef): string {
  return `${w.namespace}/${w.name}`;
}

/** One comparison to make: the workloads that were in base class `base` and are in head class `head`. */
export interface ClassPair {
  base: ProxyClass | null;
  head: ProxyClass | null;
  workloads: WorkloadRef[];
}

/**
 * Pairs base and head classes through their workloads, so a class whose key changed (new labels)
 * is still compared with what its workloads had. Pairs whose config hash is equal are dropped.
 */
export function pairClasses(base: readonly ProxyClass[], head: readonly ProxyClass[]): ClassPair[] {
  const side = (classes: readonly ProxyClass[]) => {
    const byWorkload = new Map<string, ProxyClass>();
    for (const c of classes) for (const w of c.workloads) byWorkload.set(workloadName(w), c);
    return byWorkload;
  };
  const b = side(base);
  const h = side(head);
  const pairs = new Map<string, ClassPair>();
  const workloads = new Map<string, WorkloadRef>();
  for (const c of [...base, ...head]) for (const w of c.workloads) workloads.set(workloadName(w), w);
  for (const [key, w] of workloads) {
    const bc = b.get(key) ?? null;
    const hc = h.get(key) ?? null;
    if (bc && hc && bc.configHash === hc.configHash) continue;
    const pairKey = `${bc?.classKey ?? '-'}|${hc?.classKey ?? '-'}`;
    let pair = pairs.get(pairKey);
    if (!pair) pairs.set(pairKey, (pair = { base: bc, head: hc, workloads: [] }));
    pair.workloads.push(w);
  }
  const out = [...pairs.values()];
  for (const p of out) p.workloads.sort(compareWorkloads);
  return out.sort((x, y) => compareWorkloads(x.workloads[0], y.workloads[0]));
}

/** Names of each type added, removed and changed between the two sides of a pair. */
export function objectDelta(pair: ClassPair, type: EnvoyType): { added: string[]; removed: string[]; changed: string[] } {
  const before = pair.base?.objects[type] ?? {};
  const after = pair.head?.objects[type] ?? {};
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  for (const name of Object.keys(after)) {
    const hb = before[name];
    if (hb === undefined) added.push(name);
    else if (hb !== after[name]) changed.push(name);
  }
  for (const name of Object.keys(before)) if (after[name] === undefined) removed.push(name);
  return { added: added.sort(), removed: removed.sort(), changed: changed.sort() };
}
