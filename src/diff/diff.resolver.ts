import { Args, ID, Int, Query, Resolver } from '@nestjs/graphql';
import { graphqlError } from '../graphql/errors.js';
import { DiffService } from './diff.service.js';
import { SnapshotDiff } from './diff.types.js';
import { FIELD_COST } from '../graphql/limits.js';

@Resolver(() => SnapshotDiff)
export class DiffResolver {
  constructor(private readonly service: DiffService) {}

  @Query(() => SnapshotDiff, {
    description: "What changed from base to head: resources, each proxy class's Envoy config and routing, diagnostics, and a PR comment",
    complexity: FIELD_COST.diff,
  })
  async diff(
    @Args('baseId', { type: () => ID }) baseId: string,
    @Args('headId', { type: () => ID }) headId: string,
    @Args('markdownMaxLength', { type: () => Int, nullable: true, description: 'cap of `markdown` in characters (default 60000)' })
    markdownMaxLength: number | null,
  ): Promise<SnapshotDiff> {
    try {
      const result = await this.service.diff(baseId, headId, { maxLength: markdownMaxLength ?? undefined });
      return SnapshotDiff.from(baseId, headId, result);
    } catch (error) {
      throw graphqlError(error);
    }
  }
}
