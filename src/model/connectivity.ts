// Who can talk to whom, as stored and served: one destination's outcome for the sender classes
// that share it, and the sending workloads of each class (src/connectivity computes them).
import type { ConfigRef } from './config-ref.js';

export type ConnectivityVerdict = 'ALLOWED' | 'DENIED' | 'CONDITIONAL';
/** As the requests arrive at the destination's workloads; MIXED when they differ. */
export type ConnectionTls = 'PLAINTEXT' | 'TLS' | 'MTLS' | 'MIXED';

/** One sender class's connection to one service port. */
export interface ConnectionOutcome {
  /** host:port */
  destination: string;
  /** the destination service's namespace and name */
  namespace: string;
  service: string;
  verdict: ConnectivityVerdict;
  /** CONDITIONAL: what the allowed requests must be, in words, one alternative each. */
  conditions: string[];
  tls: ConnectionTls;
  /** the AuthorizationPolicies that decide */
  policies: ConfigRef[];
  /** why, in words (the transport refusal, or the deciding policies) */
  reason: string;
  /** the resources behind the verdict and transport: AuthorizationPolicies, PeerAuthentications, DestinationRules */
  causes: ConfigRef[];
}

/** A stored group: one outcome of one destination, and the sender classes that have it. */
export interface ConnectionGroup extends ConnectionOutcome {
  senders: string[];
}

/** A sending workload and its connectivity class. */
export interface SenderEntry {
  namespace: string;
  name: string;
  kind: string;
  senderClass: string;
}

/** A snapshot's connectivity. */
export interface Connectivity {
  groups: ConnectionGroup[];
  senders: SenderEntry[];
}
