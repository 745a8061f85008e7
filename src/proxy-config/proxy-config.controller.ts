import { BadRequestException, Controller, Get, HttpException, InternalServerErrorException, NotFoundException, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { SnapshotNotFoundError } from '../generator/generator.service.js';
import { GeneratorError } from '../generator/protocol.js';
import { ProxyType } from '../snapshots/graphql/enums.js';
import { ProxyConfigService } from './proxy-config.service.js';
import { configDump } from './views.js';

@ApiTags('proxies')
@Controller('api/v1/snapshots/:id/proxies/:namespace/:name')
export class ProxyConfigController {
  constructor(private readonly service: ProxyConfigService) {}

  @Get('config_dump')
  @ApiOperation({ summary: "The workload's effective Envoy config, in the shape of Envoy's admin /config_dump" })
  async configDump(@Param('id') id: string, @Param('namespace') namespace: string, @Param('name') name: string): Promise<Record<string, unknown>> {
    try {
      const generated = await this.service.generate(id, { namespace, name, type: ProxyType.SIDECAR });
      return configDump(generated, generated.proxy.istioVersion);
    } catch (error) {
      throw httpError(error);
    }
  }
}

/** A generator failure as the REST error a client can act on (`{error}` with a 4xx, never a bare 500). */
export function httpError(error: unknown): HttpException {
  if (error instanceof SnapshotNotFoundError) return new NotFoundException({ error: error.message });
  if (error instanceof GeneratorError) {
    if (error.code === 'BAD_REQUEST') return new BadRequestException({ error: error.message });
    if (error.code === 'NO_PROXY') return new BadRequestException({ error: 'the workload has no proxy (proxy type NONE): it gets no Envoy config' });
    return new InternalServerErrorException({ error: `the generator failed: ${error.message}` });
  }
  if (error instanceof HttpException) return error;
  return new InternalServerErrorException({ error: error instanceof Error ? error.message : String(error) });
}
