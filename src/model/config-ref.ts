/** An Istio resource by kind, namespace and name. */
export interface ConfigRef {
  kind: string;
  namespace: string;
  name: string;
}
