import { BadRequestException, Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { httpError } from '../http/errors.js';
import { RequireScope } from '../http/scope.js';
import type { Journey } from './journey.js';
import { parseJourneyRequest } from './journey-request.js';
import { JourneyService } from './journey.service.js';

@ApiTags('journey')
@Controller('api/v1/snapshots/:id')
export class JourneyController {
  constructor(private readonly service: JourneyService) {}

  @Post('journey')
  @HttpCode(200)
  // A query sent as a POST: scope read, not write.
  @RequireScope('read')
  @ApiOperation({
    summary: "A request's whole journey: every proxy on its path, mTLS and authorization included",
    description:
      'The same input as GraphQL `journey`: `{"from": ProxyInput, "call": CallInput, "identity"?: RequestIdentity}`; the same Journey back.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['from', 'call'],
      properties: { from: { type: 'object' }, call: { type: 'object' }, identity: { type: 'object' } },
    },
  })
  @ApiResponse({ status: 200, description: 'the Journey: paths with their shares, hops and outcome, and the trace' })
  @ApiResponse({ status: 400, description: 'a bad request body, naming each problem' })
  @ApiResponse({ status: 404, description: 'unknown snapshot or workload' })
  async journey(@Param('id') id: string, @Body() body: unknown): Promise<Journey> {
    const parsed = parseJourneyRequest(body);
    if ('problems' in parsed) throw new BadRequestException({ error: 'invalid journey request', details: parsed.problems });
    try {
      return await this.service.journey(id, parsed.from, parsed.call, parsed.identity);
    } catch (error) {
      throw httpError(error);
    }
  }
}
