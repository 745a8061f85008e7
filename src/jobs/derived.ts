// What the compute job derives besides the proxies' config, from each class's config as it is
// generated (the config is not kept): connectivity (src/connectivity) plugs in here, given by the
// app (app.module.ts), so that the worker depends on no feature folder.
import type { Connectivity } from '../model/connectivity.js';
import type { ConfigRef } from '../model/config-ref.js';
import type { GeneratedConfig } from '../model/proxy.js';
import type { ProxyClass } from '../model/proxy-class.js';
import type { GeneratorInput, Workload } from '../model/snapshot.js';

export interface ConnectivityComputation {
  /** A generated class: its members and config, read now and not kept. */
  addClass(key: string, members: { namespace: string; name: string }[], config: GeneratedConfig): void;
  build(): Connectivity;
  readonly stats: { senderClasses: number; evaluations: number };
}

export interface ConnectivityInput {
  /** every workload, with the proxy type istiod gave it */
  workloads: Workload[];
  generatorInput: GeneratorInput;
  /** the proxy classes (before any split) */
  classes: ProxyClass[];
  /** the PeerAuthentication in force on each proxy class's workloads (istiod's, from the generator), by class key */
  peerAuthentications: Map<string, ConfigRef | null>;
}

export type ConnectivityFactory = (input: ConnectivityInput) => ConnectivityComputation;

export const CONNECTIVITY_FACTORY = Symbol('CONNECTIVITY_FACTORY');
