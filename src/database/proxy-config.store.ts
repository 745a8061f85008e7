import { availableParallelism } from 'node:os';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import pLimit from 'p-limit';
import { DataSource, type EntityManager } from 'typeorm';
import { Lru } from '../cache/lru.js';
import type { GatewayApi } from '../model/gateway-api.js';
import type { EnvoyObject, GeneratedConfig, ProxyInfo } from '../model/proxy.js';
import { HASH_BYTES, unpackHashes } from './chunked-list.js';
import { objectParts, toGeneratedLists, type PreparedObject, type TreeNode } from './envoy-tree.js';
import { ListNodeStore } from './list-node.store.js';
import { writeConnectivity } from './connectivity.store.js';
import type { Connectivity } from '../model/connectivity.js';
import type { MeshSecurity } from '../model/mesh-security.js';
import { isSnapshotId } from './snapshot.store.js';
import { classListCodec, type StoredClass, type StoredWorkload } from './snapshot-lists.js';
import { WorkloadStore } from './workload.store.js';
import { compareStrings } from '../model/compare.js';
import { writeTransaction } from './transaction.js';
import { hostAt, hostCount, indexRouteHosts } from './route-hosts.js';

const INSERT_CHUNK = 1000;
/** Parsed Envoy objects kept in memory, in bytes of their JSON (a big mesh's route configurations are a megabyte each). */
const OBJECT_CACHE_BYTES = 128 * 1024 * 1024;
/**
 * Assembled configs (their object lists, by config hash) kept in memory, in bytes of their objects'
 * JSON (shared objects counted in every config holding them): a named workload's second question
 * reads no row.
 */
const CONFIG_CACHE_BYTES = 256 * 1024 * 1024;
/** READY snapshots whose workload-to-class index is kept. */
const READY_INDEXES = 16;
// Objects are large (a route configuration of a big mesh is a megabyte): fewer per statement. The
// driver serialises a statement's parameters in one synchronous step on the API's event loop
// (array literal, escaping, protocol buffer, and the garbage of those): a megabyte keeps that step
// to milliseconds, where 8 MiB held the loop for hundreds of them on a busy machine.
const OBJECT_BYTES_PER_STATEMENT = 1024 * 1024;
/**
 * Connections the process's compute jobs stage their objects on, all jobs together: a few, since
 * the pool (10) serves the API and the jobs' own transactions too.
 */
const stagingConnections = pLimit(Math.min(availableParallelism(), 3));
/** Bytes of other objects' JSON per staging transaction. */
const STAGED_BYTES_PER_PART = 4 * 1024 * 1024;
/** Everything a compute job stores (ProxyConfigStore.saveComputation: what references the objects in one transaction). */
export interface ComputedSnapshot {
  objects: PreparedObject[];
  nodes: TreeNode[];
  classes: StoredClass[];
  /** the classes of `classes` whose config an earlier snapshot stored (their rows are not in `objects` and `nodes`) */
  reused?: StoredClass[];
  /** each workload, with its class key when it has a proxy */
  workloads: StoredWorkload[];
  istioVersion: string;
  diagnostics: unknown[];
  gatewayApi: GatewayApi;
  /** Who can talk to whom (connectivity/build.ts). */
  connectivity?: Connectivity;
  /** The mesh identity and PeerAuthentication resolutions journeys read. */
  meshSecurity: MeshSecurity;
}

export interface ProxyStatusRow {
  namespace: string;
  name: string;
  proxyType: string;
  listeners: number;
  routes: number;
  clusters: number;
  endpoints: number;
  configHash: string;
}

/** An Envoy object as read back, with the size of its JSON. */
export interface StoredObject {
  type: string;
  name: string;
  body: EnvoyObject;
  bytes: number;
}

/** A tree node as read back (envoy-tree.ts): hashes in hex. */
export interface StoredNode {
  hash: string;
  children: string[];
  objects: string[];
}

/** Both sides of a pair of route configurations, trimmed (ProxyConfigStore.trimmedRoutePairs); bytes: their JSON's. */
export interface TrimmedRoutePair {
  base: EnvoyObject;
  head: EnvoyObject;
  bytes: number;
}

/** A row of ProxyConfigStore.trimmedRouteRows. */
interface TrimmedRouteRow {
  base: string;
  head: string;
  indexed: boolean;
  keyed: boolean;
  base_rest: string;
  head_rest: string;
  base_hosts: string;
  head_hosts: string;
}

export interface WorkloadRef {
  namespace: string;
  name: string;
}

/** A class of a READY snapshot with its first member (the one the compute job asked the generator about). */
export interface ReadyClass {
  cls: StoredClass;
  rep: StoredWorkload;
}

interface ReadyIndex {
  byWorkload: Map<string, { workload: StoredWorkload; cls: StoredClass }>;
  byClass: Map<string, ReadyClass>;
  byProxyInfo: Map<string, ReadyClass[]>;
}

/**
 * A job's objects as parts to store concurrently, a transaction each: each route configuration
 * alone, since indexing its virtual hosts inserts them in hash order, and two transactions that
 * each insert in one ascending pass never wait on each other in a cycle (two route configurations
 * in one transaction would make two passes, and could deadlock against another part's); the other
 * objects, whose keys no two parts share, a few megabytes a part. (A transaction that indexes
 * several route configurations, a job's final one storing again what the collector took or a
 * diff's indexing of older ones, may still deadlock against a part: writeTransaction retries it.)
 */
export function stagingParts(objects: readonly PreparedObject[]): PreparedObject[][] {
  return [
    ...objects.filter((o) => o.type === 'route').map((o) => [o]),
    ...objectParts(
      objects.filter((o) => o.type !== 'route'),
      { bytes: STAGED_BYTES_PER_PART, objects: Infinity },
    ),
  ];
}

/** Generated proxy config, content-addressed (see envoy-tree.ts): every SQL statement about it. */
@Injectable()
export class ProxyConfigStore {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly workloadStore: WorkloadStore,
    private readonly lists: ListNodeStore,
  ) {}

  private readonly objectCache = new Lru<StoredObject>(OBJECT_CACHE_BYTES, (o) => o.bytes);
  private readonly configCache = new Lru<{ lists: Omit<GeneratedConfig, 'proxy'>; bytes: number }>(CONFIG_CACHE_BYTES, (c) => c.bytes);
  private readonly readyIndexes = new Lru<Promise<ReadyIndex>>(READY_INDEXES);

  /**
   * Stores a snapshot's computation, everything it references in one transaction: the objects and
   * tree nodes it needs (each once, whoever else has it; sorted, so concurrent jobs lock shared keys
   * in one order), its classes and its workloads (chunked lists on the snapshot) and the
   * generator's results. Replaces what an earlier attempt stored: recomputing yields the same rows,
   * and a job killed before the commit leaves nothing visible (only unreferenced objects, which the
   * collector removes).
   */
  async saveComputation(snapshotId: string, computed: ComputedSnapshot): Promise<void> {
    const objects = [...computed.objects].sort((a, b) => compareStrings(a.hash, b.hash));
    const nodes = [...computed.nodes].sort((a, b) => compareStrings(a.hash, b.hash));
    // The objects not stored yet are staged first, in parts on several connections at once (the
    // job's single transaction kept one of Postgres's cores busy while the others idled, at the end
    // of every job). No snapshot references these rows yet and they are content-addressed: the
    // transaction below finds them stored, and stores again any the collector took meanwhile; a job
    // that fails after this leaves them to the collector.
    const parts = stagingParts(await this.unstored(this.dataSource.manager, objects));
    const staged = await Promise.allSettled(
      parts.map((part) => stagingConnections(() => writeTransaction(this.dataSource, (em) => this.storeObjects(em, part)))),
    );
    // Every part settled first: none still holds a connection once the job has failed.
    for (const s of staged) if (s.status === 'rejected') throw s.reason;
    await writeTransaction(this.dataSource, async (em) => {
      await this.storeObjects(em, objects);
      await this.insertNodes(em, nodes);
      if (computed.reused?.length) await this.assertStored(em, computed.reused);
      const classes = await this.lists.write(
        em,
        classListCodec,
        [...computed.classes].sort((a, b) => compareStrings(a.classKey, b.classKey)),
      );
      await this.workloadStore.replaceIn(em, snapshotId, computed.workloads);
      if (computed.connectivity) await writeConnectivity(em, this.lists, snapshotId, computed.connectivity);
      await em.query(
        `UPDATE snapshots SET proxy_class_list = $2, istio_version = $3, diagnostics = $4::jsonb, gateway_api = $5::jsonb, mesh_security = $6::jsonb
         WHERE id = $1`,
        [
          snapshotId,
          classes,
          computed.istioVersion,
          JSON.stringify(computed.diagnostics),
          JSON.stringify(computed.gatewayApi),
          JSON.stringify(computed.meshSecurity),
        ],
      );
    });
  }

  /**
   * The reused classes' config trees and ProxyInfos are still stored: the earlier snapshot they
   * came from may have been deleted, and its rows collected, since the job read it (the collector
   * waits for this transaction from here on). Otherwise the attempt fails, to be retried.
   */
  private async assertStored(em: EntityManager, classes: StoredClass[]) {
    const roots = [...new Set(classes.map((c) => c.configHash))];
    const infos = [...new Set(classes.map((c) => c.proxyInfoHash))];
    const [{ nodes, objects }]: { nodes: number; objects: number }[] = await em.query(
      `SELECT (SELECT count(*)::int FROM envoy_config_nodes WHERE hash = ANY($1::bytea[])) AS nodes,
              (SELECT count(*)::int FROM envoy_objects WHERE hash = ANY($2::bytea[])) AS objects`,
      [roots.map(toBytes), infos.map(toBytes)],
    );
    if (nodes !== roots.length || objects !== infos.length) {
      throw new Error('the stored config of a reused proxy class was collected meanwhile; the computation starts again');
    }
  }

  /** Stores the objects not stored yet, a route configuration with its hosts' index (same transaction: a stored one has it). */
  private async storeObjects(em: EntityManager, objects: PreparedObject[]): Promise<void> {
    const inserted = await this.insertObjects(em, objects);
    await indexRouteHosts(
      em,
      inserted.filter((o) => o.type === 'route').map((o) => toBytes(o.hash)),
    );
  }

  /**
   * The objects not stored: most of a job's are (every snapshot of a mesh shares most), and only
   * the others' JSON is sent and parsed as jsonb.
   */
  private async unstored(em: EntityManager, all: PreparedObject[]): Promise<PreparedObject[]> {
    const stored = new Set<string>();
    for (let i = 0; i < all.length; i += 5000) {
      const rows: { hash: string }[] = await em.query(
        `SELECT encode(hash, 'hex') AS hash FROM envoy_objects WHERE hash = ANY($1::bytea[])`,
        [all.slice(i, i + 5000).map((o) => toBytes(o.hash))],
      );
      for (const r of rows) stored.add(r.hash);
    }
    return all.filter((o) => !stored.has(o.hash));
  }

  /** Inserts the objects not stored yet; returns those. */
  private async insertObjects(em: EntityManager, all: PreparedObject[]): Promise<PreparedObject[]> {
    // Safe under the transaction's lock: no collection removes a row seen stored here before it commits.
    const objects = await this.unstored(em, all);
    for (const chunk of objectParts(objects, { bytes: OBJECT_BYTES_PER_STATEMENT, objects: INSERT_CHUNK })) {
      // The bodies as one JSON array, not a text[]: its literal would escape every quote of every
      // body, in the driver and again in Postgres (most of the statement's cost, megabytes of it).
      await em.query(
        `INSERT INTO envoy_objects (hash, type, name, body)
         SELECT o.hash, o.type, o.name, o.body
         FROM ROWS FROM (unnest($1::bytea[]), unnest($2::text[]), unnest($3::text[]), jsonb_array_elements($4::jsonb)) AS o(hash, type, name, body)
         ON CONFLICT (hash) DO NOTHING`,
        [chunk.map((o) => toBytes(o.hash)), chunk.map((o) => o.type), chunk.map((o) => o.name), `[${chunk.map((o) => o.json).join(',')}]`],
      );
    }
    return objects;
  }

  private async insertNodes(em: EntityManager, nodes: TreeNode[]) {
    for (let i = 0; i < nodes.length; i += INSERT_CHUNK) {
      const chunk = nodes.slice(i, i + INSERT_CHUNK);
      await em.query(
        `INSERT INTO envoy_config_nodes (hash, level, children, objects, listeners, routes, clusters, endpoints)
         SELECT decode(n.hash, 'hex'), n.level, decode(n.children, 'hex'), decode(n.objects, 'hex'), n.listeners, n.routes, n.clusters, n.endpoints
         FROM unnest($1::text[], $2::smallint[], $3::text[], $4::text[], $5::int[], $6::int[], $7::int[], $8::int[])
           AS n(hash, level, children, objects, listeners, routes, clusters, endpoints)
         ON CONFLICT (hash) DO NOTHING`,
        [
          chunk.map((n) => n.hash),
          chunk.map((n) => n.level),
          chunk.map((n) => n.children.join('')),
          chunk.map((n) => n.objects.join('')),
          chunk.map((n) => n.counts.listener),
          chunk.map((n) => n.counts.route),
          chunk.map((n) => n.counts.cluster),
          chunk.map((n) => n.counts.endpoint),
        ],
      );
    }
  }

  /** One row per proxy of the snapshot, like `istioctl proxy-status`. */
  async proxyStatus(snapshotId: string): Promise<ProxyStatusRow[]> {
    const { workloads, classes } = await this.computed(snapshotId);
    const counts = await this.rootCounts([...new Set([...classes.values()].map((c) => c.configHash))]);
    const rows: ProxyStatusRow[] = [];
    for (const w of workloads) {
      const c = w.proxyClass === null ? undefined : classes.get(w.proxyClass);
      const n = c && counts.get(c.configHash);
      if (!c || !n) continue;
      rows.push({ namespace: w.namespace, name: w.name, proxyType: w.proxyType, ...n, configHash: c.configHash });
    }
    return rows;
  }

  /** A snapshot's proxy classes by key (none until computed). */
  async classesOf(snapshotId: string): Promise<StoredClass[]> {
    if (!isSnapshotId(snapshotId)) return [];
    const [row]: { proxy_class_list: Buffer | null }[] = await this.dataSource.query(
      'SELECT proxy_class_list FROM snapshots WHERE id = $1',
      [snapshotId],
    );
    return [...(await this.lists.read(classListCodec, row?.proxy_class_list))];
  }

  /** A snapshot's workloads (sorted by namespace, name, kind) and its classes by key. */
  async computed(snapshotId: string): Promise<{ workloads: StoredWorkload[]; classes: Map<string, StoredClass> }> {
    const [workloads, classes] = await Promise.all([this.workloadStore.list(snapshotId), this.classesOf(snapshotId)]);
    return { workloads, classes: new Map(classes.map((c) => [c.classKey, c])) };
  }

  private async rootCounts(
    roots: string[],
  ): Promise<Map<string, { listeners: number; routes: number; clusters: number; endpoints: number }>> {
    const rows: { hash: string; listeners: number; routes: number; clusters: number; endpoints: number }[] = await this.dataSource.query(
      `SELECT encode(hash, 'hex') AS hash, listeners, routes, clusters, endpoints FROM envoy_config_nodes WHERE hash = ANY($1::bytea[])`,
      [roots.map(toBytes)],
    );
    return new Map(rows.map(({ hash, ...counts }) => [hash, counts]));
  }

  /**
   * The stored configs of named workloads of one snapshot, in a fixed number of queries however
   * many workloads: the workloads and classes, the ProxyInfos, each tree level, the objects. A
   * workload without a stored config (no proxy, not computed) is absent from the result. The
   * members of a class share its lists: read them, never change them.
   */
  async configsOf(snapshotId: string, workloads: WorkloadRef[]): Promise<Map<string, GeneratedConfig>> {
    const out = new Map<string, GeneratedConfig>();
    if (workloads.length === 0) return out;
    const wanted = new Set(workloads.map(workloadKey));
    const computed = await this.computed(snapshotId);
    const found: { workload: StoredWorkload; cls: StoredClass }[] = [];
    for (const w of computed.workloads) {
      const cls = w.proxyClass === null ? undefined : computed.classes.get(w.proxyClass);
      if (cls && wanted.has(workloadKey(w))) found.push({ workload: w, cls });
    }
    const infos = await this.objects([...new Set(found.map((f) => f.cls.proxyInfoHash))]);
    const objectsOf = await this.objectsUnder([...new Set(found.map((f) => f.cls.configHash))]);
    // Each class's lists sorted once, shared by its members (thousands of objects per class).
    const lists = new Map<string, Omit<GeneratedConfig, 'proxy'>>();
    for (const [configHash, objects] of objectsOf) lists.set(configHash, toGeneratedLists(objects));
    for (const { workload: w, cls } of found) {
      const classLists = lists.get(cls.configHash);
      const info = infos.get(cls.proxyInfoHash)?.body as Omit<ProxyInfo, 'id' | 'ips'> | undefined;
      if (!classLists || !info) continue;
      const proxy: ProxyInfo = { ...info, id: `${w.name}.${w.namespace}`, ips: w.ips };
      out.set(workloadKey(w), { proxy, ...classLists });
    }
    return out;
  }

  /**
   * The stored config of one named workload of a READY snapshot (the caller knows it is READY: its
   * computation never changes again), from memory after the first question: the snapshot's
   * workload-to-class index and each assembled config are kept (see CONFIG_CACHE_BYTES). The lists
   * are shared by every caller and every workload of the class: read them, never change them.
   */
  async readyConfigOf(snapshotId: string, ref: WorkloadRef): Promise<GeneratedConfig | null> {
    const found = (await this.readyIndex(snapshotId)).byWorkload.get(workloadKey(ref));
    if (!found) return null;
    const { workload: w, cls } = found;
    const lists = await this.classLists(cls);
    if (!lists) return null;
    const info = (await this.objects([cls.proxyInfoHash])).get(cls.proxyInfoHash)?.body as Omit<ProxyInfo, 'id' | 'ips'> | undefined;
    if (!info) return null;
    return { proxy: { ...info, id: `${w.name}.${w.namespace}`, ips: w.ips }, ...lists };
  }

  /**
   * The classes of a READY snapshot whose members' ProxyInfo, but for the id and addresses, has
   * this hash (as the compute job stored it), each with its first member: where to look for the
   * class of a proxy described rather than named.
   */
  async readyClassesWithProxyInfo(snapshotId: string, proxyInfoHash: string): Promise<ReadyClass[]> {
    return (await this.readyIndex(snapshotId)).byProxyInfo.get(proxyInfoHash) ?? [];
  }

  /** The stored config of a class of a READY snapshot, without its ProxyInfo; shared as readyConfigOf's. */
  async readyClassConfig(snapshotId: string, classKey: string): Promise<Omit<GeneratedConfig, 'proxy'> | null> {
    const found = (await this.readyIndex(snapshotId)).byClass.get(classKey);
    return found ? this.classLists(found.cls) : null;
  }

  /** A READY snapshot's workloads and classes, indexed once and kept (see READY_INDEXES). */
  private readyIndex(snapshotId: string): Promise<ReadyIndex> {
    let index = this.readyIndexes.get(snapshotId);
    if (!index) {
      index = this.computed(snapshotId).then(({ workloads, classes }) => {
        const out: ReadyIndex = { byWorkload: new Map(), byClass: new Map(), byProxyInfo: new Map() };
        // Workloads come sorted by namespace and name: a class's first is its representative.
        for (const w of workloads) {
          const cls = w.proxyClass === null ? undefined : classes.get(w.proxyClass);
          if (!cls) continue;
          out.byWorkload.set(workloadKey(w), { workload: w, cls });
          if (out.byClass.has(cls.classKey)) continue;
          const ready = { cls, rep: w };
          out.byClass.set(cls.classKey, ready);
          const same = out.byProxyInfo.get(cls.proxyInfoHash);
          if (same) same.push(ready);
          else out.byProxyInfo.set(cls.proxyInfoHash, [ready]);
        }
        return out;
      });
      this.readyIndexes.set(snapshotId, index);
      index.catch(() => this.readyIndexes.delete(snapshotId));
    }
    return index;
  }

  /** A class's config lists, assembled once and kept by config hash (see CONFIG_CACHE_BYTES). */
  private async classLists(cls: StoredClass): Promise<Omit<GeneratedConfig, 'proxy'> | null> {
    let cached = this.configCache.get(cls.configHash);
    if (!cached) {
      const objects = (await this.objectsUnder([cls.configHash])).get(cls.configHash);
      if (!objects) return null;
      cached = { lists: toGeneratedLists(objects), bytes: objects.reduce((n, o) => n + o.bytes, 0) };
      this.configCache.set(cls.configHash, cached);
    }
    return cached.lists;
  }

  /**
   * The tree nodes under these nodes, them included (those stored): their child nodes' and their
   * objects' hashes, in one statement however deep the trees. A level's hashes per row of the
   * recursion: a row per node would have the planner expect many times the rows there are, and
   * compile the statement.
   */
  async treeNodesUnder(hashes: readonly string[]): Promise<StoredNode[]> {
    if (hashes.length === 0) return [];
    const rows: { hash: string; children: Buffer; objects: Buffer }[] = await this.dataSource.query(
      `WITH RECURSIVE frontier (hashes) AS (
         SELECT $1::bytea[]
         UNION ALL
         SELECT (SELECT array_agg(DISTINCT substring(n.children FROM i * ${HASH_BYTES} + 1 FOR ${HASH_BYTES}))
                 FROM envoy_config_nodes n CROSS JOIN LATERAL generate_series(0, length(n.children) / ${HASH_BYTES} - 1) AS i
                 WHERE n.hash = ANY(f.hashes))
         FROM frontier f WHERE f.hashes IS NOT NULL
       )
       SELECT encode(n.hash, 'hex') AS hash, n.children, n.objects
       FROM envoy_config_nodes n WHERE n.hash IN (SELECT unnest(hashes) FROM frontier)`,
      [hashes.map(toBytes)],
    );
    return rows.map((r) => ({ hash: r.hash, children: unpackHashes(r.children), objects: unpackHashes(r.objects) }));
  }

  /** Envoy objects' types and names by hash (those stored), without their bodies. */
  async objectNames(hashes: readonly string[]): Promise<{ hash: string; type: string; name: string }[]> {
    if (hashes.length === 0) return [];
    return this.dataSource.query(`SELECT encode(hash, 'hex') AS hash, type, name FROM envoy_objects WHERE hash = ANY($1::bytea[])`, [
      hashes.map(toBytes),
    ]);
  }

  /**
   * Envoy objects by hash (those stored), parsed. Kept in memory up to a budget of their JSON's
   * size, the least recently used leaving first (content-addressed: never stale; every sidecar of a
   * mesh has the same outbound clusters). Shared with other callers: read them, never change them.
   */
  async objects(hashes: readonly string[]): Promise<Map<string, StoredObject>> {
    const out = new Map<string, StoredObject>();
    const unread: string[] = [];
    for (const h of hashes) {
      const cached = this.objectCache.get(h);
      if (cached) out.set(h, cached);
      else unread.push(h);
    }
    for (let i = 0; i < unread.length; i += 5000) {
      // As text, parsed here: what pg would do for jsonb anyway, and it gives the size the cache budgets.
      const rows: { hash: string; type: string; name: string; body: string }[] = await this.dataSource.query(
        `SELECT encode(hash, 'hex') AS hash, type, name, body::text AS body FROM envoy_objects WHERE hash = ANY($1::bytea[])`,
        [unread.slice(i, i + 5000).map(toBytes)],
      );
      for (const r of rows) {
        const object = { type: r.type, name: r.name, body: JSON.parse(r.body) as EnvoyObject, bytes: r.body.length };
        out.set(r.hash, object);
        this.objectCache.set(r.hash, object);
      }
    }
    return out;
  }

  /**
   * Pairs of route configurations (by hash), each side trimmed to the virtual hosts that differ from
   * the other side's at the same position, plus those whose domains include `*`, in their order;
   * every other field kept. Compared by their virtual hosts' hashes (route-hosts.ts): only the
   * differing virtual hosts and the small rest of each side are read, so a megabyte route
   * configuration of a big mesh in which a few services changed is read, sent and parsed as a few
   * kilobytes. A route configuration stored without its hosts indexed (by other means than a
   * compute job) is indexed first. Only pairs both of whose sides have a virtualHosts array of
   * objects with distinct string names are returned (see trimmedRoutePairs in src/diff/proxies.ts
   * for why that suffices); the objects are the caller's, never cached here.
   */
  async trimmedRoutePairs(pairs: readonly { base: string; head: string }[]): Promise<Map<string, TrimmedRoutePair>> {
    const out = new Map<string, TrimmedRoutePair>();
    if (pairs.length === 0) return out;
    let rows = await this.trimmedRouteRows(pairs);
    const unindexed = [...new Set(rows.filter((r) => !r.indexed).flatMap((r) => [r.base, r.head]))];
    if (unindexed.length) {
      await writeTransaction(this.dataSource, (em) => indexRouteHosts(em, unindexed.map(toBytes)));
      rows = await this.trimmedRouteRows(pairs);
    }
    for (const r of rows) {
      if (!r.keyed) continue;
      const side = (rest: string, hosts: string): EnvoyObject => ({
        ...(JSON.parse(rest) as EnvoyObject),
        virtualHosts: JSON.parse(hosts),
      });
      const bytes = r.base_rest.length + r.base_hosts.length + r.head_rest.length + r.head_hosts.length;
      out.set(`${r.base}|${r.head}`, { base: side(r.base_rest, r.base_hosts), head: side(r.head_rest, r.head_hosts), bytes });
    }
    return out;
  }

  /**
   * A row per pair both sides of which are stored route configurations: `indexed` when both have
   * their hosts indexed, then `keyed` when both are trimmable, then the trimmed sides. Positions
   * are compared by hash; virtual hosts are read only at the positions kept.
   */
  private async trimmedRouteRows(pairs: readonly { base: string; head: string }[]): Promise<TrimmedRouteRow[]> {
    // Each side's hashes are read once (x.bh, x.hh: detoasted by the lateral, not by every position's
    // substring). The kept hosts' JSON texts joined: each body printed once, not copied into a jsonb
    // array printed again.
    const kept = (side: 'bh' | 'hh', other: 'bh' | 'hh', wildcards: string) =>
      `SELECT coalesce('[' || string_agg(v.body::text, ',' ORDER BY i) || ']', '[]')
       FROM generate_series(1, ${hostCount(`x.${side}`)}) AS i
       JOIN envoy_virtual_hosts v ON v.hash = ${hostAt(`x.${side}`, 'i')}
       WHERE ${hostAt(`x.${side}`, 'i')} IS DISTINCT FROM nullif(${hostAt(`x.${other}`, 'i')}, ''::bytea) OR i = ANY(${wildcards})`;
    // Postgres runs a statement on one core: the pairs split into a statement per core, at once.
    const size = Math.ceil(pairs.length / availableParallelism());
    const parts: (typeof pairs)[] = [];
    for (let i = 0; i < pairs.length; i += size) parts.push(pairs.slice(i, i + size));
    const statement = (part: typeof pairs): Promise<TrimmedRouteRow[]> =>
      this.dataSource.query(
        `SELECT encode(p.b, 'hex') AS base, encode(p.h, 'hex') AS head,
              b.route IS NOT NULL AND h.route IS NOT NULL AS indexed, coalesce(b.keyed AND h.keyed, false) AS keyed,
              t.base_rest, t.head_rest, t.base_hosts, t.head_hosts
       FROM unnest($1::bytea[], $2::bytea[]) AS p(b, h)
       JOIN envoy_objects bo ON bo.hash = p.b AND bo.type = 'route'
       JOIN envoy_objects ho ON ho.hash = p.h AND ho.type = 'route'
       LEFT JOIN envoy_route_hosts b ON b.route = p.b
       LEFT JOIN envoy_route_hosts h ON h.route = p.h
       LEFT JOIN LATERAL (SELECT b.hosts || ''::bytea AS bh, h.hosts || ''::bytea AS hh WHERE b.keyed AND h.keyed OFFSET 0) x ON true
       LEFT JOIN LATERAL (
         SELECT b.rest::text AS base_rest, h.rest::text AS head_rest,
                (${kept('bh', 'hh', 'b.wildcards')}) AS base_hosts, (${kept('hh', 'bh', 'h.wildcards')}) AS head_hosts
         WHERE x.bh IS NOT NULL
       ) t ON true`,
        [part.map((p) => toBytes(p.base)), part.map((p) => toBytes(p.head))],
      );
    return (await Promise.all(parts.map(statement))).flat();
  }

  /** Each root's objects (a root whose tree is not all stored is left out). */
  private async objectsUnder(roots: string[]): Promise<Map<string, StoredObject[]>> {
    const nodes = await this.nodesUnder(roots);
    const objectHashes = new Set<string>();
    for (const n of nodes.values()) for (const o of n.objects) objectHashes.add(o);
    return objectLists(roots, nodes, await this.objects([...objectHashes]));
  }

  /**
   * The objects of each config tree (by root): type, name and hash, in the order of its config's
   * lists (toGeneratedLists), without their bodies. A tree with a node or object not stored is left out.
   */
  async objectRefsUnder(roots: string[]): Promise<Map<string, { type: string; name: string; hash: string }[]>> {
    const nodes = await this.nodesUnder(roots);
    const objectHashes = new Set<string>();
    for (const n of nodes.values()) for (const o of n.objects) objectHashes.add(o);
    const named = new Map((await this.objectNames([...objectHashes])).map((o) => [o.hash, o]));
    const out = new Map<string, { type: string; name: string; hash: string }[]>();
    for (const [root, list] of objectLists(roots, nodes, named))
      out.set(
        root,
        list.sort((a, b) => compareStrings(a.name, b.name)),
      );
    return out;
  }

  /**
   * Envoy objects' JSON text as stored, by hash (those stored), neither parsed nor cached: for a
   * reader that parses them elsewhere (the compute job's thread).
   */
  async objectTexts(hashes: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < hashes.length; i += 5000) {
      const rows: { hash: string; body: string }[] = await this.dataSource.query(
        `SELECT encode(hash, 'hex') AS hash, body::text AS body FROM envoy_objects WHERE hash = ANY($1::bytea[])`,
        [hashes.slice(i, i + 5000).map(toBytes)],
      );
      for (const r of rows) out.set(r.hash, r.body);
    }
    return out;
  }

  /** The tree nodes under the roots, the roots included, by hash. */
  private async nodesUnder(roots: string[]): Promise<Map<string, StoredNode>> {
    return new Map((await this.treeNodesUnder(roots)).map((n) => [n.hash, n]));
  }

  /** Bytes each table of this storage takes (relation, indexes, TOAST), for the benchmark and metrics. */
  async tableSizes(): Promise<Record<string, number>> {
    const rows: { name: string; bytes: string }[] = await this.dataSource.query(
      `SELECT c.relname AS name, pg_total_relation_size(c.oid)::text AS bytes
       FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
       WHERE s.nspname = 'public' AND c.relkind = 'r'`,
    );
    return Object.fromEntries(rows.map((r) => [r.name, Number(r.bytes)]));
  }
}

/** Each root's objects in tree order (children first, then the node's own), from `objects`; a root missing any is left out. */
function objectLists<T>(roots: string[], nodes: Map<string, StoredNode>, objects: Map<string, T>): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const root of roots) {
    const list: T[] = [];
    const walk = (hash: string): boolean => {
      const node = nodes.get(hash);
      if (!node) return false;
      for (const c of node.children) if (!walk(c)) return false;
      for (const h of node.objects) {
        const o = objects.get(h);
        if (o === undefined) return false;
        list.push(o);
      }
      return true;
    };
    if (walk(root)) out.set(root, list);
  }
  return out;
}

export function workloadKey(w: WorkloadRef): string {
  return `${w.namespace}/${w.name}`;
}

function toBytes(hexHash: string): Buffer {
  return Buffer.from(hexHash, 'hex');
}
