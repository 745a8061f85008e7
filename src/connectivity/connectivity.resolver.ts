import { Args, Extensions, Int, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import type { ListCostExtensions } from '../graphql/limits.js';
import { Snapshot } from '../snapshots/graphql/snapshot.type.js';
import { Connection } from './connectivity.types.js';
import { ConnectivityService, MAX_CONNECTION_PAGE, MAX_UNPAGED_CONNECTIONS } from './connectivity.service.js';

/** The rows an unpaged `Snapshot.connectivity` counts as in the GraphQL cost (src/graphql/limits.ts). */
export const CONNECTIVITY_ASSUMED_ROWS = 1000;

@Resolver(() => Snapshot)
export class SnapshotConnectivityResolver {
  constructor(private readonly service: ConnectivityService) {}

  @ResolveField(() => [Connection], {
    description:
      "who can talk to whom: every sending workload and service port it can address, as the destination's workloads decide it; " +
      'namespace and service filter the destinations, source the senders (`namespace/name`, or a name); ' +
      `limit and offset page the rows (by destination, then source; default: all, when there are at most ${MAX_UNPAGED_CONNECTIONS}); empty until READY`,
    complexity: 1,
  })
  // One namespace of a large mesh is ~100,000 rows: each row costs 1, and a read without `limit`
  // counts as CONNECTIVITY_ASSUMED_ROWS of them.
  @Extensions({ listItemCost: 1, assumedListSize: CONNECTIVITY_ASSUMED_ROWS } satisfies ListCostExtensions)
  async connectivity(
    @Parent() snapshot: Snapshot,
    @Args('namespace', { type: () => String, nullable: true }) namespace: string | null,
    @Args('service', { type: () => String, nullable: true }) service: string | null,
    @Args('source', { type: () => String, nullable: true, description: 'a sending workload: `namespace/name`, or a name' })
    source: string | null,
    @Args('limit', { type: () => Int, nullable: true, description: `at most this many rows (1..${MAX_CONNECTION_PAGE})` })
    limit: number | null,
    @Args('offset', { type: () => Int, nullable: true, description: 'rows skipped first' }) offset: number | null,
  ): Promise<Connection[]> {
    const rows = await this.service.connections(snapshot.id, { namespace, service, source }, { limit, offset });
    return rows as unknown as Connection[];
  }
}
