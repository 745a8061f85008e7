import { afterEach, describe, expect, it, vi } from 'vitest';
import { EnvoyObjectCollector, PROXY_INFO_TYPE } from '../../../src/database/envoy-tree.js';
import type { GeneratedConfig, ProxyInfo } from '../../../src/model/proxy.js';
import { scanGeneratedLine } from '../../../src/jobs/generated-line.js';
import {
  addGenerated,
  classProxyInfo,
  dependsOnIdentity,
  IdentityIndex,
  readGeneratedLine,
  type ClassMember,
} from '../../../src/jobs/proxy-classes.js';
import type { EnvoyObject } from '../../../src/model/proxy.js';
import { ClassesThread } from '../../../src/jobs/classes-thread.js';
import { hashedLine } from '../../support/fake-generator.js';

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

const members: ClassMember[] = [
  { namespace: 'shop', name: 'web-1', proxy: proxy('web-1', '10.0.0.1') },
  { namespace: 'shop', name: 'web-2', proxy: proxy('web-2', '10.0.0.2') },
];
/** Three configs of one job: the third the first again, the second with a member's address. */
const configs = [config(members[0].proxy, 'a'), config(members[1].proxy, '10.0.0.2'), config(members[0].proxy, 'a')];

/** The job's answer lines, as the generator writes them: each object's JSON once. */
function jobLines(): Uint8Array[] {
  const sent = new Set<string>();
  return configs.map((c, i) => hashedLine(i + 1, c, sent));
}

/** What storing the parsed configs stores (the path before the generator hashed objects). */
function direct() {
  const collector = new EnvoyObjectCollector();
  const results = configs.map((c) => ({
    root: collector.addConfig(c).root,
    proxyInfoHash: collector.addObject(PROXY_INFO_TYPE, '', classProxyInfo(c.proxy)),
    dependsOnIdentity: dependsOnIdentity(c, members[0], members),
  }));
  return { collector, results };
}

afterEach(() => vi.restoreAllMocks());

describe('addGenerated (the compute thread)', () => {
  it('stores exactly what adding the parsed config stores: the same roots, objects (byte for byte) and nodes', () => {
    const expected = direct();
    const threaded = new EnvoyObjectCollector();
    const got = jobLines().map((line) =>
      addGenerated(threaded, readGeneratedLine(line), { index: new IdentityIndex(members), rep: members[0], members }),
    );
    expect(got).toEqual(expected.results);
    expect(got.map((r) => r.dependsOnIdentity)).toEqual([false, true, false]);
    expect([...threaded.objects.values()]).toEqual([...expected.collector.objects.values()]);
    expect([...threaded.nodes.values()]).toEqual([...expected.collector.nodes.values()]);
  });

  it('parses each object once per job: a line naming only objects it was sent parses nothing but its proxy', () => {
    const lines = jobLines();
    const collector = new EnvoyObjectCollector();
    addGenerated(collector, readGeneratedLine(lines[0]));
    addGenerated(collector, readGeneratedLine(lines[1]));
    const parse = vi.spyOn(JSON, 'parse');
    addGenerated(collector, readGeneratedLine(lines[2]), { index: new IdentityIndex(members), rep: members[0], members });
    expect(parse).toHaveBeenCalledTimes(1); // the proxy
  });

  it('refuses an answer naming an object it was never sent', () => {
    const lines = jobLines();
    expect(() => addGenerated(new EnvoyObjectCollector(), readGeneratedLine(lines[2]))).toThrow(/before sending it/);
  });

  it('finds every object of a line, strings with brackets, quotes and escapes included', () => {
    const c = config(proxy('web-1', '10.0.0.1'), '}]"\\');
    const bytes = hashedLine(7, c, new Set());
    const layout = scanGeneratedLine(bytes);
    const text = ([a, b]: [number, number]) => JSON.parse(new TextDecoder().decode(bytes.subarray(a, b))) as unknown;
    expect(text(layout.proxy!)).toEqual(c.proxy);
    for (const key of ['listeners', 'routes', 'clusters', 'endpoints'] as const) {
      const elements = layout.elements[key]!;
      expect(elements.map((e) => text(e.object!))).toEqual(c[key]);
      expect(elements.every((e) => /^[0-9a-f]{64}$/.test(e.hash))).toBe(true);
    }
    expect(() => scanGeneratedLine(new TextEncoder().encode('{"id":1,"result":{"listeners":[]}}'))).toThrow(/proxyConfig/);
    const plain = new TextEncoder().encode(JSON.stringify({ id: 1, result: c }));
    expect(() => scanGeneratedLine(plain)).toThrow(/hashedProxyConfig/);
  });

  it('checks identity only when given the class', () => {
    const m: ClassMember = { namespace: 'shop', name: 'web-1', proxy: proxy('web-1', '10.0.0.1') };
    const c = config(m.proxy, '10.0.0.1');
    expect(addGenerated(new EnvoyObjectCollector(), readGeneratedLine(hashedLine(1, c, new Set()))).dependsOnIdentity).toBe(false);
  });
});

describe("readGeneratedLine with the job's bodies (connectivity reads each class config)", () => {
  it("gives every answer's lists of the types kept, each object parsed once in the job and shared", () => {
    const bodies = {
      listener: new Map<string, EnvoyObject>(),
      cluster: new Map<string, EnvoyObject>(),
      endpoint: new Map<string, EnvoyObject>(),
    };
    const parse = vi.spyOn(JSON, 'parse');
    const read = jobLines().map((line) => readGeneratedLine(line, new TextDecoder(), bodies));
    const lists = read.map((r) => ({ listeners: r.list('listeners'), clusters: r.list('clusters'), endpoints: r.list('endpoints') }));
    expect(lists).toEqual(configs.map(({ listeners, clusters, endpoints }) => ({ listeners, clusters, endpoints })));
    expect(lists[2].clusters[5]).toBe(lists[0].clusters[5]);
    const kept = bodies.listener.size + bodies.cluster.size + bodies.endpoint.size;
    expect(parse).toHaveBeenCalledTimes(kept);
    // Route configurations are not kept: parsed when sent, for the collector, and no more.
    expect(read[0].list('routes')).toEqual(configs[0].routes);
    expect(() => read[2].list('routes')).toThrow(/before sending it/);
  });
});

describe('ClassesThread', () => {
  it('stores from the answer lines what the parsed configs store', async () => {
    const expected = direct();
    const thread = new ClassesThread(members);
    try {
      const got = [];
      for (const line of jobLines()) got.push(await thread.add(line, { key: 'web', members }, true));
      expect(got).toEqual(expected.results);
      const { objects, nodes } = await thread.finish();
      expect(objects).toEqual([...expected.collector.objects.values()]);
      expect(nodes).toEqual([...expected.collector.nodes.values()]);
    } finally {
      await thread.close();
    }
  });
});
