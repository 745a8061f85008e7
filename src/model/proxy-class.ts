// Proxy classes: the workloads (pods with a proxy) istiod gives the same config. The compute job
// groups workloads into them and stores each class's config once; the diff compares class with
// class. One shape for both.
import type { EnvoyType, ProxyInfo, ProxyType } from './proxy.js';

/** A workload by name. */
export interface WorkloadRef {
  namespace: string;
  name: string;
}

/** A workload of a class, with the proxy istiod sees for it (what the compute job groups by). */
export interface ClassMember extends WorkloadRef {
  proxy: ProxyInfo;
}

/** Workloads istiod gives the same config. */
export interface ProxyClass<W extends WorkloadRef = WorkloadRef> {
  /** Identifies the class within its snapshot (stable across snapshots when nothing about the proxies changed). */
  classKey: string;
  /** SIDECAR or ROUTER. */
  proxyType: Exclude<ProxyType, 'NONE'>;
  /** Sorted by namespace, name; the first is the one the generator is asked about. */
  workloads: W[];
}

/** Each Envoy object of a config by type and name (endpoints by cluster name), as a content hash. */
export type ConfigIndex = Record<EnvoyType, Record<string, string>>;

/** A class with its config, as stored and compared. */
export interface IndexedProxyClass<W extends WorkloadRef = WorkloadRef> extends ProxyClass<W> {
  /** Hash over every object hash: equal ⇒ the same config (the class costs nothing to compare). */
  configHash: string;
  objects: ConfigIndex;
}
