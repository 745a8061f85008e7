// One builder of mesh manifests for tests, instead of the same YAML written again in each file:
// the Kubernetes, Istio and Gateway API objects tests upload, typed, with the fields tests vary as
// options and everything else as a real cluster would hold it. `yaml(...)` makes an upload of them,
// `resources(...)` the stored resources a unit test hands to the services.
import YAML from 'yaml';
import { isEvaluated } from '../../src/ingest/kinds.js';
import type { SnapshotResource } from '../../src/model/snapshot.js';

/** A Kubernetes object as a manifest states it. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  data?: Record<string, string>;
}

export type Labels = Record<string, string>;

/** A namespace, with sidecar injection on unless `injection: false`. */
export function namespace(name: string, options: { injection?: boolean; labels?: Labels } = {}): Manifest {
  const labels = { ...(options.injection === false ? {} : { 'istio-injection': 'enabled' }), ...options.labels };
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(Object.keys(labels).length ? { labels } : {}) } };
}

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number;
  protocol?: string;
  appProtocol?: string;
}

/** A Service selecting `app: <name>` unless `selector` says otherwise. */
export function service(ns: string, name: string, ports: ServicePort[], options: { selector?: Labels; clusterIP?: string } = {}): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { ...(options.clusterIP ? { clusterIP: options.clusterIP } : {}), selector: options.selector ?? { app: name }, ports },
  };
}

export interface PodOptions {
  labels?: Labels;
  /** its IP; with `ready`, a running, ready pod as the kubelet reports it */
  ip?: string;
  ready?: boolean;
  image?: string;
  containerPorts?: { containerPort: number; name?: string }[];
  /** its serviceAccountName (the pod's identity); the namespace's default when absent */
  serviceAccount?: string;
}

/** A pod spec: one container, and the service account when one is named. */
function podSpec(name: string, options: PodOptions) {
  return { ...(options.serviceAccount ? { serviceAccountName: options.serviceAccount } : {}), containers: [container(name, options)] };
}

/** One container, named `app` in every pod (pods of one app look alike, as a Deployment's do). */
function container(name: string, options: PodOptions) {
  return {
    name: 'app',
    image: options.image ?? name,
    ...(options.containerPorts ? { ports: options.containerPorts } : {}),
  };
}

/** A Pod labelled `app: <name>` unless `labels` says otherwise. */
export function pod(ns: string, name: string, options: PodOptions = {}): Manifest {
  const status = options.ready
    ? { phase: 'Running', podIP: options.ip, podIPs: [{ ip: options.ip }], conditions: [{ type: 'Ready', status: 'True' }] }
    : options.ip
      ? { podIP: options.ip }
      : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: options.labels ?? { app: name } },
    spec: podSpec(name, options),
    ...(status ? { status } : {}),
  };
}

/** A Deployment whose pods are labelled `app: <name>` (plus `labels`). */
export function deployment(ns: string, name: string, options: Omit<PodOptions, 'ip' | 'ready'> = {}): Manifest {
  const labels = { app: name, ...options.labels };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels }, spec: podSpec(name, options) },
    },
  };
}

const NETWORKING = 'networking.istio.io/v1';
const SECURITY = 'security.istio.io/v1';
const GATEWAY_API = 'gateway.networking.k8s.io/v1';

/** An Istio object: `spec` as Istio's API states it. */
function istio(apiVersion: string, kind: string, ns: string, name: string, spec: Record<string, unknown>): Manifest {
  return { apiVersion, kind, metadata: { name, namespace: ns }, spec };
}

export const virtualService = (ns: string, name: string, spec: Record<string, unknown>) =>
  istio(NETWORKING, 'VirtualService', ns, name, spec);
export const destinationRule = (ns: string, name: string, spec: Record<string, unknown>) =>
  istio(NETWORKING, 'DestinationRule', ns, name, spec);
export const gateway = (ns: string, name: string, spec: Record<string, unknown>) => istio(NETWORKING, 'Gateway', ns, name, spec);
export const peerAuthentication = (ns: string, name: string, spec: Record<string, unknown>) =>
  istio(SECURITY, 'PeerAuthentication', ns, name, spec);
export const authorizationPolicy = (ns: string, name: string, spec: Record<string, unknown>) =>
  istio(SECURITY, 'AuthorizationPolicy', ns, name, spec);
/** A Gateway API Gateway (class istio unless the spec says otherwise). */
export const k8sGateway = (ns: string, name: string, spec: Record<string, unknown>) =>
  istio(GATEWAY_API, 'Gateway', ns, name, { gatewayClassName: 'istio', ...spec });
export const httpRoute = (ns: string, name: string, spec: Record<string, unknown>) => istio(GATEWAY_API, 'HTTPRoute', ns, name, spec);

/** The mesh config (ConfigMap `istio` in istio-system), from its fields. */
export function meshConfig(mesh: Record<string, unknown>): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'istio', namespace: 'istio-system' },
    data: { mesh: YAML.stringify(mesh) },
  };
}

/** The objects as one multi-document YAML upload. */
export function yaml(...objects: Manifest[]): string {
  return objects.map((o) => YAML.stringify(o)).join('---\n');
}

/** The objects as stored resources (in order, one document each), as the services read them. */
export function resources(...objects: Manifest[]): SnapshotResource[] {
  return objects.map((o, document) => ({
    apiVersion: o.apiVersion,
    kind: o.kind,
    namespace: o.metadata.namespace ?? null,
    name: o.metadata.name,
    evaluated: isEvaluated(o.apiVersion, o.kind),
    body: structuredClone(o) as unknown as Record<string, unknown>,
    document,
  }));
}
