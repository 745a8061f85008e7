// Every workload's config, computed by the worker once per proxy class and stored content-addressed:
// class grouping, stored config = generated config, proxyStatus, Workload.proxyConfig batched,
// idempotent recomputation, garbage collection, and a worker killed with SIGKILL mid-job.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ProxyConfigStore } from '../../src/database/proxy-config.store.js';
import { WorkloadStore } from '../../src/database/workload.store.js';
import { GeneratorService } from '../../src/generator/generator.service.js';
import type { GeneratedConfig } from '../../src/model/proxy.js';
import { ComputeService } from '../../src/jobs/compute.service.js';
import { ProxyConfigService } from '../../src/proxy-config/proxy-config.service.js';
import { ProxyType } from '../../src/graphql/enums.js';
import { canonicalJson } from '../../src/model/canonical.js';
import { eventually, gcSettled, uploadSnapshot, useTestApp, waitReady, type TestApp } from '../support/test-app.js';

const MANY = 12;

/**
 * web-1, web-2: one class (same labels, same Services). db-1, db-2: a headless Service with a TCP
 * port gives each sidecar an outbound listener per *other* endpoint (istiod skips the proxy's own
 * IP), so their configs differ and their class must be split. gw-1, gw-2: routers, one class.
 * many-*: MANY class-mates, for the batched Workload.proxyConfig.
 */
const MESH = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: istio-system}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{name: tcp, port: 5432}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: shop, labels: {app: web, version: v1}}
spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 8080, name: http}]}]}
status: {podIP: 10.0.0.11}
---
apiVersion: v1
kind: Pod
metadata: {name: web-2, namespace: shop, labels: {app: web, version: v1}}
spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 8080, name: http}]}]}
status: {podIP: 10.0.0.12}
---
apiVersion: v1
kind: Pod
metadata: {name: db-1, namespace: shop, labels: {app: db}}
spec: {containers: [{name: db, image: postgres, ports: [{containerPort: 5432}]}]}
status: {podIP: 10.0.0.21}
---
apiVersion: v1
kind: Pod
metadata: {name: db-2, namespace: shop, labels: {app: db}}
spec: {containers: [{name: db, image: postgres, ports: [{containerPort: 5432}]}]}
status: {podIP: 10.0.0.22}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: api}]}
---
apiVersion: v1
kind: Pod
metadata: {name: legacy, namespace: default, labels: {app: legacy}}
spec: {containers: [{name: legacy, image: busybox}]}
status: {podIP: 10.1.2.3}
---
apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: gw-1, namespace: istio-system, labels: {istio: ingressgateway}}
spec: {containers: [{name: istio-proxy, image: proxyv2, args: [proxy, router]}]}
status: {podIP: 10.0.1.1}
---
apiVersion: v1
kind: Pod
metadata: {name: gw-2, namespace: istio-system, labels: {istio: ingressgateway}}
spec: {containers: [{name: istio-proxy, image: proxyv2, args: [proxy, router]}]}
status: {podIP: 10.0.1.2}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: shop}
spec:
  hosts: [web.shop.svc.cluster.local]
  gateways: [istio-system/gw, mesh]
  http: [{route: [{destination: {host: web.shop.svc.cluster.local}}]}]
${Array.from(
  { length: MANY },
  (_, i) => `---
apiVersion: v1
kind: Pod
metadata: {name: many-${i}, namespace: shop, labels: {app: many}}
spec: {containers: [{name: many, image: many}]}
status: {podIP: 10.0.2.${i + 1}}`,
).join('\n')}
`;

/** A config in a comparable form: each list sorted by name (Envoy keys every xDS type by name; istiod's order varies). */
function comparable(config: GeneratedConfig) {
  const sorted = (list: object[]) => list.map((o) => canonicalJson(o)).sort();
  return {
    proxy: canonicalJson(config.proxy),
    listeners: sorted(config.listeners),
    routes: sorted(config.routes),
    clusters: sorted(config.clusters),
    endpoints: sorted(config.endpoints),
  };
}

async function storedRows({ app, db }: TestApp, id: string) {
  return {
    classes: await app.get(ProxyConfigStore).classesOf(id),
    workloads: (await app.get(WorkloadStore).list(id)).map(({ namespace, name, proxyType, proxyClass }) => ({
      namespace,
      name,
      proxyType,
      proxyClass,
    })),
    lists: await db.query('SELECT workload_list, proxy_class_list FROM snapshots WHERE id = $1', [id]),
    objects: await db.query(`SELECT encode(hash, 'hex') AS hash, type, name, md5(body::text) AS body FROM envoy_objects ORDER BY hash`),
    nodes: await db.query(
      `SELECT encode(hash, 'hex') AS hash, level, encode(children, 'hex') AS children, listeners, routes, clusters, endpoints FROM envoy_config_nodes ORDER BY hash`,
    ),
  };
}

describe('with an in-process worker', () => {
  const t = useTestApp();
  let id: string;
  let gql: (query: string, variables?: Record<string, unknown>) => Promise<{ data?: Record<string, any>; errors?: unknown[] }>;
  beforeAll(async () => {
    gql = async (query, variables = {}) => (await request(t.app.getHttpServer()).post('/graphql').send({ query, variables })).body;
    id = await uploadSnapshot(t.app, MESH, 'storage');
    await waitReady(t.app, id);
  });

  const generated = (namespace: string, name: string) => t.app.get(GeneratorService).ask(id, 'proxyConfig', { proxy: { namespace, name } });
  const workloads = () => t.app.get(WorkloadStore).list(id);
  const classOf = async (namespace: string, name: string) =>
    (await workloads()).find((w) => w.namespace === namespace && w.name === name)!.proxyClass;

  it('groups proxies into classes whose members istiod gives identical config', async () => {
    expect(await classOf('shop', 'web-1')).toBe(await classOf('shop', 'web-2'));
    expect(await classOf('istio-system', 'gw-1')).toBe(await classOf('istio-system', 'gw-2'));
    expect(await classOf('shop', 'many-0')).toBe(await classOf('shop', `many-${MANY - 1}`));
    expect(await classOf('default', 'legacy')).toBeNull();
    // The proof: every pair of class-mates, generated separately, has the same config (sorted
    // by name; nothing else normalised), apart from the ProxyInfo's id and addresses.
    const members = (await workloads()).filter((w) => w.proxyClass !== null);
    const byClass = new Map<string, { namespace: string; name: string }[]>();
    for (const m of members) byClass.set(m.proxyClass!, [...(byClass.get(m.proxyClass!) ?? []), m]);
    let compared = 0;
    for (const list of byClass.values()) {
      const first = comparable(await generated(list[0]!.namespace, list[0]!.name));
      for (const m of list.slice(1)) {
        const other = comparable(await generated(m.namespace, m.name));
        expect({ ...other, proxy: undefined }).toEqual({ ...first, proxy: undefined });
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(2 + MANY - 1);
  });

  it('splits a class whose members istiod gives their own addresses (headless Service): each its own config', async () => {
    const [a, b] = [await generated('shop', 'db-1'), await generated('shop', 'db-2')];
    // The reason: db-1 gets a listener for db-2's address and not its own, and the other way round.
    expect(a.listeners.map((l) => l.name)).toContain('10.0.0.22_5432');
    expect(a.listeners.map((l) => l.name)).not.toContain('10.0.0.21_5432');
    expect(b.listeners.map((l) => l.name)).toContain('10.0.0.21_5432');
    expect(await classOf('shop', 'db-1')).not.toBe(await classOf('shop', 'db-2'));
    const service = t.app.get(ProxyConfigService);
    expect(comparable(await service.generate(id, { namespace: 'shop', name: 'db-1', type: ProxyType.SIDECAR }))).toEqual(comparable(a));
    expect(comparable(await service.generate(id, { namespace: 'shop', name: 'db-2', type: ProxyType.SIDECAR }))).toEqual(comparable(b));
  });

  it('reads a named workload of a READY snapshot from storage: equal to what the generator returns, no session asked', async () => {
    const generator = t.app.get(GeneratorService);
    const names = (await workloads()).filter((w) => w.proxyType !== 'NONE').map((w) => [w.namespace, w.name] as const);
    expect(names.length).toBe(7 + MANY);
    const expected = new Map<string, ReturnType<typeof comparable>>();
    for (const [ns, name] of names) expected.set(`${ns}/${name}`, comparable(await generated(ns, name)));
    const ask = vi.spyOn(generator, 'ask');
    try {
      for (const [ns, name] of names) {
        const stored = await t.app.get(ProxyConfigService).generate(id, { namespace: ns, name, type: ProxyType.SIDECAR });
        expect(comparable(stored)).toEqual(expected.get(`${ns}/${name}`));
      }
      expect(ask).not.toHaveBeenCalled();
      // An ad-hoc proxy still asks a session.
      await t.app.get(ProxyConfigService).generate(id, { namespace: 'shop', labels: { app: 'web' }, type: ProxyType.SIDECAR });
      expect(ask.mock.calls.map(([, method]) => method)).toContain('proxyConfig');
    } finally {
      ask.mockRestore();
    }
  });

  it("reads an ad-hoc proxy with a stored class's facts from storage: what the generator gives it, none generated", async () => {
    const generator = t.app.get(GeneratorService);
    const service = t.app.get(ProxyConfigService);
    // web-1 and web-2 as istio-proxy describes them (their labels as injection leaves them), but
    // for the name and address.
    const web = (labels: Record<string, string>) => ({
      namespace: 'shop',
      labels: { ...labels, 'security.istio.io/tlsMode': 'istio' },
      ip: '10.0.9.9',
      type: ProxyType.SIDECAR,
      metadata: {
        SERVICE_ACCOUNT: 'default',
        NODE_NAME: '',
        INTERCEPTION_MODE: 'REDIRECT',
        POD_PORTS: '[{"containerPort":8080,"name":"http","protocol":"TCP"}]',
      },
    });
    const asIs = (proxy: ReturnType<typeof web>) => generator.ask(id, 'proxyConfig', { proxy: { ...proxy, type: 'SIDECAR' } });
    const same = web({ app: 'web', version: 'v1' });
    const otherVersion = web({ app: 'web', version: 'v2' });
    const expected = [comparable(await asIs(same)), comparable(await asIs(otherVersion))];
    const ask = vi.spyOn(generator, 'ask');
    const methods = () => ask.mock.calls.map(([, method]) => method);
    try {
      const stored = await service.generate(id, same);
      expect(comparable(stored)).toEqual(expected[0]);
      expect(stored.proxy).toMatchObject({ id: 'adhoc.shop', ips: ['10.0.9.9'] });
      expect(methods()).not.toContain('proxyConfig');
      // A label that matters (a DestinationRule subset could select it): generated.
      expect(comparable(await service.generate(id, otherVersion))).toEqual(expected[1]);
      expect(methods()).toContain('proxyConfig');
    } finally {
      ask.mockRestore();
    }
  });

  it("an ad-hoc proxy with the facts of a class split by address is generated: the stored configs are each member's own", async () => {
    const generator = t.app.get(GeneratorService);
    const db = {
      namespace: 'shop',
      labels: { app: 'db', 'security.istio.io/tlsMode': 'istio' },
      ip: '10.0.9.8',
      type: ProxyType.SIDECAR,
      metadata: {
        SERVICE_ACCOUNT: 'default',
        NODE_NAME: '',
        INTERCEPTION_MODE: 'REDIRECT',
        POD_PORTS: '[{"containerPort":5432,"protocol":"TCP"}]',
      },
    };
    const expected = comparable(await generator.ask(id, 'proxyConfig', { proxy: { ...db, type: 'SIDECAR' } }));
    const ask = vi.spyOn(generator, 'ask');
    try {
      expect(comparable(await t.app.get(ProxyConfigService).generate(id, db))).toEqual(expected);
      expect(ask.mock.calls.map(([, method]) => method)).toContain('proxyConfig');
    } finally {
      ask.mockRestore();
    }
  });

  it('Snapshot.proxyStatus: one row per proxy, counts as generated, same hash for the same config', async () => {
    const { data, errors } = await gql(
      `query($id: ID!) { snapshot(id: $id) { proxyStatus { name namespace proxyType listeners routes clusters endpoints configHash } } }`,
      { id },
    );
    expect(errors).toBeUndefined();
    const rows = data!.snapshot.proxyStatus as {
      name: string;
      namespace: string;
      proxyType: string;
      listeners: number;
      routes: number;
      clusters: number;
      endpoints: number;
      configHash: string;
    }[];
    expect(rows).toHaveLength(7 + MANY);
    const row = (ns: string, name: string) => rows.find((r) => r.namespace === ns && r.name === name)!;
    for (const [ns, name] of [
      ['shop', 'web-1'],
      ['istio-system', 'gw-1'],
      ['shop', 'db-1'],
      ['shop', 'api'],
    ] as const) {
      const g = await generated(ns, name);
      expect(row(ns, name)).toMatchObject({
        proxyType: g.proxy.type,
        listeners: g.listeners.length,
        routes: g.routes.length,
        clusters: g.clusters.length,
        endpoints: g.endpoints.length,
      });
    }
    expect(row('istio-system', 'gw-1').proxyType).toBe('ROUTER');
    expect(row('shop', 'web-1').configHash).toBe(row('shop', 'web-2').configHash);
    expect(row('shop', 'db-1').configHash).not.toBe(row('shop', 'db-2').configHash);
    expect(row('shop', 'web-1').configHash).not.toBe(row('shop', 'api').configHash);
    expect(rows.find((r) => r.name === 'legacy')).toBeUndefined();
  });

  it('Workload.proxyConfig for every workload in one query: a fixed number of SQL queries, not one per workload', async () => {
    const dataSource = t.app.get<DataSource>(getDataSourceToken());
    const query = `query($id: ID!, $ns: String) { snapshot(id: $id) { workloads(namespace: $ns) { name proxyConfig { listeners { name } clusters { name } configDump } } } }`;
    const spy = vi.spyOn(dataSource, 'query');
    try {
      const one = await gql(query, { id, ns: 'default' });
      expect(one.errors).toBeUndefined();
      const fewQueries = spy.mock.calls.length;
      spy.mockClear();
      const all = await gql(query, { id, ns: null });
      expect(all.errors).toBeUndefined();
      const workloads = all.data!.snapshot.workloads as {
        name: string;
        proxyConfig: { listeners: { name: string }[]; clusters: unknown[] } | null;
      }[];
      expect(workloads.length).toBe(8 + MANY);
      expect(workloads.find((w) => w.name === 'legacy')!.proxyConfig).toBeNull();
      expect(workloads.filter((w) => w.proxyConfig && w.proxyConfig.clusters.length > 0)).toHaveLength(7 + MANY);
      // 1 workload or 20: the same handful of statements (workloads + classes, each tree level, the objects).
      expect(spy.mock.calls.length).toBeLessThanOrEqual(Math.max(fewQueries, 1) + 4);
      expect(spy.mock.calls.length).toBeLessThan(8);
    } finally {
      spy.mockRestore();
    }
  });

  it('recomputing yields identical rows', async () => {
    const before = await storedRows(t, id);
    expect(before.classes.length).toBeGreaterThan(0);
    await t.app.get(ComputeService).compute(id, async () => {});
    expect(await storedRows(t, id)).toEqual(before);
  });

  it('the same snapshot stored twice: the same classes and config, not one object or node more', async () => {
    const first = await storedRows(t, id);
    const again = await uploadSnapshot(t.app, MESH, 'storage again');
    await waitReady(t.app, again);
    const second = await storedRows(t, again);
    expect(second.classes).toEqual(first.classes);
    expect(second.workloads).toEqual(first.workloads);
    expect(second.objects).toEqual(first.objects);
    expect(second.nodes).toEqual(first.nodes);
    expect((await request(t.app.getHttpServer()).delete(`/api/v1/snapshots/${again}`)).status).toBeLessThan(300);
  });

  it('deleting a snapshot collects the Envoy objects and tree nodes nothing references', async () => {
    const firstOnly = await storedRows(t, id);
    const changed = MESH.replace('targetPort: 8080}]', 'targetPort: 8080}, {name: grpc, port: 9090}]');
    const second = await uploadSnapshot(t.app, changed, 'changed');
    await waitReady(t.app, second);
    const count = async () =>
      (
        await t.db.query<{ o: number; n: number }>(
          'SELECT (SELECT count(*)::int FROM envoy_objects) AS o, (SELECT count(*)::int FROM envoy_config_nodes) AS n',
        )
      )[0]!;
    const both = await count();
    const del = async (sid: string) =>
      expect((await request(t.app.getHttpServer()).delete(`/api/v1/snapshots/${sid}`)).status).toBeLessThan(300);

    await del(second);
    await gcSettled(t.db);
    // Back to what the first snapshot alone had: the second's own objects and nodes went, the shared ones stayed.
    const after = await storedRows(t, id);
    expect(after.objects).toEqual(firstOnly.objects);
    expect(after.nodes).toEqual(firstOnly.nodes);
    expect(both.o).toBeGreaterThan(after.objects.length);
    const stored = await t.app.get(ProxyConfigService).generate(id, { namespace: 'shop', name: 'web-1', type: ProxyType.SIDECAR });
    expect(stored.clusters.length).toBeGreaterThan(0);

    await del(id);
    await gcSettled(t.db);
    expect(await count()).toEqual({ o: 0, n: 0 });
  });
});

describe('a worker killed with SIGKILL mid-job', () => {
  const t = useTestApp({
    worker: false,
    config: { jobs: { retryLimit: 2, retryDelaySeconds: 0, expireInSeconds: 600, heartbeatSeconds: 10 } },
  });
  const workers: ChildProcess[] = [];
  // Many classes (one Deployment each), each seeing every Service: a compute that takes a while.
  const CLASSES = 60;
  const BIG = [
    `apiVersion: v1\nkind: Namespace\nmetadata: {name: big, labels: {istio-injection: enabled}}`,
    ...Array.from(
      { length: CLASSES },
      (_, i) => `apiVersion: v1
kind: Service
metadata: {name: svc-${i}, namespace: big}
spec: {selector: {app: app-${i}}, ports: [{name: http, port: 80, targetPort: 8080}, {name: grpc, port: 9090}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app-${i}, namespace: big}
spec:
  selector: {matchLabels: {app: app-${i}}}
  template:
    metadata: {labels: {app: app-${i}}}
    spec: {containers: [{name: app, image: app, ports: [{containerPort: 8080}]}]}`,
    ),
  ].join('\n---\n');

  const startWorker = () => {
    const child = spawn(process.execPath, ['dist/src/main.js', 'worker'], {
      env: {
        ...process.env,
        DATABASE_URL: t.db.url,
        LOG_LEVEL: 'error',
        MESHLENS_COMPUTE_CONCURRENCY: '1',
        MESHLENS_WORKER_CONCURRENCY: '1',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    workers.push(child);
    return child;
  };

  beforeAll(() => {
    execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
  });
  afterAll(() => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  });

  // Minutes on a loaded machine: a compute, a kill, a takeover and a second compute.
  it('leaves no partial rows visible; the retried job, on another worker, completes', { timeout: 300_000 }, async () => {
    const id = await uploadSnapshot(t.app, BIG, 'big');
    const first = startWorker();
    const progress = await eventually(
      async () => {
        const [s] = await t.db.query<{ status: string; progress: number }>('SELECT status, progress FROM snapshots WHERE id = $1', [id]);
        if (s!.status === 'READY') throw new Error('the job finished before the kill; make the mesh bigger');
        return s!.status === 'COMPUTING' && s!.progress > 0.2 ? s!.progress : undefined;
      },
      60_000,
      'the job to compute classes',
    );
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    expect(progress).toBeLessThan(0.95);

    const visible = async () =>
      (
        await t.db.query<{ classes: number; workloads: number; objects: number; nodes: number; chunks: number }>(
          `SELECT (SELECT count(*)::int FROM snapshots WHERE id = $1 AND proxy_class_list IS NOT NULL) AS classes,
                  (SELECT count(*)::int FROM snapshots WHERE id = $1 AND workload_list IS NOT NULL) AS workloads,
                  (SELECT count(*)::int FROM envoy_objects) AS objects,
                  (SELECT count(*)::int FROM envoy_config_nodes) AS nodes,
                  (SELECT count(*)::int FROM list_nodes WHERE list <> 'resources') AS chunks`,
          [id],
        )
      )[0]!;
    expect(await visible()).toEqual({ classes: 0, workloads: 0, objects: 0, nodes: 0, chunks: 0 });

    // The dead worker's heartbeat stops: another worker takes the job over within the heartbeat
    // (10 s here) plus a supervisor pass (10 s), not at the job timeout (600 s here); the snapshot
    // says it is being retried, and why.
    const killed = Date.now();
    startWorker();
    const retrying = await eventually(
      async () => {
        const [s] = await t.db.query<{ status: string; error: string | null }>('SELECT status, error FROM snapshots WHERE id = $1', [id]);
        return s!.error?.startsWith('retrying') ? s! : undefined;
      },
      60_000,
      'the job to be taken over',
    );
    process.stderr.write(`dead worker's job taken over after ${((Date.now() - killed) / 1000).toFixed(1)} s\n`);
    expect(retrying.error).toMatch(/^retrying \(attempt 2 of 3\): attempt 1 did not finish: its worker sent no heartbeat for 10 s/);
    await waitReady(t.app, id, 120_000);

    expect((await t.app.get(WorkloadStore).list(id)).length).toBe(CLASSES);
    expect((await t.app.get(ProxyConfigStore).classesOf(id)).length).toBe(CLASSES);
    expect((await t.app.get(ProxyConfigStore).proxyStatus(id)).length).toBe(CLASSES);
    const stored = await t.app.get(ProxyConfigService).generate(id, { namespace: 'big', name: 'app-7', type: ProxyType.SIDECAR });
    expect(stored.clusters.length).toBeGreaterThanOrEqual(CLASSES * 2);
  });
});
