// The seam between ingest (pure: decode, validate, normalise) and everything that stores or
// evaluates a snapshot. Plain data only: no Nest, no database, no I/O.
import type { ProxyType } from './proxy.js';

/** One problem in an upload. Every problem of an upload is reported, not just the first. */
export interface IngestProblem {
  /** 0-based index of the document (YAML `---` document, JSON array element, List item in order). */
  document: number;
  /** 1-based line and column in the uploaded text, when known. */
  line?: number;
  column?: number;
  kind?: string;
  namespace?: string;
  name?: string;
  /** JSON pointer inside the object, e.g. `/spec/http/0/route/0/weight`. */
  path?: string;
  message: string;
}

/** One object of a snapshot as it is stored: defaults applied (namespace), secrets stripped. */
export interface SnapshotResource {
  apiVersion: string;
  kind: string;
  /** null for cluster-scoped kinds (Namespace, ...). */
  namespace: string | null;
  name: string;
  /** Whether meshlens evaluates this kind (false: stored and listed only). */
  evaluated: boolean;
  /** The whole object (apiVersion, kind, metadata, spec, ...), canonical key order not required. */
  body: Record<string, unknown>;
  /** Where it came from in the upload, for messages. */
  document: number;
  line?: number;
}

/** One reason the API server or Istio's webhook refuses an object, at a JSON path. */
export interface AdmissionError {
  path: (string | number)[];
  message: string;
}

/** The answer to creating one object: refused when errors is not empty; warnings are Istio's webhook's. */
export interface AdmissionResult {
  errors?: AdmissionError[] | null;
  warnings?: string[] | null;
}

/**
 * Asks, for each object of Istio's and the Gateway API's groups, what the API server of a cluster
 * running the embedded Istio release (its CRDs, its validating webhook) answers to creating it;
 * one result per object, in order. The generator answers it (`validate`).
 */
export type Admission = (objects: Record<string, unknown>[]) => Promise<AdmissionResult[]>;

/**
 * A resource ready to store: its canonical JSON and that JSON's content hash. Its body is in
 * the JSON only, so that a prepared upload crosses from the ingest thread as strings.
 */
export interface PreparedResource {
  resource: Omit<SnapshotResource, 'body'>;
  hash: string;
  json: string;
}

/** An upload ingested and prepared for storage, or refused with every problem. */
export type PreparedUpload = { ok: true; resources: PreparedResource[]; warnings: string[] } | { ok: false; problems: IngestProblem[] };

export type IngestResult = { ok: true; resources: SnapshotResource[]; warnings: string[] } | { ok: false; problems: IngestProblem[] };

/** A workload as a real cluster would run it: a Pod, or a controller standing for its absent pods. */
export interface Workload {
  namespace: string;
  name: string;
  /** Pod, Deployment, StatefulSet, DaemonSet or ReplicaSet. */
  kind: string;
  proxyType: ProxyType;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The pod IPs; synthetic and deterministic when the snapshot has no Pod for the workload. */
  ips: string[];
  serviceAccount: string;
  /** Hostnames (`name.namespace.svc.<domain>`) of the Services whose selector matches the workload, sorted. */
  services: string[];
}

/** What the generator (Istio inside) is given: the objects a cluster's API server would hold. */
export interface GeneratorInput {
  /** Kubernetes objects: Namespaces, Services, Pods (real and synthetic), EndpointSlices (given, or derived from pods), ConfigMaps, Secrets (without their values). */
  kubernetes: Record<string, unknown>[];
  /** Istio configuration objects (networking.istio.io, security.istio.io, ...), as uploaded. */
  istio: Record<string, unknown>[];
  /** The `mesh` key of ConfigMap `istio` in the root namespace (YAML MeshConfig), "" for Istio's defaults. */
  meshConfig: string;
  /** The snapshot's other objects, for Istio's analyzers only (Deployments, webhook configurations, Telemetry, ...). */
  analysis: Record<string, unknown>[];
}

/** What kube-proxy reads of a snapshot: its Kubernetes objects (Services, EndpointSlices). */
export type KubeProxyInput = Pick<GeneratorInput, 'kubernetes'>;

/**
 * The Services and EndpointSlices of a snapshot, all kube-proxy reads: small enough to keep per
 * snapshot, where the whole snapshot is not.
 */
export function kubeProxyInput(input: GeneratorInput): KubeProxyInput {
  return { kubernetes: input.kubernetes.filter((o) => o.kind === 'Service' || o.kind === 'EndpointSlice') };
}

export interface NormalisedSnapshot {
  workloads: Workload[];
  generatorInput: GeneratorInput;
}
