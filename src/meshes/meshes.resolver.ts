import { Args, Context, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import type { Request } from 'express';
import { graphqlError } from '../graphql/errors.js';
import { RequireScope } from '../http/scope.js';
import { MeshesService } from './meshes.service.js';
import { Mesh, MeshRetention } from './meshes.types.js';

@Resolver(() => Mesh)
export class MeshesResolver {
  constructor(private readonly service: MeshesService) {}

  @Query(() => [Mesh], { description: 'The meshes (those the token may see), by name, with their latest snapshot' })
  async meshes(@Context('req') req: Request | undefined): Promise<Mesh[]> {
    return (await this.service.list(req?.accessToken)).map((m) => Mesh.from(m));
  }

  @ResolveField(() => MeshRetention)
  async retention(@Parent() mesh: Mesh): Promise<MeshRetention> {
    return MeshRetention.from(await this.service.retentionOf(mesh.name));
  }

  @Mutation(() => MeshRetention, {
    description:
      "Sets a mesh's own retention (scope admin): keep the newest keepLast and/or those younger than maxAge (30d, 12h, 3600s); both null: keep all",
  })
  @RequireScope('admin')
  async setMeshRetention(
    @Context('req') req: Request | undefined,
    @Args('mesh') mesh: string,
    @Args('keepLast', { type: () => Int, nullable: true }) keepLast: number | null,
    @Args('maxAge', { type: () => String, nullable: true }) maxAge: string | null,
  ): Promise<MeshRetention> {
    try {
      return MeshRetention.from(await this.service.setRetention(mesh, { keepLast, maxAge }, req?.accessToken));
    } catch (error) {
      throw graphqlError(error);
    }
  }
}
