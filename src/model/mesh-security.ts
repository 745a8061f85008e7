// What a computed snapshot keeps of istiod's security settings (from the generator's `mesh` and
// `peerAuthentication` requests, asked once by the compute job), so that questions on a READY
// snapshot (journey) read them instead of loading a generator session.
import type { ObjectRef } from './gateway-api.js';

/** The mTLS mode istiod resolves for a workload (generator/internal/protocol PeerAuthn, without the lists). */
export interface PeerAuthnResolution {
  /** STRICT, PERMISSIVE or DISABLE: the workload's mode (PERMISSIVE without any policy). */
  mode: string;
  /** The policy whose mode is `mode`; null for Istio's default. */
  peerAuthentication: ObjectRef | null;
  /** Port-level settings of the workload's policy, by port number. */
  ports: Record<string, { mode: string; peerAuthentication: ObjectRef | null }>;
}

/** A snapshot's mesh identity and its proxies' PeerAuthentication resolutions, as stored with it. */
export interface MeshSecurity {
  /** The mesh config's trust domain and aliases (Istio's defaults applied). */
  trustDomain: string;
  trustDomainAliases: string[];
  /** The distinct resolutions, referred to by index: most workloads of a mesh share a few. */
  peerAuthentications: PeerAuthnResolution[];
  /**
   * By stored proxy class key (a workload's `proxyClass`): an index into `peerAuthentications`, or
   * null when istiod builds no sidecar for the class. A class absent was not resolved (its
   * generation failed): ask the generator.
   */
  classes: Record<string, number | null>;
}
