import { Field, Float, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { GraphQLJSON } from '../graphql/json.scalar.js';
import { ConfigRef } from '../graphql/config-ref.type.js';
import { TrafficDirection } from '../proxy-config/proxy-config.types.js';
import { RouteResolution, TlsMode, TraceStep } from '../routing/graphql/route-resolution.types.js';
import { ProxyType } from '../graphql/enums.js';
import { WorkloadRef } from '../snapshots/graphql/workload.type.js';

export enum JourneyOutcome {
  DELIVERED = 'DELIVERED',
  DENIED = 'DENIED',
  NO_ROUTE = 'NO_ROUTE',
  NO_HEALTHY_UPSTREAM = 'NO_HEALTHY_UPSTREAM',
  CONNECTION_FAILED = 'CONNECTION_FAILED',
  DIRECT_RESPONSE = 'DIRECT_RESPONSE',
  REDIRECTED = 'REDIRECTED',
  LEFT_MESH = 'LEFT_MESH',
  BLACKHOLED = 'BLACKHOLED',
}
export enum AuthorizationVerdict {
  ALLOW = 'ALLOW',
  DENY = 'DENY',
  NOT_DECIDED = 'NOT_DECIDED',
}
registerEnumType(JourneyOutcome, { name: 'JourneyOutcome' });
registerEnumType(AuthorizationVerdict, { name: 'AuthorizationVerdict' });

@InputType({ description: "What a RequestAuthentication would have validated for this request (a JWT's claims); absent: no token." })
export class RequestIdentity {
  @Field(() => String, { nullable: true, description: 'iss/sub, as Istio forms it' })
  requestPrincipal?: string | null;
  @Field(() => GraphQLJSON, { nullable: true, description: 'e.g. {"groups": ["admin"], "iss": "...", "sub": "..."}' })
  claims?: Record<string, unknown> | null;
}

@ObjectType()
export class TransportSecurity {
  @Field(() => TlsMode, { description: 'PLAINTEXT, TLS (originated by the proxy), MTLS (Istio mutual TLS)' })
  mode: TlsMode;
  @Field()
  reason: string;
  @Field(() => ConfigRef, { nullable: true, description: 'the PeerAuthentication in force on the receiving side, if any' })
  peerAuthentication: ConfigRef | null;
  @Field(() => ConfigRef, { nullable: true, description: 'the DestinationRule whose trafficPolicy.tls decided the sending side, if any' })
  destinationRule: ConfigRef | null;
}

@ObjectType()
export class AuthorizationDecision {
  @Field(() => AuthorizationVerdict, { description: 'NOT_DECIDED: a CUSTOM (external) provider decides at runtime' })
  verdict: AuthorizationVerdict;
  @Field(() => ConfigRef, {
    nullable: true,
    description: 'the deciding AuthorizationPolicy (null: no policy applies, or ALLOW policies exist and none matched)',
  })
  policy: ConfigRef | null;
  @Field(() => Int, { nullable: true, description: 'index of the deciding rule in that policy' })
  rule: number | null;
  @Field(() => String, { nullable: true, description: 'ALLOW, DENY, CUSTOM, AUDIT' })
  action: string | null;
  @Field()
  reason: string;
  @Field(() => [String], { nullable: true, description: 'what dry-run (istio.io/dry-run) policies would have decided' })
  dryRun: string[] | null;
}

@ObjectType()
export class Hop {
  @Field(() => WorkloadRef, { nullable: true, description: "the proxy's workload; null for a sender without a sidecar" })
  proxy: WorkloadRef | null;
  @Field(() => ProxyType)
  proxyType: ProxyType;
  @Field(() => TrafficDirection, {
    description: "OUTBOUND: the sending side (a sidecar's outbound, a gateway); INBOUND: the receiving sidecar",
  })
  direction: TrafficDirection;
  @Field(() => RouteResolution, { description: "this proxy's own walk" })
  resolution: RouteResolution;
  @Field(() => [String], { nullable: true, description: 'OUTBOUND: the endpoints (ip:port) of the chosen cluster on this path' })
  endpoints: string[] | null;
  @Field(() => TransportSecurity, { nullable: true, description: 'the connection this hop opens (OUTBOUND) or accepts (INBOUND)' })
  tls: TransportSecurity | null;
  @Field(() => AuthorizationDecision, { nullable: true, description: 'INBOUND hops (and gateways with policies): the RBAC outcome' })
  authorization: AuthorizationDecision | null;
}

@ObjectType()
export class JourneyPath {
  @Field(() => Float, { description: 'percent of requests taking this path' })
  share: number;
  @Field(() => JourneyOutcome)
  outcome: JourneyOutcome;
  @Field(() => Int, { nullable: true, description: 'the HTTP status a proxy answers with; null when the application answers or for TCP' })
  status: number | null;
  @Field(() => WorkloadRef, { nullable: true, description: 'the workload that receives the request, when one does' })
  destination: WorkloadRef | null;
  @Field(() => [Hop])
  hops: Hop[];
}

@ObjectType()
export class Journey {
  @Field(() => [JourneyPath], { description: 'shares add up to 100 (within rounding)' })
  paths: JourneyPath[];
  @Field(() => [TraceStep], { description: 'the whole journey in plain words, hop by hop' })
  trace: TraceStep[];
}
