import { Field, ObjectType } from '@nestjs/graphql';
import type { StoredWorkload } from '../../database/snapshot-lists.js';
import { GraphQLJSON } from '../../graphql/json.scalar.js';
import { ProxyType } from '../../graphql/enums.js';

/** A workload of a snapshot. `snapshotId` is not a field: resolvers of further fields use it. */
@ObjectType('Workload')
export class Workload {
  snapshotId: string;

  @Field() namespace: string;
  @Field() name: string;
  @Field({ description: 'Pod, or the controller (Deployment, ...) standing for its absent pods' }) kind: string;
  @Field(() => ProxyType) proxyType: ProxyType;
  @Field(() => GraphQLJSON) labels: Record<string, string>;
  @Field(() => GraphQLJSON) annotations: Record<string, string>;
  @Field(() => [String]) ips: string[];
  @Field() serviceAccount: string;
  @Field(() => [String], { description: 'hostnames of the Services selecting the workload' }) services: string[];

  static from(snapshotId: string, entity: StoredWorkload): Workload {
    return Object.assign(new Workload(), {
      snapshotId,
      namespace: entity.namespace,
      name: entity.name,
      kind: entity.kind,
      proxyType: entity.proxyType,
      labels: entity.labels,
      annotations: entity.annotations,
      ips: entity.ips,
      serviceAccount: entity.serviceAccount,
      services: entity.services,
    });
  }
}

/** A workload by name and kind. */
@ObjectType('WorkloadRef')
export class WorkloadRef {
  @Field() namespace: string;
  @Field() name: string;
  @Field({ description: 'Pod, or the controller (Deployment, ...) standing for its absent pods' }) kind: string;
}
