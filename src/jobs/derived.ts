// What the compute job derives besides the proxies' config, from each class's config as it is
// generated (the config is not kept): connectivity (src/connectivity) plugs in here, named by the
// app (app.module.ts), so that the worker depends on no feature folder. It runs on the job's thread
// (classes.worker.ts), which parses each config once: the API's event loop never reads one.
import type { Connectivity } from '../model/connectivity.js';
import type { ConfigRef } from '../model/config-ref.js';
import type { GeneratedConfig } from '../model/proxy.js';
import type { ProxyClass } from '../model/proxy-class.js';
import type { KubeProxyInput, Workload } from '../model/snapshot.js';

/** What connectivity reads of a class's config. */
export type ConnectivityConfig = Pick<GeneratedConfig, 'listeners' | 'clusters' | 'endpoints'>;

export interface ConnectivityStats {
  senderClasses: number;
  evaluations: number;
}

export interface ConnectivityComputation {
  /** A generated class: its members and config, read now and not kept. */
  addClass(key: string, members: { namespace: string; name: string }[], config: ConnectivityConfig): void;
  build(): Connectivity;
  readonly stats: ConnectivityStats;
}

export interface ConnectivityInput {
  /** every workload, with the proxy type istiod gave it */
  workloads: Workload[];
  /**
   * the Services and EndpointSlices, all connectivity reads of the snapshot's objects (a workload
   * without a sidecar reaches through kube-proxy): the rest would be copied to the job's thread for nothing
   */
  kubeProxyInput: KubeProxyInput;
  /** the mesh config's trust domain: a sidecar's principal is spiffe://<trustDomain>/ns/<ns>/sa/<sa> */
  trustDomain: string;
  /** the proxy classes (before any split) */
  classes: ProxyClass[];
  /** the PeerAuthentication in force on each proxy class's workloads (istiod's, from the generator), by class key */
  peerAuthentications: Map<string, ConfigRef | null>;
}

/** The module the job's thread imports to compute connectivity. */
export interface ConnectivityModule {
  connectivityComputation(input: ConnectivityInput): ConnectivityComputation;
}

/** The URL of that module (src/connectivity/factory.ts), given by the app. */
export const CONNECTIVITY_MODULE = Symbol('CONNECTIVITY_MODULE');
