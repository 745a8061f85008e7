// A request's whole journey: the sender's own walk (its generated config, or kube-proxy for a
// workload without a sidecar), the endpoints of each chosen cluster (the EDS istiod generated for
// the sender) grouped by the workload they belong to, the transport security of each connection
// (the sender's cluster transport socket, the receiver's inbound filter chain), then the receiver's
// inbound walk and its RBAC filters. One path per (weighted cluster x destination workload).
// Pure: the receivers' configs come through `receiverConfig`.
import { clusterEndpoints, endpointWorkload, type ClusterLoadAssignment, type Endpoint } from '../envoy/endpoints.js';
import { firstNamed } from '../envoy/config-index.js';
import { parseClusterName } from '../envoy/describe-cluster.js';
import { rewritePath } from '../envoy/match.js';
import { clusterNotFoundStatus, HTTP_CONNECTION_MANAGER, type Cluster, type RedirectAction, type Route } from '../envoy/xds.js';
import { formatRef, istioConfigRef } from '../envoy/provenance.js';
import type { ConfigRef } from '../model/config-ref.js';
import type { RbacRequest } from '../envoy/rbac.js';
import { clientAddress, type ClientAddressConfig } from '../envoy/client-address.js';
import {
  emptyResolution,
  networkFilter,
  requestHeaders,
  splitPathAndQuery,
  walkRoute,
  type Call,
  type EnvoyConfig,
  type RouteResolution,
  type TraceStep,
} from '../routing/resolve.js';
import { inboundMtls, upstreamTransport, type InboundMtls, type TransportMode } from '../envoy/transport.js';
import { authorize, JWT_AUTHN, jwtPayload, rbacFilters, validatesJwt, type AuthorizationDecision } from './authorization.js';

export type JourneyOutcome =
  | 'DELIVERED'
  | 'DENIED'
  | 'NO_ROUTE'
  | 'NO_HEALTHY_UPSTREAM'
  | 'CONNECTION_FAILED'
  | 'DIRECT_RESPONSE'
  | 'REDIRECTED'
  | 'LEFT_MESH'
  | 'BLACKHOLED';

export type ProxyKind = 'SIDECAR' | 'ROUTER' | 'NONE';

export interface WorkloadRef {
  namespace: string;
  name: string;
  kind: string;
}

/** A workload of the snapshot, as the journey needs it. */
export interface JourneyWorkload extends WorkloadRef {
  proxyType: ProxyKind;
  ips: string[];
  serviceAccount: string;
}

export interface ProxyEnvoyConfig extends EnvoyConfig {
  endpoints: ClusterLoadAssignment[];
}

export interface TransportSecurity {
  mode: TransportMode;
  reason: string;
  peerAuthentication: ConfigRef | null;
  destinationRule: ConfigRef | null;
}

export interface Hop {
  proxy: WorkloadRef | null;
  proxyType: ProxyKind;
  direction: 'OUTBOUND' | 'INBOUND';
  resolution: RouteResolution;
  endpoints: string[] | null;
  tls: TransportSecurity | null;
  authorization: AuthorizationDecision | null;
}

export interface JourneyPath {
  share: number;
  outcome: JourneyOutcome;
  status: number | null;
  destination: WorkloadRef | null;
  hops: Hop[];
}

export interface Journey {
  paths: JourneyPath[];
  trace: TraceStep[];
}

export interface RequestIdentity {
  requestPrincipal?: string | null;
  claims?: Record<string, unknown> | null;
}

export interface Sender {
  /** The sender's workload; null for an ad-hoc proxy. */
  workload: WorkloadRef | null;
  proxyType: ProxyKind;
  namespace: string;
  serviceAccount: string;
  ip: string;
  /** Its generated config; null without a sidecar. */
  config: ProxyEnvoyConfig | null;
  /** Without a sidecar: kube-proxy's resolution and the endpoints it spreads connections over. */
  kubeProxy?: { resolution: RouteResolution; endpoints: { address: string; port: number }[] };
}

/** The mTLS mode in force for a receiving workload's port, and the PeerAuthentication deciding it (Istio's resolution, from the generator). */
export interface ReceiverMtls {
  /** STRICT, PERMISSIVE or DISABLE. */
  mode: string;
  peerAuthentication: ConfigRef | null;
  /** Whether a port-level setting of the workload's policy decides this port. */
  portLevel: boolean;
}

/**
 * A snapshot's workloads, indexed by address and by name: built once per snapshot, not per journey
 * (thousands of pods on a large mesh, a few endpoints looked up per journey).
 */
export class JourneyWorkloads {
  private readonly byIp = new Map<string, JourneyWorkload>();
  private readonly byName = new Map<string, JourneyWorkload>();

  constructor(workloads: JourneyWorkload[]) {
    for (const w of workloads) {
      // The first workload listed holds an address (or a name) that two would claim.
      for (const ip of w.ips) if (!this.byIp.has(ip)) this.byIp.set(ip, w);
      const name = `${w.namespace}/${w.name}`;
      if (!this.byName.has(name)) this.byName.set(name, w);
    }
  }

  at(ip: string): JourneyWorkload | undefined {
    return this.byIp.get(ip);
  }

  named(namespace: string, name: string): JourneyWorkload | undefined {
    return this.byName.get(`${namespace}/${name}`);
  }
}

export interface JourneyInput {
  sender: Sender;
  call: Call;
  identity: RequestIdentity | null;
  workloads: JourneyWorkloads;
  /** The mesh config's trust domain: principals are `spiffe://<trustDomain>/ns/<ns>/sa/<sa>`. */
  trustDomain: string;
  /** The generated config of a receiving workload with a sidecar (its inbound side is enough). */
  receiverConfig: (workload: JourneyWorkload) => Promise<ProxyEnvoyConfig | null>;
  /** The whole generated config of a receiving gateway (listeners, routes, clusters, endpoints). */
  gatewayConfig?: (workload: JourneyWorkload) => Promise<ProxyEnvoyConfig | null>;
  /** The PeerAuthentication in force for a receiving workload's port, as the generator resolves it. */
  receiverMtls?: (workload: JourneyWorkload, port: number) => Promise<ReceiverMtls | null>;
  /** The Service whose ClusterIP is `address`, and the endpoints kube-proxy sends its `port` to (a passthrough's original destination). */
  serviceByIp?: (address: string, port: number) => Promise<{ service: string; endpoints: { address: string; port: number }[] } | null>;
}

const HTTP_FAULT = 'envoy.filters.http.fault';
/** Gateways a path may pass through before meshlens stops following it (a routing loop). */
export const MAX_GATEWAYS = 4;

export async function journey(input: JourneyInput): Promise<Journey> {
  return new JourneyWalk(input).run();
}

/** The proxy that sends the request on one leg of a path (the first sender, or a gateway on the way), and what came before it. */
interface Leg {
  who: string;
  workload: WorkloadRef | null;
  proxyType: ProxyKind;
  namespace: string;
  serviceAccount: string;
  ip: string;
  call: Call;
  /** The hops of the path before this proxy's. */
  before: Hop[];
  /** The gateways this path passed through already (namespace/name). */
  gateways: string[];
  /** Who this proxy sees as its peer: for the first gateway, the client outside the mesh. */
  peer: { principal: string | null; ip: string };
  /** The route this leg's proxy chose (its rewrites apply to the request it forwards). */
  route: Route | null;
}

class JourneyWalk {
  private readonly trace: TraceStep[] = [];
  private readonly paths: JourneyPath[] = [];
  private readonly http: boolean;
  /** The walks traced step by step so far, by what they chose (walkSummary): their steps, and who walked them from which address. */
  private readonly walks = new Map<string, { who: string; address: string; trace: TraceStep[] }[]>();

  constructor(private readonly input: JourneyInput) {
    this.http = input.call.protocol !== 'TCP';
  }

  private step(stage: string, detail: string) {
    this.trace.push({ stage, detail });
  }

  /**
   * A proxy's own walk in the trace, step by step; or, when a proxy earlier in this journey walked
   * the request word for word the same but for its own address (the pods of one Deployment behind
   * a cluster), one step naming that proxy and what the walk chose.
   */
  private walkSteps(label: string, who: string, r: RouteResolution, address: string) {
    const chose = walkSummary(r);
    const seen = this.walks.get(chose) ?? [];
    const same = seen.find((w) => sameSteps(w.trace, w.address, r.trace, address));
    if (same) {
      this.step(`${label}: walk`, `Walks the request as ${same.who} did (the same steps, but for its own address): ${chose}.`);
      return;
    }
    seen.push({ who, address, trace: r.trace });
    this.walks.set(chose, seen);
    for (const t of r.trace) this.step(`${label}: ${t.stage}`, t.detail);
  }

  async run(): Promise<Journey> {
    const { sender, call } = this.input;
    const who = sender.workload
      ? `${sender.workload.namespace}/${sender.workload.name}`
      : `an ad-hoc ${sender.proxyType === 'ROUTER' ? 'gateway' : 'proxy'} in ${sender.namespace}`;
    const leg: Leg = {
      who,
      workload: sender.workload,
      proxyType: sender.proxyType,
      namespace: sender.namespace,
      serviceAccount: sender.serviceAccount,
      ip: sender.ip,
      call,
      before: [],
      gateways: sender.proxyType === 'ROUTER' && sender.workload ? [`${sender.workload.namespace}/${sender.workload.name}`] : [],
      // The first gateway's client is outside the mesh: no peer principal, its address from X-Forwarded-For.
      peer: { principal: null, ip: this.clientIp() },
      route: null,
    };
    if (!sender.config) await this.fromKubeProxy(leg);
    else await this.fromProxy(leg, sender.config, 100, `sender ${who}`);
    return { paths: this.paths, trace: this.trace };
  }

  private async fromKubeProxy(leg: Leg) {
    const kube = this.input.sender.kubeProxy ?? { resolution: { ...emptyResolution(), error: 'no proxy' as const }, endpoints: [] };
    for (const t of kube.resolution.trace) this.step(`sender ${leg.who}: ${t.stage}`, t.detail);
    const hop: Hop = {
      proxy: null,
      proxyType: 'NONE',
      direction: 'OUTBOUND',
      resolution: kube.resolution,
      // Each path's own endpoints, when toWorkloads groups them by workload.
      endpoints: [],
      tls: {
        mode: 'PLAINTEXT',
        reason: 'plaintext: the sender has no sidecar, so nothing originates mTLS',
        peerAuthentication: null,
        destinationRule: null,
      },
      authorization: null,
    };
    if (!kube.endpoints.length) {
      this.finish(100, 'NO_ROUTE', null, null, [hop], 'kube-proxy has no endpoint to send the connection to: it is refused.');
      return;
    }
    const endpoints: Endpoint[] = kube.endpoints.map((e) => ({
      address: e.address,
      port: e.port,
      locality: '',
      priority: 0,
      healthy: true,
      weight: 1,
      metadata: undefined,
    }));
    await this.toWorkloads(
      leg,
      hop,
      100,
      endpoints,
      () => 'PLAINTEXT',
      (_e, _receiver, mtls) => ({ ...hop.tls!, peerAuthentication: mtls?.peerAuthentication ?? null }),
      null,
    );
  }

  /** A proxy's own walk (the sender's, or a gateway's on the way), then each cluster it chose. */
  private async fromProxy(leg: Leg, config: ProxyEnvoyConfig, share: number, label: string) {
    const { call } = leg;
    const walked = walkRoute(config, call);
    const r = walked.resolution;
    this.walkSteps(label, leg.who, r, leg.ip);
    const hop: Hop = {
      proxy: leg.workload,
      proxyType: leg.proxyType,
      direction: 'OUTBOUND',
      resolution: r,
      endpoints: null,
      tls: null,
      authorization: null,
    };
    const hops = (h: Hop) => [...leg.before, h];
    // A gateway enforces the AuthorizationPolicies that select it, on the request as it arrives.
    if (leg.proxyType === 'ROUTER' && rbacFilters(walked.filterChain).length) {
      // RBAC sees the path as the connection manager normalised it ("/public/../private" is "/private").
      const [path] = splitPathAndQuery(walked.path);
      const decision = authorize(
        walked.filterChain,
        this.rbacRequest(
          walked.filterChain,
          leg.peer.principal,
          leg.peer.ip,
          call.address ?? leg.ip,
          call.port,
          path,
          call.host ?? null,
          call,
        ),
        `gateway ${leg.who}`,
      );
      hop.authorization = decision;
      this.step(`${label}: authorization`, decision.reason);
      for (const d of decision.dryRun ?? []) this.step(`${label}: dry-run`, d);
      if (decision.verdict === 'DENY') {
        this.finish(
          share,
          'DENIED',
          this.http ? 403 : null,
          null,
          hops(hop),
          `The gateway refuses the request (${this.http ? 'HTTP 403' : 'connection closed'}).`,
        );
        return;
      }
    }
    if (r.error) {
      const [outcome, status] = failureOutcome(r.error, this.http);
      this.finish(
        share,
        outcome,
        status,
        null,
        hops(hop),
        `The ${leg.before.length ? 'gateway' : "sender's proxy"} stops the request: ${r.error}.`,
      );
      return;
    }
    const route = walked.route;
    const next: Leg = { ...leg, route };
    const whose = leg.before.length ? 'The gateway' : "The sender's proxy";
    if (route?.redirect) {
      this.finish(share, 'REDIRECTED', redirectStatus(route.redirect), null, hops(hop), `${whose} answers with a redirect.`);
      return;
    }
    if (route?.directResponse) {
      this.finish(share, 'DIRECT_RESPONSE', route.directResponse.status ?? 200, null, hops(hop), `${whose} answers directly.`);
      return;
    }
    const abort = faultAbort(route);
    if (abort) {
      const aborted = (share * abort.percent) / 100;
      this.finish(
        aborted,
        'DIRECT_RESPONSE',
        abort.status,
        null,
        hops(hop),
        `A fault injection aborts ${abort.percent}% of the requests with HTTP ${abort.status}.`,
      );
      share -= aborted;
      if (share <= 0) return;
    }
    const clusters = r.weightedClusters?.length ? r.weightedClusters : r.cluster ? [{ cluster: r.cluster, weight: 1 }] : [];
    if (!clusters.length) {
      this.finish(share, 'NO_ROUTE', this.http ? 404 : null, null, hops(hop), 'The route names no cluster.');
      return;
    }
    const total = clusters.reduce((sum, c) => sum + c.weight, 0) || 1;
    for (const { cluster: name, weight } of clusters) {
      const clusterShare = (share * weight) / total;
      const clusterHop: Hop = { ...hop, endpoints: [] };
      await this.throughCluster(next, clusterHop, clusterShare, name, config);
    }
  }

  private async throughCluster(leg: Leg, hop: Hop, share: number, name: string, config: ProxyEnvoyConfig) {
    const hops = [...leg.before, hop];
    if (name === 'PassthroughCluster') {
      if (await this.toOriginalDestination(leg, hop, share)) return;
      // An original-destination cluster: its endpoint on this path is the address the application connected to.
      const { address, port } = leg.call;
      const to = address ? `${address}:${port}` : null;
      return this.finish(
        share,
        'LEFT_MESH',
        null,
        null,
        [...leg.before, { ...hop, endpoints: to ? [to] : [] }],
        `Cluster ${name}: the request leaves the mesh to its original destination${to ? ` ${to}` : ''}.`,
      );
    }
    if (name === 'BlackHoleCluster')
      return this.finish(share, 'BLACKHOLED', this.http ? 502 : null, null, hops, `Cluster ${name}: the request is dropped.`);
    const cluster = firstNamed(config.clusters, name);
    if (!cluster) {
      // Envoy answers what the route's cluster_not_found_response_code says (istiod sets 500 on
      // Gateway API routes to an invalid backend, `UnknownService`), as the route walk reports it.
      const status = clusterNotFoundStatus(leg.route?.route);
      return this.finish(
        share,
        'NO_HEALTHY_UPSTREAM',
        this.http ? status : null,
        null,
        hops,
        `Cluster ${name} does not exist in the config of ${leg.who}: Envoy answers ${status}.`,
      );
    }
    const endpoints = clusterEndpoints(cluster, config.endpoints).filter((e) => e.healthy);
    const subset = parseClusterName(name)?.subset;
    if (!endpoints.length)
      return this.finish(
        share,
        'NO_HEALTHY_UPSTREAM',
        this.http ? 503 : null,
        null,
        hops,
        `Cluster ${name} has no healthy endpoint (no pod matches its service${subset ? ` and subset ${subset}` : ''}): Envoy answers 503.`,
      );
    const localities = [...new Set(endpoints.map((e) => e.locality).filter(Boolean))];
    this.step(
      `cluster ${name}`,
      `${endpoints.length} endpoint${endpoints.length > 1 ? 's' : ''} (EDS istiod generated for ${leg.who}): ${endpoints.map(hostPort).join(', ')}${localities.length ? `; localities ${localities.join(', ')} (locality load balancing is not simulated)` : ''}.`,
    );
    const dr = istioConfigRef(cluster.metadata);
    const destinationRule = dr?.kind === 'DestinationRule' ? dr : null;
    await this.toWorkloads(
      leg,
      hop,
      share,
      endpoints,
      (e) => upstreamTransport(cluster, e.metadata).mode,
      (e, _receiver, mtls) => senderTls(cluster, e, destinationRule, mtls),
      cluster,
    );
  }

  /** One path per workload behind the endpoints, sharing `share` by endpoint count. */
  private async toWorkloads(
    leg: Leg,
    hop: Hop,
    share: number,
    endpoints: Endpoint[],
    modeOf: (e: Endpoint) => TransportMode,
    tlsOf: (e: Endpoint, receiver: JourneyWorkload | null, mtls: ReceiverMtls | null) => TransportSecurity,
    cluster: Cluster | null,
  ) {
    const groups = new Map<string, { workload: JourneyWorkload | null; endpoints: Endpoint[] }>();
    for (const e of endpoints) {
      const w = this.input.workloads.at(e.address) ?? this.byMetadata(e);
      const key = w ? `${w.namespace}/${w.name}/${w.kind}` : `external ${e.address}`;
      const group = groups.get(key) ?? { workload: w, endpoints: [] };
      group.endpoints.push(e);
      groups.set(key, group);
    }
    // Without a workload, endpoints are outside the mesh registry's pods: one path for all of them.
    const external = [...groups.values()].filter((g) => !g.workload);
    const internal = [...groups.values()].filter((g) => g.workload);
    if (external.length) {
      const count = external.reduce((n, g) => n + g.endpoints.length, 0);
      const ep = external[0].endpoints[0];
      const h = { ...hop, endpoints: external.flatMap((g) => g.endpoints.map(hostPort)), tls: tlsOf(ep, null, null) };
      this.finish(
        (share * count) / endpoints.length,
        'LEFT_MESH',
        null,
        null,
        [...leg.before, h],
        `${count} endpoint${count > 1 ? 's' : ''} (${external.flatMap((g) => g.endpoints.map((e) => e.address)).join(', ')}) belong to no workload of the snapshot: the request leaves the mesh.`,
      );
    }
    for (const group of internal) {
      const receiver = group.workload!;
      const ep = group.endpoints[0];
      const pathShare = (share * group.endpoints.length) / endpoints.length;
      const mtls = receiver.proxyType === 'SIDECAR' ? ((await this.input.receiverMtls?.(receiver, ep.port)) ?? null) : null;
      // The endpoints of the chosen cluster on this path: this workload's (the cluster's trace step lists them all).
      const h = { ...hop, endpoints: group.endpoints.map(hostPort), tls: tlsOf(ep, receiver, mtls) };
      await this.receive(leg, h, pathShare, receiver, ep, modeOf(ep), cluster, mtls);
    }
  }

  /**
   * PassthroughCluster sends the connection, as it is (no TLS of Envoy's), to its original destination:
   * the call's `address`. A workload's pod IP, or a Service's ClusterIP (kube-proxy then picks one of
   * its endpoints), is still the mesh: the journey goes on there. False when the address is neither.
   */
  private async toOriginalDestination(leg: Leg, hop: Hop, share: number): Promise<boolean> {
    const address = leg.call.address;
    if (!address) return false;
    let endpoints: { address: string; port: number }[];
    let where: string;
    if (this.input.workloads.at(address)) {
      endpoints = [{ address, port: leg.call.port }];
      where = `pod IP ${address}`;
    } else {
      const svc = (await this.input.serviceByIp?.(address, leg.call.port)) ?? null;
      if (!svc?.endpoints.length) return false;
      endpoints = svc.endpoints;
      where = `ClusterIP ${address} of Service ${svc.service}, which kube-proxy spreads over ${svc.endpoints.map(hostPort).join(', ')}`;
    }
    this.step(
      `cluster PassthroughCluster`,
      `The connection goes, as it is, to its original destination ${address}:${leg.call.port} (${where}).`,
    );
    const tls: TransportSecurity = {
      mode: 'PLAINTEXT',
      reason: 'plaintext: PassthroughCluster forwards the connection as the application opened it (no mTLS from the sidecar)',
      peerAuthentication: null,
      destinationRule: null,
    };
    await this.toWorkloads(
      leg,
      hop,
      share,
      endpoints.map((e) => ({ ...e, locality: '', priority: 0, healthy: true, weight: 1, metadata: undefined })),
      () => 'PLAINTEXT',
      (_e, _receiver, mtls) => ({ ...tls, peerAuthentication: mtls?.peerAuthentication ?? null }),
      null,
    );
    return true;
  }

  private byMetadata(e: Endpoint): JourneyWorkload | null {
    const w = endpointWorkload(e);
    return (w && this.input.workloads.named(w.namespace, w.name)) ?? null;
  }

  private principalOf(leg: Leg, mode: TransportMode): string | null {
    return mode === 'MTLS' && leg.proxyType !== 'NONE'
      ? `spiffe://${this.input.trustDomain}/ns/${leg.namespace}/sa/${leg.serviceAccount}`
      : null;
  }

  private async receive(
    leg: Leg,
    hop: Hop,
    share: number,
    receiver: JourneyWorkload,
    ep: Endpoint,
    mode: TransportMode,
    cluster: Cluster | null,
    mtls: ReceiverMtls | null,
  ) {
    const dest: WorkloadRef = { namespace: receiver.namespace, name: receiver.name, kind: receiver.kind };
    const label = `receiver ${receiver.namespace}/${receiver.name}`;
    const hops = [...leg.before, hop];
    this.step(
      label,
      `${share.toFixed(1)}% of the requests go to ${ep.address}:${ep.port} (${receiver.kind} ${receiver.namespace}/${receiver.name}); the connection is ${hop.tls!.reason}.`,
    );
    // The journey ends at the receiver before its sidecar answers: no status, the hops so far.
    const who = `${receiver.namespace}/${receiver.name}`;
    const endHere = (outcome: 'CONNECTION_FAILED' | 'DELIVERED', why: string) => this.finish(share, outcome, null, dest, hops, why);
    if (receiver.proxyType === 'NONE') {
      if (mode === 'MTLS') return endHere('CONNECTION_FAILED', `${who} has no sidecar to terminate Istio mTLS: the handshake fails.`);
      return endHere('DELIVERED', `${who} is a workload without a sidecar: the application answers.`);
    }
    const forwarded = rewritten(leg.call, leg.route, ep, mode, cluster);
    if (receiver.proxyType === 'ROUTER') return this.throughGateway(leg, hop, share, receiver, ep, mode, forwarded);
    const config = await this.input.receiverConfig(receiver);
    if (!config) return endHere('DELIVERED', `The config of ${who} is not available; the request is assumed to reach the application.`);
    const walked = walkRoute(config, forwarded);
    const r = walked.resolution;
    this.walkSteps(label, who, r, ep.address);
    const virtualInbound = firstNamed(config.listeners, 'virtualInbound');
    const accepted = inboundMtls(virtualInbound, ep.port);
    const inbound: Hop = {
      proxy: dest,
      proxyType: 'SIDECAR',
      direction: 'INBOUND',
      resolution: r,
      endpoints: null,
      tls: {
        mode,
        reason: inboundReason(accepted, mtls, ep.port, mode, r.error),
        peerAuthentication: mtls?.peerAuthentication ?? null,
        destinationRule: null,
      },
      authorization: null,
    };
    this.step(`${label}: tls`, inbound.tls!.reason);
    if (r.error) {
      const tlsFailure = ['no filter chains matched', 'invalid TLS', 'invalid mTLS', 'protocol error'].includes(r.error);
      const [outcome, status] = tlsFailure ? (['CONNECTION_FAILED', null] as const) : failureOutcome(r.error, this.http);
      return this.finish(share, outcome, status, dest, [...hops, inbound], `The server's sidecar refuses the request: ${r.error}.`);
    }
    const [path] = splitPathAndQuery(walked.path);
    const request = this.rbacRequest(
      walked.filterChain,
      this.principalOf(leg, mode),
      leg.ip,
      ep.address,
      ep.port,
      path,
      forwarded.host ?? null,
      forwarded,
    );
    const decision = authorize(walked.filterChain, request, `${receiver.namespace}/${receiver.name}`);
    inbound.authorization = decision;
    this.step(`${label}: authorization`, decision.reason);
    for (const d of decision.dryRun ?? []) this.step(`${label}: dry-run`, d);
    if (decision.verdict === 'DENY')
      return this.finish(
        share,
        'DENIED',
        this.http ? 403 : null,
        dest,
        [...hops, inbound],
        this.http ? 'Denied: the sidecar answers HTTP 403 (RBAC: access denied).' : 'Denied: the sidecar closes the connection.',
      );
    const route = walked.route;
    if (route?.directResponse)
      return this.finish(
        share,
        'DIRECT_RESPONSE',
        route.directResponse.status ?? 200,
        dest,
        [...hops, inbound],
        "The server's sidecar answers directly.",
      );
    this.finish(
      share,
      'DELIVERED',
      null,
      dest,
      [...hops, inbound],
      `Delivered to the application of ${receiver.namespace}/${receiver.name} on port ${ep.port}${decision.verdict === 'NOT_DECIDED' ? ', if the external authorizer allows it' : ''}.`,
    );
  }

  /**
   * A gateway on the way: it takes the connection on its listener for the endpoint's port, routes the
   * request by its own config (as a gateway: `GATEWAY` mode, the request's host and path) and sends
   * it on; the journey goes on from there. A path through more than MAX_GATEWAYS gateways, or
   * through one gateway twice, is a loop: meshlens stops following it.
   */
  private async throughGateway(
    leg: Leg,
    hop: Hop,
    share: number,
    gateway: JourneyWorkload,
    ep: Endpoint,
    mode: TransportMode,
    forwarded: Call,
  ) {
    const dest: WorkloadRef = { namespace: gateway.namespace, name: gateway.name, kind: gateway.kind };
    const key = `${gateway.namespace}/${gateway.name}`;
    const hops = [...leg.before, hop];
    if (leg.gateways.includes(key) || leg.gateways.length >= MAX_GATEWAYS)
      return this.finish(
        share,
        'CONNECTION_FAILED',
        null,
        dest,
        hops,
        leg.gateways.includes(key)
          ? `The request comes back to gateway ${key} (${[...leg.gateways, key].join(' -> ')}): a routing loop, which Envoy follows until the connection fails; meshlens stops here.`
          : `The request passes through more than ${MAX_GATEWAYS} gateways (${[...leg.gateways, key].join(' -> ')}): meshlens stops following it.`,
      );
    const config = (await this.input.gatewayConfig?.(gateway)) ?? null;
    if (!config)
      return this.finish(share, 'DELIVERED', null, dest, hops, `The config of gateway ${key} is not available: the journey ends at it.`);
    this.step(
      `gateway ${key}`,
      `The gateway takes the connection on its listener for port ${ep.port} and routes the request by its own config.`,
    );
    const next: Leg = {
      who: `gateway ${key}`,
      workload: dest,
      proxyType: 'ROUTER',
      namespace: gateway.namespace,
      serviceAccount: gateway.serviceAccount,
      ip: ep.address,
      call: { ...forwarded, mode: 'GATEWAY', address: ep.address, port: ep.port },
      before: hops,
      gateways: [...leg.gateways, key],
      peer: { principal: this.principalOf(leg, mode), ip: leg.ip },
      route: null,
    };
    await this.fromProxy(next, config, share, `gateway ${key}`);
  }

  private clientIp(): string {
    const xff = this.input.call.headers.find((h) => h.name.toLowerCase() === 'x-forwarded-for')?.value;
    return xff?.split(',')[0]?.trim() || '0.0.0.0';
  }

  private rbacRequest(
    chain: Parameters<typeof validatesJwt>[0],
    principal: string | null,
    sourceIp: string,
    destinationIp: string,
    destinationPort: number,
    path: string,
    host: string | null,
    call: Call,
  ): RbacRequest {
    const { identity } = this.input;
    const metadata: Record<string, Record<string, unknown>> = {};
    // The jwt_authn filter only puts a payload in the metadata where a RequestAuthentication applies.
    if (identity && (identity.requestPrincipal || identity.claims) && validatesJwt(chain)) {
      const payload: Record<string, unknown> = { ...(identity.claims ?? {}) };
      if (identity.requestPrincipal) {
        const slash = identity.requestPrincipal.lastIndexOf('/');
        payload.iss ??= slash >= 0 ? identity.requestPrincipal.slice(0, slash) : identity.requestPrincipal;
        if (slash >= 0) payload.sub ??= identity.requestPrincipal.slice(slash + 1);
      }
      metadata[JWT_AUTHN] = { payload: jwtPayload(chain, payload) };
    }
    const hcm = chain ? networkFilter(chain, HTTP_CONNECTION_MANAGER) : null;
    const xff = call.headers?.find((h) => h.name.toLowerCase() === 'x-forwarded-for')?.value;
    return {
      principal,
      directRemoteIp: sourceIp,
      remoteIp: this.http ? clientAddress((hcm ?? {}) as ClientAddressConfig, xff ?? undefined, sourceIp) : sourceIp,
      destinationIp,
      destinationPort,
      sni: call.sni ?? null,
      headers: this.http ? requestHeaders({ ...call, host: host ?? undefined }, path) : null,
      path: this.http ? splitPathAndQuery(path)[0] : null,
      metadata,
    };
  }

  private finish(
    share: number,
    outcome: JourneyOutcome,
    status: number | null,
    destination: WorkloadRef | null,
    hops: Hop[],
    detail: string,
  ) {
    const rounded = Math.round(share * 100) / 100;
    this.paths.push({ share: rounded, outcome, status, destination, hops });
    this.step(`path ${this.paths.length} (${rounded}%)`, `${outcome}${status ? ` (${status})` : ''}: ${detail}`);
  }
}

/** Whether two walks read word for word the same but for each walking proxy's own address. */
function sameSteps(a: TraceStep[], aAddress: string, b: TraceStep[], bAddress: string): boolean {
  return (
    a.length === b.length &&
    a.every(
      (step, i) =>
        step.stage === b[i].stage &&
        (step.detail === b[i].detail || withoutAddress(step.detail, aAddress) === withoutAddress(b[i].detail, bAddress)),
    )
  );
}

/** A text with each occurrence of an address as a whole (not 10.0.0.1 within 10.0.0.10) masked. */
function withoutAddress(text: string, address: string): string {
  if (!address) return text;
  const literal = address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`(?<![\\w.:])${literal}(?!\\w|\\.\\d)`, 'g'), '\u0000');
}

/** What a walk chose, in one line: listener, filter chain, route configuration, virtual host, route, cluster, or where it stopped. */
function walkSummary(r: RouteResolution): string {
  const chosen = [
    r.listener && `listener ${r.listener}`,
    r.filterChain && `filter chain "${r.filterChain}"`,
    r.routeConfig && `route configuration ${r.routeConfig}`,
    r.virtualHost && `virtual host ${r.virtualHost}`,
    r.route && `route "${r.route}"`,
    r.cluster && `cluster ${r.cluster}`,
    r.weightedClusters?.length && `clusters ${r.weightedClusters.map((c) => `${c.cluster} (weight ${c.weight})`).join(', ')}`,
    r.error && `then ${r.error}`,
  ];
  return chosen.filter(Boolean).join(', ');
}

function hostPort(e: { address: string; port: number }): string {
  return `${e.address}:${e.port}`;
}

function senderTls(cluster: Cluster, e: Endpoint, dr: ConfigRef | null, mtls: ReceiverMtls | null): TransportSecurity {
  const t = upstreamTransport(cluster, e.metadata);
  const drText = dr ? formatRef(dr) : null;
  let reason: string;
  if (t.auto)
    reason =
      t.mode === 'MTLS'
        ? `mTLS, because the server has a sidecar (its endpoint carries tlsMode istio) and no DestinationRule sets TLS (auto mTLS)${drText ? `; ${drText} applies without a tls mode` : ''}`
        : `plaintext, because the server has no sidecar (its endpoint carries no tlsMode istio) and no DestinationRule sets TLS (auto mTLS)`;
  else if (t.mode === 'MTLS')
    reason = drText ? `mTLS: ${drText} sets ISTIO_MUTUAL` : 'mTLS: the cluster always presents the workload certificate (ISTIO_MUTUAL)';
  else if (t.mode === 'TLS')
    reason = `TLS originated by the sender's proxy${t.sni ? ` (SNI ${t.sni})` : ''}: ${drText ? `${drText} sets SIMPLE or MUTUAL` : 'the cluster originates TLS'}`;
  else if (mtls?.mode === 'DISABLE' && !drText)
    reason = `plaintext: no DestinationRule sets TLS and auto mTLS is off for this destination (${mtls.peerAuthentication ? formatRef(mtls.peerAuthentication) : 'its PeerAuthentication'} disables mTLS)`;
  else
    reason = drText
      ? `plaintext: ${drText} applies and the cluster has no TLS transport socket (tls mode DISABLE, or auto mTLS off because the server's PeerAuthentication disables mTLS)`
      : "plaintext: no DestinationRule sets TLS and auto mTLS is off for this destination (the server's PeerAuthentication disables mTLS)";
  return { mode: t.mode, reason, peerAuthentication: mtls?.peerAuthentication ?? null, destinationRule: dr };
}

/** The request as the sender's proxy forwards it: route rewrites applied, over the chosen transport. */
function rewritten(call: Call, route: Route | null, ep: Endpoint, mode: TransportMode, cluster: Cluster | null): Call {
  let { host } = call;
  const action = route?.route;
  const path = rewritePath(route?.match, action, call.path);
  if (action?.hostRewriteLiteral) host = action.hostRewriteLiteral;
  const h2 = cluster ? usesHttp2(cluster) : false;
  return {
    ...call,
    mode: 'INBOUND',
    address: ep.address,
    port: ep.port,
    protocol: call.protocol === 'TCP' ? 'TCP' : h2 ? 'HTTP2' : call.protocol,
    tls: mode,
    path,
    host,
    // The server sees the SNI the sender's TLS transport socket sets (istiod's outbound_.<port>_.<subset>_.<host>
    // for Istio mTLS), which connection.sni conditions match.
    sni: cluster && mode !== 'PLAINTEXT' ? (upstreamTransport(cluster, ep.metadata).sni ?? undefined) : undefined,
    alpn: undefined,
  };
}

function usesHttp2(cluster: Cluster): boolean {
  const options = (
    cluster as Cluster & { typedExtensionProtocolOptions?: Record<string, { explicitHttpConfig?: { http2ProtocolOptions?: unknown } }> }
  ).typedExtensionProtocolOptions;
  return Object.values(options ?? {}).some((o) => o.explicitHttpConfig?.http2ProtocolOptions !== undefined);
}

function inboundReason(
  accepted: InboundMtls | null,
  mtls: ReceiverMtls | null,
  port: number,
  mode: TransportMode,
  error: string | null,
): string {
  const sent = mode === 'MTLS' ? 'mTLS' : mode === 'TLS' ? 'TLS' : 'plaintext';
  // Which policy, and at which level, decides the port (the generator's resolution); the mode is the filter chains'.
  const by = mtls?.peerAuthentication
    ? `${formatRef(mtls.peerAuthentication)}${mtls.portLevel ? ` (its port-level setting for ${port})` : ''}`
    : 'PeerAuthentication';
  if (accepted === 'STRICT')
    return mode === 'MTLS'
      ? `mTLS: ${by} requires mTLS on port ${port} (STRICT)`
      : `${by} requires mTLS on port ${port} (STRICT), but the sender sends ${sent}: the connection is refused`;
  if (accepted === 'PERMISSIVE')
    return mtls?.peerAuthentication
      ? `${sent}: ${by} is PERMISSIVE on port ${port} (mTLS and plaintext both accepted)`
      : `${sent}: PeerAuthentication on port ${port} is PERMISSIVE (no policy selects the workload: Istio's default; mTLS and plaintext both accepted)`;
  if (accepted === 'DISABLE')
    return mode === 'PLAINTEXT'
      ? `plaintext: ${by} disables mTLS on port ${port}`
      : `${by} disables mTLS on port ${port}, but the sender sends ${sent}${error ? ': the connection fails' : ''}`;
  return `${sent}: the server has no inbound listener for port ${port}`;
}

/** The outcome of a walk that stopped, and the status Envoy answers with. */
function failureOutcome(error: string, http: boolean): [JourneyOutcome, number | null] {
  switch (error) {
    case 'no listener matched':
      return ['NO_ROUTE', null];
    case 'no virtual host matched':
    case 'no route matched':
      return ['NO_ROUTE', http ? 404 : null];
    case 'tls required, sending 301':
      return ['REDIRECTED', 301];
    case 'escaped slashes, sending 307':
      return ['REDIRECTED', 307];
    case 'invalid path, sending 400':
      return ['DIRECT_RESPONSE', 400];
    default:
      return ['CONNECTION_FAILED', null];
  }
}

const REDIRECT_CODES: Record<string, number> = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
};

function redirectStatus(redirect: RedirectAction): number {
  const code = redirect.responseCode;
  return code ? (REDIRECT_CODES[code] ?? 301) : 301;
}

/** A route's fault injection abort (Istio's VirtualService fault.abort): its status and percentage. */
function faultAbort(route: Route | null): { status: number; percent: number } | null {
  const fault = route?.typedPerFilterConfig?.[HTTP_FAULT] as
    { abort?: { httpStatus?: number; percentage?: { numerator?: number; denominator?: string } } } | undefined;
  const abort = fault?.abort;
  if (!abort?.httpStatus) return null;
  const scale = { HUNDRED: 1, TEN_THOUSAND: 100, MILLION: 10000 }[abort.percentage?.denominator ?? 'HUNDRED'] ?? 1;
  const percent = abort.percentage ? Math.min(100, (abort.percentage.numerator ?? 0) / scale) : 100;
  return percent > 0 ? { status: abort.httpStatus, percent } : null;
}
