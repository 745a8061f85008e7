import { Field, GraphQLISODateTime, ID, Int, ObjectType } from '@nestjs/graphql';
import type { MeshSnapshotRef, MeshSummary } from '../database/mesh.store.js';
import { SnapshotStatus } from '../graphql/enums.js';
import type { RetentionView } from './meshes.service.js';

@ObjectType('MeshSnapshot', { description: 'A snapshot as a mesh listing names it' })
export class MeshSnapshot {
  @Field(() => ID) id: string;
  @Field(() => GraphQLISODateTime) createdAt: Date;
  @Field(() => SnapshotStatus) status: SnapshotStatus;

  static from(ref: MeshSnapshotRef | null): MeshSnapshot | null {
    return ref ? Object.assign(new MeshSnapshot(), { id: ref.id, createdAt: ref.createdAt, status: ref.status }) : null;
  }
}

@ObjectType('MeshRetention', { description: "A mesh's retention: the rules in force and where they come from" })
export class MeshRetention {
  @Field() mesh: string;
  @Field(() => Int, { nullable: true, description: 'keep the newest N snapshots (null: no count rule)' }) keepLast: number | null;
  @Field(() => Int, { nullable: true, description: 'keep snapshots younger than this (null: no age rule)' }) maxAgeSeconds: number | null;
  @Field({ description: 'mesh (its own settings), defaults (MESHLENS_RETAIN_*) or scratch' }) source: string;
  @Field({ description: 'the newest READY snapshot is kept whatever the rules say (not in scratch meshes)' }) keepsLatestReady: boolean;

  static from(view: RetentionView): MeshRetention {
    return Object.assign(new MeshRetention(), view);
  }
}

@ObjectType('Mesh', { description: 'A named stream of snapshots (a cluster, an environment)' })
export class Mesh {
  @Field() name: string;
  @Field(() => MeshSnapshot, { nullable: true, description: 'the newest READY snapshot: what `NAME@latest` stands for' })
  latest: MeshSnapshot | null;
  @Field(() => MeshSnapshot, { nullable: true, description: 'the newest snapshot, whatever its status' }) newest: MeshSnapshot | null;
  @Field(() => Int) snapshotCount: number;

  static from(summary: MeshSummary): Mesh {
    return Object.assign(new Mesh(), {
      name: summary.name,
      latest: MeshSnapshot.from(summary.latest),
      newest: MeshSnapshot.from(summary.newest),
      snapshotCount: summary.snapshotCount,
    });
  }
}
