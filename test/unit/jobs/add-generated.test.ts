import { describe, expect, it } from 'vitest';
import { EnvoyObjectCollector, PROXY_INFO_TYPE } from '../../../src/database/envoy-tree.js';
import type { GeneratedConfig, ProxyInfo } from '../../../src/model/proxy.js';
import { scanGeneratedLine } from '../../../src/jobs/generated-line.js';
import { addGenerated, classProxyInfo, dependsOnIdentity, readGeneratedLine, type ClassMember } from '../../../src/jobs/proxy-classes.js';

function proxy(name: string, ip: string): ProxyInfo {
  return { id: `${name}.shop`, ips: [ip], type: 'SIDECAR', namespace: 'shop', labels: { app: 'web' } } as unknown as ProxyInfo;
}

function config(p: ProxyInfo, own: string): GeneratedConfig {
  const clusters = Array.from({ length: 150 }, (_, i) => ({ name: `outbound|80||svc-${i}.shop.svc.cluster.local`, connectTimeout: '10s' }));
  return {
    proxy: p,
    listeners: [{ name: 'virtualInbound', own }, { name: 'virtualOutbound' }],
    routes: [{ name: '80', virtualHosts: [{ name: 'ü "{[\\', domains: ['*', '<&>\u2028'] }] }],
    clusters: [{ name: 'inbound|8080||', own }, ...clusters],
    endpoints: clusters.map((c) => ({ clusterName: c.name })),
  } as unknown as GeneratedConfig;
}

/** The generator's answer line for a config, as the compute thread receives it. */
function line(id: number, c: GeneratedConfig): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ id, result: c }));
}

describe('addGenerated (the compute thread)', () => {
  it('stores exactly what adding the parsed config stores: the same roots, objects (byte for byte) and nodes', () => {
    const members: ClassMember[] = [
      { namespace: 'shop', name: 'web-1', proxy: proxy('web-1', '10.0.0.1') },
      { namespace: 'shop', name: 'web-2', proxy: proxy('web-2', '10.0.0.2') },
    ];
    const configs = [config(members[0].proxy, 'a'), config(members[1].proxy, '10.0.0.2'), config(members[0].proxy, 'a')];
    const direct = new EnvoyObjectCollector();
    const expected = configs.map((c) => ({
      root: direct.addConfig(c).root,
      proxyInfoHash: direct.addObject(PROXY_INFO_TYPE, '', classProxyInfo(c.proxy)),
      dependsOnIdentity: dependsOnIdentity(c, members[0], members),
    }));
    const threaded = new EnvoyObjectCollector();
    const got = configs.map((c, i) => addGenerated(threaded, readGeneratedLine(line(i + 1, c)), { rep: members[0], members }));
    expect(got).toEqual(expected);
    expect(got.map((r) => r.dependsOnIdentity)).toEqual([false, true, false]);
    expect([...threaded.objects.values()]).toEqual([...direct.objects.values()]);
    expect([...threaded.nodes.values()]).toEqual([...direct.nodes.values()]);
  });

  it('finds every object of a line, strings with brackets, quotes and escapes included', () => {
    const c = config(proxy('web-1', '10.0.0.1'), '}]"\\');
    const bytes = line(7, c);
    const layout = scanGeneratedLine(bytes);
    const text = ([a, b]: [number, number]) => JSON.parse(new TextDecoder().decode(bytes.subarray(a, b))) as unknown;
    expect(text(layout.proxy!)).toEqual(c.proxy);
    for (const key of ['listeners', 'routes', 'clusters', 'endpoints'] as const) {
      expect(layout.elements[key]!.map(text)).toEqual(c[key]);
      expect(text(layout.lists[key]!)).toEqual(c[key]);
    }
    expect(() => scanGeneratedLine(new TextEncoder().encode('{"id":1,"result":{"listeners":[]}}'))).toThrow(/proxyConfig/);
  });

  it('checks identity only when given the class', () => {
    const m: ClassMember = { namespace: 'shop', name: 'web-1', proxy: proxy('web-1', '10.0.0.1') };
    const c = config(m.proxy, '10.0.0.1');
    expect(addGenerated(new EnvoyObjectCollector(), readGeneratedLine(line(1, c))).dependsOnIdentity).toBe(false);
  });
});
