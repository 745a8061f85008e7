import type { EnvoyObject, EnvoyType } from '../model/proxy.js';

/** An Envoy object's name: a ClusterLoadAssignment (endpoint) is named by its cluster. */
export function objectName(type: EnvoyType, object: EnvoyObject): string {
  const name = type === 'endpoint' ? object.clusterName : object.name;
  return typeof name === 'string' ? name : '';
}
