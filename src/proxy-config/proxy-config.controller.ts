import { BadRequestException, Controller, Get, NotFoundException, Param, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { httpError } from '../http/errors.js';
import type { RenderFlags, RenderView } from '../generator/protocol.js';
import { ProxyType } from '../graphql/enums.js';
import { ProxyConfigService } from './proxy-config.service.js';

/** REST views and istioctl's `proxy-config` commands. */
const VIEWS: Record<string, RenderView> = {
  listeners: 'listener',
  routes: 'route',
  clusters: 'cluster',
  endpoints: 'endpoint',
  all: 'all',
};

const FORMATS = ['table', 'short', 'json', 'yaml'] as const;
type Format = (typeof FORMATS)[number];

const VIEW_QUERY = ['format', 'fqdn', 'port', 'subset', 'direction', 'name', 'address', 'type', 'cluster', 'status', 'verbose'] as const;
const STATUS_QUERY = ['format', 'namespace', 'verbosity'] as const;

@ApiTags('proxies')
@Controller('api/v1/snapshots/:id')
export class ProxyConfigController {
  constructor(private readonly service: ProxyConfigService) {}

  @Get('proxies/:namespace/:name/config_dump')
  @ApiOperation({
    summary: "The workload's effective Envoy config, as Envoy's admin /config_dump?include_eds reports it",
    description:
      "envoy.admin.v3.ConfigDump's sections in the order Istio's debug endpoint builds them (bootstrap, clusters, endpoints, listeners, scoped routes, routes, secrets): byte for byte what GraphQL's configDump and `proxy-config all -o json` give",
  })
  @ApiProduces('application/json')
  async configDump(
    @Param('id') id: string,
    @Param('namespace') namespace: string,
    @Param('name') name: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    try {
      const generated = await this.service.generate(id, { namespace, name, type: ProxyType.SIDECAR });
      return send(res, 'json', await this.service.configDump(generated));
    } catch (error) {
      throw httpError(error);
    }
  }

  @Get('proxies/:namespace/:name/:view')
  @ApiOperation({
    summary: 'istioctl proxy-config listener|route|cluster|endpoint|all for the workload',
    description:
      "format=table (default; text/plain exactly as `istioctl proxy-config` prints it, through istioctl's own writers), " +
      "json or yaml (as `istioctl proxy-config ... -o json|yaml`). Filters are istioctl's flags: `--fqdn --port --subset --direction` (clusters), " +
      '`--address --port --type` (listeners), `--name` (routes), `--address --port --cluster --status` (endpoints), all of them for `all`.',
  })
  @ApiParam({ name: 'view', enum: Object.keys(VIEWS) })
  @ApiProduces('text/plain', 'application/json', 'application/yaml')
  @ApiQuery({ name: 'format', required: false, enum: FORMATS })
  @ApiQuery({ name: 'fqdn', required: false, description: 'clusters: substring of the cluster name' })
  @ApiQuery({ name: 'port', required: false, description: 'clusters, listeners, endpoints: port number' })
  @ApiQuery({ name: 'subset', required: false, description: 'clusters: substring of the cluster name' })
  @ApiQuery({ name: 'direction', required: false, description: 'clusters: inbound or outbound (substring, as istioctl)' })
  @ApiQuery({ name: 'name', required: false, description: 'routes: the route configuration name, exactly' })
  @ApiQuery({ name: 'address', required: false, description: 'listeners: an address; endpoints: an IP' })
  @ApiQuery({ name: 'type', required: false, description: 'listeners: HTTP, TCP, HTTP+TCP' })
  @ApiQuery({ name: 'cluster', required: false, description: 'endpoints: the cluster name, exactly' })
  @ApiQuery({ name: 'status', required: false, description: 'endpoints: health status (HEALTHY, ...)' })
  @ApiQuery({ name: 'verbose', required: false, description: 'true (default) or false' })
  @ApiResponse({ status: 200, description: 'the table, or the filtered Envoy objects as JSON/YAML' })
  @ApiResponse({ status: 400, description: 'bad flags, or a workload without a proxy (NONE)' })
  @ApiResponse({ status: 404, description: 'unknown snapshot, workload or view' })
  async view(
    @Param('id') id: string,
    @Param('namespace') namespace: string,
    @Param('name') name: string,
    @Param('view') view: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    const rendered = VIEWS[view];
    if (!rendered)
      throw new NotFoundException({
        error: `unknown view "${view}": one of ${[...Object.keys(VIEWS), 'config_dump'].join(', ')}`,
        details: [],
      });
    const { format, flags } = parseViewQuery(query);
    try {
      const config = await this.service.generate(id, { namespace, name, type: ProxyType.SIDECAR });
      const output = await this.service.render({ view: rendered, config, flags });
      return send(res, format, output);
    } catch (error) {
      throw httpError(error);
    }
  }

  @Get('proxy-status')
  @ApiOperation({
    summary: 'istioctl proxy-status for every proxy of the snapshot',
    description:
      "As `istioctl proxy-status` prints it (istioctl's own writer), from the syncz response istiod would give once every proxy " +
      'is connected and synced: NAME, CLUSTER, ISTIOD (meshlens), VERSION, SUBSCRIBED TYPES. format=table (default), json or yaml ' +
      '(the DiscoveryResponse); verbosity=1 prints a column per xDS type.',
  })
  @ApiProduces('text/plain', 'application/json', 'application/yaml')
  @ApiQuery({ name: 'format', required: false, enum: FORMATS })
  @ApiQuery({ name: 'namespace', required: false, description: 'only the proxies of this namespace' })
  @ApiQuery({ name: 'verbosity', required: false, description: '0 (default) or 1' })
  @ApiResponse({ status: 404, description: 'unknown snapshot' })
  @ApiResponse({ status: 409, description: 'the snapshot is not READY yet (its workloads are not computed)' })
  async proxyStatus(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    const q = single(query, STATUS_QUERY);
    const format = parseFormat(q.format);
    let verbosity = 0;
    if (q.verbosity !== undefined) {
      verbosity = Number(q.verbosity);
      if (verbosity !== 0 && verbosity !== 1) throw bad('verbosity must be 0 or 1');
    }
    try {
      const proxies = await this.service.statusProxies(id, q.namespace || null);
      const output = await this.service.render({
        view: 'proxy-status',
        proxies,
        flags: { output: format === 'table' ? 'short' : format === 'short' ? 'short' : format, verbosity },
      });
      return send(res, format, output);
    } catch (error) {
      throw httpError(error);
    }
  }
}

function send(res: Response, format: Format, output: string): string {
  if (format === 'json') res.type('application/json; charset=utf-8');
  else if (format === 'yaml') res.type('application/yaml; charset=utf-8');
  else res.type('text/plain; charset=utf-8');
  return output;
}

function bad(message: string): BadRequestException {
  return new BadRequestException({ error: message, details: [] });
}

/** The query's parameters, each given at most once, none unknown. */
function single<K extends string>(query: Record<string, unknown>, allowed: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const [key, value] of Object.entries(query)) {
    if (!(allowed as readonly string[]).includes(key)) throw bad(`unknown query parameter "${key}" (${allowed.join(', ')})`);
    if (typeof value !== 'string') throw bad(`${key} must be given once`);
    out[key as K] = value;
  }
  return out;
}

function parseFormat(value: string | undefined): Format {
  if (value === undefined || value === '') return 'table';
  if (!(FORMATS as readonly string[]).includes(value)) throw bad(`format must be one of ${FORMATS.join(', ')}, got "${value}"`);
  return value as Format;
}

/** istioctl's flags from the query string. */
export function parseViewQuery(query: Record<string, unknown>): { format: Format; flags: RenderFlags } {
  const q = single(query, VIEW_QUERY);
  const format = parseFormat(q.format);
  const flags: RenderFlags = { output: format === 'json' || format === 'yaml' ? format : 'short' };
  if (q.port !== undefined) {
    const port = Number(q.port);
    if (!/^\d+$/.test(q.port) || port < 1 || port > 65535) throw bad(`port must be a port number from 1 to 65535, got "${q.port}"`);
    flags.port = port;
  }
  if (q.direction !== undefined) {
    const direction = q.direction.toLowerCase();
    if (!['inbound', 'outbound', 'inbound-vip', 'outbound-vip'].includes(direction))
      throw bad(`direction must be inbound or outbound, got "${q.direction}"`);
    flags.direction = direction;
  }
  if (q.verbose !== undefined) {
    if (q.verbose !== 'true' && q.verbose !== 'false') throw bad(`verbose must be true or false, got "${q.verbose}"`);
    flags.verbose = q.verbose === 'true';
  }
  for (const key of ['fqdn', 'subset', 'name', 'address', 'type', 'cluster', 'status'] as const) if (q[key]) flags[key] = q[key];
  return { format, flags };
}
