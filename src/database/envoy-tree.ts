// Content-addressed storage of generated proxy config: pure functions, no I/O.
//
// Every Envoy object (listener, route configuration, cluster, cluster load assignment) is stored
// once by the hash of its canonical JSON. A proxy's config is the list of its objects sorted by
// (type, name); that list is stored as a small Merkle tree (content-defined chunks, like a prolly
// tree): leaves hold object hashes, inner nodes hold child hashes, every node is keyed by the hash
// of its children. Chunk boundaries depend only on object names (leaves) and child hashes (inner
// nodes), never on positions, so
//   - two proxies whose configs share most objects (every sidecar of a mesh has the same outbound
//     clusters) share most leaves and inner nodes, and
//   - a snapshot that changes one object stores one new leaf and the nodes above it, not the list.
// The root's hash is the config's hash: same hash, same config (the same objects, same names).
import { createHash } from 'node:crypto';
import { canonicalJson } from '../snapshots/ingest/canonical.js';
import type { EnvoyObject, GeneratedConfig } from '../generator/protocol.js';

export const ENVOY_TYPES = ['listener', 'route', 'cluster', 'endpoint'] as const;
export type EnvoyType = (typeof ENVOY_TYPES)[number];
/** The non-Envoy object type under which a proxy class's ProxyInfo (minus id and addresses) is stored. */
export const PROXY_INFO_TYPE = 'proxy';

const KEYS: Record<EnvoyType, 'listeners' | 'routes' | 'clusters' | 'endpoints'> = {
  listener: 'listeners',
  route: 'routes',
  cluster: 'clusters',
  endpoint: 'endpoints',
};

/** Average leaf size is 2^LEAF_BITS objects, average fan-out of inner nodes 2^INNER_BITS. */
const LEAF_BITS = 5;
const INNER_BITS = 5;

export interface PreparedObject {
  hash: string;
  type: string;
  name: string;
  /** canonical JSON of the body */
  json: string;
}

export interface TreeNode {
  hash: string;
  /** 0: leaf (children are object hashes); n: children are nodes of level n-1 */
  level: number;
  children: string[];
  counts: Record<EnvoyType, number>;
}

export interface EncodedConfig {
  /** the root node's hash: the config's identity */
  root: string;
  counts: Record<EnvoyType, number>;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function objectName(type: EnvoyType, object: EnvoyObject): string {
  const name = type === 'endpoint' ? object.clusterName : object.name;
  return typeof name === 'string' ? name : '';
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

  /** Adds a generated config's objects and tree; returns its root and counts. */
  addConfig(config: Pick<GeneratedConfig, 'listeners' | 'routes' | 'clusters' | 'endpoints'>): EncodedConfig {
    const entries: { type: EnvoyType; name: string; hash: string }[] = [];
    for (const type of ENVOY_TYPES) {
      for (const object of config[KEYS[type]] ?? []) {
        const name = objectName(type, object);
        entries.push({ type, name, hash: this.addObject(type, name, object) });
      }
    }
    // Envoy keys every xDS type by name, so the order the generator happened to emit is no part of
    // the config (istiod's own order varies between calls); sort for a canonical list.
    const typeOrder = (t: EnvoyType) => ENVOY_TYPES.indexOf(t);
    entries.sort((a, b) => typeOrder(a.type) - typeOrder(b.type) || cmp(a.name, b.name) || cmp(a.hash, b.hash));
    return this.buildTree(entries);
  }

  private buildTree(entries: { type: EnvoyType; name: string; hash: string }[]): EncodedConfig {
    // Leaves: a boundary after every object whose (type, name) hashes to LEAF_BITS zero bits.
    let level: TreeNode[] = [];
    let children: string[] = [];
    let counts = zeroCounts();
    const flushLeaf = () => {
      level.push(this.node(0, children, counts));
      children = [];
      counts = zeroCounts();
    };
    for (const e of entries) {
      children.push(e.hash);
      counts[e.type]++;
      if (lowBitsZero(sha256(`${e.type}\u0000${e.name}`), LEAF_BITS)) flushLeaf();
    }
    if (children.length || level.length === 0) flushLeaf();
    // Inner levels: a boundary after every child whose hash has INNER_BITS zero bits, until one node.
    for (let depth = 1; level.length > 1; depth++) {
      const next: TreeNode[] = [];
      let group: TreeNode[] = [];
      const flush = () => {
        next.push(this.node(depth, group.map((n) => n.hash), sumCounts(group)));
        group = [];
      };
      for (const n of level) {
        group.push(n);
        if (lowBitsZero(n.hash, INNER_BITS)) flush();
      }
      if (group.length) flush();
      // A level that did not shrink (every child a boundary) is grouped in fixed pairs instead.
      level = next.length === level.length ? pairUp(level, (g) => this.node(depth, g.map((n) => n.hash), sumCounts(g))) : next;
    }
    const root = level[0]!;
    return { root: root.hash, counts: root.counts };
  }

  private node(level: number, children: string[], counts: Record<EnvoyType, number>): TreeNode {
    const hash = sha256(`node\u0000${level}\u0000${children.join(',')}`);
    let node = this.nodes.get(hash);
    if (!node) {
      node = { hash, level, children, counts: { ...counts } };
      this.nodes.set(hash, node);
    }
    return node;
  }
}

/** Rebuilds the generator's lists from a config's objects in stored (leaf) order. */
export function toGeneratedLists(objects: { type: string; body: EnvoyObject }[]): Omit<GeneratedConfig, 'proxy'> {
  const out: Omit<GeneratedConfig, 'proxy'> = { listeners: [], routes: [], clusters: [], endpoints: [] };
  for (const o of objects) {
    const key = KEYS[o.type as EnvoyType];
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
  return { listener: 0, route: 0, cluster: 0, endpoint: 0 };
}

function sumCounts(nodes: TreeNode[]): Record<EnvoyType, number> {
  const c = zeroCounts();
  for (const n of nodes) for (const t of ENVOY_TYPES) c[t] += n.counts[t];
  return c;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
