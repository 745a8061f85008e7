import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { httpError } from '../http/errors.js';
import type { ConnectionRow } from './rows.js';
import { ConnectivityService } from './connectivity.service.js';

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
  @ApiResponse({ status: 200, description: '`{"connections": [Connection]}`' })
  @ApiResponse({ status: 404, description: 'unknown snapshot' })
  @ApiResponse({ status: 409, description: 'the snapshot is not READY' })
  async connectivity(
    @Param('id') id: string,
    @Query('namespace') namespace?: string,
    @Query('service') service?: string,
  ): Promise<{ connections: ConnectionRow[] }> {
    try {
      return { connections: await this.service.connectionsWhenReady(id, { namespace, service }) };
    } catch (error) {
      throw httpError(error);
    }
  }
}
