import { BadRequestException, Controller, Delete, Get, HttpCode, Inject, NotFoundException, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { InvalidCursorError } from '../database/snapshot.store.js';
import { readBody } from '../http/read-body.js';
import { listingMeshes } from '../model/access.js';
import { httpError } from '../http/errors.js';
import { CreatedSnapshotDto, ErrorDto, SnapshotDto, SnapshotListDto } from './snapshot.dto.js';
import { InvalidManifestsError, SnapshotsService } from './snapshots.service.js';

const MAX_PAGE = 100;

@ApiTags('snapshots')
@Controller('api/v1/snapshots')
export class SnapshotsController {
  constructor(
    private readonly snapshots: SnapshotsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Upload a snapshot: multi-document YAML, a JSON object or array, or a (nested) List' })
  @ApiConsumes('application/yaml', 'application/json', 'text/plain')
  @ApiBody({ schema: { type: 'string' }, description: 'the manifests' })
  @ApiQuery({ name: 'name', required: false })
  @ApiQuery({ name: 'mesh', required: false, description: 'the mesh it belongs to (default `default`)' })
  @ApiResponse({ status: 201, type: CreatedSnapshotDto })
  @ApiResponse({ status: 400, type: ErrorDto, description: 'invalid manifests: every problem listed, nothing stored' })
  @ApiResponse({ status: 413, type: ErrorDto, description: 'body over MESHLENS_MAX_BODY_BYTES' })
  async create(@Req() req: Request, @Query('name') name?: unknown, @Query('mesh') mesh?: unknown): Promise<CreatedSnapshotDto> {
    if (name !== undefined && typeof name !== 'string') throw badRequest('name must be given once');
    if (mesh !== undefined && typeof mesh !== 'string') throw badRequest('mesh must be given once');
    const manifests = await readBody(req, this.config.maxBodyBytes);
    try {
      const { snapshot, warnings } = await this.snapshots.create(name || null, manifests, req.headers['content-type'], {
        mesh: mesh || null,
        token: req.accessToken,
      });
      return { ...SnapshotDto.from(snapshot), warnings };
    } catch (error) {
      if (error instanceof InvalidManifestsError) throw badRequest(error.message, error.problems);
      throw error;
    }
  }

  @Get()
  @ApiOperation({ summary: 'Snapshots, newest first' })
  @ApiQuery({ name: 'limit', required: false, description: `1..${MAX_PAGE}, default 20` })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiQuery({ name: 'mesh', required: false, description: "only this mesh's snapshots" })
  @ApiResponse({ status: 200, type: SnapshotListDto })
  async list(
    @Req() req: Request,
    @Query('limit') limit?: unknown,
    @Query('cursor') cursor?: unknown,
    @Query('mesh') mesh?: unknown,
  ): Promise<SnapshotListDto> {
    const size = limit === undefined ? 20 : Number(limit);
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) throw badRequest(`limit must be an integer from 1 to ${MAX_PAGE}`);
    if (cursor !== undefined && typeof cursor !== 'string') throw badRequest('cursor must be given once');
    if (mesh !== undefined && typeof mesh !== 'string') throw badRequest('mesh must be given once');
    try {
      const page = await this.snapshots.list(size, cursor || null, listingMeshes(req.accessToken, mesh));
      return { items: page.entries.map((e) => SnapshotDto.from(e.snapshot)), nextCursor: page.nextCursor };
    } catch (error) {
      if (error instanceof InvalidCursorError) throw badRequest(error.message);
      throw httpError(error);
    }
  }

  @Get(':id')
  @ApiOperation({ summary: "A snapshot's metadata and status" })
  @ApiResponse({ status: 200, type: SnapshotDto })
  @ApiResponse({ status: 404, type: ErrorDto })
  async get(@Param('id') id: string): Promise<SnapshotDto> {
    const snapshot = await this.snapshots.get(id);
    if (!snapshot) throw notFound(id);
    return SnapshotDto.from(snapshot);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a snapshot and all derived from it' })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 404, type: ErrorDto })
  async delete(@Req() req: Request, @Param('id') id: string): Promise<void> {
    if (!(await this.snapshots.delete(id, req.accessToken))) throw notFound(id);
  }
}

function badRequest(error: string, details: unknown[] = []) {
  return new BadRequestException({ error, details });
}

function notFound(id: string) {
  return new NotFoundException({ error: `snapshot ${id} not found`, details: [] });
}
