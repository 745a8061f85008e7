// What istiod derives from a snapshot's Gateway API objects (generator/internal/session/gatewayapi.go).

/** A status condition istiod writes on a Gateway API object. */
export interface GatewayApiCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  /** The route's parent the condition is about ("Gateway shop/edge"); absent for the object itself. */
  parent?: string;
  /** The Gateway listener (or the parent's section) the condition is about. */
  listener?: string;
}

/** The status istiod would write on one Gateway API object. */
export interface GatewayApiStatus {
  kind: string;
  namespace: string;
  name: string;
  conditions: GatewayApiCondition[];
  /** The whole status object, as the API server would hold it. */
  status: unknown;
}

/** A Kubernetes object by kind, namespace and name. */
export interface ObjectRef {
  kind: string;
  namespace: string;
  name: string;
}

export interface GatewayApi {
  status: GatewayApiStatus[];
  /** The VirtualServices istiod generates from Gateway API routes, each with the routes it comes from. */
  virtualServices: { namespace: string; name: string; routes: ObjectRef[] }[];
}

export const NO_GATEWAY_API: GatewayApi = { status: [], virtualServices: [] };
