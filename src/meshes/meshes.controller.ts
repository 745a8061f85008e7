import { Body, Controller, Get, HttpCode, Param, Post, Put, Req } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { httpError } from '../http/errors.js';
import { RequireScope } from '../http/scope.js';
import { MeshesService, type RetentionView } from './meshes.service.js';

@ApiTags('meshes')
@Controller('api/v1/meshes')
export class MeshesController {
  constructor(private readonly service: MeshesService) {}

  @Get()
  @ApiOperation({ summary: 'The meshes (those the token may see), by name: snapshot count, latest (newest READY) and newest snapshot' })
  async list(@Req() req: Request) {
    const meshes = await this.service.list(req.accessToken);
    const ref = (r: { id: string; createdAt: Date; status: string } | null) =>
      r ? { id: r.id, createdAt: r.createdAt.toISOString(), status: r.status } : null;
    return {
      items: meshes.map((m) => ({ name: m.name, snapshotCount: m.snapshotCount, latest: ref(m.latest), newest: ref(m.newest) })),
    };
  }

  @Get(':mesh/retention')
  @ApiOperation({ summary: "The mesh's retention: its own settings, else the MESHLENS_RETAIN_* defaults" })
  async retention(@Param('mesh') mesh: string): Promise<RetentionView> {
    try {
      return await this.service.retentionOf(mesh);
    } catch (error) {
      throw httpError(error);
    }
  }

  @Put(':mesh/retention')
  @RequireScope('admin')
  @ApiOperation({ summary: "Sets the mesh's own retention (scope admin); applied in the background" })
  @ApiBody({
    schema: {
      type: 'object',
      properties: {
        keepLast: { type: 'integer', nullable: true, description: 'keep the newest N snapshots' },
        maxAge: { type: 'string', nullable: true, description: 'keep those younger than this: 30d, 12h, 90m, 3600s' },
      },
    },
  })
  @ApiResponse({ status: 200, description: 'the retention now in force' })
  async setRetention(@Req() req: Request, @Param('mesh') mesh: string, @Body() body: unknown): Promise<RetentionView> {
    const input = body && typeof body === 'object' ? (body as { keepLast?: unknown; maxAge?: unknown }) : {};
    try {
      return await this.service.setRetention(mesh, input, req.accessToken);
    } catch (error) {
      throw httpError(error);
    }
  }

  @Post(':mesh/retention/apply')
  @HttpCode(200)
  @RequireScope('admin')
  @ApiOperation({ summary: "Applies the mesh's retention now (scope admin); what it alone reached is collected in the background" })
  async apply(@Req() req: Request, @Param('mesh') mesh: string): Promise<{ removed: string[] }> {
    try {
      return { removed: await this.service.applyRetention(mesh, req.accessToken) };
    } catch (error) {
      throw httpError(error);
    }
  }
}
