import { Field, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { ConfigRef } from '../../graphql/config-ref.type.js';

export enum CallMode {
  OUTBOUND = 'OUTBOUND',
  INBOUND = 'INBOUND',
  GATEWAY = 'GATEWAY',
}
export enum CallProtocol {
  HTTP = 'HTTP',
  HTTP2 = 'HTTP2',
  TCP = 'TCP',
}
export enum TlsMode {
  PLAINTEXT = 'PLAINTEXT',
  TLS = 'TLS',
  MTLS = 'MTLS',
  /** Connectivity only: the destination's workloads receive a sender's connections differently. */
  MIXED = 'MIXED',
}
registerEnumType(CallMode, { name: 'CallMode' });
registerEnumType(CallProtocol, { name: 'CallProtocol' });
registerEnumType(TlsMode, { name: 'TlsMode' });

@InputType()
export class HeaderInput {
  @Field()
  name: string;
  @Field()
  value: string;
}

@InputType({ description: "One request, as the proxy sees it. Mirrors Istio's own traffic simulation." })
export class CallInput {
  @Field(() => CallMode, {
    defaultValue: CallMode.OUTBOUND,
    description:
      'OUTBOUND: the app calls out (iptables to 15001); INBOUND: a call into the workload (15006); GATEWAY: a call arriving at a router listener',
  })
  mode: CallMode;
  @Field(() => String, { nullable: true, description: 'destination IP, when it matters (TCP services, ServiceEntry addresses)' })
  address?: string | null;
  @Field(() => Int, { description: "destination port (OUTBOUND/INBOUND) or the router's listener port (GATEWAY)" })
  port: number;
  @Field(() => CallProtocol, { defaultValue: CallProtocol.HTTP })
  protocol: CallProtocol;
  @Field(() => TlsMode, { defaultValue: TlsMode.PLAINTEXT })
  tls: TlsMode;
  @Field(() => String, { nullable: true, description: 'HTTP Host/:authority; may carry :port' })
  host?: string | null;
  @Field(() => String, { nullable: true })
  sni?: string | null;
  @Field(() => [String], { nullable: true, description: 'ALPN offered in the TLS handshake; default as istio-proxy/the client would' })
  alpn?: string[] | null;
  @Field(() => String, { defaultValue: '/' })
  path: string;
  @Field(() => String, { defaultValue: 'GET' })
  method: string;
  @Field(() => [HeaderInput], { nullable: true })
  headers?: HeaderInput[] | null;
}

@ObjectType()
export class WeightedCluster {
  @Field()
  cluster: string;
  @Field(() => Int)
  weight: number;
}

@ObjectType()
export class TraceStep {
  @Field()
  stage: string;
  @Field()
  detail: string;
}

@ObjectType()
export class RouteResolution {
  @Field(() => String, { nullable: true, description: 'e.g. "0.0.0.0_80", "virtualOutbound"' })
  listener: string | null;
  @Field(() => String, { nullable: true })
  filterChain: string | null;
  @Field(() => String, { nullable: true, description: 'e.g. "80", "http.8080"' })
  routeConfig: string | null;
  @Field(() => String, { nullable: true })
  virtualHost: string | null;
  @Field(() => String, { nullable: true, description: 'Envoy route name' })
  route: string | null;

  @Field(() => Int, {
    nullable: true,
    description:
      "the matched route's position in its virtual host's routes (0-based, Envoy's order): finds it in proxyConfig when it has no name",
  })
  routeIndex: number | null;
  @Field(() => String, { nullable: true, description: 'the one cluster, when the route has exactly one' })
  cluster: string | null;
  @Field(() => [WeightedCluster], { nullable: true })
  weightedClusters: WeightedCluster[] | null;
  @Field(() => ConfigRef, { nullable: true })
  virtualService: ConfigRef | null;
  @Field(() => ConfigRef, {
    nullable: true,
    description: 'the Gateway API route (HTTPRoute, GRPCRoute, ...) istiod made the matched route from',
  })
  routeSource: ConfigRef | null;
  @Field(() => ConfigRef, { nullable: true })
  destinationRule: ConfigRef | null;
  @Field(() => String, {
    nullable: true,
    description:
      'null on success; else exactly one of: "no listener matched", "no filter chains matched", "multiple filter chains matched", ' +
      '"invalid TLS", "invalid mTLS", "protocol error", "no virtual host matched", "tls required, sending 301", ' +
      '"invalid path, sending 400", "escaped slashes, sending 307", "no route matched", "no proxy"',
  })
  error: string | null;
  @Field(() => [TraceStep])
  trace: TraceStep[];
}
