// The snapshot's connectivity, built while its proxy classes are generated: each class's config is
// read once for what its proxies can address (senderReach) and what they accept (their inbound
// listener), then dropped; at the end every sender class is evaluated against every service port it
// reaches, what the senders share decided once (ConnectionOutcomes). The result is grouped by
// destination and outcome, listing the sender classes that share it: what the store keeps. Pure.
import type { ClusterLoadAssignment } from '../envoy/endpoints.js';
import { contentHash } from '../model/canonical.js';
import { compareStrings } from '../model/compare.js';
import type { ConfigRef } from '../model/config-ref.js';
import type { Connectivity, ConnectionGroup, SenderEntry } from '../model/connectivity.js';
import type { KubeProxyInput } from '../model/snapshot.js';
import type { EnvoyConfig } from '../routing/resolve.js';
import {
  ConnectionOutcomes,
  inboundListener,
  kubeProxyReach,
  readsSourceAddress,
  senderReach,
  type ConnWorkload,
  type Reach,
  type ReachMemo,
  type Receiver,
  type SenderIdentity,
} from './connectivity.js';

export type { Connectivity, ConnectionGroup, SenderEntry };

export interface ConnectivityStats {
  senderClasses: number;
  evaluations: number;
  groups: number;
}

interface Unit {
  key: string;
  members: ConnWorkload[];
  reach: Reach[];
}

const workloadKey = (w: { namespace: string; name: string }) => `${w.namespace}/${w.name}`;

export class ConnectivityBuilder {
  private readonly byIp = new Map<string, ConnWorkload>();
  private readonly byName = new Map<string, ConnWorkload>();
  private readonly units: Unit[] = [];
  private readonly receivers = new Map<string, Receiver>();
  private readonly reachMemo: ReachMemo = { clusters: new WeakMap() };
  readonly stats: ConnectivityStats = { senderClasses: 0, evaluations: 0, groups: 0 };

  /**
   * workloads: every workload of the snapshot; receiverClassOf: a workload's proxy class (one
   * inbound config per class), or null without a proxy; peerAuthentication: the one in force for a
   * workload, for reasons and causes; trustDomain: the mesh config's, under which senders' principals are.
   */
  constructor(
    workloads: ConnWorkload[],
    private readonly input: KubeProxyInput,
    private readonly receiverClassOf: (w: ConnWorkload) => string | null,
    private readonly peerAuthentication: (w: ConnWorkload) => ConfigRef | null,
    private readonly trustDomain: string,
  ) {
    for (const w of workloads) {
      this.byName.set(workloadKey(w), w);
      for (const ip of w.ips) if (!this.byIp.has(ip)) this.byIp.set(ip, w);
    }
  }

  private receiverKey(w: ConnWorkload): string {
    return this.receiverClassOf(w) ?? `workload:${workloadKey(w)}`;
  }

  private readonly receiverOfIp = (ip: string): string | null => {
    const w = this.byIp.get(ip);
    if (!w) return null;
    const key = this.receiverKey(w);
    if (!this.receivers.has(key) && w.proxyType !== 'SIDECAR')
      this.receivers.set(key, { workload: w, inbound: null, peerAuthentication: this.peerAuthentication(w) });
    return key;
  };

  /** A generated class: its members (namespace/name) and config, read now and not kept. */
  addClass(
    key: string,
    members: { namespace: string; name: string }[],
    config: Pick<EnvoyConfig, 'listeners' | 'clusters'> & { endpoints?: ClusterLoadAssignment[] },
  ) {
    const workloads = members.map((m) => this.byName.get(workloadKey(m))).filter((w): w is ConnWorkload => Boolean(w));
    if (!workloads.length) return;
    const inbound = inboundListener(config);
    for (const w of workloads) {
      const rk = this.receiverKey(w);
      if (!this.receivers.has(rk) && w.proxyType === 'SIDECAR')
        this.receivers.set(rk, { workload: w, inbound, peerAuthentication: this.peerAuthentication(w) });
    }
    this.units.push({ key, members: workloads, reach: senderReach(config, this.receiverOfIp, this.reachMemo) });
  }

  build(): Connectivity {
    // Workloads without a proxy send through kube-proxy: one class per namespace and service account.
    const withProxy = new Set(this.units.flatMap((u) => u.members.map(workloadKey)));
    const bare = new Map<string, ConnWorkload[]>();
    for (const w of this.byName.values()) {
      if (withProxy.has(workloadKey(w)) || w.proxyType !== 'NONE') continue;
      const key = `none:${w.namespace}/${w.serviceAccount}`;
      bare.set(key, [...(bare.get(key) ?? []), w]);
    }
    const units = [...this.units];
    if (bare.size) {
      const reach = kubeProxyReach(this.input, this.receiverOfIp);
      for (const [key, members] of bare) units.push({ key, members, reach });
    }
    const byAddress = [...this.receivers.values()].some((r) => readsSourceAddress(r.inbound));

    const connections = new ConnectionOutcomes((k) => this.receivers.get(k));
    const groups = new Map<string, ConnectionGroup>();
    const senders: SenderEntry[] = [];
    const classes = new Set<string>();
    for (const unit of units) {
      // Members differ in identity when their service accounts (or, where policies read them, addresses) do.
      const split = new Map<string, ConnWorkload[]>();
      for (const m of unit.members) {
        const id = `${m.namespace}|${m.serviceAccount}|${byAddress ? (m.ips[0] ?? '') : ''}`;
        split.set(id, [...(split.get(id) ?? []), m]);
      }
      for (const [id, members] of split) {
        const senderClass = contentHash({ unit: unit.key, id }).slice(0, 16);
        classes.add(senderClass);
        const first = members[0];
        for (const m of members) senders.push({ namespace: m.namespace, name: m.name, kind: m.kind, senderClass });
        const identity: SenderIdentity = {
          namespace: first.namespace,
          serviceAccount: first.serviceAccount,
          proxyType: first.proxyType,
          ip: first.ips[0] ?? '0.0.0.0',
          label: members.length > 1 ? `${first.namespace}/${first.serviceAccount} (service account)` : workloadKey(first),
          trustDomain: this.trustDomain,
        };
        for (const reach of unit.reach) {
          const known = connections.outcome(identity, reach);
          if (!known) continue;
          const g = groups.get(known.json);
          if (g) g.senders.push(senderClass);
          else groups.set(known.json, { ...known.outcome, senders: [senderClass] });
        }
      }
    }
    const out = [...groups.values()].map((g) => ({ ...g, senders: [...new Set(g.senders)].sort(compareStrings) }));
    out.sort((a, b) => compareStrings(a.destination, b.destination) || compareStrings(JSON.stringify(a), JSON.stringify(b)));
    senders.sort((a, b) => compareStrings(workloadKey(a), workloadKey(b)) || compareStrings(a.kind, b.kind));
    this.stats.senderClasses = classes.size;
    this.stats.evaluations = connections.evaluations;
    this.stats.groups = out.length;
    return { groups: out, senders };
  }
}
