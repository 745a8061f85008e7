// The result of comparing two snapshots: plain data, the same for GraphQL, REST JSON and the CLI.
import type { AnalyzerMessage } from '../model/diagnostics.js';
import type { ConfigKey, EnvoyObject } from '../model/proxy.js';
import type { ChangeKind, FieldChange } from './json-diff.js';
import type { ConnectionChange } from './connectivity.js';

export type { ChangeKind, FieldChange } from './json-diff.js';
import type { WorkloadRef as NamedWorkload } from '../model/proxy-class.js';

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

/** A workload of the diff: by name, with its kind (Pod, or the controller standing for its absent pods). */
export interface WorkloadRef extends NamedWorkload {
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
  /** Connections (sending workload, service port) whose verdict or transport changed; of them closed, and mTLS lost. */
  connectionsChanged: number;
  connectionsClosed: number;
  mtlsLost: number;
  /** Any change to a proxy's config, to the diagnostics or to connectivity. */
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
  /** Who can talk to whom: connections opened, closed, narrowed, widened, mTLS lost or gained. */
  connectivity: ConnectionChange[];
  markdown: string;
}

export interface SideInfo {
  id: string | null;
  name: string | null;
}

/** Envoy objects by content hash. */
export type ObjectLookup = (hash: string) => EnvoyObject | undefined;
