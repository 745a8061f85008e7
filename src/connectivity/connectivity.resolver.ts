import { Args, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { Snapshot } from '../snapshots/graphql/snapshot.type.js';
import { Connection } from './connectivity.types.js';
import { ConnectivityService } from './connectivity.service.js';

@Resolver(() => Snapshot)
export class SnapshotConnectivityResolver {
  constructor(private readonly service: ConnectivityService) {}

  @ResolveField(() => [Connection], {
    description:
      "who can talk to whom: every sending workload and service port it can address, as the destination's workloads decide it; " +
      'namespace and service filter the destinations; empty until READY',
  })
  async connectivity(
    @Parent() snapshot: Snapshot,
    @Args('namespace', { type: () => String, nullable: true }) namespace: string | null,
    @Args('service', { type: () => String, nullable: true }) service: string | null,
  ): Promise<Connection[]> {
    return (await this.service.connections(snapshot.id, { namespace, service })) as unknown as Connection[];
  }
}
