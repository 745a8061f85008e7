import type { ConfigRef } from '../model/config-ref.js';
import type { Metadata } from './xds.js';

/**
 * The Istio resource istiod recorded as the origin of an Envoy object, read from its
 * `metadata.filterMetadata.istio.config`, e.g.
 * `/apis/networking.istio.io/v1/namespaces/shop/virtual-service/reviews`.
 */
export function istioConfigRef(metadata: Metadata | undefined): ConfigRef | null {
  const path = metadata?.filterMetadata?.istio?.config;
  if (typeof path !== 'string') return null;
  const m = /^\/apis\/[^/]+\/[^/]+\/namespaces\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (!m) return null;
  return { kind: kindOfResourcePath(m[2]), namespace: m[1], name: m[3] };
}

/** `virtual-service` -> `VirtualService`, as istiod writes kinds into the path. */
function kindOfResourcePath(segment: string): string {
  return segment
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

export function formatRef(ref: ConfigRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}
