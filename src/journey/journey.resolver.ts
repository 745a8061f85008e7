import { Args, ID, Query, Resolver } from '@nestjs/graphql';
import { graphqlError } from '../graphql/errors.js';
import { ProxyInput } from '../proxy-config/proxy-config.types.js';
import { CallInput } from '../routing/graphql/route-resolution.types.js';
import { JourneyService } from './journey.service.js';
import { Journey, RequestIdentity } from './journey.types.js';
import { FIELD_COST } from '../graphql/limits.js';

@Resolver(() => Journey)
export class JourneyResolver {
  constructor(private readonly service: JourneyService) {}

  @Query(() => Journey, {
    description: 'The request followed from its sender to the workload that serves it: every proxy, mTLS and authorization',
    complexity: FIELD_COST.journey,
  })
  async journey(
    @Args('snapshotId', { type: () => ID }) snapshotId: string,
    @Args('from') from: ProxyInput,
    @Args('call') call: CallInput,
    @Args('identity', { type: () => RequestIdentity, nullable: true }) identity?: RequestIdentity | null,
  ): Promise<Journey> {
    try {
      return (await this.service.journey(snapshotId, from, call, identity ?? null)) as Journey;
    } catch (error) {
      throw graphqlError(error);
    }
  }
}
