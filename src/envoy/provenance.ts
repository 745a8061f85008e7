import { createHash } from 'node:crypto';
import { canonicalJson } from '../model/canonical.js';
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

/** The Gateway API route (HTTPRoute, GRPCRoute, ...) behind an Envoy route, and which of its rules. */
export interface RouteSource {
  ref: ConfigRef;
  /** The rule's position in the route; null for a named rule (its name is the Envoy route's). */
  rule: number | null;
}

/** The VirtualServices istiod derives from Gateway API routes, each with the routes it merges. */
export interface DerivedVirtualService {
  namespace: string;
  name: string;
  routes: ConfigRef[];
}

/**
 * Names the Gateway API route behind an Envoy route. istiod writes the VirtualService it derived
 * into the route's metadata, and names each route after the rule's position in its source route
 * (`<namespace>.<name>.<rule>`, or the rule's own name): the derived VirtualService lists the
 * routes merged into it.
 */
export class RouteSources {
  private readonly byVirtualService = new Map<string, ConfigRef[]>();
  /** Equal for equal contents ('' when empty): what memoised descriptions depend on. */
  readonly key: string;

  constructor(virtualServices: readonly DerivedVirtualService[]) {
    for (const vs of virtualServices) this.byVirtualService.set(`${vs.namespace}/${vs.name}`, vs.routes);
    this.key = virtualServices.length ? createHash('sha256').update(canonicalJson(virtualServices)).digest('hex') : '';
  }

  of(route: { name?: string; metadata?: Metadata }): RouteSource | null {
    const origin = istioConfigRef(route.metadata);
    if (origin?.kind !== 'VirtualService') return null;
    const routes = this.byVirtualService.get(`${origin.namespace}/${origin.name}`);
    if (!routes) return null;
    for (const ref of routes) {
      const prefix = `${ref.namespace}.${ref.name}.`;
      const rest = route.name?.startsWith(prefix) ? route.name.slice(prefix.length) : '';
      if (/^\d+$/.test(rest)) return { ref, rule: Number(rest) };
    }
    return routes.length === 1 ? { ref: routes[0], rule: null } : null;
  }
}

/** "HTTPRoute shop/web rule 0", or "HTTPRoute shop/web rule "login"" for a named rule. */
export function formatRouteSource(source: RouteSource, routeName: string | undefined): string {
  const rule = source.rule !== null ? `rule ${source.rule}` : `rule "${routeName ?? ''}"`;
  return `${formatRef(source.ref)} ${rule}`;
}
