import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Diagnostic } from '../graphql/diagnostic.type.js';
import { GraphQLJSON } from '../graphql/json.scalar.js';
import { WorkloadRef } from '../snapshots/graphql/workload.type.js';
import { ConnectionChange } from '../connectivity/connectivity.types.js';
import type { SnapshotDiffResult } from './model.js';

export enum ChangeKind {
  ADDED = 'ADDED',
  REMOVED = 'REMOVED',
  CHANGED = 'CHANGED',
}
registerEnumType(ChangeKind, { name: 'ChangeKind' });

export enum RoutingChangeKind {
  ROUTE = 'ROUTE',
  POLICY = 'POLICY',
  CLUSTER = 'CLUSTER',
  ENDPOINTS = 'ENDPOINTS',
  LISTENER = 'LISTENER',
}
registerEnumType(RoutingChangeKind, { name: 'RoutingChangeKind' });

@ObjectType({ description: 'One field that differs: its path (e.g. spec.http[0].route[1].weight), before and after' })
export class FieldChange {
  @Field() path: string;
  @Field(() => ChangeKind) change: ChangeKind;
  @Field(() => GraphQLJSON, { nullable: true }) before?: unknown;
  @Field(() => GraphQLJSON, { nullable: true }) after?: unknown;
}

@ObjectType()
export class ResourceChange {
  @Field(() => ChangeKind) change: ChangeKind;
  @Field() apiVersion: string;
  @Field() kind: string;
  @Field(() => String, { nullable: true }) namespace: string | null;
  @Field() name: string;
  @Field(() => [FieldChange], {
    description: 'CHANGED only; noise (status, resourceVersion, uid, generation, managedFields, creationTimestamp, last-applied) left out',
  })
  fields: FieldChange[];
  @Field({ description: 'more field changes than listed' }) truncated: boolean;
}

@ObjectType()
export class ResourceRef {
  @Field() kind: string;
  @Field(() => String, { nullable: true }) namespace: string | null;
  @Field() name: string;
}

@ObjectType()
export class EnvoyObjectChange {
  @Field({ description: 'listeners, routes, clusters or endpoints' }) type: string;
  @Field({ description: 'the object name (endpoints: the cluster name)' }) name: string;
  @Field(() => ChangeKind) change: ChangeKind;
  @Field(() => [FieldChange]) fields: FieldChange[];
  @Field() truncated: boolean;
}

@ObjectType({ description: 'A change to traffic in plain words, derived from the Envoy objects' })
export class RoutingChange {
  @Field(() => RoutingChangeKind) kind: RoutingChangeKind;
  @Field({ description: 'host:port of the virtual host or cluster, or the listener address' }) destination: string;
  @Field() sentence: string;
  @Field(() => String, { nullable: true }) routeConfig?: string;
  @Field(() => String, { nullable: true }) virtualHost?: string;
  @Field(() => String, { nullable: true }) route?: string;
  @Field(() => String, { nullable: true }) cluster?: string;
  @Field(() => String, { nullable: true }) listener?: string;
  @Field(() => String, { nullable: true }) before?: string;
  @Field(() => String, { nullable: true }) after?: string;
}

@ObjectType({
  description:
    "A change to the Envoy config of one or more proxy classes (each class's workloads share one config): classes whose change is the very same come as one entry, with all their workloads",
})
export class ProxyConfigChange {
  @Field({ description: 'the class of the first workload (head snapshot; base when removed)' }) classKey: string;
  @Field(() => [String], { description: 'every class with this very change, sorted' }) classKeys: string[];
  @Field() proxyType: string;
  @Field(() => [WorkloadRef]) workloads: WorkloadRef[];
  @Field(() => ChangeKind, { description: 'ADDED: the workloads have a proxy only in head; REMOVED: only in base' }) change: ChangeKind;
  @Field(() => [EnvoyObjectChange], { description: 'listeners/routes/clusters/endpoints added, removed, changed' })
  objects: EnvoyObjectChange[];
  @Field(() => [RoutingChange]) routing: RoutingChange[];
}

@ObjectType()
export class DiagnosticsDiff {
  @Field(() => [Diagnostic], { description: 'errors first' }) introduced: Diagnostic[];
  @Field(() => [Diagnostic]) resolved: Diagnostic[];
}

@ObjectType()
export class DiffSummary {
  @Field(() => Int) resourcesAdded: number;
  @Field(() => Int) resourcesRemoved: number;
  @Field(() => Int) resourcesChanged: number;
  @Field(() => Int) resourcesNoiseOnly: number;
  @Field(() => Int) proxyClassesChanged: number;
  @Field(() => Int) workloadsAffected: number;
  @Field(() => Int) routingChanges: number;
  @Field(() => Int) diagnosticsIntroduced: number;
  @Field(() => Int) diagnosticsResolved: number;
  @Field(() => Int) errorsIntroduced: number;
  @Field(() => Int, { description: 'connections (sending workload, service port) whose verdict or transport changed' })
  connectionsChanged: number;
  @Field(() => Int, { description: 'of them, closed' }) connectionsClosed: number;
  @Field(() => Int, { description: 'of them, losing mTLS' }) mtlsLost: number;
  @Field({ description: "false: only resources changed, no proxy's config, no diagnostic and no connection" }) effectiveChange: boolean;
}

@ObjectType()
export class SnapshotDiff {
  @Field(() => ID) baseId: string;
  @Field(() => ID) headId: string;
  @Field(() => DiffSummary) summary: DiffSummary;
  @Field(() => [ResourceChange], { description: 'added / removed / changed, with a field-level change list' }) resources: ResourceChange[];
  @Field(() => [ResourceRef], { description: 'resources whose only differences were noise' }) noiseOnly: ResourceRef[];
  @Field(() => [ProxyConfigChange], {
    description:
      'per proxy class (its workloads; classes with the very same change as one entry): listeners/routes/clusters added, removed, changed',
  })
  proxies: ProxyConfigChange[];
  @Field(() => [RoutingChange], { description: 'every routing change of every class, flattened, each distinct one once' })
  routing: RoutingChange[];
  @Field(() => DiagnosticsDiff) diagnostics: DiagnosticsDiff;
  @Field(() => [ConnectionChange], {
    description: 'who can talk to whom: connections opened, closed, narrowed, widened, mTLS lost or gained (closed and lost first)',
  })
  connectivity: ConnectionChange[];
  @Field({ description: 'the PR comment' }) markdown: string;

  static from(baseId: string, headId: string, d: SnapshotDiffResult): SnapshotDiff {
    return Object.assign(new SnapshotDiff(), {
      baseId,
      headId,
      summary: d.summary,
      resources: d.resources,
      noiseOnly: d.noiseOnly,
      proxies: d.proxies,
      routing: d.routing,
      diagnostics: {
        introduced: d.diagnostics.introduced.map((m) => Diagnostic.from(m)),
        resolved: d.diagnostics.resolved.map((m) => Diagnostic.from(m)),
      },
      connectivity: d.connectivity,
      markdown: d.markdown,
    });
  }
}
