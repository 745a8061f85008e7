// ProxyConfigSource read from what the compute job stored (src/database/proxy-config.store.ts,
// envoy-tree.ts): the snapshot's proxy classes (each with its config's Merkle root = config hash),
// its workloads naming their class, the tree nodes, and the Envoy objects by content hash. The object
// hashes are the generator source's (sha256 of canonical JSON), so both sources give the same diff.
//
// For a pair of snapshots the classes are read as skeletons first (key, config hash, workloads);
// only the classes left in a pair that differs get their tree walked (one query for the nodes,
// those shared by many classes read once) and their object names read (one query, no bodies).
// Bodies are read only for the objects the comparison asks for, by hash, once for both sides.
//
// A workload with a proxy but no stored class (the worker could not generate its config) is asked
// of the generator, for its class only.
import { Lru } from '../cache/lru.js';
import { EnvoyObjectCollector, segmentKey } from '../database/envoy-tree.js';
import type { ProxyConfigStore, StoredNode, TrimmedRoutePair } from '../database/proxy-config.store.js';
import { RouteSources } from '../envoy/provenance.js';
import type { GatewayApi } from '../model/gateway-api.js';
import { CONFIG_KEY, ENVOY_TYPES, type EnvoyObject, type EnvoyType } from '../model/proxy.js';
import { GeneratorConfigSource } from './generator-source.js';
import type { WorkloadRef } from './model.js';
import { compareWorkloads, pairClasses, workloadName, type ObjectDelta, type ProxyClass, type ProxyConfigSource } from './proxy-class.js';
import { compareStrings } from '../model/compare.js';

/** Storage's object types (envoy_objects.type) are Envoy's, plus the proxy class's own ProxyInfo. */
const isEnvoyType = (type: string): type is EnvoyType => (ENVOY_TYPES as readonly string[]).includes(type);

type Objects = ProxyClass['objects'];

interface Skeleton {
  classes: ProxyClass[];
  /** workloads with a proxy but no stored class: their config comes from the generator */
  missing: WorkloadRef[];
}

export interface StoredSourceOptions {
  /** Tree nodes and object names kept between diffs (content-addressed: never stale). */
  cacheEntries?: number;
  /**
   * Object maps of config subtrees (a config root's children: segment trees shared by every class
   * holding them, a class's own small leaves) kept between diffs, up to this many entries in all.
   */
  cacheConfigEntries?: number;
  /** What istiod derived from a snapshot's Gateway API objects, as stored (for sentences naming HTTPRoutes). */
  gatewayApi?: (snapshotId: string) => Promise<GatewayApi>;
}

export class StoredConfigSource implements ProxyConfigSource {
  private readonly nodes: Lru<Pick<StoredNode, 'children' | 'objects'>>;
  private readonly names: Lru<{ type: EnvoyType | null; name: string }>;
  private readonly subtrees: Lru<{ objects: ObjectMaps; entries: number }>;
  /** Deltas between groups of config subtrees (StoredConfigSource.delta), by their hashes. */
  private readonly deltas = new Lru<ObjectDelta>(10_000);
  /** Each config's objects (lookups in its subtrees' maps), by config hash. */
  private readonly configs = new Lru<Objects>(10_000);
  /** Trimmed route configuration pairs, by `base|head` hash (content-addressed: never stale), up to 64 MiB of JSON. */
  private readonly trimmed = new Lru<TrimmedRoutePair>(64 * 1024 * 1024, (p) => p.bytes);
  /** Objects of the classes the generator was asked for, by snapshot. */
  private readonly fallbackPools = new Lru<Map<string, EnvoyObject>>(4);

  constructor(
    private readonly store: ProxyConfigStore,
    /** For the classes the worker could not generate (and nothing else). */
    private readonly fallback: GeneratorConfigSource,
    private readonly options: StoredSourceOptions = {},
  ) {
    this.nodes = new Lru(options.cacheEntries ?? 200_000);
    this.names = new Lru(options.cacheEntries ?? 200_000);
    this.subtrees = new Lru(options.cacheConfigEntries ?? 4_000_000, (c) => c.entries);
  }

  async routeSources(snapshotId: string): Promise<RouteSources> {
    return new RouteSources(this.options.gatewayApi ? (await this.options.gatewayApi(snapshotId)).virtualServices : []);
  }

  async classes(snapshotId: string): Promise<ProxyClass[]> {
    const skeleton = await this.skeleton(snapshotId);
    await this.fill(skeleton.classes);
    return [...skeleton.classes, ...(await this.fallbackClasses(snapshotId, skeleton.missing))];
  }

  /** Both sides; a class every workload of which keeps an equal config is returned without its objects (never read). */
  async classesOfPair(baseId: string, headId: string): Promise<{ base: ProxyClass[]; head: ProxyClass[] }> {
    const [bs, hs] = await Promise.all([this.skeleton(baseId), this.skeleton(headId)]);
    const [bf, hf] = await Promise.all([this.fallbackClasses(baseId, bs.missing), this.fallbackClasses(headId, hs.missing)]);
    const base = [...bs.classes, ...bf];
    const head = [...hs.classes, ...hf];
    // pairClasses reads only keys, hashes and workloads: the skeletons tell which classes matter.
    const needed = new Set<ProxyClass>();
    for (const p of pairClasses(base, head)) {
      if (p.base) needed.add(p.base);
      if (p.head) needed.add(p.head);
    }
    await this.fill([...bs.classes, ...hs.classes].filter((c) => needed.has(c)));
    return { base, head };
  }

  async objects(snapshotId: string, hashes: readonly string[]): Promise<Map<string, EnvoyObject>> {
    return this.objectsOfPair(snapshotId, snapshotId, hashes);
  }

  /** Hashes name the same object in every snapshot: one query for both sides; the generator's pool for fallback classes. */
  async objectsOfPair(baseId: string, headId: string, hashes: readonly string[]): Promise<Map<string, EnvoyObject>> {
    const out = new Map<string, EnvoyObject>();
    if (hashes.length === 0) return out;
    // Objects are cached by the store (content-addressed: never stale).
    for (const [h, o] of await this.store.objects(hashes)) out.set(h, o.body);
    const left = hashes.filter((h) => !out.has(h));
    if (left.length) {
      for (const id of new Set([baseId, headId])) {
        const pool = this.fallbackPools.get(id);
        if (!pool) continue;
        for (const h of left) {
          const o = pool.get(h);
          if (o) out.set(h, o);
        }
      }
    }
    return out;
  }

  /** Read in Postgres, which compares the virtual hosts: only what differs is sent and parsed (a fallback class's objects are not stored: left out). */
  async trimmedRoutePairs(pairs: readonly { base: string; head: string }[]): Promise<Map<string, EnvoyObject>> {
    const out = new Map<string, EnvoyObject>();
    const unread: { base: string; head: string }[] = [];
    const add = (p: { base: string; head: string }, t: TrimmedRoutePair) => {
      out.set(p.base, t.base);
      out.set(p.head, t.head);
    };
    for (const p of pairs) {
      const known = this.trimmed.get(`${p.base}|${p.head}`);
      if (known) add(p, known);
      else unread.push(p);
    }
    const read = await this.store.trimmedRoutePairs(unread);
    for (const p of unread) {
      const t = read.get(`${p.base}|${p.head}`);
      if (!t) continue;
      this.trimmed.set(`${p.base}|${p.head}`, t);
      add(p, t);
    }
    return out;
  }

  /** Classes, their config hashes and workloads: the snapshot's two lists, no tree, no object. */
  private async skeleton(snapshotId: string): Promise<Skeleton> {
    const { workloads: workloadRows, classes: classRows } = await this.store.computed(snapshotId);
    // A class takes its proxy type from its first workload; a class no workload names is left out.
    const byKey = new Map<string, ProxyClass>();
    const missing: WorkloadRef[] = [];
    for (const w of workloadRows) {
      if (w.proxyType === 'NONE') continue;
      const row = w.proxyClass === null ? undefined : classRows.get(w.proxyClass);
      if (!row) {
        missing.push({ namespace: w.namespace, name: w.name, kind: w.kind });
        continue;
      }
      let c = byKey.get(row.classKey);
      if (!c)
        byKey.set(
          row.classKey,
          (c = { classKey: row.classKey, proxyType: w.proxyType, workloads: [], configHash: row.configHash, objects: emptyObjects() }),
        );
      c.workloads.push({ namespace: w.namespace, name: w.name, kind: w.kind });
    }
    const classes = [...byKey.values()];
    for (const c of classes) c.workloads.sort(compareWorkloads);
    classes.sort((a, b) => compareStrings(a.classKey, b.classKey));
    return { classes, missing: missing.sort(compareWorkloads) };
  }

  private async fallbackClasses(snapshotId: string, missing: WorkloadRef[]): Promise<ProxyClass[]> {
    if (missing.length === 0) return [];
    const { classes, pool } = await this.fallback.some(snapshotId, new Set(missing.map(workloadName)));
    this.fallbackPools.set(snapshotId, pool);
    // The config hash as the worker computes it (the root of the config's tree), so that a class
    // equal to the other side's stored one is equal here too, and dropped unread.
    return classes.map((c) => ({ ...c, configHash: storedConfigHash(c.objects, pool) }));
  }

  /**
   * Sets each class's objects (name → hash by type) from its stored tree, as lookups in the maps of
   * its root's children, each built once however many classes share it (every sidecar of a mesh
   * shares its outbound clusters' tree); and its deltaTo, which walks two trees skipping equal
   * subtrees, so a pair's delta costs what the two configs do not share, not every name of both.
   */
  private async fill(classes: ProxyClass[]): Promise<void> {
    const roots = [...new Set(classes.map((c) => c.configHash))].filter((r) => !this.configs.get(r));
    if (roots.length) {
      const tree = await this.readTrees(roots);
      for (const root of roots) {
        const node = tree.nodes.get(root)!;
        const parts = node.children.map((child) => this.subtreeMaps(child, tree));
        if (node.objects.length) parts.push(objectMaps(node.objects, [], tree));
        this.configs.set(root, configIndex(parts));
      }
    }
    // The delta reads the nodes and names the caches keep (readTrees put every node of these roots
    // there), without reordering them: thousands of reads per pair.
    const cached: Tree = { nodes: { get: (h) => this.nodes.peek(h) }, names: { get: (h) => this.names.peek(h) } };
    for (const c of classes) {
      c.objects = this.configs.get(c.configHash)!;
      c.deltaTo = (head) => this.delta(c.configHash, head.configHash, cached);
    }
  }

  /**
   * The delta between two stored configs: their roots' children that differ, in groups that share
   * no segment (envoy-tree.ts: a segment tree holds one segment, a root's leaf the small segments
   * of one type; an object's name is in its segment's node only), each group walked once and
   * kept. Every sidecar of a mesh has the same pair of outbound cluster trees: walked for the
   * first pair only. Undefined as treeDelta.
   */
  private delta(baseRoot: string, headRoot: string, tree: Tree): ObjectDelta | undefined {
    const b = tree.nodes.get(baseRoot);
    const h = tree.nodes.get(headRoot);
    if (!b || !h) return undefined;
    if (b.objects.length || h.objects.length) return treeDelta([baseRoot], [headRoot], tree);
    const inBase = new Set(b.children);
    const inHead = new Set(h.children);
    // Children grouped by segment: a group is the children (of both sides) that share any.
    const groups: { base: string[]; head: string[]; segments: Set<string> }[] = [];
    for (const [side, children, other] of [
      ['base', b.children, inHead],
      ['head', h.children, inBase],
    ] as const) {
      for (const child of children) {
        if (other.has(child)) continue;
        const segments = segmentsUnder(child, tree);
        if (!segments) return undefined;
        const joined = { base: [] as string[], head: [] as string[], segments };
        joined[side].push(child);
        for (let i = groups.length - 1; i >= 0; i--) {
          const g = groups[i];
          if (![...g.segments].some((k) => segments.has(k))) continue;
          joined.base.push(...g.base);
          joined.head.push(...g.head);
          for (const k of g.segments) joined.segments.add(k);
          groups.splice(i, 1);
        }
        groups.push(joined);
      }
    }
    const delta = emptyDelta();
    for (const g of groups) {
      const key = `${[...g.base].sort().join(',')}|${[...g.head].sort().join(',')}`;
      let d = this.deltas.get(key);
      if (!d) {
        d = treeDelta(g.base, g.head, tree);
        if (!d) return undefined;
        this.deltas.set(key, d);
      }
      for (const type of ENVOY_TYPES) {
        delta[type].added.push(...d[type].added);
        delta[type].removed.push(...d[type].removed);
        delta[type].changed.push(...d[type].changed);
      }
    }
    for (const type of ENVOY_TYPES) for (const list of Object.values(delta[type])) list.sort();
    return delta;
  }

  /** A subtree's objects by type, from the cache or built from `tree` and kept. */
  private subtreeMaps(hash: string, tree: Tree): ObjectMaps {
    let cached = this.subtrees.get(hash);
    if (!cached) {
      const objects = objectMaps([], [hash], tree);
      cached = { objects, entries: [...objects.values()].reduce((n, m) => n + m.size, 0) };
      this.subtrees.set(hash, cached);
    }
    return cached.objects;
  }

  /**
   * The nodes under `roots` and the names of their objects: what the caches know, the rest read
   * (one statement for the nodes below those the caches lack, then one for the names, no bodies).
   */
  private async readTrees(roots: string[]): Promise<Tree> {
    const tree = {
      nodes: new Map<string, Pick<StoredNode, 'children' | 'objects'>>(),
      names: new Map<string, { type: EnvoyType | null; name: string }>(),
    };
    const leaves = new Set<string>();
    const unknown = new Set<string>();
    const read = new Map<string, Pick<StoredNode, 'children' | 'objects'>>();
    const visit = (hash: string) => {
      if (tree.nodes.has(hash)) return;
      const n = read.get(hash) ?? this.nodes.get(hash);
      if (!n) return void unknown.add(hash);
      tree.nodes.set(hash, n);
      for (const o of n.objects) leaves.add(o);
      for (const c of n.children) visit(c);
    };
    for (const r of roots) visit(r);
    if (unknown.size) {
      const wanted = [...unknown];
      unknown.clear();
      for (const r of await this.store.treeNodesUnder(wanted)) {
        const n = { children: r.children, objects: r.objects };
        this.nodes.set(r.hash, n);
        read.set(r.hash, n);
      }
      for (const h of wanted) visit(h);
      if (unknown.size) throw new Error(`stored proxy config is incomplete: tree node ${[...unknown][0]} not found`);
    }
    const unnamed: string[] = [];
    for (const h of leaves) {
      const meta = this.names.get(h);
      if (meta) tree.names.set(h, meta);
      else unnamed.push(h);
    }
    if (unnamed.length) {
      for (const r of await this.store.objectNames(unnamed)) {
        const meta = { type: isEnvoyType(r.type) ? r.type : null, name: r.name };
        this.names.set(r.hash, meta);
        tree.names.set(r.hash, meta);
      }
    }
    return tree;
  }
}

/** The root of the tree the worker would store for these objects (envoy-tree.ts). */
function storedConfigHash(objects: Objects, pool: ReadonlyMap<string, EnvoyObject>): string {
  const config = {
    listeners: [] as EnvoyObject[],
    routes: [] as EnvoyObject[],
    clusters: [] as EnvoyObject[],
    endpoints: [] as EnvoyObject[],
  };
  for (const t of ENVOY_TYPES) for (const hash of Object.values(objects[t])) config[CONFIG_KEY[t]].push(pool.get(hash)!);
  return new EnvoyObjectCollector().addConfig(config).root;
}

interface Tree {
  nodes: { get(hash: string): Pick<StoredNode, 'children' | 'objects'> | undefined };
  names: { get(hash: string): { type: EnvoyType | null; name: string } | undefined };
}

/** Objects by type (name → hash). */
type ObjectMaps = Map<EnvoyType, Map<string, string>>;

/** The objects held directly (`objects`) and under the nodes `nodes` of `tree`, by type. */
function objectMaps(objects: readonly string[], nodes: readonly string[], tree: Tree): ObjectMaps {
  const out: ObjectMaps = new Map();
  const add = (hashes: readonly string[]) => {
    for (const o of hashes) {
      const meta = tree.names.get(o);
      if (!meta) throw new Error(`stored proxy config is incomplete: object ${o} not found`);
      if (!meta.type) continue;
      let m = out.get(meta.type);
      if (!m) out.set(meta.type, (m = new Map<string, string>()));
      m.set(meta.name, o);
    }
  };
  const walk = (hash: string) => {
    const n = tree.nodes.get(hash)!;
    for (const c of n.children) walk(c);
    add(n.objects);
  };
  add(objects);
  for (const n of nodes) walk(n);
  return out;
}

/**
 * A config's objects as ProxyClass['objects'] over the maps of its parts (a name is in one part
 * only): a record per type that looks names up in them and lists their keys, never copied into
 * one map per config.
 */
function configIndex(parts: readonly ObjectMaps[]): Objects {
  const index = {} as Objects;
  for (const type of ENVOY_TYPES) {
    const maps = parts.flatMap((p) => p.get(type) ?? []);
    const find = (name: string | symbol) => {
      if (typeof name !== 'string') return undefined;
      for (const m of maps) {
        const h = m.get(name);
        if (h !== undefined) return h;
      }
      return undefined;
    };
    index[type] = new Proxy<Record<string, string>>(
      {},
      {
        get: (_, name) => find(name),
        has: (_, name) => find(name) !== undefined,
        ownKeys: () => [...new Set(maps.flatMap((m) => [...m.keys()]))],
        getOwnPropertyDescriptor: (_, name) => {
          const value = find(name);
          return value === undefined ? undefined : { value, enumerable: true, configurable: true, writable: false };
        },
      },
    );
  }
  return index;
}

/**
 * The delta between two stored configs' nodes, walking both trees a level at a time: a node both sides
 * reach at the same step is an equal subtree, left on both sides unread. A config names each
 * object of a type once, so a name under a skipped subtree is under no other node of either side:
 * the objects left are exactly those that differ, plus those of unequal subtrees that did not.
 * Undefined when a node or name is not in `tree` (a cache that let it go): the caller compares
 * every name instead.
 */
function treeDelta(baseNodes: readonly string[], headNodes: readonly string[], tree: Tree): ObjectDelta | undefined {
  const left = { base: [] as string[], head: [] as string[] };
  let base = [...baseNodes];
  let head = [...headNodes];
  while (base.length || head.length) {
    const inBase = new Set(base);
    const inHead = new Set(head);
    const next = { base: [] as string[], head: [] as string[] };
    for (const [side, hashes, other] of [
      ['base', base, inHead],
      ['head', head, inBase],
    ] as const) {
      for (const h of hashes) {
        if (other.has(h)) continue;
        const n = tree.nodes.get(h);
        if (!n) return undefined;
        left[side].push(...n.objects);
        next[side].push(...n.children);
      }
    }
    base = next.base;
    head = next.head;
  }
  if (![...left.base, ...left.head].every((o) => tree.names.get(o))) return undefined;
  const before = objectMaps(left.base, [], tree);
  const after = objectMaps(left.head, [], tree);
  const delta = emptyDelta();
  for (const type of ENVOY_TYPES) {
    const b = before.get(type) ?? new Map<string, string>();
    const a = after.get(type) ?? new Map<string, string>();
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    for (const [name, hash] of a) {
      const hb = b.get(name);
      if (hb === undefined) added.push(name);
      else if (hb !== hash) changed.push(name);
    }
    for (const name of b.keys()) if (!a.has(name)) removed.push(name);
    delta[type] = { added: added.sort(), removed: removed.sort(), changed: changed.sort() };
  }
  return delta;
}

/**
 * The segments of the objects under a config root's child: every object's, for a leaf (the small
 * segments of a type); the first object's, for a segment tree (one segment). Undefined if a node
 * or name is not cached.
 */
function segmentsUnder(hash: string, tree: Tree): Set<string> | undefined {
  let node = tree.nodes.get(hash);
  if (!node) return undefined;
  const objects = node.children.length === 0 ? node.objects : [];
  while (node && node.objects.length === 0 && node.children.length) node = tree.nodes.get(node.children[0]);
  if (!node) return undefined;
  const out = new Set<string>();
  for (const o of objects.length ? objects : node.objects.slice(0, 1)) {
    const meta = tree.names.get(o);
    if (!meta?.type) return undefined;
    out.add(segmentKey({ type: meta.type, name: meta.name }));
  }
  return out;
}

function emptyDelta(): ObjectDelta {
  return Object.fromEntries(ENVOY_TYPES.map((t) => [t, { added: [], removed: [], changed: [] }])) as unknown as ObjectDelta;
}

function emptyObjects(): Objects {
  return Object.fromEntries(ENVOY_TYPES.map((t) => [t, {}])) as Objects;
}
