// What the Gateway API e2e tests ask of meshlens: a route resolution on a deployed gateway, and
// the status conditions istiod writes.

/** resolveRoute, with what the Gateway API cases look at. */
export const RESOLVE = `query ($id: ID!, $proxy: ProxyInput!, $call: CallInput!) {
  resolveRoute(snapshotId: $id, proxy: $proxy, call: $call) {
    virtualHost route cluster weightedClusters { cluster weight } virtualService { kind namespace name } routeSource { kind namespace name } error trace { stage detail }
  }
}`;

export interface Resolution {
  virtualHost: string | null;
  route: string | null;
  cluster: string | null;
  weightedClusters: { cluster: string; weight: number }[] | null;
  virtualService: { kind: string; namespace: string; name: string } | null;
  routeSource: { kind: string; namespace: string; name: string } | null;
  error: string | null;
  trace: { stage: string; detail: string }[];
}

/** A condition of `Snapshot.gatewayStatus`. */
export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  parent: string | null;
}

/** `Snapshot.gatewayStatus`, each object's conditions and whole status. */
export const GATEWAY_STATUS = 'gatewayStatus { kind namespace name conditions { type status reason message parent } status }';
