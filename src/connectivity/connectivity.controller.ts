import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { httpError } from '../http/errors.js';
import type { ConnectionRow } from './rows.js';
import { ConnectivityService, MAX_CONNECTION_PAGE, MAX_UNPAGED_CONNECTIONS } from './connectivity.service.js';

@ApiTags('connectivity')
@Controller('api/v1/snapshots/:id')
export class ConnectivityController {
  constructor(private readonly service: ConnectivityService) {}

  @Get('connectivity')
  @ApiOperation({
    summary: 'Who can talk to whom',
    description:
      'The same rows as GraphQL `Snapshot.connectivity`: source, destination (host:port), verdict, conditions, tls, policies, reason, causes.',
  })
  @ApiQuery({ name: 'namespace', required: false, description: "the destination service's namespace" })
  @ApiQuery({ name: 'service', required: false, description: 'the destination service' })
  @ApiQuery({ name: 'source', required: false, description: 'a sending workload: `namespace/name`, or a name in any namespace' })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: `at most this many rows (1..${MAX_CONNECTION_PAGE}); default: all, when there are at most ${MAX_UNPAGED_CONNECTIONS} (more: 400)`,
  })
  @ApiQuery({ name: 'offset', required: false, description: 'rows skipped first (by destination, then source); default 0' })
  @ApiResponse({ status: 200, description: '`{"connections": [Connection], "total": n}`: total counts every row that passes the filters' })
  @ApiResponse({
    status: 400,
    description: 'a limit or offset that is not a whole number in range, or no limit for more rows than a page holds',
  })
  @ApiResponse({ status: 404, description: 'unknown snapshot' })
  @ApiResponse({ status: 409, description: 'the snapshot is not READY' })
  async connectivity(
    @Param('id') id: string,
    @Query('namespace') namespace?: string,
    @Query('service') service?: string,
    @Query('source') source?: string,
    @Query('limit') limit?: string,
    @Query('offset') offset?: string,
  ): Promise<{ connections: ConnectionRow[]; total: number }> {
    try {
      const page = { limit: limit === undefined ? null : Number(limit), offset: offset === undefined ? null : Number(offset) };
      return await this.service.connectionsWhenReady(id, { namespace, service, source }, page);
    } catch (error) {
      throw httpError(error);
    }
  }
}
