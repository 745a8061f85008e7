// The diff of two READY snapshots reads the proxy classes the worker stored (StoredConfigSource):
// no generator request, the same proxy changes as the generator-backed source, nothing read for
// classes that did not change, and the generator asked only for a class with no stored config.
// Needs the generator binary (`npm run build:generator`).
import { availableParallelism } from 'node:os';
import { getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ListNodeStore } from '../../src/database/list-node.store.js';
import { ProxyConfigStore } from '../../src/database/proxy-config.store.js';
import { WorkloadStore } from '../../src/database/workload.store.js';
import { proxyChanges } from '../../src/diff/diff.js';
import { PROXY_CONFIG_SOURCE } from '../../src/diff/diff.service.js';
import { GeneratorConfigSource } from '../../src/diff/generator-source.js';
import type { ProxyConfigChange } from '../../src/diff/model.js';
import { StoredConfigSource } from '../../src/diff/stored-source.js';
import { GeneratorService } from '../../src/generator/generator.service.js';
import { uploadSnapshot, waitReady, useTestApp } from '../support/test-app.js';
import { scenarios } from '../unit/diff/scenarios.js';

// toGateway adds a virtual host to the gateway's routes and takes one from the sidecars': trimmed route pairs whose positions shift.
const PAIRS = ['canary', 'circuitBreaker', 'missingSubset', 'noise', 'toGateway'] as const;

const t = useTestApp();
let generator: GeneratorService;
let dataSource: DataSource;
const ids: Record<string, { base: string; head: string }> = {};

/** The generator's requests by method while `fn` runs. */
async function generatorCalls<T>(fn: () => Promise<T>): Promise<{ result: T; calls: Record<string, number> }> {
  const spy = vi.spyOn(generator, 'ask');
  try {
    const result = await fn();
    const calls: Record<string, number> = {};
    for (const [, method] of spy.mock.calls) calls[method] = (calls[method] ?? 0) + 1;
    return { result, calls };
  } finally {
    spy.mockRestore();
  }
}

/** A StoredConfigSource of its own (empty caches), recording its SQL. */
function recordingSource(): { source: StoredConfigSource; sql: string[] } {
  const sql: string[] = [];
  const recording = {
    query: (text: string, params?: unknown[]) => (sql.push(text.replace(/\s+/g, ' ')), dataSource.query(text, params)),
  } as unknown as DataSource;
  const lists = new ListNodeStore(recording);
  const store = new ProxyConfigStore(recording, new WorkloadStore(recording, lists), lists);
  return {
    source: new StoredConfigSource(store, new GeneratorConfigSource((id, method, params) => generator.ask(id, method, params))),
    sql,
  };
}

const generatorSource = () => new GeneratorConfigSource((id, method, params) => generator.ask(id, method, params));

/** The class keys are each source's own (the worker's finer classes vs ProxyInfo hashes); all else must be equal. */
const withoutKeys = (changes: ProxyConfigChange[]) => changes.map(({ classKey: _k, classKeys: _ks, ...rest }) => rest);

beforeAll(async () => {
  generator = t.app.get(GeneratorService);
  dataSource = t.app.get(getDataSourceToken());
  const all = scenarios();
  for (const key of PAIRS)
    ids[key] = {
      base: await uploadSnapshot(t.app, all[key]!.base, `${key}-base`),
      head: await uploadSnapshot(t.app, all[key]!.head, `${key}-head`),
    };
  for (const pair of Object.values(ids)) {
    await waitReady(t.app, pair.base);
    await waitReady(t.app, pair.head);
  }
}, 300_000);

describe('the diff reads stored proxy config', () => {
  it('is the provider of PROXY_CONFIG_SOURCE', () => {
    expect(t.app.get(PROXY_CONFIG_SOURCE)).toBeInstanceOf(StoredConfigSource);
  });

  it('asks the generator nothing when diffing two READY snapshots (REST and GraphQL)', async () => {
    const { base, head } = ids.canary!;
    const { result, calls } = await generatorCalls(async () => {
      const rest = await request(t.app.getHttpServer()).get(`/api/v1/snapshots/${base}/diff/${head}`);
      const gql = await request(t.app.getHttpServer())
        .post('/graphql')
        .send({
          query: `query ($b: ID!, $h: ID!) { diff(baseId: $b, headId: $h) { proxies { classKeys workloads { name } routing { sentence } } } }`,
          variables: { b: base, h: head },
        });
      return { rest, gql };
    });
    expect(result.rest.status).toBe(200);
    expect(result.rest.body.summary).toMatchObject({ proxyClassesChanged: 3, workloadsAffected: 3, effectiveChange: true });
    expect(result.gql.body.errors).toBeUndefined();
    // the three sidecars' classes change the same way: one entry
    const [only, ...others] = result.gql.body.data.diff.proxies;
    expect(others).toEqual([]);
    expect(only.classKeys).toHaveLength(3);
    expect(only.workloads.map((w: { name: string }) => w.name)).toEqual(['catalog', 'catalog-v2', 'webapp']);
    expect(calls).toEqual({});
  });

  it.each(PAIRS)('gives the generator-backed source’s proxy changes: %s', async (key) => {
    const { base, head } = ids[key]!;
    const stored = await generatorCalls(() => proxyChanges(recordingSource().source, base, head));
    expect(stored.calls).toEqual({});
    const generated = await proxyChanges(generatorSource(), base, head);
    expect(withoutKeys(stored.result)).toEqual(withoutKeys(generated));
    if (key !== 'noise') expect(stored.result.length).toBeGreaterThan(0);
  });

  it('reads no tree and no object for classes whose config did not change; bodies by hash in one query per round', async () => {
    const noise = recordingSource();
    expect(await proxyChanges(noise.source, ids.noise!.base, ids.noise!.head)).toEqual([]);
    expect(noise.sql.filter((q) => /envoy_config_nodes|envoy_objects/.test(q))).toEqual([]);

    const canary = recordingSource();
    await proxyChanges(canary.source, ids.canary!.base, ids.canary!.head);
    // the changed route configurations, trimmed by Postgres to their differing virtual hosts, in a query per core at most
    const trimmed = canary.sql.filter((q) => /AS base_rest/.test(q)).length;
    expect(trimmed).toBeGreaterThanOrEqual(1);
    expect(trimmed).toBeLessThanOrEqual(availableParallelism());
    // then the clusters and endpoints their routes now send to
    expect(canary.sql.filter((q) => /body::text AS body FROM envoy_objects/.test(q)).length).toBeLessThanOrEqual(1);
    // a second diff of the pair: trees, names and bodies are cached (content-addressed, never stale)
    canary.sql.length = 0;
    await proxyChanges(canary.source, ids.canary!.base, ids.canary!.head);
    expect(canary.sql.filter((q) => /envoy_config_nodes|envoy_objects/.test(q))).toEqual([]);
  });

  it('asks the generator for a class with no stored config, that class only', async () => {
    const { base, head } = ids.canary!;
    const expected = await proxyChanges(recordingSource().source, base, head);
    // As if the worker had failed on these classes (a GeneratorError INTERNAL leaves no row): the
    // changed webapp, and the gateway, whose config does not change and must still compare equal.
    const workloadStore = t.app.get(WorkloadStore);
    const listed = await workloadStore.list(head);
    const failed = new Set(listed.filter((w) => ['webapp', 'istio-ingressgateway'].includes(w.name)).map((w) => w.proxyClass));
    expect(
      listed
        .filter((w) => failed.has(w.proxyClass))
        .map((w) => w.name)
        .sort(),
    ).toEqual(['istio-ingressgateway', 'webapp']);
    await dataSource.transaction((em) =>
      workloadStore.replaceIn(
        em,
        head,
        listed.map((w) => (failed.has(w.proxyClass) ? { ...w, proxyClass: null } : w)),
      ),
    );
    try {
      const { result, calls } = await generatorCalls(() => proxyChanges(recordingSource().source, base, head));
      expect(calls).toEqual({ proxies: 1, proxyConfig: 2 });
      expect(withoutKeys(result)).toEqual(withoutKeys(expected));
      expect(result.some((p) => p.workloads.some((w) => w.name === 'istio-ingressgateway'))).toBe(false);
    } finally {
      await dataSource.transaction((em) => workloadStore.replaceIn(em, head, listed));
    }
  });
});
