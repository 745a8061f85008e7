import { Injectable } from '@nestjs/common';
import { isIP } from 'node:net';
import { GeneratorService } from '../generator/generator.service.js';
import { GeneratorError, type GeneratedConfig, type ProxyInput as WireProxyInput } from '../generator/protocol.js';
import { ProxyType } from '../snapshots/graphql/enums.js';
import type { ProxyInput } from './proxy-config.types.js';

/** What istiod would push to one proxy of a snapshot. */
@Injectable()
export class ProxyConfigService {
  constructor(private readonly generator: GeneratorService) {}

  generate(snapshotId: string, proxy: ProxyInput): Promise<GeneratedConfig> {
    return this.generator.ask(snapshotId, 'proxyConfig', { proxy: toWireProxy(proxy) });
  }
}

/**
 * The contract's ProxyInput as the generator takes it. The schema defaults `type` to SIDECAR; for a
 * named workload that default gives way to the workload's own type (a gateway pod stays a router).
 */
export function toWireProxy(proxy: ProxyInput): WireProxyInput {
  const problems: string[] = [];
  if (!proxy.namespace) problems.push('namespace is required');
  if (proxy.labels != null && (typeof proxy.labels !== 'object' || Array.isArray(proxy.labels) || Object.values(proxy.labels).some((v) => typeof v !== 'string')))
    problems.push('labels must be an object of string values');
  for (const ip of [proxy.ip, ...(proxy.ips ?? [])]) if (ip != null && !isIP(ip)) problems.push(`"${ip}" is not an IP address`);
  if (proxy.metadata != null && (typeof proxy.metadata !== 'object' || Array.isArray(proxy.metadata))) problems.push('metadata must be an object');
  if (problems.length) throw new GeneratorError('BAD_REQUEST', `invalid proxy: ${problems.join('; ')}`);
  const named = Boolean(proxy.name) && !proxy.labels && !proxy.ip && !proxy.ips?.length;
  return {
    namespace: proxy.namespace,
    name: proxy.name ?? undefined,
    labels: proxy.labels ?? undefined,
    ip: proxy.ip ?? undefined,
    ips: proxy.ips ?? undefined,
    type: named && proxy.type === ProxyType.SIDECAR ? undefined : proxy.type,
    istioVersion: proxy.istioVersion ?? undefined,
    metadata: proxy.metadata ?? undefined,
  };
}
