import { Field, Float, GraphQLISODateTime, ID, Int, ObjectType } from '@nestjs/graphql';
import type { SnapshotEntity } from '../../database/entities/index.js';
import { Diagnostic } from '../../graphql/diagnostic.type.js';
import type { AnalyzerMessage } from '../../model/diagnostics.js';
import { SnapshotStatus } from '../../graphql/enums.js';

/**
 * The GraphQL `Snapshot`. Fields computed from other tables (`resources`, `workloads`, and those
 * the generator adds) are `@ResolveField`s of resolvers for this type.
 */
@ObjectType('Snapshot')
export class Snapshot {
  @Field(() => ID) id: string;
  @Field(() => String, { nullable: true }) name: string | null;
  @Field(() => String, { description: 'the mesh it belongs to (`default` when uploaded without one)' }) mesh: string;
  @Field(() => String, { nullable: true, description: 'the id of the access token that uploaded it (null: access control was off)' })
  createdBy: string | null;
  @Field(() => GraphQLISODateTime) createdAt: Date;
  @Field(() => SnapshotStatus) status: SnapshotStatus;
  @Field(() => Float, { nullable: true, description: '0..1 while the worker computes' }) progress: number | null;
  @Field(() => String, { nullable: true }) error: string | null;
  @Field(() => Int) resourceCount: number;
  @Field(() => String, { nullable: true, description: 'the Istio release the generator computed this snapshot with (null until computed)' })
  istioVersion: string | null;
  @Field(() => [Diagnostic], { description: "like `istioctl analyze`: Istio's analyzers over the snapshot (empty until computed)" })
  diagnostics: Diagnostic[];

  static from(entity: SnapshotEntity): Snapshot {
    return Object.assign(new Snapshot(), {
      id: entity.id,
      name: entity.name,
      mesh: entity.mesh,
      createdBy: entity.createdBy,
      createdAt: entity.createdAt,
      status: entity.status,
      progress: entity.progress,
      error: entity.error,
      resourceCount: entity.resourceCount,
      istioVersion: entity.istioVersion,
      diagnostics: (entity.diagnostics as AnalyzerMessage[]).map((m) => Diagnostic.from(m)),
    });
  }
}
