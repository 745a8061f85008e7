import { Field, Int, ObjectType } from '@nestjs/graphql';
import { Snapshot } from './snapshot.type.js';

@ObjectType('PageInfo')
export class PageInfo {
  @Field() hasNextPage: boolean;
  @Field(() => String, { nullable: true }) endCursor: string | null;
}

@ObjectType('SnapshotEdge')
export class SnapshotEdge {
  @Field(() => Snapshot) node: Snapshot;
  @Field() cursor: string;
}

/** Snapshots newest first, as a Relay-style connection. */
@ObjectType('SnapshotConnection')
export class SnapshotConnection {
  @Field(() => [SnapshotEdge]) edges: SnapshotEdge[];
  @Field(() => PageInfo) pageInfo: PageInfo;
  @Field(() => Int) totalCount: number;
}
