import { Injectable } from '@nestjs/common';
import { isIP, isIPv6 } from 'node:net';
import { SnapshotStatus } from '../database/entities/index.js';
import { ProxyConfigStore } from '../database/proxy-config.store.js';
import { SnapshotStore } from '../database/snapshot.store.js';
import { WorkloadStore } from '../database/workload.store.js';
import { GeneratorService, SnapshotNotFoundError } from '../generator/generator.service.js';
import { mapBounded } from '../common/bounded.js';
import { GeneratorError, type ProxyFacts, type RenderParams, type StatusProxy } from '../generator/protocol.js';
import { ConflictError, NotFoundError } from '../model/errors.js';
import type { GeneratedConfig, ProxyInfo, ProxyInput as WireProxyInput } from '../model/proxy.js';
import { ProxyType } from '../graphql/enums.js';
import { RouteSources } from '../envoy/provenance.js';
import type { ProxyInput } from './proxy-config.types.js';
import { Lru } from '../cache/lru.js';
import { canonicalJson, contentHash } from '../model/canonical.js';
import { classProxyInfo, dependsOnIdentity } from '../jobs/proxy-classes.js';

/**
 * Generated configs of proxies without a stored one (ad-hoc proxies, named ones asked about with
 * other metadata, snapshots not computed yet), by snapshot and the proxy exactly as asked, in bytes
 * of their JSON: a snapshot never changes, and istiod generates the same config for the same proxy,
 * so the second question about a proxy costs a walk, not a generation.
 */
const GENERATED_CACHE_BYTES = 256 * 1024 * 1024;

/** Proxies described rather than named (by snapshot and the proxy as asked) whose stored class is known, or known to be none. */
const DESCRIBED_PROXIES = 4096;

/** The stored class istiod gives a described proxy's config, with the proxy as istiod sees it. */
interface DescribedClass {
  classKey: string;
  proxy: ProxyInfo;
}

/** What istiod would push to one proxy of a snapshot. */
@Injectable()
export class ProxyConfigService {
  private readonly generated = new Lru<{ config: GeneratedConfig; bytes: number }>(GENERATED_CACHE_BYTES, (g) => g.bytes);
  private readonly described = new Lru<Promise<DescribedClass | null>>(DESCRIBED_PROXIES);
  /** READY snapshots' Gateway API routes (stored once with the computation). */
  private readonly readySources = new Lru<RouteSources>(16);

  constructor(
    private readonly generator: GeneratorService,
    private readonly snapshots: SnapshotStore,
    private readonly store: ProxyConfigStore,
    private readonly workloads: WorkloadStore,
  ) {}

  /**
   * Every proxy of a READY snapshot (of one namespace, when given), as istiod's syncz reports a
   * connected proxy: the config the compute job stored, read in one query; a workload without one
   * from a generator session, four at a time.
   */
  async statusProxies(snapshotId: string, namespace: string | null): Promise<StatusProxy[]> {
    const snapshot = await this.snapshots.get(snapshotId);
    if (!snapshot) throw new NotFoundError(`snapshot ${snapshotId} not found`);
    if (snapshot.status !== SnapshotStatus.READY)
      throw new ConflictError(`snapshot ${snapshotId} is ${snapshot.status}: proxy-status lists the proxies of a READY snapshot`);
    const workloads = (await this.workloads.list(snapshotId, namespace)).filter((w) => w.proxyType !== ProxyType.NONE);
    const stored = await this.store.configsOf(
      snapshotId,
      workloads.map((w) => ({ namespace: w.namespace, name: w.name })),
    );
    return mapBounded(workloads, 4, async (w) => {
      const config =
        stored.get(`${w.namespace}/${w.name}`) ??
        (await this.generate(snapshotId, { namespace: w.namespace, name: w.name, type: ProxyType.SIDECAR }));
      const { listeners, routes, clusters, endpoints, proxy } = config;
      return {
        id: proxy.id,
        namespace: proxy.namespace,
        clusterId: 'Kubernetes',
        istioVersion: proxy.istioVersion,
        config: { proxy, listeners, routes, clusters, endpoints },
      };
    });
  }

  /**
   * An existing workload of a READY snapshot: its stored config (the compute job generated it),
   * without a generator session. An ad-hoc proxy, a workload asked about with other metadata, or a
   * snapshot not computed yet: a generator session.
   */
  async generate(snapshotId: string, proxy: ProxyInput): Promise<GeneratedConfig> {
    const wire = toWireProxy(proxy);
    const status = await this.snapshots.status(snapshotId);
    if (status === SnapshotStatus.READY) {
      const stored = isStoredWorkload(wire) ? await this.stored(snapshotId, wire) : await this.storedClass(snapshotId, wire);
      if (stored) return stored;
    }
    const key = `${snapshotId}\u0000${canonicalJson(wire)}`;
    const cached = this.generated.get(key);
    if (cached) {
      // A deleted snapshot is gone for the cache too (its session would not load).
      if (status === null) throw new SnapshotNotFoundError(`snapshot ${snapshotId} not found`);
      return cached.config;
    }
    const config = await this.generator.ask(snapshotId, 'proxyConfig', { proxy: wire });
    this.generated.set(key, { config, bytes: JSON.stringify(config).length });
    return config;
  }

  /**
   * The Gateway API routes behind the snapshot's Envoy routes: stored with a READY snapshot, else
   * from a generator session.
   */
  async routeSources(snapshotId: string): Promise<RouteSources> {
    const known = this.readySources.get(snapshotId);
    if (known) return known;
    if ((await this.snapshots.status(snapshotId)) === SnapshotStatus.READY) {
      const sources = new RouteSources((await this.snapshots.gatewayApi(snapshotId)).virtualServices);
      this.readySources.set(snapshotId, sources);
      return sources;
    }
    return new RouteSources((await this.generator.ask(snapshotId, 'gatewayApi', undefined)).virtualServices);
  }

  /**
   * The proxy's config as Envoy's admin `/config_dump?include_eds` reports it: the one config dump,
   * built by the generator (its text passed through, so that every surface serves the same bytes).
   */
  configDump(config: GeneratedConfig): Promise<string> {
    return this.generator.render({ view: 'config_dump', config, flags: { output: 'json' } });
  }

  /** istioctl's output for a view (its own writers). */
  render(params: RenderParams): Promise<string> {
    return this.generator.render(params);
  }

  /**
   * A proxy described rather than named (or named with other metadata) of a READY snapshot (the
   * caller knows it is READY), to which istiod gives the config of a stored class: that class's stored config, with
   * the proxy as istiod sees it. Found once per snapshot and proxy as asked, and kept.
   */
  private async storedClass(snapshotId: string, wire: WireProxyInput): Promise<GeneratedConfig | null> {
    const key = `${snapshotId}\u0000${canonicalJson(wire)}`;
    let found = this.described.get(key);
    if (!found) {
      found = this.findClass(snapshotId, wire);
      this.described.set(key, found);
      found.catch(() => this.described.delete(key));
    }
    const cls = await found;
    if (!cls) return null;
    const lists = await this.store.readyClassConfig(snapshotId, cls.classKey);
    return lists && { proxy: cls.proxy, ...lists };
  }

  /**
   * The stored class whose facts (the generator's, asked for the proxy and for the class's first
   * workload, no config generated) equal the proxy's but for the identity. Only a class of several
   * workloads: the compute job split any whose members' configs name each other (dependsOnIdentity),
   * while a class of one may depend on its workload by what its config leaves out (istiod skips the
   * proxy's own address in a headless Service's listeners), which nothing tells. And only when the
   * class's config does not name the proxy's own address (istiod would leave it out for this proxy).
   */
  private async findClass(snapshotId: string, wire: WireProxyInput): Promise<DescribedClass | null> {
    const facts = await this.generator.ask(snapshotId, 'proxyFacts', { proxy: wire });
    const wanted = sharedFactsKey(facts);
    for (const { cls, rep } of await this.store.readyClassesWithProxyInfo(snapshotId, contentHash(classProxyInfo(facts.proxy)))) {
      if (cls.members < 2) continue;
      const repFacts = await this.generator.ask(snapshotId, 'proxyFacts', { proxy: { namespace: rep.namespace, name: rep.name } });
      if (sharedFactsKey(repFacts) !== wanted) continue;
      const config = await this.store.readyClassConfig(snapshotId, cls.classKey);
      const repMember = { namespace: rep.namespace, name: rep.name, proxy: repFacts.proxy };
      const asked = { namespace: wire.namespace, name: wire.name ?? '', proxy: facts.proxy };
      if (!config || dependsOnIdentity(config, repMember, [repMember, asked])) continue;
      return { classKey: cls.classKey, proxy: facts.proxy };
    }
    return null;
  }

  /** The stored config of a named workload of a READY snapshot (the caller knows), when it has one. */
  private async stored(snapshotId: string, wire: WireProxyInput): Promise<GeneratedConfig | null> {
    if (!wire.name) return null;
    const config = await this.store.readyConfigOf(snapshotId, { namespace: wire.namespace, name: wire.name });
    // An explicit type other than the workload's own is a different proxy: ask a session.
    if (!config || (wire.type && wire.type !== config.proxy.type)) return null;
    return config;
  }
}

/**
 * What a proxy's config depends on but for its identity, as a key: the facts the class key of the
 * compute job covers (src/jobs/proxy-classes.ts), as the generator reports them for any proxy.
 */
function sharedFactsKey(facts: ProxyFacts): string {
  return contentHash({
    proxy: classProxyInfo(facts.proxy),
    ipFamilies: facts.proxy.ips.map((ip) => (isIPv6(ip) ? 6 : 4)),
    servicePorts: facts.servicePorts,
    dnsDomain: facts.dnsDomain,
    metadata: facts.metadata,
  });
}

/** Names an existing workload and nothing else that would change what istiod generates for it. */
function isStoredWorkload(wire: WireProxyInput): boolean {
  return Boolean(wire.name) && !wire.labels && !wire.ip && !wire.ips?.length && !wire.istioVersion && !wire.metadata;
}

/**
 * The contract's ProxyInput as the generator takes it. The schema defaults `type` to SIDECAR; for a
 * named workload that default gives way to the workload's own type (a gateway pod stays a router).
 */
export function toWireProxy(proxy: ProxyInput): WireProxyInput {
  const problems: string[] = [];
  if (!proxy.namespace) problems.push('namespace is required');
  if (
    proxy.labels != null &&
    (typeof proxy.labels !== 'object' || Array.isArray(proxy.labels) || Object.values(proxy.labels).some((v) => typeof v !== 'string'))
  )
    problems.push('labels must be an object of string values');
  for (const ip of [proxy.ip, ...(proxy.ips ?? [])]) if (ip != null && !isIP(ip)) problems.push(`"${ip}" is not an IP address`);
  if (proxy.metadata != null && (typeof proxy.metadata !== 'object' || Array.isArray(proxy.metadata)))
    problems.push('metadata must be an object');
  if (problems.length) throw new GeneratorError('BAD_REQUEST', `invalid proxy: ${problems.join('; ')}`);
  const named = Boolean(proxy.name) && !proxy.labels && !proxy.ip && !proxy.ips?.length;
  return {
    namespace: proxy.namespace,
    name: proxy.name ?? undefined,
    labels: proxy.labels ?? undefined,
    ip: proxy.ip ?? undefined,
    ips: proxy.ips ?? undefined,
    type: named && proxy.type === ProxyType.SIDECAR ? undefined : proxy.type,
    istioVersion: proxy.istioVersion ?? undefined,
    metadata: proxy.metadata ?? undefined,
  };
}
