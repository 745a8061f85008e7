// Route configurations read trimmed for a diff (ProxyConfigStore.trimmedRoutePairs): Postgres keeps
// the virtual hosts that differ position by position, and the wildcard ones; the diff of the
// trimmed pair is the diff of the whole pair, and pairs whose virtual hosts are not keyed by
// distinct names are not trimmed at all.
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { beforeAll, describe, expect, it } from 'vitest';
import { ProxyConfigStore } from '../../src/database/proxy-config.store.js';
import { diffJson } from '../../src/diff/json-diff.js';
import { contentHash } from '../../src/model/canonical.js';
import type { EnvoyObject } from '../../src/model/proxy.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();
let store: ProxyConfigStore;
let dataSource: DataSource;

const vhost = (host: string, cluster = `outbound|80||${host}`, domains = [host]) => ({
  name: `${host}:80`,
  domains,
  routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster, timeout: '0s' } }],
});
const wildcard = {
  name: 'allow_any',
  domains: ['*'],
  routes: [{ name: 'allow_any', match: { prefix: '/' }, route: { cluster: 'PassthroughCluster' } }],
};
const routeConfig = (virtualHosts: unknown, extra: Record<string, unknown> = {}): EnvoyObject => ({
  name: '80',
  validateClusters: false,
  ignorePortInHostMatching: true,
  virtualHosts: virtualHosts as EnvoyObject[],
  ...extra,
});

async function stored(body: EnvoyObject): Promise<string> {
  const hash = contentHash(body);
  await dataSource.query(
    `INSERT INTO envoy_objects (hash, type, name, body) VALUES (decode($1, 'hex'), 'route', $2, $3::jsonb) ON CONFLICT (hash) DO NOTHING`,
    [hash, body.name, JSON.stringify(body)],
  );
  return hash;
}

const hosts = Array.from({ length: 200 }, (_, i) => vhost(`svc-${String(i).padStart(3, '0')}.team.svc.cluster.local`));

beforeAll(() => {
  store = t.app.get(ProxyConfigStore);
  dataSource = t.app.get(getDataSourceToken());
});

describe('trimmed route configuration pairs', () => {
  it('gives the whole pair’s field changes from the differing virtual hosts, and keeps the wildcard ones', async () => {
    const base = routeConfig([...hosts.slice(0, 100), wildcard, ...hosts.slice(100)]);
    // one host's cluster changed, one inserted (every later position shifts), one removed, a top-level field changed
    const changed = hosts.map((h, i) =>
      i === 10 ? vhost('svc-010.team.svc.cluster.local', 'outbound|80|v2|svc-010.team.svc.cluster.local') : h,
    );
    const head = routeConfig(
      [...changed.slice(0, 50), vhost('new.team.svc.cluster.local'), ...changed.slice(50, 100), wildcard, ...changed.slice(100, 199)],
      { validateClusters: true },
    );
    const pair = { base: await stored(base), head: await stored(head) };
    const trimmed = (await store.trimmedRoutePairs([pair])).get(`${pair.base}|${pair.head}`);
    expect(trimmed).toBeDefined();
    expect(diffJson(trimmed!.base, trimmed!.head)).toEqual(diffJson(base, head));
    const names = (rc: EnvoyObject) => (rc.virtualHosts as { name: string }[]).map((v) => v.name);
    expect(names(trimmed!.base)).toContain('allow_any');
    expect(names(trimmed!.head)).toContain('allow_any');
    // the first 10 hosts are equal in place: never sent
    expect(names(trimmed!.head)).not.toContain(hosts[0]!.name);
    expect(trimmed!.head.validateClusters).toBe(true);
  });

  it('sends a few kilobytes for a big pair that differs in one host', async () => {
    const base = routeConfig(hosts);
    const head = routeConfig(hosts.map((h, i) => (i === 150 ? vhost('svc-150.team.svc.cluster.local', 'outbound|80|v2|x') : h)));
    const pair = { base: await stored(base), head: await stored(head) };
    const trimmed = (await store.trimmedRoutePairs([pair])).get(`${pair.base}|${pair.head}`)!;
    expect(diffJson(trimmed.base, trimmed.head)).toEqual(diffJson(base, head));
    expect((trimmed.base.virtualHosts as unknown[]).length).toBe(1);
    expect(trimmed.bytes).toBeLessThan(JSON.stringify(base).length / 50);
  });

  it('leaves out pairs whose virtual hosts are not keyed by distinct string names', async () => {
    const head = routeConfig(hosts.slice(0, 3));
    const duplicate = routeConfig([hosts[0], hosts[0], hosts[2]]);
    const unnamed = routeConfig([{ domains: ['x'] }, hosts[1], hosts[2]]);
    const notAnArray = routeConfig({ [hosts[0]!.name]: hosts[0] });
    const pairs = [
      { base: await stored(duplicate), head: await stored(head) },
      { base: await stored(unnamed), head: await stored(head) },
      { base: await stored(notAnArray), head: await stored(head) },
    ];
    expect([...(await store.trimmedRoutePairs(pairs)).keys()]).toEqual([]);
  });
});
