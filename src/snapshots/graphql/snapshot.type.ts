import { Field, Float, GraphQLISODateTime, ID, Int, ObjectType } from '@nestjs/graphql';
import type { SnapshotMetadata } from '../../database/snapshot.store.js';
import { SnapshotStatus } from '../../graphql/enums.js';

/**
 * The GraphQL `Snapshot`. Fields computed from other tables (`resources`, `workloads`, and those
 * the generator adds) or large (`diagnostics`) are `@ResolveField`s of resolvers for this type.
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

  static from(entity: SnapshotMetadata): Snapshot {
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
    });
  }
}
