import { Args, Context, ID, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import type { Request } from 'express';
import { GraphQLError } from 'graphql';
import { InvalidCursorError, SnapshotStore } from '../../database/snapshot.store.js';
import { WorkloadStore } from '../../database/workload.store.js';
import { listingMeshes } from '../../model/access.js';
import { Diagnostic } from '../../graphql/diagnostic.type.js';
import { graphqlError } from '../../graphql/errors.js';
import { InvalidManifestsError, SnapshotsService } from '../snapshots.service.js';
import { GatewayApiStatus } from './gateway-status.type.js';
import { Resource } from './resource.type.js';
import { SnapshotConnection } from './snapshot-connection.type.js';
import { Snapshot } from './snapshot.type.js';
import { Workload } from './workload.type.js';

const MAX_PAGE = 100;

@Resolver(() => Snapshot)
export class SnapshotsResolver {
  constructor(
    private readonly service: SnapshotsService,
    private readonly store: SnapshotStore,
    private readonly workloadStore: WorkloadStore,
  ) {}

  @Query(() => SnapshotConnection, { description: "Snapshots, newest first (those of the token's meshes)" })
  async snapshots(
    @Context('req') req: Request | undefined,
    @Args('first', { type: () => Int, defaultValue: 20 }) first: number,
    @Args('after', { type: () => String, nullable: true }) after: string | null,
    @Args('mesh', { type: () => String, nullable: true, description: "only this mesh's snapshots" }) mesh: string | null,
  ): Promise<SnapshotConnection> {
    if (first < 1 || first > MAX_PAGE) throw userError(`first must be from 1 to ${MAX_PAGE}`);
    try {
      const meshes = listingMeshes(req?.accessToken, mesh);
      const [page, totalCount] = await Promise.all([this.service.list(first, after, meshes), this.service.count(meshes)]);
      return {
        edges: page.entries.map((e) => ({ node: Snapshot.from(e.snapshot), cursor: e.cursor })),
        pageInfo: { hasNextPage: page.nextCursor !== null, endCursor: page.entries.at(-1)?.cursor ?? null },
        totalCount,
      };
    } catch (error) {
      if (error instanceof InvalidCursorError) throw userError(`after: ${error.message}`);
      throw graphqlError(error);
    }
  }

  @Query(() => Snapshot, { nullable: true })
  async snapshot(@Args('id', { type: () => ID }) id: string): Promise<Snapshot | null> {
    const entity = await this.service.get(id);
    return entity ? Snapshot.from(entity) : null;
  }

  @Mutation(() => Snapshot, {
    description: 'Same semantics as POST /api/v1/snapshots; invalid manifests: an error with extensions.details',
  })
  async createSnapshot(
    @Context('req') req: Request | undefined,
    @Args('manifests') manifests: string,
    @Args('name', { type: () => String, nullable: true }) name: string | null,
    @Args('mesh', { type: () => String, nullable: true, description: 'the mesh it belongs to (default `default`)' }) mesh: string | null,
  ): Promise<Snapshot> {
    try {
      const { snapshot } = await this.service.create(name || null, manifests, undefined, { mesh, token: req?.accessToken });
      return Snapshot.from(snapshot);
    } catch (error) {
      if (error instanceof InvalidManifestsError) throw userError(error.message, error.problems);
      throw error;
    }
  }

  @Mutation(() => Boolean, { description: 'false when there was no such snapshot' })
  deleteSnapshot(@Context('req') req: Request | undefined, @Args('id', { type: () => ID }) id: string): Promise<boolean> {
    return this.service.delete(id, req?.accessToken);
  }

  @ResolveField(() => [Resource])
  async resources(
    @Parent() snapshot: Snapshot,
    @Args('kind', { type: () => String, nullable: true }) kind: string | null,
    @Args('namespace', { type: () => String, nullable: true }) namespace: string | null,
  ): Promise<Resource[]> {
    const stored = await this.store.resources(snapshot.id, { kind, namespace });
    return stored.map((r) => Resource.from(r));
  }

  @ResolveField(() => [Diagnostic], { description: "like `istioctl analyze`: Istio's analyzers over the snapshot (empty until computed)" })
  async diagnostics(@Parent() snapshot: Snapshot): Promise<Diagnostic[]> {
    // Read only when asked for: megabytes of JSON on a big mesh.
    return ((await this.store.diagnostics(snapshot.id)) ?? []).map((m) => Diagnostic.from(m));
  }

  @ResolveField(() => [GatewayApiStatus], {
    description:
      'the status conditions istiod would write on the Gateway API objects (Accepted, ResolvedRefs, Programmed); empty until READY',
  })
  async gatewayStatus(@Parent() snapshot: Snapshot): Promise<GatewayApiStatus[]> {
    return (await this.store.gatewayApi(snapshot.id)).status.map((s) => GatewayApiStatus.from(s));
  }

  @ResolveField(() => [Workload], { description: 'empty until the snapshot is READY' })
  async workloads(
    @Parent() snapshot: Snapshot,
    @Args('namespace', { type: () => String, nullable: true }) namespace: string | null,
  ): Promise<Workload[]> {
    const entities = await this.workloadStore.list(snapshot.id, namespace);
    return entities.map((w) => Workload.from(snapshot.id, w));
  }
}

function userError(message: string, details: unknown[] = []): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', details } });
}
