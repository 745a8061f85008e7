import { Injectable } from '@nestjs/common';
import { Lru } from '../cache/lru.js';
import { HTTP_CONNECTION_MANAGER } from '../envoy/xds.js';
import { ProxyType } from '../graphql/enums.js';
import { SnapshotStatus } from '../database/entities/index.js';
import { SnapshotStore } from '../database/snapshot.store.js';
import { WorkloadStore } from '../database/workload.store.js';
import { GeneratorService, SnapshotNotFoundError } from '../generator/generator.service.js';
import { GeneratorError } from '../generator/protocol.js';
import { NormalisedSnapshots } from '../jobs/normalised-snapshots.js';
import { UnknownWorkloadError } from '../model/errors.js';
import type { GeneratedConfig } from '../model/proxy.js';
import { ProxyConfigService } from '../proxy-config/proxy-config.service.js';
import type { ProxyInput } from '../proxy-config/proxy-config.types.js';
import { callProblems, toCall } from '../routing/graphql/routing.resolver.js';
import type { CallInput } from '../routing/graphql/route-resolution.types.js';
import { kubeProxy, serviceByClusterIp } from '../routing/kube-proxy.js';
import { RoutingService } from '../routing/routing.service.js';
import { networkFilter, type Call } from '../routing/resolve.js';
import type { NormalisedSnapshot, Workload } from '../model/snapshot.js';
import type { MeshSecurity, PeerAuthnResolution } from '../model/mesh-security.js';
import type { StoredWorkload } from '../database/snapshot-lists.js';
import type { ConfigRef } from '../model/config-ref.js';
import {
  journey,
  JourneyWorkloads,
  type Journey,
  type JourneyWorkload,
  type ProxyEnvoyConfig,
  type ReceiverMtls,
  type RequestIdentity,
  type Sender,
} from './journey.js';

interface SnapshotFacts {
  workloads: JourneyWorkloads;
  /** What the compute job stored of the mesh's security settings (a READY snapshot computed with them), else null: ask the generator. */
  security: StoredSecurity | null;
}

interface StoredSecurity {
  trustDomain: string;
  /** By workload (namespace/name): its class's PeerAuthentication resolution, null without a sidecar; absent: unresolved. */
  peerAuthn: Map<string, PeerAuthnResolution | null>;
}

/** Follows a request through every proxy on its way (journey.ts), with the configs istiod generates. */
@Injectable()
export class JourneyService {
  /** Per snapshot (its resources never change) and whether it was READY: its workloads, and what its computation stored. */
  private readonly facts = new Lru<Promise<SnapshotFacts>>(16);
  /** Per snapshot: the trust domain of its mesh config, as the generator applied Istio's defaults to it. */
  private readonly trustDomains = new Lru<Promise<string>>(16);
  /** The inbound side of receivers' configs, by snapshot and workload: small, and asked for on every journey. */
  private readonly inbound = new Lru<ProxyEnvoyConfig | null>(4096);
  /** Gateways' whole configs, by snapshot and workload, for journeys that pass through them. */
  private readonly gateways = new Lru<Promise<ProxyEnvoyConfig | null>>(64);
  /** The generator's PeerAuthentication resolution of receivers, by snapshot and workload (snapshots without a stored one). */
  private readonly peerAuthn = new Lru<Promise<PeerAuthnResolution | null>>(4096);

  constructor(
    private readonly proxyConfig: ProxyConfigService,
    private readonly snapshots: SnapshotStore,
    private readonly workloadStore: WorkloadStore,
    private readonly generator: GeneratorService,
    private readonly routing: RoutingService,
    private readonly normalisedSnapshots: NormalisedSnapshots,
  ) {}

  async journey(snapshotId: string, from: ProxyInput, callInput: CallInput, identity: RequestIdentity | null): Promise<Journey> {
    const problems = callProblems(callInput);
    if (problems.length) throw new GeneratorError('BAD_REQUEST', `invalid call: ${problems.join('; ')}`);
    // Remembered once READY: a warm journey waits for no query about the snapshot itself.
    const status = await this.snapshots.status(snapshotId);
    if (status === null) throw new SnapshotNotFoundError(`snapshot ${snapshotId} not found`);
    let normalised: NormalisedSnapshot | undefined;
    // As the generator loads the snapshot: with the workloads and Services istiod deploys for Gateways.
    const normalise = async () =>
      (normalised ??= (await this.normalisedSnapshots.normalised(snapshotId, (params) => this.generator.deployGateways(params)))!);
    const facts = await this.snapshotFacts(snapshotId, status === SnapshotStatus.READY, normalise);
    const named = from.name ? facts.workloads.named(from.namespace, from.name) : undefined;
    if (from.name && !named) throw new UnknownWorkloadError(`no workload ${from.namespace}/${from.name} in snapshot ${snapshotId}`);

    let config: GeneratedConfig | null = null;
    if (from.type !== ProxyType.NONE && named?.proxyType !== 'NONE') {
      try {
        config = await this.proxyConfig.generate(snapshotId, from);
      } catch (error) {
        if (!(error instanceof GeneratorError && error.code === 'NO_PROXY')) throw error;
      }
    }
    const call: Call = toCall(callInput);
    // A router has no outbound capture: the request arrives at one of its listeners.
    if (config?.proxy.type === 'ROUTER' && call.mode === 'OUTBOUND') call.mode = 'GATEWAY';
    const sender: Sender = {
      workload: named ? { namespace: named.namespace, name: named.name, kind: named.kind } : null,
      proxyType: config ? config.proxy.type : 'NONE',
      namespace: named?.namespace ?? config?.proxy.namespace ?? from.namespace,
      serviceAccount: named?.serviceAccount ?? serviceAccountOf(from),
      ip: named?.ips[0] ?? config?.proxy.ips[0] ?? from.ip ?? '0.0.0.0',
      config: config as unknown as ProxyEnvoyConfig | null,
    };
    if (!config) sender.kubeProxy = kubeProxy(await this.routing.kubeProxyInput(snapshotId), from.namespace, call.host, call.port);

    const receivers = new Map<string, Promise<ProxyEnvoyConfig | null>>();
    return journey({
      sender,
      call,
      identity,
      workloads: facts.workloads,
      trustDomain: facts.security?.trustDomain ?? (await this.trustDomain(snapshotId)),
      receiverConfig: (w) => {
        const key = `${snapshotId}/${w.namespace}/${w.name}`;
        const cached = this.inbound.get(key);
        if (cached !== undefined) return Promise.resolve(cached);
        let found = receivers.get(key);
        if (!found) {
          found = this.proxyConfig.generate(snapshotId, { namespace: w.namespace, name: w.name, type: ProxyType.SIDECAR }).then(
            (c) => {
              const view = inboundView(c as unknown as ProxyEnvoyConfig);
              this.inbound.set(key, view);
              return view;
            },
            (error: unknown) => {
              if (error instanceof GeneratorError && error.code === 'NO_PROXY') return null;
              throw error;
            },
          );
          receivers.set(key, found);
        }
        return found;
      },
      gatewayConfig: (w) => this.gatewayConfig(snapshotId, w),
      receiverMtls: (w, port) => this.receiverMtls(snapshotId, facts.security, w, port),
      // Kept per snapshot: normalising the whole snapshot on every call to an address took seconds on a big mesh.
      serviceByIp: async (address, port) => serviceByClusterIp(await this.routing.kubeProxyInput(snapshotId), address, port),
    });
  }

  /**
   * The trust domain of the snapshot's mesh config (ConfigMap istio's `mesh` in the root namespace),
   * Istio's defaults applied, from a generator session: for a snapshot computed without it stored.
   */
  private trustDomain(snapshotId: string): Promise<string> {
    return this.cached(this.trustDomains, snapshotId, async () => (await this.generator.ask(snapshotId, 'mesh', undefined)).trustDomain);
  }

  private gatewayConfig(snapshotId: string, w: JourneyWorkload): Promise<ProxyEnvoyConfig | null> {
    return this.cached(this.gateways, `${snapshotId}/${w.namespace}/${w.name}`, () =>
      this.proxyConfig.generate(snapshotId, { namespace: w.namespace, name: w.name, type: ProxyType.ROUTER }).then(
        (c) => c as unknown as ProxyEnvoyConfig,
        (error: unknown) => {
          if (error instanceof GeneratorError && error.code === 'NO_PROXY') return null;
          throw error;
        },
      ),
    );
  }

  /**
   * Istio's resolution of the PeerAuthentication of a receiving workload, for one port: stored with
   * the snapshot, else (computed before it was stored, or unresolved then) the generator's.
   */
  private async receiverMtls(
    snapshotId: string,
    security: StoredSecurity | null,
    w: JourneyWorkload,
    port: number,
  ): Promise<ReceiverMtls | null> {
    const key = `${w.namespace}/${w.name}`;
    const stored = security?.peerAuthn.get(key);
    const resolved =
      stored !== undefined
        ? stored
        : await this.cached(this.peerAuthn, `${snapshotId}/${key}`, () =>
            this.generator
              .ask(snapshotId, 'peerAuthentication', { proxy: { namespace: w.namespace, name: w.name, type: 'SIDECAR' } })
              .catch((error: unknown) => {
                if (error instanceof GeneratorError && error.code === 'NO_PROXY') return null;
                throw error;
              }),
          );
    return resolved ? mtlsAtPort(resolved, port) : null;
  }

  private cached<T>(lru: Lru<Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const hit = lru.get(key);
    if (hit) return hit;
    const loading = load();
    lru.set(key, loading);
    loading.catch(() => lru.delete(key));
    return loading;
  }

  private snapshotFacts(snapshotId: string, ready: boolean, normalise: () => Promise<NormalisedSnapshot>): Promise<SnapshotFacts> {
    return this.cached(this.facts, ready ? snapshotId : `${snapshotId}/computing`, async (): Promise<SnapshotFacts> => {
      if (!ready) return { workloads: new JourneyWorkloads((await normalise()).workloads.map(journeyWorkload)), security: null };
      const [workloads, stored] = await Promise.all([this.workloadStore.list(snapshotId), this.snapshots.meshSecurity(snapshotId)]);
      return { workloads: new JourneyWorkloads(workloads.map(journeyWorkload)), security: stored && storedSecurity(stored, workloads) };
    });
  }
}

function journeyWorkload(w: Workload): JourneyWorkload {
  return { namespace: w.namespace, name: w.name, kind: w.kind, proxyType: w.proxyType, ips: w.ips, serviceAccount: w.serviceAccount };
}

/** The stored resolutions by workload, through each workload's stored class. */
function storedSecurity(stored: MeshSecurity, workloads: StoredWorkload[]): StoredSecurity {
  const peerAuthn = new Map<string, PeerAuthnResolution | null>();
  for (const w of workloads) {
    const i = w.proxyClass === null ? undefined : stored.classes[w.proxyClass];
    if (i !== undefined) peerAuthn.set(`${w.namespace}/${w.name}`, i === null ? null : stored.peerAuthentications[i]);
  }
  return { trustDomain: stored.trustDomain, peerAuthn };
}

/** The mode in force on one port: the workload policy's port-level setting when it has one, else the workload's. */
function mtlsAtPort(resolved: PeerAuthnResolution, port: number): ReceiverMtls {
  const ref = (r: PeerAuthnResolution['peerAuthentication']): ConfigRef | null =>
    r ? { kind: 'PeerAuthentication', namespace: r.namespace, name: r.name } : null;
  const atPort = resolved.ports[String(port)];
  return atPort
    ? { mode: atPort.mode, peerAuthentication: ref(atPort.peerAuthentication), portLevel: true }
    : { mode: resolved.mode, peerAuthentication: ref(resolved.peerAuthentication), portLevel: false };
}

/** What a receiver's inbound walk reads: virtualInbound, the inbound clusters, the route configurations its chains name. */
function inboundView(config: ProxyEnvoyConfig): ProxyEnvoyConfig {
  const listeners = config.listeners.filter((l) => l.name === 'virtualInbound');
  const rds = new Set<string>();
  for (const chain of listeners.flatMap((l) => l.filterChains ?? [])) {
    const name = (networkFilter(chain, HTTP_CONNECTION_MANAGER)?.rds as { routeConfigName?: string } | undefined)?.routeConfigName;
    if (name !== undefined) rds.add(name);
  }
  return {
    listeners,
    routes: config.routes.filter((r) => rds.has(r.name)),
    clusters: config.clusters.filter((c) => c.name.startsWith('inbound|') || c.name === 'InboundPassthroughCluster'),
    endpoints: [],
  };
}

function serviceAccountOf(proxy: ProxyInput): string {
  const sa = proxy.metadata?.SERVICE_ACCOUNT;
  return typeof sa === 'string' && sa ? sa : 'default';
}
