// Route configurations' virtual hosts, content-addressed for diffs (src/database/route-hosts.ts):
// the compute job indexes what it stores, as the migration indexes older snapshots; the views
// (Workload.proxyConfig, its routes) answer byte for byte the same with the index and without it;
// a diff over route configurations stored unindexed indexes them and answers the same; garbage
// collection takes the index with the route configurations.
import { getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { beforeAll, describe, expect, it } from 'vitest';
import { indexRouteHosts } from '../../src/database/route-hosts.js';
import { gcSettled, uploadSnapshot, useTestApp, waitReady } from '../support/test-app.js';
import { scenarios } from '../unit/diff/scenarios.js';

const t = useTestApp();
let dataSource: DataSource;
const ids = { base: '', head: '' };

beforeAll(async () => {
  dataSource = t.app.get(getDataSourceToken());
  // toGateway adds a virtual host to the gateway's routes and takes one from the sidecars'.
  const { base, head } = scenarios().toGateway!;
  ids.base = await uploadSnapshot(t.app, base, 'base');
  ids.head = await uploadSnapshot(t.app, head, 'head');
  await waitReady(t.app, ids.base);
  await waitReady(t.app, ids.head);
}, 300_000);

const indexRows = () =>
  dataSource.query(
    `SELECT encode(route, 'hex') AS route, rest::text AS rest, encode(hosts, 'hex') AS hosts, wildcards, keyed FROM envoy_route_hosts ORDER BY route`,
  );
const hostRows = () => dataSource.query(`SELECT encode(hash, 'hex') AS hash, body::text AS body FROM envoy_virtual_hosts ORDER BY hash`);
const dropIndex = () => dataSource.query('TRUNCATE envoy_route_hosts, envoy_virtual_hosts');

/** Each workload's proxyConfig (its routes, then its whole config dump), as the GraphQL answers' text, from a fresh server: nothing cached. */
async function views(): Promise<string[]> {
  const app = await t.startAnother();
  const gql = async (query: string, variables: Record<string, unknown>) => {
    const res = await request(app.getHttpServer()).post('/graphql').send({ query, variables });
    expect(res.body.errors).toBeUndefined();
    return res;
  };
  const listed = await gql('query ($id: ID!) { snapshot(id: $id) { workloads { namespace name proxyType } } }', { id: ids.head });
  const out: string[] = [];
  for (const w of listed.body.data.snapshot.workloads as { namespace: string; name: string; proxyType: string }[]) {
    if (w.proxyType === 'NONE') continue;
    const res = await gql(
      `query ($id: ID!, $p: ProxyInput!) { proxyConfig(snapshotId: $id, proxy: $p) {
         routes { name virtualHosts { name domains routes { name match cluster config } } config } configDump } }`,
      { id: ids.head, p: { namespace: w.namespace, name: w.name } },
    );
    out.push(res.text);
  }
  return out;
}

describe('route hosts', () => {
  it('indexes every route configuration the compute job stores, as the migration would', async () => {
    const [{ routes }] = await dataSource.query(`SELECT count(*)::int AS routes FROM envoy_objects WHERE type = 'route'`);
    const computed = { index: await indexRows(), hosts: await hostRows() };
    expect(computed.index).toHaveLength(routes);
    expect(computed.hosts.length).toBeGreaterThan(0);
    await dropIndex();
    await indexRouteHosts(dataSource, null);
    expect({ index: await indexRows(), hosts: await hostRows() }).toEqual(computed);
  });

  it('leaves the views byte-identical, and a diff over unindexed route configurations the same', async () => {
    const diff = async () => {
      const app = await t.startAnother();
      const res = await request(app.getHttpServer()).get(`/api/v1/snapshots/${ids.base}/diff/${ids.head}?format=json`);
      expect(res.status).toBe(200);
      return res.text;
    };
    const indexed = { views: await views(), diff: await diff() };
    expect(indexed.views.join('')).toContain('virtualHosts');
    await dropIndex();
    expect(await views()).toEqual(indexed.views);
    expect(await diff()).toBe(indexed.diff);
    // the diff indexed the changed route configurations it read
    expect((await indexRows()).length).toBeGreaterThan(0);
  });

  it('is collected with the route configurations', async () => {
    for (const id of [ids.base, ids.head]) expect((await t.api().delete(`/api/v1/snapshots/${id}`)).status).toBeLessThan(300);
    await gcSettled(t.db);
    expect(
      await dataSource.query(
        'SELECT (SELECT count(*)::int FROM envoy_route_hosts) AS r, (SELECT count(*)::int FROM envoy_virtual_hosts) AS v',
      ),
    ).toEqual([{ r: 0, v: 0 }]);
  });
});
