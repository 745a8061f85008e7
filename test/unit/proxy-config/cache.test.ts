// ProxyConfigService: a named workload of a READY snapshot reads the stored config; any other proxy
// is generated once per snapshot and proxy as asked, the next question answered from memory.
import { describe, expect, it, vi } from 'vitest';
import { SnapshotStatus } from '../../../src/database/entities/index.js';
import type { GeneratorService } from '../../../src/generator/generator.service.js';
import type { ProxyConfigStore } from '../../../src/database/proxy-config.store.js';
import type { SnapshotStore } from '../../../src/database/snapshot.store.js';
import type { WorkloadStore } from '../../../src/database/workload.store.js';
import { ProxyType } from '../../../src/graphql/enums.js';
import { ProxyConfigService } from '../../../src/proxy-config/proxy-config.service.js';
import type { GeneratedConfig } from '../../../src/model/proxy.js';

const config = (id: string): GeneratedConfig => ({
  proxy: { id, type: 'SIDECAR', namespace: 'ns', configNamespace: 'ns', labels: {}, ips: [], istioVersion: '1', serviceTargets: [] },
  listeners: [],
  routes: [],
  clusters: [],
  endpoints: [],
});

function service(status: SnapshotStatus | null) {
  const snapshots = { current: status };
  const ask = vi.fn(async (_id: string, method: string, params: { proxy: { name?: string } }) => {
    const generated = config(params.proxy.name ?? 'adhoc.ns');
    return method === 'proxyFacts' ? { proxy: generated.proxy, servicePorts: [], dnsDomain: '', metadata: {} } : generated;
  });
  const generations = () => ask.mock.calls.filter(([, method]) => method === 'proxyConfig').length;
  const readyConfigOf = vi.fn(async () => config('stored.ns'));
  const svc = new ProxyConfigService(
    { ask } as unknown as GeneratorService,
    { status: async () => snapshots.current } as unknown as SnapshotStore,
    // No stored class has an ad-hoc proxy's ProxyInfo.
    { readyConfigOf, readyClassesWithProxyInfo: async () => [] } as unknown as ProxyConfigStore,
    {} as WorkloadStore,
  );
  return { svc, ask, generations, readyConfigOf, snapshots };
}

describe('ProxyConfigService caches', () => {
  it('answers a named workload of a READY snapshot from the store, never the generator', async () => {
    const { svc, ask, readyConfigOf } = service(SnapshotStatus.READY);
    const got = await svc.generate('s1', { namespace: 'ns', name: 'web-1', type: ProxyType.SIDECAR });
    expect(got.proxy.id).toBe('stored.ns');
    expect(readyConfigOf).toHaveBeenCalledWith('s1', { namespace: 'ns', name: 'web-1' });
    expect(ask).not.toHaveBeenCalled();
  });

  it('generates an ad-hoc proxy once, then answers it from memory; another proxy or snapshot is generated', async () => {
    const { svc, generations } = service(SnapshotStatus.READY);
    const adhoc = { namespace: 'ns', labels: { app: 'web' }, type: ProxyType.SIDECAR };
    const first = await svc.generate('s1', adhoc);
    const second = await svc.generate('s1', { type: ProxyType.SIDECAR, labels: { app: 'web' }, namespace: 'ns' });
    expect(second).toBe(first);
    expect(generations()).toBe(1);
    await svc.generate('s1', { ...adhoc, labels: { app: 'api' } });
    await svc.generate('s2', adhoc);
    expect(generations()).toBe(3);
  });

  it('a deleted snapshot is not found even when its proxy was cached', async () => {
    const { svc, snapshots } = service(SnapshotStatus.READY);
    const adhoc = { namespace: 'ns', labels: { app: 'web' }, type: ProxyType.SIDECAR };
    await svc.generate('s1', adhoc);
    snapshots.current = null;
    await expect(svc.generate('s1', adhoc)).rejects.toThrow(/not found/);
  });
});
