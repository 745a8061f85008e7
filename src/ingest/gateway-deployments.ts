// A snapshot as a cluster running istiod holds it: with the Deployments and Services istiod's
// gateway deployment controller creates for Gateway API Gateways (generator method
// `gatewayDeployments`: Istio's own controller and templates). They are workloads like any other.
import type { GatewayDeployer } from '../generator/protocol.js';
import type { NormalisedSnapshot, SnapshotResource } from '../model/snapshot.js';
import { groupKind, GATEWAY_API_GROUP, isEvaluated } from './kinds.js';
import { normaliseSnapshot } from './normalise.js';

/** What the deployment controller reads besides the Gateway API objects: it leaves existing objects to their owners. */
const READ_BY_CONTROLLER = new Set([
  '/Namespace',
  '/Service',
  '/ServiceAccount',
  '/ConfigMap',
  'apps/Deployment',
  'autoscaling/HorizontalPodAutoscaler',
  'policy/PodDisruptionBudget',
]);

function hasGatewayApiGateways(resources: readonly SnapshotResource[]): boolean {
  return resources.some((r) => r.evaluated && groupKind(r.apiVersion, r.kind) === `${GATEWAY_API_GROUP}/Gateway`);
}

/** Normalises the snapshot, with what istiod deploys for its Gateways asked of `deploy`. */
export async function normaliseWithIstiod(resources: SnapshotResource[], deploy: GatewayDeployer): Promise<NormalisedSnapshot> {
  const plain = normaliseSnapshot(resources);
  if (!hasGatewayApiGateways(resources)) return plain;
  const kubernetes = plain.generatorInput.kubernetes.filter((o) => {
    const key = groupKind(String(o.apiVersion), String(o.kind));
    return key.startsWith(`${GATEWAY_API_GROUP}/`) || READ_BY_CONTROLLER.has(key);
  });
  const deployed = await deploy({ kubernetes, meshConfig: plain.generatorInput.meshConfig });
  return normaliseSnapshot([...resources, ...deployed.map((d, i) => deployedResource(d.object, resources.length + i))]);
}

function deployedResource(body: Record<string, unknown>, document: number): SnapshotResource {
  const apiVersion = String(body.apiVersion);
  const kind = String(body.kind);
  const metadata = (body.metadata ?? {}) as { namespace?: string; name?: string };
  return {
    apiVersion,
    kind,
    namespace: metadata.namespace ?? null,
    name: metadata.name ?? '',
    evaluated: isEvaluated(apiVersion, kind),
    body,
    document,
  };
}
