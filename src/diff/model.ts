// The result of comparing two snapshots: plain data, the same for GraphQL, REST JSON and the CLI.
import type { AnalyzerMessage } from '../model/diagnostics.js';
import type { ConfigKey, EnvoyObject } from '../model/proxy.js';
import type { ChangeKind, FieldChange } from './json-diff.js';

export type { ChangeKind, FieldChange } from './json-diff.js';

export interface ResourceChange {
  change: ChangeKind;
  apiVersion: string;
  kind: string;
  namespace: string | null;
  name: string;
  /** Field-level changes (CHANGED only; noise left out). */
  fields: FieldChange[];
  /** More field changes than listed. */
  truncated: boolean;
}

export interface ResourcesDiff {
  changes: ResourceChange[];
  /** Resources whose only differences were noise (status, resourceVersion, last-applied, ...). */
  noiseOnly: { kind: string; namespace: string | null; name: string }[];
}

export interface WorkloadRef {
  namespace: string;
  name: string;
  /** Pod, or the controller standing for its absent pods (Deployment, ...). */
  kind: string;
}

export interface EnvoyObjectChange {
  /** listeners, routes, clusters or endpoints (the generated config's field). */
  type: ConfigKey;
  name: string;
  change: ChangeKind;
  fields: FieldChange[];
  truncated: boolean;
}

export type RoutingKind = 'ROUTE' | 'POLICY' | 'CLUSTER' | 'ENDPOINTS' | 'LISTENER';

/** One change in plain words, derived from the Envoy objects. */
export interface RoutingChange {
  kind: RoutingKind;
  /** host:port (a virtual host or cluster's service), or a listener's address:port. */
  destination: string;
  sentence: string;
  /** The Envoy objects it is about. */
  routeConfig?: string;
  virtualHost?: string;
  route?: string;
  cluster?: string;
  listener?: string;
  /** Where traffic went and goes, as short text (ROUTE changes). */
  before?: string;
  after?: string;
}

/**
 * A change to the Envoy config of one or more proxy classes (each class's workloads share one
 * config): classes whose change is the very same come as one, with all their workloads.
 */
export interface ProxyConfigChange {
  /** The class of the first workload, in the head snapshot (base when removed). */
  classKey: string;
  /** Every class with this change (head, base when removed), sorted. */
  classKeys: string[];
  proxyType: string;
  workloads: WorkloadRef[];
  /** ADDED: the workloads have a proxy only in head; REMOVED: only in base. */
  change: ChangeKind;
  objects: EnvoyObjectChange[];
  routing: RoutingChange[];
}

export interface DiagnosticsDiff {
  introduced: AnalyzerMessage[];
  resolved: AnalyzerMessage[];
}

export interface DiffSummary {
  resourcesAdded: number;
  resourcesRemoved: number;
  resourcesChanged: number;
  resourcesNoiseOnly: number;
  proxyClassesChanged: number;
  workloadsAffected: number;
  routingChanges: number;
  diagnosticsIntroduced: number;
  diagnosticsResolved: number;
  errorsIntroduced: number;
  /** Any change to a proxy's config or to the diagnostics. */
  effectiveChange: boolean;
}

export interface SnapshotDiffResult {
  base: SideInfo;
  head: SideInfo;
  summary: DiffSummary;
  resources: ResourceChange[];
  noiseOnly: ResourcesDiff['noiseOnly'];
  proxies: ProxyConfigChange[];
  /** The routing changes of every class, each distinct one once, in the order of `proxies`. */
  routing: RoutingChange[];
  diagnostics: DiagnosticsDiff;
  markdown: string;
}

export interface SideInfo {
  id: string | null;
  name: string | null;
}

/** Envoy objects by content hash. */
export type ObjectLookup = (hash: string) => EnvoyObject | undefined;
