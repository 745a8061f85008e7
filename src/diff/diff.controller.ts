import { BadRequestException, Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { httpError } from '../http/errors.js';
import { sendJsonInParts } from '../http/json-parts.js';
import { DiffService } from './diff.service.js';
import { SnapshotDiff } from './diff.types.js';

@ApiTags('snapshots')
@Controller('api/v1/snapshots/:base/diff/:head')
export class DiffController {
  constructor(private readonly service: DiffService) {}

  @Get()
  @ApiOperation({ summary: 'What changed from base to head; format=markdown gives the PR comment' })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'markdown'] })
  async diff(
    @Param('base') base: string,
    @Param('head') head: string,
    @Query('format') format: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    const f = format ?? 'json';
    if (f !== 'json' && f !== 'markdown')
      throw new BadRequestException({ error: `format must be json or markdown, got "${f}"`, details: [] });
    let result;
    try {
      result = await this.service.diff(base, head);
    } catch (error) {
      throw httpError(error);
    }
    if (f === 'markdown') {
      res.status(200).type('text/markdown; charset=utf-8').send(result.markdown);
      return;
    }
    // In parts: the JSON of a mesh-wide diff is tens of megabytes (see json-parts.ts).
    await sendJsonInParts(res, 200, SnapshotDiff.from(base, head, result));
  }
}
