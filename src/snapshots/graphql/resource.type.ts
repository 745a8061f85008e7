import { Field, Int, ObjectType } from '@nestjs/graphql';
import type { StoredResource } from '../../database/snapshot.store.js';
import { GraphQLJSON } from '../../graphql/json.scalar.js';

@ObjectType('Resource')
export class Resource {
  @Field() apiVersion: string;
  @Field() kind: string;
  @Field(() => String, { nullable: true }) namespace: string | null;
  @Field() name: string;
  @Field(() => GraphQLJSON, { nullable: true, description: "the object's `spec`, when it has one" }) spec: unknown;
  @Field(() => GraphQLJSON, { description: 'the whole object as stored (Secrets without their data)' }) body: unknown;
  @Field({ description: 'false: stored and listed, not evaluated by meshlens' }) evaluated: boolean;
  @Field(() => Int, { description: '0-based index of the upload document it came from' }) document: number;

  static from(stored: StoredResource): Resource {
    return Object.assign(new Resource(), {
      apiVersion: stored.apiVersion,
      kind: stored.kind,
      namespace: stored.namespace,
      name: stored.name,
      spec: stored.body.spec ?? null,
      body: stored.body,
      evaluated: stored.evaluated,
      document: stored.document,
    });
  }
}
