// The generator's wire format (generator/internal/protocol): newline-delimited JSON over stdio.
import type { GatewayApi, ObjectRef } from '../model/gateway-api.js';
import type { AnalyzerMessage } from '../model/diagnostics.js';
import type { PeerAuthnResolution } from '../model/mesh-security.js';
import type { ConfigKey, EnvoyObject, GeneratedConfig, ProxyInfo, ProxyInput, ProxyType, WorkloadProxy } from '../model/proxy.js';
import type { AdmissionResult, GeneratorInput, NormalisedSnapshot } from '../model/snapshot.js';
import { UnknownWorkloadError } from '../model/errors.js';

/**
 * One object of a hashedProxyConfig answer: its ref, the job's index of it (0, 1, 2, … as the
 * generator process first sends each object to the job, in the order it writes its answers), and
 * in the answer that first sends it its name (objectName's; absent when empty) and its proto3 JSON
 * in canonical form: byte for byte canonicalJson of the parsed object (the generator's
 * protocol.AppendCanonical), so the job stores and hashes the text as it is. Fields in that order
 * (src/jobs/generated-line.ts reads the line without parsing it).
 */
export interface JobObject {
  ref: number;
  name?: string;
  object?: EnvoyObject;
}

/** GeneratedConfig as a compute job receives it (hashedProxyConfig), each list's objects by ref, in order. */
export type JobGeneratedConfig = { proxy: ProxyInfo } & Record<ConfigKey, JobObject[]>;

/** A snapshot as the generator loads it: the cluster's objects, and each pod's proxy type as injection decides it. */
export interface LoadParams extends GeneratorInput {
  proxyTypes: Record<string, ProxyType>;
  /** Each pod's workload kind (Pod, or the controller standing for its pods), by namespace/name. */
  kinds: Record<string, string>;
}

/** The effective mesh config's identity settings (Istio's defaults applied). */
export interface MeshIdentity {
  trustDomain: string;
  trustDomainAliases: string[];
  rootNamespace: string;
}

/** A workload's PeerAuthentication as istiod resolves it for its inbound listener. */
export interface PeerAuthn extends PeerAuthnResolution {
  /** Every PeerAuthentication selecting the workload: mesh, namespace, workload. */
  policies: ObjectRef[];
  rootNamespace: string;
}

/**
 * What istiod's generation reads about a proxy besides the snapshot (generator/internal/protocol/facts.go),
 * built the same way for a named workload and an ad-hoc proxy: equal facts but for the identity (id,
 * addresses but their families) give the same config, but where istiod writes the identity into it.
 */
export interface ProxyFacts {
  proxy: ProxyInfo;
  /** `host:port:targetPort` of every service target, sorted. */
  servicePorts: string[];
  /** The node ID's last part. */
  dnsDomain: string;
  /** The node metadata istio-proxy would send, less INSTANCE_IPS and WORKLOAD_NAME. */
  metadata: Record<string, unknown>;
}

export interface LoadDiagnostic {
  level: string;
  kind?: string;
  namespace?: string;
  name?: string;
  message: string;
}

export interface LoadResult {
  diagnostics: LoadDiagnostic[] | null;
  pods: number;
}

export interface VersionInfo {
  istio: string;
  module: string;
}

/** istioctl's views the generator renders through istioctl's own writers (`render`). */
export type RenderView = 'listener' | 'route' | 'cluster' | 'endpoint' | 'eds' | 'all' | 'bootstrap' | 'config_dump' | 'proxy-status';

/** istioctl's flags of `proxy-config` and `proxy-status`. */
export interface RenderFlags {
  fqdn?: string;
  port?: number;
  subset?: string;
  direction?: string;
  name?: string;
  address?: string;
  type?: string;
  cluster?: string;
  status?: string;
  /** short (the table, istioctl's default), json or yaml. */
  output?: 'short' | 'json' | 'yaml';
  /** istioctl's --verbose (default true). */
  verbose?: boolean;
  withHeaders?: boolean;
  /** proxy-status -v. */
  verbosity?: number;
}

/** One proxy of proxy-status, as istiod's syncz reports a connected proxy. */
export interface StatusProxy {
  /** `<pod>.<namespace>` */
  id: string;
  clusterId?: string;
  namespace?: string;
  istioVersion?: string;
  /** Subscribed xDS types (CDS, LDS, EDS, RDS, ECDS: src/envoy/subscribed-types.ts); absent: CDS and LDS. */
  types?: string[];
}

export interface RenderParams {
  view: RenderView;
  /** The proxy's generated config (a dump is assembled from it with the bootstrap istio-agent renders)... */
  config?: GeneratedConfig;
  /** ...or an Envoy admin config dump used as is. */
  configDump?: unknown;
  flags?: RenderFlags;
  proxies?: StatusProxy[];
  /** The control plane's instance name in proxy-status (default "meshlens"). */
  istiod?: string;
}

/** One call as Istio's traffic simulation (pilot/pkg/simulation) takes it: no headers, no method, no query. */
export interface SimulationCall {
  mode: 'OUTBOUND' | 'INBOUND' | 'GATEWAY';
  address?: string;
  port: number;
  protocol: 'HTTP' | 'HTTP2' | 'TCP';
  tls: 'PLAINTEXT' | 'TLS' | 'MTLS';
  host?: string;
  sni?: string;
  alpn?: string;
  path?: string;
}

/** What the simulation decided; "" where it decided nothing, `error` the text of its error. */
export interface SimulationResult {
  listener: string;
  filterChain: string;
  routeConfig: string;
  virtualHost: string;
  route: string;
  cluster: string;
  error: string;
}

/** An object of the generator's input that differs between two snapshots (added, removed or changed). */
export interface ChangedObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** istiod's model.ConfigKey: a push request's changed config (a Service or ServiceEntry by hostname). */
export interface PushConfigKey {
  kind: string;
  namespace: string;
  name: string;
}

export interface PushScopeResult {
  /** a change istiod pushes every proxy for (or one the generator cannot key) */
  forced: boolean;
  /** the config keys istiod's controllers would push for the changed objects, as this snapshot has them */
  keys: PushConfigKey[];
  /** per proxy of the params: whether istiod would push it */
  affected: boolean[];
  /**
   * per changed pod or Namespace this snapshot has (kind/namespace/name): a fingerprint of what istiod
   * reads of it (a pod's endpoints, a Namespace's fields its controllers read)
   */
  fingerprints: Record<string, string>;
}

export interface Methods {
  version: { params: undefined; result: VersionInfo };
  load: { params: LoadParams; result: LoadResult };
  proxyConfig: { params: { proxy: ProxyInput }; result: GeneratedConfig };
  /**
   * proxyConfig for a compute job: each object by hash, with its JSON only in the first answer of
   * the job that carries it. The job reads the answers in the order they are written.
   */
  hashedProxyConfig: { params: { proxy: ProxyInput; job: string }; result: JobGeneratedConfig };
  /** The generator forgets what it sent the job. */
  endJob: { params: { job: string }; result: Record<string, never> };
  /** A proxy's facts, its config not generated (an ad-hoc proxy's stored class is looked up with them). */
  proxyFacts: { params: { proxy: ProxyInput }; result: ProxyFacts };
  /** Istio's traffic simulation over the config proxyConfig gives the same proxy (the walk's differential check). */
  simulate: { params: { proxy: ProxyInput; calls: SimulationCall[] }; result: SimulationResult[] };
  proxies: { params: { types?: Record<string, ProxyType> }; result: WorkloadProxy[] };
  analyze: { params: undefined; result: AnalyzerMessage[] };
  gatewayApi: { params: undefined; result: GatewayApi };
  /** The effective trust domain (and aliases) and root namespace of the snapshot's mesh config. */
  mesh: { params: undefined; result: MeshIdentity };
  /** The PeerAuthentication of a workload, resolved and merged by Istio's authn applier. */
  peerAuthentication: { params: { proxy: ProxyInput }; result: PeerAuthn };
  /**
   * Which proxies istiod's push logic (DefaultProxyNeedsPush: the changed configs' keys against each
   * proxy's SidecarScope dependencies) would push after these objects changed; `keys` are those the
   * other snapshot's session found for them.
   */
  pushScope: {
    /** `fingerprints`: the other snapshot's result's; a changed pod or Namespace with the same fingerprint changes nobody else's config */
    params: { changed: ChangedObject[]; keys?: PushConfigKey[]; fingerprints?: Record<string, string>; proxies: ProxyInput[] };
    result: PushScopeResult;
  };
  /** Needs no loaded snapshot: what istiod's gateway deployment controller would apply for the Gateways of these objects. */
  gatewayDeployments: {
    params: { kubernetes: Record<string, unknown>[]; meshConfig: string };
    result: { gateway: ObjectRef; object: Record<string, unknown> }[];
  };
  /** Needs no loaded snapshot: one result per object, in order. */
  validate: { params: { objects: Record<string, unknown>[] }; result: { results: AdmissionResult[] } };
  /** Needs no loaded snapshot. */
  render: { params: RenderParams; result: { output: string } };
}

export type GeneratorErrorCode = 'BAD_REQUEST' | 'NOT_FOUND' | 'NOT_LOADED' | 'NO_PROXY' | 'INTERNAL' | 'TIMEOUT' | 'EXITED';

export class GeneratorError extends Error {
  constructor(
    readonly code: GeneratorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GeneratorError';
  }
}

/**
 * A generator's error answer as the error the service throws: the one place a wire code becomes a
 * domain error (NOT_FOUND, a workload the snapshot does not have, is UnknownWorkloadError).
 */
export function generatorFailure(error: { code: GeneratorErrorCode; message: string }): Error {
  if (error.code === 'NOT_FOUND') return new UnknownWorkloadError(error.message);
  return new GeneratorError(error.code, error.message);
}

export function loadParams(normalised: NormalisedSnapshot): LoadParams {
  const proxyTypes: Record<string, ProxyType> = {};
  const kinds: Record<string, string> = {};
  for (const w of normalised.workloads) {
    proxyTypes[`${w.namespace}/${w.name}`] = w.proxyType;
    kinds[`${w.namespace}/${w.name}`] = w.kind;
  }
  return { ...normalised.generatorInput, proxyTypes, kinds };
}

/** Asks a generator what istiod's deployment controller would apply (`gatewayDeployments`, which needs no snapshot). */
export type GatewayDeployer = (params: Methods['gatewayDeployments']['params']) => Promise<Methods['gatewayDeployments']['result']>;
