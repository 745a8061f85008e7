import { Field, ObjectType } from '@nestjs/graphql';
import { GraphQLJSON } from '../../graphql/json.scalar.js';
import type { GatewayApiCondition, GatewayApiStatus as StatusRow } from '../../model/gateway-api.js';

@ObjectType('GatewayApiCondition')
export class GatewayApiConditionType {
  @Field({ description: 'Accepted, ResolvedRefs, Programmed, ...' }) type: string;
  @Field({ description: 'True, False or Unknown' }) status: string;
  @Field() reason: string;
  @Field() message: string;
  @Field(() => String, {
    nullable: true,
    description: 'for a route, the parent the condition is about ("Gateway shop/edge", "Service shop/web")',
  })
  parent: string | null;
  @Field(() => String, { nullable: true, description: 'the Gateway listener (or the parent section) the condition is about' })
  listener: string | null;

  static from(c: GatewayApiCondition): GatewayApiConditionType {
    return Object.assign(new GatewayApiConditionType(), { ...c, parent: c.parent ?? null, listener: c.listener ?? null });
  }
}

/** The status istiod would write on a Gateway API object (GatewayClass, Gateway, HTTPRoute, ...). */
@ObjectType('GatewayApiStatus')
export class GatewayApiStatus {
  @Field() kind: string;
  @Field({ description: 'empty for a GatewayClass' }) namespace: string;
  @Field() name: string;
  @Field(() => [GatewayApiConditionType]) conditions: GatewayApiConditionType[];
  @Field(() => GraphQLJSON, { description: 'the whole status, as the API server would hold it' }) status: unknown;

  static from(s: StatusRow): GatewayApiStatus {
    return Object.assign(new GatewayApiStatus(), { ...s, conditions: s.conditions.map((c) => GatewayApiConditionType.from(c)) });
  }
}
