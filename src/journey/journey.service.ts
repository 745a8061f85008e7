import { Injectable } from '@nestjs/common';
import { Lru } from '../cache/lru.js';
import { HTTP_CONNECTION_MANAGER } from '../envoy/xds.js';
import { ProxyType } from '../graphql/enums.js';
import { SnapshotStatus } from '../database/entities/index.js';
import { SnapshotStore } from '../database/snapshot.store.js';
import { WorkloadStore } from '../database/workload.store.js';
import { GeneratorService, SnapshotNotFoundError } from '../generator/generator.service.js';
import { GeneratorError } from '../generator/protocol.js';
import { UnknownWorkloadError } from '../model/errors.js';
import type { GeneratedConfig } from '../model/proxy.js';
import { ProxyConfigService } from '../proxy-config/proxy-config.service.js';
import type { ProxyInput } from '../proxy-config/proxy-config.types.js';
import { callProblems, toCall } from '../routing/graphql/routing.resolver.js';
import type { CallInput } from '../routing/graphql/route-resolution.types.js';
import { kubeProxy } from '../routing/kube-proxy.js';
import { networkFilter, type Call } from '../routing/resolve.js';
import type { NormalisedSnapshot } from '../model/snapshot.js';
import { journey, type Journey, type JourneyWorkload, type ProxyEnvoyConfig, type RequestIdentity, type Sender } from './journey.js';
import { peerAuthenticationFor, type PeerAuthenticationObject } from './peer-authentication.js';

// The defaults of Istio's mesh config (trustDomain, rootNamespace): the spiffe identity of a sender, and
// where mesh-wide PeerAuthentications live.
const TRUST_DOMAIN = 'cluster.local';
const ROOT_NAMESPACE = 'istio-system';

interface SnapshotFacts {
  workloads: (JourneyWorkload & { labels: Record<string, string> })[];
  peerAuthentications: PeerAuthenticationObject[];
  rootNamespace: string;
}

/** Follows a request through every proxy on its way (journey.ts), with the configs istiod generates. */
@Injectable()
export class JourneyService {
  /** Per snapshot (its resources never change): its workloads and PeerAuthentications. */
  private readonly facts = new Lru<Promise<SnapshotFacts>>(16);
  /** The inbound side of receivers' configs, by snapshot and workload: small, and asked for on every journey. */
  private readonly inbound = new Lru<ProxyEnvoyConfig | null>(4096);

  constructor(
    private readonly proxyConfig: ProxyConfigService,
    private readonly snapshots: SnapshotStore,
    private readonly workloadStore: WorkloadStore,
    private readonly generator: GeneratorService,
  ) {}

  async journey(snapshotId: string, from: ProxyInput, callInput: CallInput, identity: RequestIdentity | null): Promise<Journey> {
    const problems = callProblems(callInput);
    if (problems.length) throw new GeneratorError('BAD_REQUEST', `invalid call: ${problems.join('; ')}`);
    const snapshot = await this.snapshots.get(snapshotId);
    if (!snapshot) throw new SnapshotNotFoundError(`snapshot ${snapshotId} not found`);
    let normalised: NormalisedSnapshot | undefined;
    // As the generator loads the snapshot: with the workloads and Services istiod deploys for Gateways.
    const normalise = async () =>
      (normalised ??= (await this.snapshots.normalised(snapshotId, (params) => this.generator.deployGateways(params)))!);
    const facts = await this.snapshotFacts(snapshotId, snapshot.status === SnapshotStatus.READY, normalise);
    const named = from.name ? facts.workloads.find((w) => w.namespace === from.namespace && w.name === from.name) : undefined;
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
    if (!config) sender.kubeProxy = kubeProxy((await normalise()).generatorInput, from.namespace, call.host, call.port);

    const receivers = new Map<string, Promise<ProxyEnvoyConfig | null>>();
    return journey({
      sender,
      call,
      identity,
      workloads: facts.workloads,
      trustDomain: TRUST_DOMAIN,
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
      peerAuthentication: (w) => {
        const labels = facts.workloads.find((x) => x.namespace === w.namespace && x.name === w.name)?.labels ?? {};
        return peerAuthenticationFor(facts.peerAuthentications, facts.rootNamespace, w.namespace, labels);
      },
    });
  }

  private snapshotFacts(snapshotId: string, ready: boolean, normalise: () => Promise<NormalisedSnapshot>): Promise<SnapshotFacts> {
    const cached = this.facts.get(snapshotId);
    if (cached) return cached;
    const loading = (async (): Promise<SnapshotFacts> => {
      const workloads = ready ? await this.workloadStore.list(snapshotId) : (await normalise()).workloads;
      const peerAuthentications = (await this.snapshots.resources(snapshotId, { kind: 'PeerAuthentication' })).map(
        (r) => r.body as PeerAuthenticationObject,
      );
      return {
        workloads: workloads.map((w) => ({
          namespace: w.namespace,
          name: w.name,
          kind: w.kind,
          proxyType: w.proxyType,
          ips: w.ips,
          serviceAccount: w.serviceAccount,
          labels: w.labels,
        })),
        peerAuthentications,
        rootNamespace: ROOT_NAMESPACE,
      };
    })();
    this.facts.set(snapshotId, loading);
    loading.catch(() => this.facts.delete(snapshotId));
    return loading;
  }
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
