import { Args, ID, Int, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { graphqlError } from '../graphql/errors.js';
import { GraphQLJSON } from '../graphql/json.scalar.js';
import { ProxyConfigService } from './proxy-config.service.js';
import { Cluster, Endpoint, Listener, ProxyConfig, ProxyInput, RouteConfiguration, TrafficDirection } from './proxy-config.types.js';
import { clusterRows, endpointRows, listenerRows, routeConfigurationRows } from './views.js';
import { parseConfigDump, type ConfigDump } from '../envoy/config-dump.js';
import { FIELD_COST } from '../graphql/limits.js';

@Resolver(() => ProxyConfig)
export class ProxyConfigResolver {
  constructor(private readonly service: ProxyConfigService) {}

  @Query(() => ProxyConfig, {
    description: 'What istiod would push to this proxy (like istioctl proxy-config, without a cluster)',
    complexity: FIELD_COST.generatedConfig,
  })
  async proxyConfig(@Args('snapshotId', { type: () => ID }) snapshotId: string, @Args('proxy') proxy: ProxyInput): Promise<ProxyConfig> {
    try {
      return { snapshotId, generated: await this.service.generate(snapshotId, proxy) };
    } catch (error) {
      throw graphqlError(error);
    }
  }

  @ResolveField(() => [Listener])
  listeners(
    @Parent() pc: ProxyConfig,
    @Args('port', { type: () => Int, nullable: true }) port: number | null,
    @Args('address', { type: () => String, nullable: true }) address: string | null,
  ): Listener[] {
    return listenerRows(pc.generated, { port, address });
  }

  @ResolveField(() => [RouteConfiguration])
  async routes(
    @Parent() pc: ProxyConfig,
    @Args('name', { type: () => String, nullable: true }) name: string | null,
  ): Promise<RouteConfiguration[]> {
    return routeConfigurationRows(pc.generated, { name }, await this.service.routeSources(pc.snapshotId));
  }

  @ResolveField(() => [Cluster])
  clusters(
    @Parent() pc: ProxyConfig,
    @Args('fqdn', { type: () => String, nullable: true }) fqdn: string | null,
    @Args('port', { type: () => Int, nullable: true }) port: number | null,
    @Args('subset', { type: () => String, nullable: true }) subset: string | null,
    @Args('direction', { type: () => TrafficDirection, nullable: true }) direction: TrafficDirection | null,
  ): Cluster[] {
    return clusterRows(pc.generated, { fqdn, port, subset, direction }) as Cluster[];
  }

  @ResolveField(() => [Endpoint])
  endpoints(@Parent() pc: ProxyConfig, @Args('cluster', { type: () => String, nullable: true }) cluster: string | null): Endpoint[] {
    return endpointRows(pc.generated, { cluster });
  }

  @ResolveField(() => GraphQLJSON, {
    // Rendered by the generator for each proxy asked: as dear as a walk over its config.
    complexity: FIELD_COST.proxyWalk,
    description:
      "as Envoy's admin /config_dump?include_eds reports it (the sections in the order Istio's debug endpoint builds them); the same as REST config_dump and `proxy-config all -o json`",
  })
  async configDump(@Parent() pc: ProxyConfig): Promise<ConfigDump> {
    try {
      return parseConfigDump(await this.service.configDump(pc.generated));
    } catch (error) {
      throw graphqlError(error);
    }
  }
}
