// Content-addressed storage of generated proxy config: pure functions, no I/O.
//
// Every Envoy object (listener, route configuration, cluster, cluster load assignment) is stored
// once by the hash of its canonical JSON. A proxy's config is the set of its objects, stored as a
// small Merkle tree whose root's hash is the config's hash (same hash, same config):
//   - its objects sorted by (type, name) fall into segments by type and name prefix (istiod names
//     clusters `direction|port|subset|host`: outbound clusters, inbound clusters, ...). A segment of
//     SEGMENT_MIN objects or more gets a tree of its own, content-defined chunks like a prolly
//     tree: leaves hold object hashes, inner nodes child hashes, every node keyed by the hash of
//     its content. Chunk boundaries depend only on object names (leaves) and child hashes (inner
//     nodes), never on positions.
//   - the smaller segments are grouped by type, a leaf per type;
//   - the root holds those trees' roots and leaves: a handful of hashes.
// So every sidecar of a mesh shares one tree of outbound clusters and one of their endpoints, the
// sidecars of a namespace one leaf of route configurations; a snapshot that changes one cluster
// stores one new leaf and the nodes above it once, plus a root of a few hashes per proxy class; a
// class's own objects (its inbound listener and clusters) sit in leaves of their own, not in chunks
// shared with others.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../model/canonical.js';
import { objectName } from '../envoy/names.js';
import { CONFIG_KEY, ENVOY_TYPES, type ConfigKey, type EnvoyObject, type EnvoyType, type GeneratedConfig } from '../model/proxy.js';
import { compareStrings } from '../model/compare.js';

/** The non-Envoy object type under which a proxy class's ProxyInfo (minus id and addresses) is stored. */
export const PROXY_INFO_TYPE = 'proxy';

/** Average leaf size is 2^LEAF_BITS objects, average fan-out of inner nodes 2^INNER_BITS. */
const LEAF_BITS = 5;
const INNER_BITS = 5;
/** At most this many hashes in a node of a segment tree (2 KiB: Postgres would move a larger row out of line, TOAST). */
const MAX_NODE_HASHES = 56;
/** A segment this large gets a tree of its own; smaller ones share a leaf per type. */
const SEGMENT_MIN = 64;

export interface PreparedObject {
  hash: string;
  type: string;
  name: string;
  /** canonical JSON of the body */
  json: string;
}

/**
 * Objects cut into consecutive parts, in order: each at least one object, then up to `bound.objects`
 * objects whose JSON stays within `bound.bytes` (a larger object is a part of its own). What one
 * statement, transaction or message takes at once.
 */
export function objectParts(objects: readonly PreparedObject[], bound: { bytes: number; objects: number }): PreparedObject[][] {
  const parts: PreparedObject[][] = [];
  let part: PreparedObject[] = [];
  let bytes = 0;
  for (const o of objects) {
    if (part.length > 0 && (part.length >= bound.objects || bytes + o.json.length > bound.bytes)) {
      parts.push(part);
      part = [];
      bytes = 0;
    }
    part.push(o);
    bytes += o.json.length;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

export interface TreeNode {
  hash: string;
  /** height: 0 for a leaf */
  level: number;
  /** child nodes' hashes */
  children: string[];
  /** object hashes held directly (a leaf's, or a root's small segments') */
  objects: string[];
  counts: Record<EnvoyType, number>;
}

/** An object of a config by its identity: what the tree is built from. */
export interface ConfigEntry {
  type: EnvoyType;
  name: string;
  hash: string;
  /** whether a segment tree's leaf ends after the object, when known (a collector's entry of a generated object, reused by every class) */
  endsLeaf?: boolean;
}

export interface EncodedConfig {
  /** the root node's hash: the config's identity */
  root: string;
  counts: Record<EnvoyType, number>;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Collects objects and tree nodes across many configs (one compute job), each once by hash.
 * `stringify` → hash memo: most objects recur in every class of a mesh, and JSON.stringify is
 * native and cheap next to canonicalisation; equal stringifications are equal objects.
 */
export class EnvoyObjectCollector {
  readonly objects = new Map<string, PreparedObject>();
  readonly nodes = new Map<string, TreeNode>();
  private readonly memo = new Map<string, string>();
  private readonly leafEnds: Record<EnvoyType, Map<string, boolean>> = byType(() => new Map());

  /** Adds an object (idempotent); returns its hash. */
  addObject(type: string, name: string, body: unknown): string {
    const quick = `${type}\u0000${JSON.stringify(body)}`;
    const known = this.memo.get(quick);
    if (known) return known;
    const json = canonicalJson(body);
    const hash = sha256(json); // = contentHash(body)
    this.memo.set(quick, hash);
    if (!this.objects.has(hash)) this.objects.set(hash, { hash, type, name, json });
    return hash;
  }

  /**
   * Adds an object the generator sent a compute job, by its name and canonical JSON (the
   * generator's, byte for byte canonicalJson of the parsed object), stored as addObject stores it,
   * without the stringify memo: the job keeps the entry by the generator's ref (SentObjects), so
   * the object is not hashed again in the job. Returns its hash and name.
   */
  addSentObject(type: EnvoyType, name: string, json: string): ConfigEntry {
    const hash = sha256(json);
    if (!this.objects.has(hash)) this.objects.set(hash, { hash, type, name, json });
    const entry: ConfigEntry = { type, name, hash };
    entry.endsLeaf = this.endsLeaf(entry);
    return entry;
  }

  /** Adds a generated config's objects and tree; returns its root and counts. */
  addConfig(config: Pick<GeneratedConfig, ConfigKey>): EncodedConfig {
    const entries: ConfigEntry[] = [];
    for (const type of ENVOY_TYPES) {
      for (const object of config[CONFIG_KEY[type]] ?? []) {
        const name = objectName(type, object);
        entries.push({ type, name, hash: this.addObject(type, name, object) });
      }
    }
    return this.addTree(entries);
  }

  /** Adds the tree of a config whose objects are known by hash (stored already); returns its root and counts. */
  addTree(entries: ConfigEntry[]): EncodedConfig {
    // Envoy keys every xDS type by name, so the order the generator happened to emit is no part of
    // the config (istiod's own order varies between calls); sort for a canonical list, type by type.
    const segments: ConfigEntry[][] = [];
    for (const type of ENVOY_TYPES) {
      let prefix: string | null = null;
      for (const e of entries.filter((x) => x.type === type).sort(byNameThenHash)) {
        const p = namePrefix(e.name);
        if (p !== prefix) segments.push([]);
        prefix = p;
        segments.at(-1)!.push(e);
      }
    }
    // Small segments are grouped by type, one leaf each: a class's objects of a type change together
    // (its namespace's route configurations, its inbound clusters), and the classes that share them
    // share the leaf; the root stays a handful of hashes.
    const children: TreeNode[] = [];
    const small = new Map<EnvoyType, ConfigEntry[]>();
    for (const segment of segments) {
      if (segment.length >= SEGMENT_MIN) children.push(this.segmentTree(segment));
      else small.set(segment[0].type, [...(small.get(segment[0].type) ?? []), ...segment]);
    }
    for (const group of small.values()) {
      const counts = zeroCounts();
      for (const e of group) counts[e.type]++;
      children.push(
        this.node(
          0,
          [],
          group.map((e) => e.hash),
          counts,
        ),
      );
    }
    // Sorted by hash: the root does not depend on which segments happened to be large.
    children.sort((a, b) => compareStrings(a.hash, b.hash));
    const level = children.length ? Math.max(...children.map((n) => n.level)) + 1 : 0;
    const root = this.node(
      level,
      children.map((n) => n.hash),
      [],
      sumCounts(children),
    );
    return { root: root.hash, counts: root.counts };
  }

  private segmentTree(entries: ConfigEntry[]): TreeNode {
    // Leaves: a boundary after every object whose (type, name) hashes to LEAF_BITS zero bits.
    let level: TreeNode[] = [];
    let objects: string[] = [];
    let counts = zeroCounts();
    const flushLeaf = () => {
      level.push(this.node(0, [], objects, counts));
      objects = [];
      counts = zeroCounts();
    };
    for (const e of entries) {
      objects.push(e.hash);
      counts[e.type]++;
      if ((e.endsLeaf ?? this.endsLeaf(e)) || objects.length === MAX_NODE_HASHES) flushLeaf();
    }
    if (objects.length) flushLeaf();
    // Inner levels: a boundary after every child whose hash has INNER_BITS zero bits, until one node.
    for (let depth = 1; level.length > 1; depth++) {
      const next: TreeNode[] = [];
      let group: TreeNode[] = [];
      const flush = () => {
        next.push(
          this.node(
            depth,
            group.map((n) => n.hash),
            [],
            sumCounts(group),
          ),
        );
        group = [];
      };
      for (const n of level) {
        group.push(n);
        if (lowBitsZero(n.hash, INNER_BITS) || group.length === MAX_NODE_HASHES) flush();
      }
      if (group.length) flush();
      // A level that did not shrink (every child a boundary) is grouped in fixed pairs instead.
      level =
        next.length === level.length
          ? pairUp(level, (g) =>
              this.node(
                depth,
                g.map((n) => n.hash),
                [],
                sumCounts(g),
              ),
            )
          : next;
    }
    return level[0];
  }

  /** Whether a leaf ends after the object: its (type, name) hashes to LEAF_BITS zero bits. Once per name: names recur in every class. */
  private endsLeaf(e: ConfigEntry): boolean {
    let ends = this.leafEnds[e.type].get(e.name);
    if (ends === undefined) {
      ends = lowBitsZero(sha256(`${e.type}\u0000${e.name}`), LEAF_BITS);
      this.leafEnds[e.type].set(e.name, ends);
    }
    return ends;
  }

  private node(level: number, children: string[], objects: string[], counts: Record<EnvoyType, number>): TreeNode {
    const hash = sha256(`node\u0000${level}\u0000${children.join(',')}\u0000${objects.join(',')}`);
    let node = this.nodes.get(hash);
    if (!node) {
      node = { hash, level, children, objects, counts: { ...counts } };
      this.nodes.set(hash, node);
    }
    return node;
  }
}

/** Objects of one type whose names share the part before the first `|` (istiod's cluster direction). */
export function segmentKey(e: Pick<ConfigEntry, 'type' | 'name'>): string {
  return `${e.type}\u0000${namePrefix(e.name)}`;
}

/** The part of a name before its first `|`: the name's segment, within its type. */
function namePrefix(name: string): string {
  const bar = name.indexOf('|');
  return bar < 0 ? '' : name.slice(0, bar);
}

/** By name, then hash (code-unit order): a config's objects of one type. */
function byNameThenHash(a: ConfigEntry, b: ConfigEntry): number {
  return compareStrings(a.name, b.name) || compareStrings(a.hash, b.hash);
}

/** Rebuilds the generator's lists from a config's objects, each list by name (the stored order). */
export function toGeneratedLists(objects: { type: string; name: string; body: EnvoyObject }[]): Omit<GeneratedConfig, 'proxy'> {
  const out: Omit<GeneratedConfig, 'proxy'> = { listeners: [], routes: [], clusters: [], endpoints: [] };
  for (const o of [...objects].sort((a, b) => compareStrings(a.name, b.name))) {
    const key = CONFIG_KEY[o.type as EnvoyType];
    if (key) out[key].push(o.body);
  }
  return out;
}

function pairUp(level: TreeNode[], make: (group: TreeNode[]) => TreeNode): TreeNode[] {
  const out: TreeNode[] = [];
  for (let i = 0; i < level.length; i += 2) out.push(make(level.slice(i, i + 2)));
  return out;
}

function lowBitsZero(hexHash: string, bits: number): boolean {
  return (parseInt(hexHash.slice(-4), 16) & ((1 << bits) - 1)) === 0;
}

function zeroCounts(): Record<EnvoyType, number> {
  return byType(() => 0);
}

function byType<T>(make: () => T): Record<EnvoyType, T> {
  return { listener: make(), route: make(), cluster: make(), endpoint: make() };
}

function sumCounts(nodes: TreeNode[]): Record<EnvoyType, number> {
  const c = zeroCounts();
  for (const n of nodes) for (const t of ENVOY_TYPES) c[t] += n.counts[t];
  return c;
}
