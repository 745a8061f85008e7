import { describe, expect, it } from 'vitest';
import { EnvoyObjectCollector, toGeneratedLists } from '../../../src/database/envoy-tree.js';

/** A sidecar's config: its own inbound listener and cluster, and every outbound cluster of the mesh with its endpoints. */
function sidecar(own: string, outbound: number, change: (name: string) => number = () => 0) {
  const names = Array.from({ length: outbound }, (_, i) => `outbound|80||svc-${i}.ns.svc.cluster.local`);
  return {
    listeners: [{ name: 'virtualInbound', own }, { name: 'virtualOutbound' }],
    routes: [{ name: '80', virtualHosts: [] }],
    clusters: [{ name: 'inbound|8080||', own }, ...names.map((name) => ({ name, connectTimeout: `${10 + change(name)}s` }))],
    endpoints: names.map((clusterName) => ({ clusterName })),
  };
}

describe('EnvoyObjectCollector', () => {
  it('the same objects in any order: the same root (config hash)', () => {
    const config = sidecar('a', 200);
    const shuffled = { ...config, clusters: [...config.clusters].reverse(), endpoints: [...config.endpoints].reverse() };
    expect(new EnvoyObjectCollector().addConfig(shuffled).root).toBe(new EnvoyObjectCollector().addConfig(config).root);
    expect(new EnvoyObjectCollector().addConfig(sidecar('b', 200)).root).not.toBe(new EnvoyObjectCollector().addConfig(config).root);
  });

  it('counts each type', () => {
    expect(new EnvoyObjectCollector().addConfig(sidecar('a', 200)).counts).toEqual({ listener: 2, route: 1, cluster: 201, endpoint: 200 });
  });

  it('proxies that differ in their own objects share the trees of the mesh-wide segments and the leaves of the rest', () => {
    const collector = new EnvoyObjectCollector();
    collector.addConfig(sidecar('a', 500));
    const nodes = collector.nodes.size;
    collector.addConfig(sidecar('b', 500));
    // its root, and its own leaves of listeners and of small cluster segments (the routes' is shared)
    expect(collector.nodes.size).toBe(nodes + 3);
  });

  it('one changed outbound cluster: one new leaf and the nodes above it, shared by every class', () => {
    const collector = new EnvoyObjectCollector();
    for (const own of ['a', 'b', 'c']) collector.addConfig(sidecar(own, 2000));
    const before = new Set(collector.nodes.keys());
    const changed = (name: string) => (name.includes('svc-777.') ? 1 : 0);
    const roots = new Set(['a', 'b', 'c'].map((own) => collector.addConfig(sidecar(own, 2000, changed)).root));
    const added = [...collector.nodes.values()].filter((n) => !before.has(n.hash));
    expect(added.filter((n) => roots.has(n.hash))).toHaveLength(3);
    // the segment's path: a leaf and its ancestors, at most a few levels
    expect(added.length - roots.size).toBeGreaterThanOrEqual(2);
    expect(added.length - roots.size).toBeLessThanOrEqual(4);
  });

  it('no node of a segment tree holds more than 56 hashes (stays under Postgres TOAST threshold)', () => {
    const collector = new EnvoyObjectCollector();
    collector.addConfig(sidecar('a', 5000));
    for (const n of collector.nodes.values()) expect(n.children.length + n.objects.length).toBeLessThanOrEqual(56);
  });
});

describe('toGeneratedLists', () => {
  it('each type in its list, by name', () => {
    const lists = toGeneratedLists([
      { type: 'cluster', name: 'b', body: { name: 'b' } },
      { type: 'listener', name: 'l', body: { name: 'l' } },
      { type: 'cluster', name: 'a', body: { name: 'a' } },
    ]);
    expect(lists).toEqual({ listeners: [{ name: 'l' }], routes: [], clusters: [{ name: 'a' }, { name: 'b' }], endpoints: [] });
  });
});
