import { Field, ObjectType } from '@nestjs/graphql';

/** An Istio resource by kind, namespace and name, as GraphQL answers name one. */
@ObjectType()
export class ConfigRef {
  @Field()
  kind: string;
  @Field()
  namespace: string;
  @Field()
  name: string;
}
