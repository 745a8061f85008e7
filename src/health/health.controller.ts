import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the process serves requests' })
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: the database answers and every migration is applied (else 503)' })
  async readyz() {
    try {
      await this.dataSource.query('SELECT 1');
    } catch (error) {
      throw new ServiceUnavailableException({ error: 'not ready', details: [`database unreachable: ${message(error)}`] });
    }
    if (await this.dataSource.showMigrations()) {
      throw new ServiceUnavailableException({ error: 'not ready', details: ['database migrations are pending'] });
    }
    return { status: 'ready' };
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
