// ProxyConfigSource computed by the generator: the pods of a snapshot grouped into classes by what
// istiod builds their config from (ProxyInfo without id and addresses), one proxyConfig per class,
// objects kept once by content hash. Stands in until the per-class config is stored by the worker.
import type { Methods } from '../generator/protocol.js';
import { RouteSources } from '../envoy/provenance.js';
import type { EnvoyObject, ProxyInfo } from '../model/proxy.js';
import type { WorkloadRef } from './model.js';
import { classKeyOf, compareWorkloads, indexConfig, type ProxyClass, type ProxyConfigSource } from './proxy-class.js';
import { compareStrings } from '../model/compare.js';

export type Ask = <M extends keyof Methods>(snapshotId: string, method: M, params: Methods[M]['params']) => Promise<Methods[M]['result']>;

export interface Computed {
  classes: ProxyClass[];
  pool: Map<string, EnvoyObject>;
}

export interface GeneratorSourceOptions {
  /** Snapshots whose classes are kept (they never change once READY). */
  cacheSnapshots?: number;
  /** proxyConfig requests in flight at once. */
  concurrency?: number;
}

export class GeneratorConfigSource implements ProxyConfigSource {
  private readonly cache = new Map<string, Promise<Computed>>();
  private readonly cacheSize: number;
  private readonly concurrency: number;

  constructor(
    private readonly ask: Ask,
    options: GeneratorSourceOptions = {},
  ) {
    this.cacheSize = options.cacheSnapshots ?? 4;
    this.concurrency = options.concurrency ?? 2;
  }

  async routeSources(snapshotId: string): Promise<RouteSources> {
    return new RouteSources((await this.ask(snapshotId, 'gatewayApi', undefined)).virtualServices);
  }

  async classes(snapshotId: string): Promise<ProxyClass[]> {
    return (await this.computed(snapshotId)).classes;
  }

  async objects(snapshotId: string, hashes: readonly string[]): Promise<Map<string, EnvoyObject>> {
    const { pool } = await this.computed(snapshotId);
    const out = new Map<string, EnvoyObject>();
    for (const h of hashes) {
      const o = pool.get(h);
      if (o) out.set(h, o);
    }
    return out;
  }

  /**
   * The classes of only some workloads (namespace/name) of a snapshot, and their objects: one
   * proxyConfig per class of those, none for the others.
   */
  some(snapshotId: string, workloads: ReadonlySet<string>): Promise<Computed> {
    return this.computed(`${snapshotId}\u0000${[...workloads].sort().join(',')}`, snapshotId, workloads);
  }

  forget(snapshotId: string): void {
    for (const key of [...this.cache.keys()]) if (key === snapshotId || key.startsWith(`${snapshotId}\u0000`)) this.cache.delete(key);
  }

  private computed(key: string, snapshotId = key, only?: ReadonlySet<string>): Promise<Computed> {
    let entry = this.cache.get(key);
    if (entry) {
      this.cache.delete(key);
      this.cache.set(key, entry);
      return entry;
    }
    entry = this.compute(snapshotId, only);
    entry.catch(() => this.cache.get(key) === entry && this.cache.delete(key));
    this.cache.set(key, entry);
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return entry;
  }

  private async compute(snapshotId: string, only?: ReadonlySet<string>): Promise<Computed> {
    const proxies = await this.ask(snapshotId, 'proxies', {});
    const groups = new Map<string, { proxy: ProxyInfo; workloads: WorkloadRef[] }>();
    for (const p of proxies) {
      if (!p.proxy) continue;
      if (only && !only.has(`${p.namespace}/${p.name}`)) continue;
      const key = classKeyOf(p.proxy);
      const g = groups.get(key);
      const w = { namespace: p.namespace, name: p.name, kind: p.kind || 'Pod' };
      if (g) g.workloads.push(w);
      else groups.set(key, { proxy: p.proxy, workloads: [w] });
    }
    const pool = new Map<string, EnvoyObject>();
    const entries = [...groups.entries()].sort(([a], [b]) => compareStrings(a, b));
    const classes = new Array<ProxyClass>(entries.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < entries.length; i = next++) {
        const [classKey, g] = entries[i];
        g.workloads.sort(compareWorkloads);
        const rep = g.workloads[0];
        const config = await this.ask(snapshotId, 'proxyConfig', { proxy: { namespace: rep.namespace, name: rep.name } });
        const { objects, configHash } = indexConfig(config, pool);
        classes[i] = { classKey, proxyType: g.proxy.type, workloads: g.workloads, configHash, objects };
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.concurrency, entries.length)) }, worker));
    return { classes, pool };
  }
}
