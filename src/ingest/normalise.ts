// What a real cluster would have derived from the uploaded manifests: the workloads (pods, or
// controllers standing for their absent pods), their proxy type and services, and the objects
// the generator hands to Istio (synthetic pods, EndpointSlices as the EndpointSlice controller
// would write them, the mesh config).
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { isPlainObject } from './decode.js';
import { CONTROLLER_KINDS, GATEWAY_API_GROUP, groupKind, groupOf, INGRESS_KINDS } from './kinds.js';
import { matchesLabels, matchesSelector } from './selectors.js';
import type { ProxyType } from '../model/proxy.js';
import type { GeneratorInput, NormalisedSnapshot, SnapshotResource, Workload } from '../model/snapshot.js';
import { isPortNumber } from './validate.js';
import { compareStrings } from '../model/compare.js';

type Body = Record<string, unknown>;

const CLUSTER_DOMAIN = 'cluster.local';
const DEFAULT_ROOT_NAMESPACE = 'istio-system';
const INJECT = 'sidecar.istio.io/inject';
const REVISION = 'istio.io/rev';
/** Istio's injector never touches these (pkg/kube/inject: IgnoredNamespaces). */
const NEVER_INJECTED_NAMESPACES = ['kube-system', 'kube-public'];
/** Synthetic pod IPs come from 10.128.0.0/9, a range real pod CIDRs rarely use. */
const SYNTHETIC_BASE = 0x0a800000;
const SYNTHETIC_SIZE = 1 << 23;
const MANAGED_BY = 'meshlens';

/** A workload before its proxy type and services are known, with the pod it is (or stands for). */
interface PodLike {
  namespace: string;
  name: string;
  kind: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: Body;
  ips: string[];
  ready: boolean;
  /** The uploaded Pod; absent for a controller standing for its pods. */
  pod?: Body;
  /** Terminated pods (Succeeded, Failed) are workloads but serve no traffic. */
  terminated: boolean;
}

export function normaliseSnapshot(resources: SnapshotResource[]): NormalisedSnapshot {
  const objects = new Objects(resources.filter((resource) => resource.evaluated));
  const pods = [...objects.of('/Pod').map(fromPod), ...standInsForControllers(objects)];
  assignSyntheticIps(pods);
  const workloads = pods.map((pod) => toWorkload(pod, objects)).sort(byNamespaceNameKind);
  return { workloads, generatorInput: { ...generatorInput(objects, pods), analysis: analysisOnly(resources) } };
}

/** Kinds the generator gets, as a cluster would hold them, in `kubernetes` (Endpoints as EndpointSlices; the Gateway API's kinds too). */
const FED_TO_ISTIO = new Set([
  '/Namespace',
  '/Service',
  '/ConfigMap',
  '/Secret',
  '/Pod',
  '/Endpoints',
  'discovery.k8s.io/EndpointSlice',
  ...INGRESS_KINDS,
]);

/**
 * The snapshot's other objects (controllers, Nodes, webhook configurations,
 * CRDs, the Istio kinds meshlens does not evaluate, ...): Istio's analyzers read those of the kinds
 * they declare, as `istioctl analyze` reads a cluster; the generator leaves the rest out.
 */
function analysisOnly(resources: SnapshotResource[]): Body[] {
  return resources
    .filter(
      (resource) =>
        !(
          resource.evaluated &&
          (FED_TO_ISTIO.has(groupKind(resource.apiVersion, resource.kind)) ||
            isIstioConfig(resource.apiVersion) ||
            isGatewayApi(resource.apiVersion))
        ),
    )
    .map((resource) => resource.body)
    .sort(byKindNamespaceName);
}

/** The evaluated objects of a snapshot, by `group/kind`, with what every workload is matched against. */
class Objects {
  private readonly byKind = new Map<string, Body[]>();
  private readonly namespaceLabelsByName = new Map<string, Record<string, string>>();
  /** Services with a selector, by namespace: only those select pods. */
  private readonly selectorServices = new Map<string, SelectorService[]>();
  /** The non-empty selectors of Istio Gateways (an empty one would make every workload a router). */
  readonly gatewaySelectors: Record<string, string>[];

  constructor(readonly all: SnapshotResource[]) {
    for (const resource of all) {
      const key = groupKind(resource.apiVersion, resource.kind);
      // Appended in place: a list copied per object is quadratic in the objects of a kind (50,000 pods).
      const list = this.byKind.get(key);
      if (list) list.push(resource.body);
      else this.byKind.set(key, [resource.body]);
    }
    for (const namespace of this.of('/Namespace')) this.namespaceLabelsByName.set(nameOf(namespace), labelsOf(namespace));
    for (const body of this.of('/Service')) {
      const selector = stringMap(objectAt(body, 'spec').selector);
      if (Object.keys(selector).length === 0) continue;
      const namespace = namespaceOf(body);
      const list = this.selectorServices.get(namespace);
      if (list) list.push({ body, namespace, selector });
      else this.selectorServices.set(namespace, [{ body, namespace, selector }]);
    }
    this.gatewaySelectors = this.of('networking.istio.io/Gateway')
      .map((gateway) => stringMap(objectAt(gateway, 'spec').selector))
      .filter((selector) => Object.keys(selector).length > 0);
  }

  of(...kinds: string[]): Body[] {
    return kinds.flatMap((kind) => this.byKind.get(kind) ?? []);
  }

  namespaceLabels(namespace: string): Record<string, string> {
    return this.namespaceLabelsByName.get(namespace) ?? {};
  }

  servicesSelecting(pod: PodLike): SelectorService[] {
    return (this.selectorServices.get(pod.namespace) ?? []).filter((service) => selects(service, pod));
  }

  allSelectorServices(): SelectorService[] {
    return [...this.selectorServices.values()].flat();
  }
}

interface SelectorService {
  body: Body;
  namespace: string;
  selector: Record<string, string>;
}

function fromPod(pod: Body): PodLike {
  const status = objectAt(pod, 'status');
  const phase = status.phase;
  return {
    ...identity(pod),
    kind: 'Pod',
    spec: objectAt(pod, 'spec'),
    ips: podIps(status),
    ready: readyCondition(status),
    pod,
    terminated: phase === 'Succeeded' || phase === 'Failed',
  };
}

function podIps(status: Body): string[] {
  const listed = Array.isArray(status.podIPs) ? status.podIPs.map((entry) => (isPlainObject(entry) ? entry.ip : undefined)) : [];
  const ips = [...listed, status.podIP].filter((ip): ip is string => typeof ip === 'string' && isIP(ip) !== 0);
  return [...new Set(ips)];
}

/** A pod without conditions is a hand-written manifest: taken as running and ready. */
function readyCondition(status: Body): boolean {
  const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isPlainObject) : [];
  const ready = conditions.find((condition) => condition.type === 'Ready');
  return ready === undefined || ready.status === 'True';
}

/**
 * PR bots upload manifests, not pods: a controller whose pods are not in the snapshot stands
 * for them, as one workload named after it. A ReplicaSet of an uploaded Deployment is that
 * Deployment's business.
 */
function standInsForControllers(objects: Objects): PodLike[] {
  const controllers = objects.of(...CONTROLLER_KINDS);
  const replicaSets = objects.of('apps/ReplicaSet');
  // A controller runs pods of its own namespace only (runsPodOf): look there, not at every pod.
  const podsByNamespace = new Map<string, Body[]>();
  for (const pod of objects.of('/Pod')) {
    const list = podsByNamespace.get(namespaceOf(pod));
    if (list) list.push(pod);
    else podsByNamespace.set(namespaceOf(pod), [pod]);
  }
  return controllers
    .filter((controller) => !(controller.kind === 'ReplicaSet' && ownerIn(controller, 'Deployment', controllers)))
    .filter((controller) => !(podsByNamespace.get(namespaceOf(controller)) ?? []).some((pod) => runsPodOf(pod, controller, replicaSets)))
    .map(fromController);
}

function ownerIn(object: Body, kind: string, candidates: Body[]): boolean {
  return ownerReferences(object).some(
    (owner) =>
      owner.kind === kind &&
      candidates.some((candidate) => candidate.kind === kind && sameName(candidate, owner.name, namespaceOf(object))),
  );
}

function runsPodOf(pod: Body, controller: Body, replicaSets: Body[]): boolean {
  if (namespaceOf(pod) !== namespaceOf(controller)) return false;
  const selector = objectAt(controller, 'spec').selector;
  if (isPlainObject(selector) && Object.keys(selector).length > 0 && matchesSelector(selector, labelsOf(pod))) return true;
  const owners = ownerReferences(pod);
  if (owners.some((owner) => owner.kind === controller.kind && owner.name === nameOf(controller))) return true;
  // Deployment -> ReplicaSet -> Pod
  const ownerSets = replicaSets.filter((set) =>
    owners.some((owner) => owner.kind === 'ReplicaSet' && sameName(set, owner.name, namespaceOf(pod))),
  );
  return ownerSets.some((set) => ownerReferences(set).some((owner) => owner.kind === controller.kind && owner.name === nameOf(controller)));
}

function fromController(controller: Body): PodLike {
  const template = objectAt(objectAt(controller, 'spec'), 'template');
  return {
    namespace: namespaceOf(controller),
    name: nameOf(controller),
    kind: String(controller.kind),
    labels: labelsOf(template),
    annotations: stringMap(objectAt(template, 'metadata').annotations),
    spec: objectAt(template, 'spec'),
    ips: [],
    ready: true,
    terminated: false,
  };
}

/**
 * A running pod has an IP; one that the snapshot lacks (or that was uploaded without status)
 * gets a synthetic one: a hash of namespace/name, so adding an unrelated workload moves no
 * one, probing upwards past any taken address. Assigned in sorted order so probing is
 * deterministic too.
 */
function assignSyntheticIps(pods: PodLike[]): void {
  const taken = new Set(pods.flatMap((pod) => pod.ips));
  const needing = pods.filter((pod) => pod.ips.length === 0 && !pod.terminated).sort(byNamespaceNameKind);
  for (const pod of needing) {
    let offset = createHash('sha256').update(`${pod.namespace}/${pod.name}`).digest().readUInt32BE(0) % SYNTHETIC_SIZE;
    while (!isHostAddress(offset) || taken.has(ipv4Of(SYNTHETIC_BASE + offset))) offset = (offset + 1) % SYNTHETIC_SIZE;
    const ip = ipv4Of(SYNTHETIC_BASE + offset);
    taken.add(ip);
    pod.ips = [ip];
  }
}

/** Addresses ending in .0 or .255 look like network and broadcast addresses to people; skip them. */
function isHostAddress(offset: number): boolean {
  const last = offset & 0xff;
  return last !== 0 && last !== 255;
}

function ipv4Of(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
}

function toWorkload(pod: PodLike, objects: Objects): Workload {
  return {
    namespace: pod.namespace,
    name: pod.name,
    kind: pod.kind,
    proxyType: proxyTypeOf(pod, objects),
    labels: pod.labels,
    annotations: pod.annotations,
    ips: pod.ips,
    serviceAccount: serviceAccountOf(pod.spec),
    services: objects
      .servicesSelecting(pod)
      .map((service) => `${nameOf(service.body)}.${service.namespace}.svc.${CLUSTER_DOMAIN}`)
      .sort(),
  };
}

function serviceAccountOf(spec: Body): string {
  const name = spec.serviceAccountName ?? spec.serviceAccount;
  return typeof name === 'string' && name !== '' ? name : 'default';
}

/** A Service selects the pods of its namespace that carry all its selector labels. */
/**
 * Pods by namespace and by each of their labels (namespace, key and value): a Service's candidates
 * are the pods of the rarest of its selector's labels (all of its namespace for an empty selector),
 * which `selects` then checks; never a scan of the mesh's pods per Service.
 */
class PodLabelIndex {
  private readonly byNamespace = new Map<string, PodLike[]>();
  private readonly byLabel = new Map<string, PodLike[]>();

  constructor(pods: PodLike[]) {
    const add = (map: Map<string, PodLike[]>, key: string, pod: PodLike) => {
      const list = map.get(key);
      if (list) list.push(pod);
      else map.set(key, [pod]);
    };
    for (const pod of pods) {
      add(this.byNamespace, pod.namespace, pod);
      for (const [k, v] of Object.entries(pod.labels)) add(this.byLabel, labelKey(pod.namespace, k, v), pod);
    }
  }

  /** Every pod of the namespace that carries all of `selector`'s labels, and maybe others. */
  candidates(namespace: string, selector: Record<string, string>): PodLike[] {
    let best = this.byNamespace.get(namespace) ?? [];
    for (const [k, v] of Object.entries(selector)) {
      const list = this.byLabel.get(labelKey(namespace, k, v)) ?? [];
      if (list.length < best.length) best = list;
    }
    return best;
  }
}

function labelKey(namespace: string, key: string, value: string): string {
  return `${namespace}\u0000${key}\u0000${value}`;
}

function selects(service: SelectorService, pod: PodLike): boolean {
  return service.namespace === pod.namespace && matchesLabels(service.selector, pod.labels);
}

/** Gateways are routers whether or not they are injected; the rest follows Istio's injector. */
function proxyTypeOf(pod: PodLike, objects: Objects): ProxyType {
  if (isGatewayPod(pod, objects)) return 'ROUTER';
  return sidecarInjected(pod, objects.namespaceLabels(pod.namespace)) ? 'SIDECAR' : 'NONE';
}

/**
 * Istio Gateways select their pods by labels in any namespace. Gateway API Gateways are served
 * by the pods Istio deploys for them, labelled with the gateway's name.
 */
function isGatewayPod(pod: PodLike, objects: Objects): boolean {
  const istioGateway = objects.gatewaySelectors.some((selector) => matchesLabels(selector, pod.labels));
  const gatewayName = pod.labels['gateway.networking.k8s.io/gateway-name'];
  return (
    istioGateway ||
    (gatewayName !== undefined &&
      objects.of(`${GATEWAY_API_GROUP}/Gateway`).some((gateway) => sameName(gateway, gatewayName, pod.namespace)))
  );
}

/**
 * Istio's sidecar injection (its mutating webhook's selectors, then pkg/kube/inject
 * injectRequired). A pod that already carries istio-proxy (istioctl kube-inject, or read back
 * from a cluster) runs it whatever its labels say.
 */
function sidecarInjected(pod: PodLike, namespaceLabels: Record<string, string>): boolean {
  if (hasContainer(pod.spec, 'istio-proxy')) return true;
  if (pod.spec.hostNetwork === true || NEVER_INJECTED_NAMESPACES.includes(pod.namespace)) return false;
  // The label is the current API; when both are set, Istio prefers it to the annotation.
  const explicit = Object.hasOwn(pod.labels, INJECT) ? pod.labels[INJECT] : pod.annotations[INJECT];
  if (explicit === 'true' || explicit === 'false') return explicit === 'true';
  const namespaceInjection = namespaceLabels['istio-injection'];
  if (namespaceInjection !== undefined) return namespaceInjection === 'enabled';
  return Object.hasOwn(namespaceLabels, REVISION) || Object.hasOwn(pod.labels, REVISION);
}

/** Native sidecars (Istio 1.28+ on Kubernetes 1.29+) put istio-proxy among the init containers. */
function hasContainer(spec: Body, name: string): boolean {
  return [spec.containers, spec.initContainers].some(
    (list) => Array.isArray(list) && list.some((container) => isPlainObject(container) && container.name === name),
  );
}

function generatorInput(objects: Objects, pods: PodLike[]): Omit<GeneratorInput, 'analysis'> {
  const services = objects.of('/Service');
  const givenSlices = objects.of('discovery.k8s.io/EndpointSlice');
  const slicedServices = new Set(givenSlices.map((slice) => `${namespaceOf(slice)}/${labelsOf(slice)['kubernetes.io/service-name']}`));
  const endpoints = objects.of('/Endpoints').filter((entry) => !slicedServices.has(`${namespaceOf(entry)}/${nameOf(entry)}`));
  const withEndpoints = new Set([...slicedServices, ...endpoints.map((entry) => `${namespaceOf(entry)}/${nameOf(entry)}`)]);
  const podIndex = new PodLabelIndex(pods.filter((pod) => !pod.terminated));
  const kubernetes = [
    ...namespaces(objects),
    // istiod's gateway controller reads the Gateway API through its Kubernetes client.
    ...objects.all.filter((resource) => isGatewayApi(resource.apiVersion)).map((resource) => resource.body),
    ...services.map(withDefaultServiceProtocols),
    ...objects.of('/ConfigMap'),
    ...objects.of('/Secret'),
    ...objects.of(...INGRESS_KINDS),
    ...givenSlices,
    ...endpoints.flatMap(slicesFromEndpoints),
    ...pods.filter((pod) => pod.pod).map((pod) => withDefaultPodProtocols(asInjected(runningPod(pod), pod, objects))),
    ...pods.filter((pod) => !pod.pod).map((pod) => withDefaultPodProtocols(asInjected(syntheticPod(pod), pod, objects))),
    ...objects
      .allSelectorServices()
      .filter((service) => !withEndpoints.has(`${service.namespace}/${nameOf(service.body)}`))
      .flatMap((service) => derivedSlices(service, podIndex)),
  ];
  const istio = objects.all.filter((resource) => isIstioConfig(resource.apiVersion)).map((resource) => resource.body);
  return {
    kubernetes: kubernetes.sort(byKindNamespaceName),
    istio: istio.sort(byKindNamespaceName),
    meshConfig: meshConfigOf(objects.of('/ConfigMap')),
  };
}

function isGatewayApi(apiVersion: string): boolean {
  return groupOf(apiVersion) === GATEWAY_API_GROUP;
}

function isIstioConfig(apiVersion: string): boolean {
  return groupOf(apiVersion).endsWith('.istio.io');
}

/** The uploaded Namespaces plus one for every namespace used but not uploaded, labelled as the API server labels them. */
function namespaces(objects: Objects): Body[] {
  const given = objects.of('/Namespace');
  const defined = new Set(given.map(nameOf));
  const used = [
    ...new Set(objects.all.map((resource) => resource.namespace).filter((name): name is string => name !== null && !defined.has(name))),
  ];
  return [
    ...given.map((namespace) => withLabels(namespace, { 'kubernetes.io/metadata.name': nameOf(namespace) })),
    ...used.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } })),
  ];
}

function withLabels(object: Body, labels: Record<string, string>): Body {
  const metadata = objectAt(object, 'metadata');
  return { ...object, metadata: { ...metadata, labels: { ...labels, ...stringMap(metadata.labels) } } };
}

const RUNNING_READY = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };

/** An uploaded pod as it is; one uploaded without an IP gets its synthetic IP and runs. */
function runningPod(pod: PodLike): Body {
  const body = pod.pod as Body;
  if (podIps(objectAt(body, 'status')).length > 0 || pod.terminated) return body;
  return { ...body, status: { ...objectAt(body, 'status'), ...RUNNING_READY, ...ipStatus(pod.ips) } };
}

/**
 * The label Istio's injector puts on every pod it gives a sidecar: istiod's EDS reads it into the
 * endpoint's transport socket match metadata, which is what auto mTLS keys on (without it, every
 * caller would send plaintext to the pod).
 */
const TLS_MODE_LABEL = 'security.istio.io/tlsMode';

function asInjected(body: Body, pod: PodLike, objects: Objects): Body {
  if (Object.hasOwn(pod.labels, TLS_MODE_LABEL) || proxyTypeOf(pod, objects) !== 'SIDECAR') return body;
  return withLabels(body, { [TLS_MODE_LABEL]: 'istio' });
}

/**
 * The API server defaults every Service port and container port protocol to TCP. istiod matches a
 * named targetPort to a container port by name and protocol, so without the default a Service
 * port `protocol: TCP, targetPort: http` finds no port of a manifest's container and the pod serves
 * nothing (no inbound listener for it).
 */
function withDefaultServiceProtocols(service: Body): Body {
  const spec = objectAt(service, 'spec');
  if (!Array.isArray(spec.ports)) return service;
  return { ...service, spec: { ...spec, ports: spec.ports.map(withTcpDefault) } };
}

function withDefaultPodProtocols(pod: Body): Body {
  const spec = objectAt(pod, 'spec');
  const containers = (list: unknown) =>
    Array.isArray(list)
      ? (list as unknown[]).map((c) =>
          isPlainObject(c) && Array.isArray(c.ports) ? { ...c, ports: (c.ports as unknown[]).map(withTcpDefault) } : c,
        )
      : list;
  return {
    ...pod,
    spec: {
      ...spec,
      containers: containers(spec.containers),
      ...(spec.initContainers ? { initContainers: containers(spec.initContainers) } : {}),
    },
  };
}

function withTcpDefault(port: unknown): unknown {
  return isPlainObject(port) && port.protocol === undefined ? { ...port, protocol: 'TCP' } : port;
}

function syntheticPod(pod: PodLike): Body {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.name, namespace: pod.namespace, labels: pod.labels, annotations: pod.annotations },
    spec: pod.spec,
    status: { ...RUNNING_READY, ...ipStatus(pod.ips) },
  };
}

function ipStatus(ips: string[]): Body {
  return { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) };
}

interface SlicePort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean };
  targetRef?: unknown;
  hostname?: string;
}

/**
 * The slices the EndpointSlice controller would write for a selector Service: one per address
 * family and distinct set of resolved ports (a named targetPort may resolve differently per
 * pod; a pod where it does not resolve is left out of that port).
 */
function derivedSlices(service: SelectorService, pods: PodLabelIndex): Body[] {
  const spec = objectAt(service.body, 'spec');
  const servicePorts = Array.isArray(spec.ports) ? spec.ports.filter(isPlainObject) : [];
  const groups = new Map<string, { family: string; ports: SlicePort[]; endpoints: SliceEndpoint[] }>();
  const members = pods
    .candidates(service.namespace, service.selector)
    .filter((pod) => selects(service, pod))
    .sort(byNamespaceNameKind);
  for (const pod of members) {
    const ports = servicePorts.flatMap((port) => resolvePort(port, pod.spec));
    for (const ip of pod.ips) {
      const family = isIP(ip) === 6 ? 'IPv6' : 'IPv4';
      const key = JSON.stringify([family, ports]);
      const group = groups.get(key) ?? { family, ports, endpoints: [] };
      group.endpoints.push({
        addresses: [ip],
        conditions: { ready: pod.ready },
        targetRef: { kind: 'Pod', name: pod.name, namespace: pod.namespace },
      });
      groups.set(key, group);
    }
  }
  return [...groups.keys()].sort().map((key, index) => {
    const { family, ports, endpoints } = groups.get(key) as { family: string; ports: SlicePort[]; endpoints: SliceEndpoint[] };
    return endpointSlice(service.body, `${nameOf(service.body)}-${family.toLowerCase()}-${index}`, family, ports, endpoints);
  });
}

function resolvePort(servicePort: Body, podSpec: Body): SlicePort[] {
  const target = servicePort.targetPort ?? servicePort.port;
  const port = isPortNumber(target) ? target : containerPort(podSpec, target);
  if (port === undefined) return [];
  return [slicePort(servicePort, port)];
}

function containerPort(podSpec: Body, name: unknown): number | undefined {
  const containers = Array.isArray(podSpec.containers) ? podSpec.containers.filter(isPlainObject) : [];
  const ports = containers.flatMap((container) => (Array.isArray(container.ports) ? container.ports.filter(isPlainObject) : []));
  const found = ports.find((port) => port.name === name && isPortNumber(port.containerPort));
  return found?.containerPort as number | undefined;
}

function slicePort(port: Body, number: number): SlicePort {
  return {
    ...(typeof port.name === 'string' ? { name: port.name } : {}),
    port: number,
    protocol: typeof port.protocol === 'string' ? port.protocol : 'TCP',
    ...(typeof port.appProtocol === 'string' ? { appProtocol: port.appProtocol } : {}),
  };
}

/** Istio reads EndpointSlices only: core Endpoints become slices, one per subset and address family. */
function slicesFromEndpoints(endpoints: Body): Body[] {
  const subsets = Array.isArray(endpoints.subsets) ? endpoints.subsets.filter(isPlainObject) : [];
  return subsets.flatMap((subset, index) => {
    const ports = (Array.isArray(subset.ports) ? subset.ports.filter(isPlainObject) : [])
      .filter((port) => isPortNumber(port.port))
      .map((port) => slicePort(port, port.port as number));
    const addresses = [...endpointAddresses(subset.addresses, true), ...endpointAddresses(subset.notReadyAddresses, false)];
    return (['IPv4', 'IPv6'] as const).flatMap((family) => {
      const inFamily = addresses.filter((endpoint) => (isIP(endpoint.addresses[0]) === 6) === (family === 'IPv6'));
      return inFamily.length === 0
        ? []
        : [endpointSlice(endpoints, `${nameOf(endpoints)}-${family.toLowerCase()}-${index}`, family, ports, inFamily)];
    });
  });
}

function endpointAddresses(list: unknown, ready: boolean): SliceEndpoint[] {
  return (Array.isArray(list) ? list.filter(isPlainObject) : [])
    .filter((address) => typeof address.ip === 'string' && isIP(address.ip) !== 0)
    .map((address) => ({
      addresses: [address.ip as string],
      conditions: { ready },
      ...(address.targetRef !== undefined ? { targetRef: address.targetRef } : {}),
      ...(typeof address.hostname === 'string' ? { hostname: address.hostname } : {}),
    }));
}

function endpointSlice(service: Body, name: string, addressType: string, ports: SlicePort[], endpoints: SliceEndpoint[]): Body {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: namespaceOf(service),
      labels: { 'kubernetes.io/service-name': nameOf(service), 'endpointslice.kubernetes.io/managed-by': MANAGED_BY },
    },
    addressType,
    ports,
    endpoints,
  };
}

/**
 * istiod reads ConfigMap `istio` of its own namespace, istio-system by default; a mesh config
 * elsewhere counts when it names its own namespace as the root namespace.
 */
function meshConfigOf(configMaps: Body[]): string {
  const meshes = configMaps
    .filter((configMap) => nameOf(configMap) === 'istio' && typeof objectAt(configMap, 'data').mesh === 'string')
    .map((configMap) => ({ namespace: namespaceOf(configMap), mesh: objectAt(configMap, 'data').mesh as string }));
  const chosen =
    meshes.find((entry) => entry.namespace === DEFAULT_ROOT_NAMESPACE) ??
    meshes.find((entry) => rootNamespaceOf(entry.mesh) === entry.namespace);
  return chosen?.mesh ?? '';
}

function rootNamespaceOf(mesh: string): string {
  const parsed: unknown = parseYaml(mesh);
  return isPlainObject(parsed) && typeof parsed.rootNamespace === 'string' ? parsed.rootNamespace : DEFAULT_ROOT_NAMESPACE;
}

function identity(object: Body): { namespace: string; name: string; labels: Record<string, string>; annotations: Record<string, string> } {
  return {
    namespace: namespaceOf(object),
    name: nameOf(object),
    labels: labelsOf(object),
    annotations: stringMap(objectAt(object, 'metadata').annotations),
  };
}

function objectAt(object: Body, key: string): Body {
  const value = object[key];
  return isPlainObject(value) ? value : {};
}

// validate.ts has checked that metadata's name and namespace are strings.
function nameOf(object: Body): string {
  const name = objectAt(object, 'metadata').name;
  return typeof name === 'string' ? name : '';
}

function namespaceOf(object: Body): string {
  const namespace = objectAt(object, 'metadata').namespace;
  return typeof namespace === 'string' ? namespace : '';
}

function sameName(object: Body, name: unknown, namespace: string): boolean {
  return nameOf(object) === name && namespaceOf(object) === namespace;
}

function labelsOf(object: Body): Record<string, string> {
  return stringMap(objectAt(object, 'metadata').labels);
}

function stringMap(value: unknown): Record<string, string> {
  return isPlainObject(value)
    ? (Object.fromEntries(Object.entries(value).filter(([, member]) => typeof member === 'string')) as Record<string, string>)
    : {};
}

function ownerReferences(object: Body): Body[] {
  const owners = objectAt(object, 'metadata').ownerReferences;
  return Array.isArray(owners) ? owners.filter(isPlainObject) : [];
}

function byNamespaceNameKind(
  a: { namespace: string; name: string; kind: string },
  b: { namespace: string; name: string; kind: string },
): number {
  return compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name) || compareStrings(a.kind, b.kind);
}

function byKindNamespaceName(a: Body, b: Body): number {
  return (
    compareStrings(String(a.kind), String(b.kind)) ||
    compareStrings(namespaceOf(a), namespaceOf(b)) ||
    compareStrings(nameOf(a), nameOf(b)) ||
    compareStrings(String(a.apiVersion), String(b.apiVersion))
  );
}

/** Code-unit order, not locale order: the same on every machine. */
