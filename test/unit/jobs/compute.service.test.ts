// ComputeService with its stores and the generator faked (no database, no generator process): one
// generator request per proxy class, each class stored once, members pointing at their class, a
// class split when its config names a member, a class Istio fails on left out, progress reported
// forward only.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import type { ComputedSnapshot, ProxyConfigStore } from '../../../src/database/proxy-config.store.js';
import type { SnapshotStore } from '../../../src/database/snapshot.store.js';
import { GeneratorError } from '../../../src/generator/protocol.js';
import { ComputeService } from '../../../src/jobs/compute.service.js';
import { NO_GATEWAY_API } from '../../../src/model/gateway-api.js';
import type { GeneratedConfig, ProxyInfo } from '../../../src/model/proxy.js';
import { connectivityComputation } from '../../../src/connectivity/factory.js';
import { normaliseSnapshot } from '../../../src/ingest/normalise.js';
import { groupIntoClasses } from '../../../src/jobs/proxy-classes.js';
import type { Connectivity } from '../../../src/model/connectivity.js';
import { cluster, generated, outboundHttpListener, virtualInbound } from '../../support/envoy-fixtures.js';
import { fake } from '../../support/fakes.js';
import { fakeGenerator, type Answers } from '../../support/fake-generator.js';
import { namespace, pod, resources, service } from '../../support/mesh.js';

const SNAPSHOT = 'snap-1';
const MESH = resources(
  namespace('shop'),
  service('shop', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]),
  pod('shop', 'web-1', { labels: { app: 'web' }, ip: '10.0.0.11' }),
  pod('shop', 'web-2', { labels: { app: 'web' }, ip: '10.0.0.12' }),
  pod('shop', 'db-1', { labels: { app: 'db' }, ip: '10.0.0.21' }),
  namespace('legacy', { injection: false }),
  pod('legacy', 'old', { ip: '10.0.1.1' }),
);
const SIDECARS: Record<string, { labels: Record<string, string>; ip: string }> = {
  'web-1': { labels: { app: 'web' }, ip: '10.0.0.11' },
  'web-2': { labels: { app: 'web' }, ip: '10.0.0.12' },
  'db-1': { labels: { app: 'db' }, ip: '10.0.0.21' },
};

function proxyInfo(name: string): ProxyInfo {
  const { labels, ip } = SIDECARS[name]!;
  return {
    id: `${name}.shop`,
    type: 'SIDECAR',
    namespace: 'shop',
    configNamespace: 'shop',
    labels,
    ips: [ip],
    istioVersion: '1.31.0',
    serviceTargets: [],
  };
}

/** The config istiod gives a sidecar of shop: the same for every pod of an app unless `extra` names one. */
function configOf(name: string, extra: (name: string) => string[] = () => []): GeneratedConfig {
  return generated({
    proxy: proxyInfo(name),
    listeners: [outboundHttpListener(80)],
    clusters: [cluster('outbound|80||web.shop.svc.cluster.local'), ...extra(name).map((c) => cluster(c))],
  });
}

/** db's workload policy: STRICT, PERMISSIVE on its port 9090; web: no policy (Istio's default). */
const DB_MTLS = {
  mode: 'STRICT',
  peerAuthentication: { kind: 'PeerAuthentication', namespace: 'shop', name: 'db' },
  ports: { '9090': { mode: 'PERMISSIVE', peerAuthentication: { kind: 'PeerAuthentication', namespace: 'shop', name: 'db' } } },
};
const DEFAULT_MTLS = { mode: 'PERMISSIVE', peerAuthentication: null, ports: {} };

/** The endpoints istiod gives every sidecar: web's pods on 8080, db's on 5432. */
const ENDPOINTS = [
  { clusterName: 'outbound|80||web.shop.svc.cluster.local', ips: ['10.0.0.11', '10.0.0.12'], port: 8080 },
  { clusterName: 'outbound|5432||db.shop.svc.cluster.local', ips: ['10.0.0.21'], port: 5432 },
].map(({ clusterName, ips, port }) => ({
  clusterName,
  endpoints: [{ lbEndpoints: ips.map((address) => ({ endpoint: { address: { socketAddress: { address, portValue: port } } } })) }],
}));

/** A sidecar's whole config as connectivity reads it: its inbound listener, clusters to both services and their endpoints. */
function fullConfigOf(name: string, extra: (name: string) => string[] = () => []): GeneratedConfig {
  return generated({
    proxy: proxyInfo(name),
    listeners: [virtualInbound(name.startsWith('db') ? 5432 : 8080), outboundHttpListener(80)],
    clusters: [...ENDPOINTS.map((e) => cluster(e.clusterName)), ...extra(name).map((c) => cluster(c))],
    endpoints: ENDPOINTS as GeneratedConfig['endpoints'],
  });
}

function setup(answers: Partial<Answers> = {}, connectivity?: URL) {
  const saved: { snapshotId: string; computed: ComputedSnapshot }[] = [];
  const generator = fakeGenerator({
    version: () => ({ istio: '1.31.0', module: 'istio.io/istio' }),
    proxies: () => [
      ...Object.keys(SIDECARS).map((name) => ({ namespace: 'shop', name, kind: 'Pod', proxy: proxyInfo(name) })),
      { namespace: 'legacy', name: 'old', kind: 'Pod', error: 'no sidecar' },
    ],
    analyze: () => [],
    gatewayApi: () => NO_GATEWAY_API,
    proxyConfig: ({ proxy }) => configOf(proxy.name!),
    mesh: () => ({ trustDomain: 'example.org', trustDomainAliases: ['old.example.org'], rootNamespace: 'istio-system' }),
    peerAuthentication: ({ proxy }) => ({
      ...(proxy.name === 'db-1' ? DB_MTLS : DEFAULT_MTLS),
      policies: proxy.name === 'db-1' ? [DB_MTLS.peerAuthentication] : [],
      rootNamespace: 'istio-system',
    }),
    ...answers,
  });
  const service = new ComputeService(
    fake<SnapshotStore>({ resources: async () => MESH, previousReady: async () => null }),
    fake<ProxyConfigStore>({
      saveComputation: async (snapshotId, computed) => {
        saved.push({ snapshotId, computed });
      },
    }),
    generator.service,
    { ...loadConfig({}), computeConcurrency: 2 },
    connectivity,
  );
  const progress: number[] = [];
  const compute = () =>
    service.compute(SNAPSHOT, async (fraction) => {
      progress.push(fraction);
    });
  const configRequests = () =>
    generator.asked.filter((a) => a.method === 'hashedProxyConfig').map((a) => (a.params as { proxy: { name: string } }).proxy.name);
  return { compute, saved, progress, configRequests, generator };
}

/**
 * The connectivity the builder gives when fed each stored class's parsed config in process (as the
 * compute job did before its thread read them): what the thread must store, byte for byte.
 */
function connectivityInProcess(
  computed: ComputedSnapshot,
  config: (name: string) => GeneratedConfig,
  proxies: WorkloadProxyList,
): Connectivity {
  const normalised = normaliseSnapshot(MESH);
  const pods = new Map(
    normalised.generatorInput.kubernetes
      .filter((o) => o.kind === 'Pod')
      .map((o) => {
        const m = o.metadata as { namespace: string; name: string };
        return [`${m.namespace}/${m.name}`, o] as const;
      }),
  );
  const classes = groupIntoClasses(proxies, pods);
  const computation = connectivityComputation({
    workloads: computed.workloads,
    // All of the snapshot's objects: the job sends its thread only kube-proxy's, which must lose nothing.
    kubeProxyInput: normalised.generatorInput,
    trustDomain: 'cluster.local',
    classes,
    peerAuthentications: new Map(classes.map((c) => [c.classKey, null])),
  });
  for (const c of computed.classes) {
    const members = computed.workloads.filter((w) => w.proxyClass === c.classKey);
    computation.addClass(c.classKey, members, config(members[0]!.name));
  }
  return computation.build();
}
type WorkloadProxyList = Parameters<typeof groupIntoClasses>[0];

const classOf = (computed: ComputedSnapshot) =>
  Object.fromEntries(computed.workloads.map((w) => [`${w.namespace}/${w.name}`, w.proxyClass]));

describe('ComputeService', () => {
  it('asks the generator once per proxy class and stores each class once, in one save', async () => {
    const { compute, saved, configRequests } = setup();
    const stats = await compute();
    expect(stats).toMatchObject({ proxies: 3, classes: 2, splitClasses: 0, generatorRequests: 2 });
    // web-1 and web-2 are one class: its first member (by name) is asked.
    expect(configRequests().sort()).toEqual(['db-1', 'web-1']);
    expect(saved).toHaveLength(1);
    const { snapshotId, computed } = saved[0]!;
    expect(snapshotId).toBe(SNAPSHOT);
    expect(computed.istioVersion).toBe('1.31.0');
    expect(computed.classes.map((c) => c.members).sort()).toEqual([1, 2]);
    expect(new Set(computed.classes.map((c) => c.classKey)).size).toBe(2);
    const classes = classOf(computed);
    expect(classes['shop/web-1']).toBe(classes['shop/web-2']);
    expect(classes['shop/db-1']).not.toBe(classes['shop/web-1']);
    expect(classes['legacy/old']).toBeNull();
    expect(computed.workloads.find((w) => w.name === 'old')).toMatchObject({ proxyType: 'NONE' });
    // Objects the two classes share (the web cluster, the listener) are stored once.
    const names = computed.objects.map((o) => `${o.type}/${o.name}`);
    expect(names.filter((n) => n === 'cluster/outbound|80||web.shop.svc.cluster.local')).toHaveLength(1);
  });

  it('reports progress forward only, from the first steps to the end of the classes and connectivity', async () => {
    const { compute, progress } = setup();
    await compute();
    expect(progress[0]).toBe(0.05);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    // The classes end at 0.95; connectivity, built from them, ends at 0.97 (the save does the rest).
    expect(progress).toContainEqual(expect.closeTo(0.95));
    expect(progress.at(-1)).toBeCloseTo(0.97);
    expect(progress.every((f) => f > 0 && f <= 1)).toBe(true);
  });

  it("splits a class whose config names a member's address: each member gets its own", async () => {
    const { compute, saved, configRequests } = setup({
      proxyConfig: ({ proxy }) => configOf(proxy.name!, (name) => (name.startsWith('web') ? [`inbound|8080||${SIDECARS[name]!.ip}`] : [])),
    });
    const stats = await compute();
    expect(stats).toMatchObject({ classes: 3, splitClasses: 1, generatorRequests: 3 });
    expect(configRequests().sort()).toEqual(['db-1', 'web-1', 'web-2']);
    const classes = classOf(saved[0]!.computed);
    expect(classes['shop/web-1']).not.toBe(classes['shop/web-2']);
  });

  it("computes connectivity on the job's thread: what the builder gives fed each class's config, split classes included", async () => {
    const module = new URL('../../../src/connectivity/factory.js', import.meta.url);
    const own = (name: string) => (name.startsWith('web') ? [`inbound|8080||${SIDECARS[name]!.ip}`] : []);
    for (const extra of [() => [], own]) {
      const config = (name: string) => fullConfigOf(name, extra);
      // No PeerAuthentication selects any class, as connectivityInProcess assumes.
      const { compute, saved, generator } = setup(
        {
          proxyConfig: ({ proxy }) => config(proxy.name!),
          peerAuthentication: () => ({ ...DEFAULT_MTLS, policies: [], rootNamespace: 'istio-system' }),
        },
        module,
      );
      const stats = await compute();
      const { computed } = saved[0]!;
      const proxies = (await generator.service.ask(SNAPSHOT, 'proxies', {})) as WorkloadProxyList;
      const expected = connectivityInProcess(computed, config, proxies);
      expect(computed.connectivity).toEqual(expected);
      // web-1 and web-2 (one class, or two once split) reach both services; legacy/old through kube-proxy.
      expect(expected.groups.length).toBeGreaterThan(0);
      expect(new Set(expected.senders.map((s) => s.name))).toEqual(new Set(['web-1', 'web-2', 'db-1', 'old']));
      expect(stats.senderClasses).toBeGreaterThan(0);
      if (extra === own) {
        expect(stats.splitClasses).toBe(1);
        const web1 = computed.workloads.find((w) => w.name === 'web-1')!.proxyClass!;
        expect(computed.classes.map((c) => c.classKey)).toContain(web1);
        expect(web1).not.toBe(computed.workloads.find((w) => w.name === 'web-2')!.proxyClass);
      }
    }
  });

  it('a class Istio fails on gets no stored config; the others are stored', async () => {
    const { compute, saved } = setup({
      proxyConfig: ({ proxy }) => {
        if (proxy.name === 'db-1') throw new GeneratorError('INTERNAL', 'panic in istiod');
        return configOf(proxy.name!);
      },
    });
    expect(await compute()).toMatchObject({ classes: 1, proxies: 2 });
    const classes = classOf(saved[0]!.computed);
    expect(classes['shop/db-1']).toBeNull();
    expect(classes['shop/web-1']).not.toBeNull();
  });

  it("stores the trust domain and each class's PeerAuthentication resolution, for journeys to read", async () => {
    const { compute, saved } = setup();
    await compute();
    const { computed } = saved[0]!;
    const classes = classOf(computed);
    const { meshSecurity } = computed;
    expect(meshSecurity).toMatchObject({ trustDomain: 'example.org', trustDomainAliases: ['old.example.org'] });
    const of = (w: string) => meshSecurity.peerAuthentications[meshSecurity.classes[classes[w]!]!];
    expect(of('shop/web-1')).toEqual(DEFAULT_MTLS);
    expect(of('shop/db-1')).toEqual(DB_MTLS);
    expect(Object.keys(meshSecurity.classes)).toHaveLength(2);
  });

  it("a split class's members share its resolution, stored once; an unresolved class is left out, one without a proxy is null", async () => {
    const { compute, saved } = setup({
      proxyConfig: ({ proxy }) => configOf(proxy.name!, (name) => (name.startsWith('web') ? [`inbound|8080||${SIDECARS[name]!.ip}`] : [])),
      peerAuthentication: ({ proxy }) => {
        throw proxy.name === 'db-1' ? new GeneratorError('INTERNAL', 'panic in istiod') : new GeneratorError('NO_PROXY', 'no proxy');
      },
    });
    await compute();
    const { computed } = saved[0]!;
    const classes = classOf(computed);
    expect(computed.meshSecurity.classes).toEqual({ [classes['shop/web-1']!]: null, [classes['shop/web-2']!]: null });

    const split = setup({
      proxyConfig: ({ proxy }) => configOf(proxy.name!, (name) => (name.startsWith('web') ? [`inbound|8080||${SIDECARS[name]!.ip}`] : [])),
    });
    await split.compute();
    const { meshSecurity } = split.saved[0]!.computed;
    expect(meshSecurity.peerAuthentications).toHaveLength(2);
    const splitClasses = classOf(split.saved[0]!.computed);
    expect(meshSecurity.classes[splitClasses['shop/web-1']!]).toBe(meshSecurity.classes[splitClasses['shop/web-2']!]);
  });

  it('a generator that died fails the computation, and nothing is stored', async () => {
    const { compute, saved } = setup({
      proxyConfig: () => {
        throw new GeneratorError('EXITED', 'generator exited');
      },
    });
    await expect(compute()).rejects.toThrow('generator exited');
    expect(saved).toEqual([]);
  });
});
