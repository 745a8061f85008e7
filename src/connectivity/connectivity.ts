// Who can talk to whom, from the generated config: what each sender can address (its outbound
// clusters and the endpoints istiod gave it, or kube-proxy's Services without a sidecar), how the
// connection is secured (the cluster's transport socket for the endpoint, the receiver's inbound
// filter chain), and what the receiver's RBAC filters allow for every request of that sender
// (symbolic.ts). Senders of one class (same config, namespace, service account, and address when a
// policy reads addresses) and receivers of one class share one evaluation, and senders share what
// does not tell them apart (ConnectionOutcomes). Pure.
import { clusterEndpoints, type ClusterLoadAssignment } from '../envoy/endpoints.js';
import { istioConfigRef, formatRef } from '../envoy/provenance.js';
import { inboundMtls, upstreamTransport, type InboundMtls, type TransportMode } from '../envoy/transport.js';
import type { Cluster, FilterChain, Listener } from '../envoy/xds.js';
import type { ConfigRef } from '../model/config-ref.js';
import type { ConnectionOutcome, ConnectionTls, ConnectivityVerdict } from '../model/connectivity.js';
import { compareStrings } from '../model/compare.js';
import type { KubeProxyInput } from '../model/snapshot.js';
import { walkRoute, type EnvoyConfig } from '../routing/resolve.js';
import { kubeProxy } from '../routing/kube-proxy.js';
import { describeCondition, symbolicAuthorizer, type FixedFacts, type SymbolicDecision } from './symbolic.js';
import { rbacFilters } from '../journey/authorization.js';

export type Verdict = ConnectivityVerdict;
export type { ConnectionOutcome, ConnectionTls };

/** A workload as connectivity needs it. */
export interface ConnWorkload {
  namespace: string;
  name: string;
  kind: string;
  proxyType: 'SIDECAR' | 'ROUTER' | 'NONE';
  ips: string[];
  serviceAccount: string;
}

/** Where a sender's requests to one service port land: the receivers (grouped by receiver class) and the transport it uses to each. */
export interface ReachTarget {
  /** The receiving workload's class (its proxy class, or the workload itself without one). */
  receiver: string;
  port: number;
  mode: TransportMode;
  destinationRule: ConfigRef | null;
}

export interface Reach {
  /** host:port */
  destination: string;
  namespace: string;
  service: string;
  targets: ReachTarget[];
}

/** A receiving class: the inbound side of its generated config (null without a sidecar), and one of its workloads. */
export interface Receiver {
  workload: ConnWorkload;
  inbound: Listener | null;
  peerAuthentication: ConfigRef | null;
}

/** The identity a sender class presents. */
export interface SenderIdentity {
  namespace: string;
  serviceAccount: string;
  proxyType: 'SIDECAR' | 'ROUTER' | 'NONE';
  /** The source address policies see: the class's (first) member's. */
  ip: string;
  /** For reasons: `namespace/name` of a member, or a description of the class. */
  label: string;
  trustDomain: string;
}

/** `outbound|80||api.shop.svc.cluster.local`: the default (subset-less) cluster of a service port. */
function serviceCluster(name: string): { host: string; port: number } | null {
  const parts = name.split('|');
  if (parts.length !== 4 || parts[0] !== 'outbound' || parts[2] !== '') return null;
  const port = Number(parts[1]);
  return Number.isInteger(port) ? { host: parts[3], port } : null;
}

function hostService(host: string): { namespace: string; service: string } {
  const m = /^([^.]+)\.([^.]+)\.svc(?:\.|$)/.exec(host);
  return m ? { service: m[1], namespace: m[2] } : { service: host, namespace: '' };
}

/**
 * What a proxy's generated config lets it address: each service port it has a default outbound
 * cluster for, with the endpoints istiod gave it, mapped to the receiving workloads' classes; in
 * the clusters' order, not sorted per class: the build orders what it makes of them.
 */
export function senderReach(
  config: Pick<EnvoyConfig, 'clusters'> & { endpoints?: ClusterLoadAssignment[] },
  receiverOf: (ip: string) => string | null,
  memo: ReachMemo,
): Reach[] {
  const endpoints = config.endpoints ?? [];
  let assignments = memo.last && sameElements(memo.last.endpoints, endpoints) ? memo.last.assignments : null;
  if (!assignments) {
    assignments = new Map<string, ClusterLoadAssignment>();
    for (const a of endpoints) if (a.clusterName) assignments.set(a.clusterName, a);
    memo.last = { endpoints, assignments };
  }
  const out: Reach[] = [];
  for (const cluster of config.clusters) {
    let known = memo.clusters.get(cluster);
    if (!known) {
      known = { svc: serviceCluster(cluster.name), byAssignment: new Map(), last: null };
      memo.clusters.set(cluster, known);
    }
    const { svc, byAssignment } = known;
    if (!svc) continue;
    if (known.last?.assignments !== assignments) {
      const eds = cluster as Cluster & { edsClusterConfig?: { serviceName?: string } };
      const a = assignments.get(eds.edsClusterConfig?.serviceName || cluster.name);
      let reach = byAssignment.get(a);
      if (reach === undefined) {
        reach = clusterReach(cluster, svc, a, receiverOf);
        byAssignment.set(a, reach);
      }
      known.last = { assignments, reach };
    }
    if (known.last.reach) out.push(known.last.reach);
  }
  return out;
}

/** Whether two lists hold the same objects in the same order. */
function sameElements<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * senderReach's answers by cluster and assignment objects: a compute job parses each object once
 * (the generator names it by hash in every later answer), so the classes that share a cluster and
 * its endpoints (every sidecar of a mesh without Sidecar resources) share the same objects, and
 * their endpoints, which grow with the pods, are read once per job rather than once per class.
 * For one receiverOf only. With each cluster, the service port its name stands for (split once).
 * The classes mostly get the same endpoints list too (the same objects in the same order, checked
 * against the last one read): its assignments by cluster name are then not gathered again, and
 * each cluster's reach under them is found without a lookup.
 */
export interface ReachMemo {
  clusters: WeakMap<
    Cluster,
    {
      svc: { host: string; port: number } | null;
      byAssignment: Map<ClusterLoadAssignment | undefined, Reach | null>;
      /** its reach under the assignments it was last read with */
      last: { assignments: Map<string, ClusterLoadAssignment>; reach: Reach | null } | null;
    }
  >;
  /** the endpoints list read last, and its assignments by cluster name */
  last?: { endpoints: readonly ClusterLoadAssignment[]; assignments: Map<string, ClusterLoadAssignment> };
}

/** The reach of one default outbound cluster, null when none of its endpoints is a known workload. */
function clusterReach(
  cluster: Cluster,
  svc: { host: string; port: number },
  a: ClusterLoadAssignment | undefined,
  receiverOf: (ip: string) => string | null,
): Reach | null {
  const endpoints = clusterEndpoints(cluster, a ? [a] : []).filter((e) => e.healthy);
  const dr = istioConfigRef(cluster.metadata);
  const targets = new Map<string, ReachTarget>();
  for (const e of endpoints) {
    const receiver = receiverOf(e.address);
    if (!receiver) continue;
    const mode = upstreamTransport(cluster, e.metadata).mode;
    const key = `${receiver}|${e.port}|${mode}`;
    if (!targets.has(key)) targets.set(key, { receiver, port: e.port, mode, destinationRule: dr?.kind === 'DestinationRule' ? dr : null });
  }
  if (!targets.size) return null;
  return { destination: `${svc.host}:${svc.port}`, ...hostService(svc.host), targets: [...targets.values()] };
}

/** What a workload without a sidecar can address: every Service port, through kube-proxy, in plaintext. */
export function kubeProxyReach(input: KubeProxyInput, receiverOf: (ip: string) => string | null): Reach[] {
  const out: Reach[] = [];
  for (const o of input.kubernetes) {
    if (o.kind !== 'Service') continue;
    const m = (o.metadata ?? {}) as { name?: string; namespace?: string };
    const ports = ((o.spec ?? {}) as { ports?: { port?: number }[] }).ports ?? [];
    const namespace = m.namespace ?? 'default';
    const host = `${m.name}.${namespace}.svc.cluster.local`;
    for (const p of ports) {
      if (!p.port) continue;
      const targets = new Map<string, ReachTarget>();
      for (const e of kubeProxy(input, namespace, host, p.port).endpoints) {
        const receiver = receiverOf(e.address);
        if (receiver && !targets.has(`${receiver}|${e.port}`))
          targets.set(`${receiver}|${e.port}`, { receiver, port: e.port, mode: 'PLAINTEXT', destinationRule: null });
      }
      if (targets.size) out.push({ destination: `${host}:${p.port}`, namespace, service: m.name ?? '', targets: [...targets.values()] });
    }
  }
  return out.sort((a, b) => compareStrings(a.destination, b.destination));
}

/** The inbound side of a sidecar's config that connectivity reads. */
export function inboundListener(config: Pick<EnvoyConfig, 'listeners'>): Listener | null {
  return config.listeners.find((l) => l.name === 'virtualInbound') ?? null;
}

/** Whether any RBAC filter of the listener reads the source address: then senders are told apart by address. */
export function readsSourceAddress(inbound: Listener | null): boolean {
  if (!inbound) return false;
  for (const chain of inbound.filterChains ?? [])
    for (const f of rbacFilters(chain)) if (/"(sourceIp|directRemoteIp|remoteIp)"/.test(JSON.stringify(f.config))) return true;
  return false;
}

interface PerReceiver {
  allowed: 'ALLOWED' | 'DENIED' | 'CONDITIONAL';
  conditions: string[];
  mode: TransportMode;
  policies: ConfigRef[];
  reason: string;
  causes: ConfigRef[];
}

/** A PerReceiver but for the sender's label: its reason, or the reason given the label when it names the sender. */
interface Decision extends Omit<PerReceiver, 'reason'> {
  reason: string | ((label: string) => string);
}

/** The decisions of one receiver, port, transport and DestinationRule. */
interface TargetDecisions {
  /** how the receiver's sidecar takes the connection, null without one */
  inbound: InboundMatch | null;
  /** by whether the sender has no proxy, then by what the receiver's RBAC decides for it; each with its number */
  decisions: Map<boolean, Map<SymbolicDecision | null, MadeDecision>>;
}

/** A decision and its number (in the order made): what tells connections apart. */
interface MadeDecision {
  d: Decision;
  id: number;
}

/** A connection and its JSON: what groups senders. */
interface KnownOutcome {
  outcome: ConnectionOutcome;
  json: string;
}

/** What a receiver's inbound listener does with a connection to one port over one transport, whoever sends it. */
interface InboundMatch {
  filterChain: FilterChain | null;
  /** no filter chain takes the connection, or it fails before the HTTP filters */
  refused: boolean;
  mtls: InboundMtls | null;
}

function inboundMatch(receiver: Receiver & { inbound: Listener }, port: number, mode: TransportMode): InboundMatch {
  const walked = walkRoute(
    { listeners: [receiver.inbound], routes: [], clusters: [] },
    {
      mode: 'INBOUND',
      address: receiver.workload.ips[0] ?? '0.0.0.0',
      port,
      protocol: 'HTTP',
      tls: mode,
      path: '/',
      method: 'GET',
      headers: [],
    },
  );
  return {
    filterChain: walked.filterChain,
    refused:
      !walked.filterChain ||
      ['no filter chains matched', 'invalid TLS', 'invalid mTLS', 'protocol error'].includes(walked.resolution.error ?? ''),
    mtls: inboundMtls(receiver.inbound, port),
  };
}

/**
 * The connections of the many senders of a snapshot, each part made once for all the senders it
 * holds for: a receiver's inbound listener walked once per port and transport (whoever sends),
 * its RBAC evaluated once per chain and distinct answers of the senders' facts
 * (symbolicAuthorizer), a receiver's decision once per port, transport, DestinationRule, whether
 * the sender has a proxy and that RBAC decision, and a connection once per service port (Reach)
 * and its receivers' decisions, and the sender's label when a reason names it. `receiverOf` gives
 * the Receiver of a class key, the same one for the builder's life.
 */
export class ConnectionOutcomes {
  /** receiver decisions made (not found made) */
  evaluations = 0;
  private readonly inbound = new Map<string, InboundMatch>();
  private readonly authorize = symbolicAuthorizer();
  private readonly byKey = new Map<string, TargetDecisions>();
  private readonly byTarget = new WeakMap<ReachTarget, TargetDecisions>();
  private readonly outcomes = new WeakMap<Reach, Map<string, KnownOutcome>>();

  constructor(private readonly receiverOf: (key: string) => Receiver | undefined) {}

  /** A sender's connection to one service port, and its JSON; null when the port leads to no known receiver. */
  outcome(identity: SenderIdentity, reach: Reach): KnownOutcome | null {
    const per: { receiver: Receiver; d: Decision }[] = [];
    let key = '';
    let labelled = false;
    for (const t of reach.targets) {
      const r = this.receiverOf(t.receiver);
      if (!r) continue;
      const { d, id } = this.decide(identity, t, r);
      per.push({ receiver: r, d });
      key += `${id},`;
      if (typeof d.reason !== 'string') labelled = true;
    }
    if (!per.length) return null;
    if (labelled) key += identity.label;
    let byReach = this.outcomes.get(reach);
    if (!byReach) this.outcomes.set(reach, (byReach = new Map<string, KnownOutcome>()));
    let known = byReach.get(key);
    if (!known) {
      const outcome = connectionOutcome(
        reach,
        per.map(({ receiver, d }) => ({
          receiver,
          d: { ...d, reason: typeof d.reason === 'string' ? d.reason : d.reason(identity.label) },
        })),
      );
      byReach.set(key, (known = { outcome, json: JSON.stringify(outcome) }));
    }
    return known;
  }

  private decide(identity: SenderIdentity, target: ReachTarget, receiver: Receiver): MadeDecision {
    let decisions = this.byTarget.get(target);
    if (!decisions) {
      const at = `${target.receiver}|${target.port}|${target.mode}`;
      const key = `${at}|${target.destinationRule ? `${target.destinationRule.namespace}/${target.destinationRule.name}` : ''}`;
      decisions = this.byKey.get(key);
      if (!decisions) {
        let inbound: InboundMatch | null = null;
        if (receiver.workload.proxyType === 'SIDECAR' && receiver.inbound) {
          inbound = this.inbound.get(at) ?? null;
          if (!inbound)
            this.inbound.set(at, (inbound = inboundMatch({ ...receiver, inbound: receiver.inbound }, target.port, target.mode)));
        }
        this.byKey.set(key, (decisions = { inbound, decisions: new Map() }));
      }
      this.byTarget.set(target, decisions);
    }
    const { inbound } = decisions;
    const authorized = inbound && !inbound.refused ? this.authorize(inbound.filterChain, senderFacts(identity, target, receiver)) : null;
    const bare = identity.proxyType === 'NONE';
    let bySender = decisions.decisions.get(bare);
    if (!bySender) decisions.decisions.set(bare, (bySender = new Map<SymbolicDecision | null, MadeDecision>()));
    let made = bySender.get(authorized);
    if (!made) {
      made = { d: decision(identity.proxyType, target, receiver, inbound, authorized), id: this.evaluations++ };
      bySender.set(authorized, made);
    }
    return made;
  }
}

/** What the sender fixes of the requests the receiver's RBAC sees. */
function senderFacts(identity: SenderIdentity, target: ReachTarget, receiver: Receiver): FixedFacts {
  return {
    principal:
      target.mode === 'MTLS' && identity.proxyType !== 'NONE'
        ? `spiffe://${identity.trustDomain}/ns/${identity.namespace}/sa/${identity.serviceAccount}`
        : null,
    sourceIp: identity.ip,
    destinationIp: receiver.workload.ips[0] ?? '0.0.0.0',
    destinationPort: target.port,
  };
}

/**
 * The decision of a receiver: `inbound`, how its sidecar takes the connection (null without one),
 * `authorized`, what its RBAC decides for the sender (null when the connection is refused first).
 */
function decision(
  sender: SenderIdentity['proxyType'],
  target: ReachTarget,
  receiver: Receiver,
  inbound: InboundMatch | null,
  authorized: SymbolicDecision | null,
): Decision {
  const w = receiver.workload;
  const who = `${w.namespace}/${w.name}`;
  const dr = target.destinationRule ? [target.destinationRule] : [];
  const pa = receiver.peerAuthentication ? [receiver.peerAuthentication] : [];
  const base = { mode: target.mode, policies: [] as ConfigRef[], conditions: [] as string[] };
  if (!inbound) {
    if (w.proxyType === 'NONE' && target.mode === 'MTLS')
      return {
        ...base,
        allowed: 'DENIED',
        reason: (label) => `${who} has no sidecar to terminate the mTLS ${label} sends${dr.length ? ` (${formatRef(dr[0])})` : ''}`,
        causes: dr,
      };
    return {
      ...base,
      allowed: 'ALLOWED',
      reason: w.proxyType === 'ROUTER' ? `${who} is a gateway` : `${who} has no sidecar: nothing refuses it`,
      causes: dr,
    };
  }
  const { mtls } = inbound;
  const sent = target.mode === 'MTLS' ? 'mTLS' : target.mode === 'TLS' ? 'TLS' : 'plaintext';
  const paText = receiver.peerAuthentication ? formatRef(receiver.peerAuthentication) : 'the mesh default';
  if (!authorized) {
    const why: Decision['reason'] =
      mtls === 'STRICT'
        ? (label) =>
            `${paText} requires mTLS on ${who}:${target.port} and ${label} sends ${sent}${sender === 'NONE' ? ' (it has no sidecar)' : dr.length ? ` (${formatRef(dr[0])})` : ''}`
        : mtls === 'DISABLE'
          ? (label) =>
              `${paText} disables mTLS on ${who}:${target.port} and ${label} sends ${sent}${dr.length ? ` (${formatRef(dr[0])})` : ''}`
          : `${who} accepts no ${sent} connection on port ${target.port}`;
    return { ...base, allowed: 'DENIED', reason: why, causes: [...pa, ...dr] };
  }
  const hasPrincipal = target.mode === 'MTLS' && sender !== 'NONE';
  const causes = [...authorized.policies, ...(mtls === 'PERMISSIVE' || mtls === 'DISABLE' ? pa : []), ...dr];
  const named = authorized.policies.map((p) => `${p.namespace}/${p.name}`).join(', ');
  if (authorized.allowed.t === 'true')
    return {
      ...base,
      allowed: 'ALLOWED',
      policies: authorized.policies,
      reason: named ? `AuthorizationPolicy ${named} allows it` : `no AuthorizationPolicy applies to ${who}`,
      causes,
    };
  if (authorized.allowed.t === 'false')
    return {
      ...base,
      allowed: 'DENIED',
      policies: authorized.policies,
      reason: named
        ? hasPrincipal
          ? `AuthorizationPolicy ${named} ${authorized.policies.length > 1 ? 'deny' : 'denies'} it`
          : (label) =>
              `AuthorizationPolicy ${named} ${authorized.policies.length > 1 ? 'deny' : 'denies'} it (${label} has no mTLS identity here)`
        : (label) => `ALLOW policies apply to ${who} and none of them allows anything from ${label}`,
      causes,
    };
  return {
    ...base,
    allowed: 'CONDITIONAL',
    policies: authorized.policies,
    conditions: describeCondition(authorized.allowed),
    reason: `AuthorizationPolicy ${named} allows only some requests`,
    causes,
  };
}

/** A sender's connection to one service port: its receivers' decisions (at least one) together. */
function connectionOutcome(reach: Reach, per: { receiver: Receiver; d: PerReceiver }[]): ConnectionOutcome {
  const verdicts = new Set(per.map((p) => p.d.allowed));
  const modes = new Set(per.map((p) => p.d.mode));
  const refs = (list: ConfigRef[]) => {
    const m = new Map(list.map((r) => [`${r.kind}/${r.namespace}/${r.name}`, r]));
    return [...m.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, r]) => r);
  };
  // Receivers with the same reason but for their name share one: "… on shop/db-1:8080 (and 2 more workloads) …".
  const templates = new Map<string, string[]>();
  for (const p of per) {
    const who = `${p.receiver.workload.namespace}/${p.receiver.workload.name}`;
    const template = p.d.reason.split(who).join('\u0000');
    const list = templates.get(template) ?? [];
    if (!list.includes(who)) list.push(who);
    templates.set(template, list);
  }
  const reasons = [...templates].map(([template, who]) =>
    template.split('\u0000').join(who.length > 1 ? `${who[0]} (and ${who.length - 1} more workload${who.length > 2 ? 's' : ''})` : who[0]),
  );
  let verdict: Verdict;
  let conditions: string[] = [];
  if (verdicts.size === 1 && !verdicts.has('CONDITIONAL')) verdict = per[0].d.allowed;
  else {
    verdict = 'CONDITIONAL';
    const distinct = new Set(per.map((p) => JSON.stringify([p.d.allowed, p.d.conditions])));
    if (distinct.size === 1) conditions = per[0].d.conditions;
    else
      for (const p of per) {
        if (p.d.allowed === 'DENIED') continue;
        const at = `on ${p.receiver.workload.namespace}/${p.receiver.workload.name}`;
        conditions.push(...(p.d.allowed === 'ALLOWED' ? [`${at}: any request`] : p.d.conditions.map((c) => `${at}: ${c}`)));
      }
    conditions = [...new Set(conditions)];
  }
  return {
    destination: reach.destination,
    namespace: reach.namespace,
    service: reach.service,
    verdict,
    conditions,
    tls: modes.size === 1 ? per[0].d.mode : 'MIXED',
    policies: refs(per.flatMap((p) => p.d.policies)),
    reason: reasons.join('; '),
    causes: refs(per.flatMap((p) => p.d.causes)),
  };
}
