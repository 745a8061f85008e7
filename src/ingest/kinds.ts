// What meshlens knows about kinds: API group, scope, and whether it evaluates them.

/** The API group of an apiVersion: "" for the core group (`v1`). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.lastIndexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

/** `group/kind`, the identity of a kind across its versions (`/Service`, `apps/Deployment`). */
export function groupKind(apiVersion: string, kind: string): string {
  return `${groupOf(apiVersion)}/${kind}`;
}

/**
 * Cluster-scoped kinds: kubectl ignores a namespace on them and they get none. A snapshot has
 * no API discovery, so kinds outside this list are taken as namespaced, except `Cluster*`
 * kinds (ClusterIssuer, ClusterSecretStore, ...), which are cluster-scoped by convention.
 */
const CLUSTER_SCOPED = new Set([
  '/Namespace',
  '/Node',
  '/PersistentVolume',
  '/ComponentStatus',
  'rbac.authorization.k8s.io/ClusterRole',
  'rbac.authorization.k8s.io/ClusterRoleBinding',
  'apiextensions.k8s.io/CustomResourceDefinition',
  'apiregistration.k8s.io/APIService',
  'admissionregistration.k8s.io/MutatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicy',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding',
  'storage.k8s.io/StorageClass',
  'storage.k8s.io/CSIDriver',
  'storage.k8s.io/CSINode',
  'storage.k8s.io/VolumeAttachment',
  'scheduling.k8s.io/PriorityClass',
  'node.k8s.io/RuntimeClass',
  'networking.k8s.io/IngressClass',
  'networking.k8s.io/IPAddress',
  'networking.k8s.io/ServiceCIDR',
  'policy/PodSecurityPolicy',
  'certificates.k8s.io/CertificateSigningRequest',
  'flowcontrol.apiserver.k8s.io/FlowSchema',
  'flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration',
  'gateway.networking.k8s.io/GatewayClass',
]);

export function isClusterScoped(apiVersion: string, kind: string): boolean {
  return CLUSTER_SCOPED.has(groupKind(apiVersion, kind)) || /^Cluster[A-Z]/.test(kind);
}

/** Kubernetes Ingress: istiod's ingress controller turns the Ingresses of its class into Gateways and VirtualServices. */
export const INGRESS_KINDS = ['networking.k8s.io/Ingress', 'networking.k8s.io/IngressClass'];

/** The kinds the generator feeds to Istio (api-contract.md, "Inputs: a snapshot"; Ingress as istiod reads it). */
const EVALUATED = new Set([
  '/Namespace',
  '/Service',
  '/Endpoints',
  'discovery.k8s.io/EndpointSlice',
  '/Pod',
  'apps/Deployment',
  'apps/StatefulSet',
  'apps/DaemonSet',
  'apps/ReplicaSet',
  '/ConfigMap',
  // Stored without their values; istiod's gateway controller checks the certificates Gateway
  // listeners name (the generator gives them stand-in values, generator/internal/session/secrets.go).
  '/Secret',
  'networking.istio.io/VirtualService',
  'networking.istio.io/DestinationRule',
  'networking.istio.io/Gateway',
  'networking.istio.io/ServiceEntry',
  'networking.istio.io/WorkloadEntry',
  'networking.istio.io/WorkloadGroup',
  'networking.istio.io/Sidecar',
  'security.istio.io/PeerAuthentication',
  'security.istio.io/AuthorizationPolicy',
  'security.istio.io/RequestAuthentication',
  ...INGRESS_KINDS,
]);

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

export function isEvaluated(apiVersion: string, kind: string): boolean {
  return EVALUATED.has(groupKind(apiVersion, kind)) || groupOf(apiVersion) === GATEWAY_API_GROUP;
}

/** Workload controllers: they stand for their pods when the snapshot has none. */
export const CONTROLLER_KINDS = new Set(['apps/Deployment', 'apps/StatefulSet', 'apps/DaemonSet', 'apps/ReplicaSet']);
