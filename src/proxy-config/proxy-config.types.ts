import { Field, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import type { GeneratedConfig } from '../model/proxy.js';
import { GraphQLJSON } from '../graphql/json.scalar.js';
import { ConfigRef } from '../graphql/config-ref.type.js';
import { ProxyType } from '../graphql/enums.js';

export enum TrafficDirection {
  OUTBOUND = 'OUTBOUND',
  INBOUND = 'INBOUND',
}
registerEnumType(TrafficDirection, { name: 'TrafficDirection' });

@InputType({
  description: 'An existing workload of the snapshot (namespace + name), or an ad-hoc proxy (namespace + labels [+ ip, type, ...]).',
})
export class ProxyInput {
  @Field()
  namespace: string;
  @Field(() => String, { nullable: true })
  name?: string | null;
  @Field(() => GraphQLJSON, { nullable: true })
  labels?: Record<string, string> | null;
  @Field(() => String, { nullable: true })
  ip?: string | null;
  @Field(() => [String], { nullable: true, description: 'every address, when there is more than one (dual stack)' })
  ips?: string[] | null;
  @Field(() => ProxyType, { defaultValue: ProxyType.SIDECAR, description: "for a named workload, SIDECAR means the workload's own type" })
  type: ProxyType;
  @Field(() => String, { nullable: true, description: "the proxy's reported version; default: the embedded Istio release" })
  istioVersion?: string | null;
  @Field(() => GraphQLJSON, {
    nullable: true,
    description: 'further node metadata, as istio-proxy reports it (e.g. {"DNS_CAPTURE": "true"})',
  })
  metadata?: Record<string, unknown> | null;
}

@ObjectType()
export class Listener {
  @Field()
  name: string;
  @Field()
  address: string;
  @Field(() => Int)
  port: number;
  @Field(() => [String], { description: 'what each filter chain matches, as istioctl proxy-config listener prints it' })
  matches: string[];
  @Field(() => [String], { description: 'where each filter chain sends traffic (Route: NAME, Cluster: NAME, ...)' })
  destinations: string[];
  @Field(() => GraphQLJSON)
  config: Record<string, unknown>;
}

@ObjectType()
export class Route {
  @Field(() => String, { nullable: true })
  name: string | null;
  @Field()
  match: string;
  @Field(() => String, { nullable: true })
  cluster: string | null;
  @Field(() => ConfigRef, { nullable: true })
  virtualService: ConfigRef | null;
  @Field(() => ConfigRef, { nullable: true, description: 'the Gateway API route (HTTPRoute, GRPCRoute, ...) istiod made this route from' })
  routeSource: ConfigRef | null;
  @Field(() => GraphQLJSON)
  config: Record<string, unknown>;
}

@ObjectType()
export class VirtualHost {
  @Field()
  name: string;
  @Field(() => [String])
  domains: string[];
  @Field(() => [Route])
  routes: Route[];
}

@ObjectType()
export class RouteConfiguration {
  @Field()
  name: string;
  @Field(() => [VirtualHost])
  virtualHosts: VirtualHost[];
  @Field(() => GraphQLJSON)
  config: Record<string, unknown>;
}

@ObjectType()
export class Cluster {
  @Field()
  name: string;
  @Field(() => String, { nullable: true })
  fqdn: string | null;
  @Field(() => Int, { nullable: true })
  port: number | null;
  @Field(() => String, { nullable: true })
  subset: string | null;
  @Field(() => TrafficDirection, { nullable: true })
  direction: TrafficDirection | null;
  @Field()
  type: string;
  @Field(() => ConfigRef, { nullable: true })
  destinationRule: ConfigRef | null;
  @Field(() => GraphQLJSON)
  config: Record<string, unknown>;
}

@ObjectType()
export class Endpoint {
  @Field()
  cluster: string;
  @Field()
  address: string;
  @Field(() => Int)
  port: number;
  @Field()
  health: string;
  @Field(() => Int, { nullable: true })
  weight: number | null;
  @Field(() => String, { nullable: true })
  locality: string | null;
}

/** Holds one proxy's generated Envoy objects; the fields filter and shape them. */
@ObjectType()
export class ProxyConfig {
  snapshotId: string;
  generated: GeneratedConfig;
}
