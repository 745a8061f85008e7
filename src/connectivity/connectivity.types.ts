import { Field, ObjectType, registerEnumType } from '@nestjs/graphql';
import { ConfigRef } from '../graphql/config-ref.type.js';
import { TlsMode } from '../routing/graphql/route-resolution.types.js';
import { WorkloadRef } from '../snapshots/graphql/workload.type.js';

export enum ConnectivityVerdict {
  ALLOWED = 'ALLOWED',
  DENIED = 'DENIED',
  CONDITIONAL = 'CONDITIONAL',
}
registerEnumType(ConnectivityVerdict, {
  name: 'ConnectivityVerdict',
  description: 'CONDITIONAL: allowed for some requests only (see conditions)',
});

@ObjectType({ description: 'One sending workload and one service port it can address, as the destination decides it' })
export class Connection {
  @Field(() => WorkloadRef, { description: 'the sending workload (each workload of a sender class listed once)' })
  source: WorkloadRef;
  @Field({ description: 'the service port, host:port (FQDN)' })
  destination: string;
  @Field(() => ConnectivityVerdict)
  verdict: ConnectivityVerdict;
  @Field(() => [String], {
    nullable: true,
    description: 'CONDITIONAL: what the allowed requests must be, in words, one alternative each ("methods GET, HEAD on paths /api/*")',
  })
  conditions: string[] | null;
  @Field(() => TlsMode, { description: "as the requests arrive at the destination's workloads (MIXED when they differ)" })
  tls: TlsMode;
  @Field(() => [ConfigRef], { description: 'the AuthorizationPolicies that decide' })
  policies: ConfigRef[];
  @Field({ description: 'why, in words: the transport refusal or the deciding policies' })
  reason: string;
  @Field(() => [ConfigRef], {
    description: 'the resources behind the verdict and the transport (AuthorizationPolicy, PeerAuthentication, DestinationRule)',
  })
  causes: ConfigRef[];
}

@ObjectType({ description: 'A connection opened, closed, narrowed or widened, or whose mTLS was lost or gained' })
export class ConnectionChange {
  @Field({ description: 'OPENED, CLOSED, NARROWED, WIDENED, MTLS_LOST, MTLS_GAINED' })
  change: string;
  @Field(() => Connection, { nullable: true })
  before: Connection | null;
  @Field(() => Connection, { nullable: true })
  after: Connection | null;
  @Field({ description: 'the change in words, naming the resource that caused it' })
  sentence: string;
}
