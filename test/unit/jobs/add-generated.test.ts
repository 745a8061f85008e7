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
  SentObjects,
  type ClassMember,
} from '../../../src/jobs/proxy-classes.js';
import { ClassesThread, OBJECT_PART } from '../../../src/jobs/classes-thread.js';
import type { RawAnswer } from '../../../src/generator/generator.service.js';
import { hashedLine } from '../../support/fake-generator.js';

function proxy(name: string, ip: string): ProxyInfo {
  return { id: `${name}.shop`, ips: [ip], type: 'SIDECAR', namespace: 'shop', labels: { app: 'web' } } as unknown as ProxyInfo;
}

function config(p: ProxyInfo, own: string, services = 150): GeneratedConfig {
  const clusters = Array.from({ length: services }, (_, i) => ({
    name: `outbound|80||svc-${i}.shop.svc.cluster.local`,
    connectTimeout: '10s',
  }));
  return {
    proxy: p,
    listeners: [{ name: 'virtualInbound', own }, { name: 'virtualOutbound' }],
    routes: [{ name: '80', virtualHosts: [{ name: 'ü "{[\\', domains: ['*', '<&>\u2028'] }] }],
    clusters: [{ name: 'inbound|8080||"q\\ü<&>', own }, ...clusters],
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
  const sent = new Map<string, number>();
  return configs.map((c, i) => hashedLine(i + 1, c, sent));
}

/** Connectivity's types, whose bodies a job that computes it keeps. */
const KEPT = new Set(['listener', 'cluster', 'endpoint'] as const);

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
    const sent = new SentObjects(1);
    const got = jobLines().map((line) =>
      addGenerated(threaded, readGeneratedLine(line, sent), { index: new IdentityIndex(members), rep: members[0], members }),
    );
    expect(got).toEqual(expected.results);
    expect(got.map((r) => r.dependsOnIdentity)).toEqual([false, true, false]);
    expect([...threaded.objects.values()]).toEqual([...expected.collector.objects.values()]);
    expect([...threaded.nodes.values()]).toEqual([...expected.collector.nodes.values()]);
  });

  it("parses no object a job does not keep: the generator's canonical JSON is stored and hashed as it is", () => {
    const lines = jobLines();
    const collector = new EnvoyObjectCollector();
    const sent = new SentObjects(1);
    const parse = vi.spyOn(JSON, 'parse');
    addGenerated(collector, readGeneratedLine(lines[0], sent));
    addGenerated(collector, readGeneratedLine(lines[1], sent));
    addGenerated(collector, readGeneratedLine(lines[2], sent), { index: new IdentityIndex(members), rep: members[0], members });
    // Each answer's proxy, and the name with escapes of the two inbound clusters sent.
    expect(parse).toHaveBeenCalledTimes(3 + 2);
  });

  it('refuses answers read out of the order they were written: a ref it does not hold, or one sent out of turn', () => {
    const lines = jobLines();
    expect(() => addGenerated(new EnvoyObjectCollector(), readGeneratedLine(lines[2], new SentObjects(1)))).toThrow(/out of order/);
    expect(() => addGenerated(new EnvoyObjectCollector(), readGeneratedLine(lines[1], new SentObjects(1)))).toThrow(/out of order/);
  });

  it('finds every object of a line, strings with brackets, quotes and escapes included', () => {
    const c = config(proxy('web-1', '10.0.0.1'), '}]"\\');
    const bytes = hashedLine(7, c, new Map([['another', 0]]));
    const layout = scanGeneratedLine(bytes);
    const text = ([a, b]: [number, number]) => JSON.parse(new TextDecoder().decode(bytes.subarray(a, b))) as unknown;
    expect(text(layout.proxy!)).toEqual(c.proxy);
    for (const key of ['listeners', 'routes', 'clusters', 'endpoints'] as const) {
      const elements = layout.elements[key]!;
      expect(elements.map((e) => text(e.object!))).toEqual(c[key]);
      const read = readGeneratedLine(bytes, new SentObjects(1));
      expect(elements.map((e) => read.name(e.name))).toEqual(c[key].map((o) => o.name ?? o.clusterName));
    }
    const refs = (['listeners', 'routes', 'clusters', 'endpoints'] as const).flatMap((key) => layout.elements[key]!.map((e) => e.ref));
    expect(refs).toEqual(refs.map((_, i) => i + 1));
    const held = scanGeneratedLine(new TextEncoder().encode('{"id":1,"result":{"proxy":{},"listeners":[{"ref":0},{"ref":12345}]}}'));
    expect(held.elements.listeners).toEqual([
      { ref: 0, name: null, object: null },
      { ref: 12345, name: null, object: null },
    ]);
    expect(() => scanGeneratedLine(new TextEncoder().encode('{"id":1,"result":{"listeners":[]}}'))).toThrow(/proxyConfig/);
    const plain = new TextEncoder().encode(JSON.stringify({ id: 1, result: c }));
    expect(() => scanGeneratedLine(plain)).toThrow(/hashedProxyConfig/);
  });

  it('checks identity only when given the class', () => {
    const m: ClassMember = { namespace: 'shop', name: 'web-1', proxy: proxy('web-1', '10.0.0.1') };
    const c = config(m.proxy, '10.0.0.1');
    expect(
      addGenerated(new EnvoyObjectCollector(), readGeneratedLine(hashedLine(1, c, new Map()), new SentObjects(1))).dependsOnIdentity,
    ).toBe(false);
  });
});

describe("readGeneratedLine with the job's bodies (connectivity reads each class config)", () => {
  it("gives every answer's lists of the types kept, each object parsed once in the job and shared", () => {
    const collector = new EnvoyObjectCollector();
    const sent = new SentObjects(1, KEPT);
    const parse = vi.spyOn(JSON, 'parse');
    const read = jobLines().map((line) => {
      const r = readGeneratedLine(line, sent);
      addGenerated(collector, r);
      return r;
    });
    const lists = read.map((r) => ({ listeners: r.list('listeners'), clusters: r.list('clusters'), endpoints: r.list('endpoints') }));
    expect(lists).toEqual(configs.map(({ listeners, clusters, endpoints }) => ({ listeners, clusters, endpoints })));
    expect(lists[2].clusters[5]).toBe(lists[0].clusters[5]);
    // Each object of a kept type once, when sent, each answer's proxy, the two inbound clusters' names.
    expect(parse).toHaveBeenCalledTimes(sent.entries.filter((e) => KEPT.has(e.type as never)).length + read.length + 2);
    // Route configurations are not kept: not parsed at all.
    expect(sent.entries.map((e, ref) => sent.bodies[ref] !== undefined)).toEqual(sent.entries.map((e) => e.type !== 'route'));
    expect(() => read[2].list('routes')).toThrow(/no route bodies/);
  });
});

describe('ClassesThread', () => {
  /** The thread's results of the answers, added in order, and what it stores: as the parsed configs store. */
  async function expectStoredAsParsed(answers: RawAnswer[]) {
    const expected = direct();
    const thread = new ClassesThread(members);
    try {
      const got = [];
      for (const answer of answers) got.push(await thread.add(answer, { key: 'web', members }, true));
      expect(got).toEqual(expected.results);
      const { objects, nodes } = await thread.finish();
      expect(objects).toEqual([...expected.collector.objects.values()]);
      expect(nodes).toEqual([...expected.collector.nodes.values()]);
    } finally {
      await thread.close();
    }
  }

  it('stores from the answer lines what the parsed configs store', async () => {
    await expectStoredAsParsed(jobLines().map((line) => ({ line, process: 1 })));
  });

  it('gives back every object of the job, in order, however many parts they take', async () => {
    // Over OBJECT_PART.objects objects: the thread hands them over in several messages.
    const big = config(members[0].proxy, 'a', OBJECT_PART.objects + 300);
    const collector = new EnvoyObjectCollector();
    collector.addConfig(big);
    collector.addObject(PROXY_INFO_TYPE, '', classProxyInfo(big.proxy));
    const thread = new ClassesThread(members);
    try {
      await thread.add({ line: hashedLine(1, big, new Map()), process: 1 }, { key: 'web', members }, false);
      const { objects } = await thread.finish();
      expect(objects.length).toBeGreaterThan(2 * OBJECT_PART.objects);
      expect(objects).toEqual([...collector.objects.values()]);
    } finally {
      await thread.close();
    }
  });

  it("reads the answers of a session restarted mid-job by the new process's refs", async () => {
    const [first] = jobLines();
    // The new process holds nothing of what the one before sent: it numbers from 0 again.
    const again = new Map<string, number>();
    const after = configs.slice(1).map((c, i) => ({ line: hashedLine(i + 2, c, again), process: 2 }));
    await expectStoredAsParsed([{ line: first, process: 1 }, ...after]);
  });
});
