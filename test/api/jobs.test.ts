// The compute job: PENDING → COMPUTING → READY with workloads, survival across a restart, FAILED
// with the reason once retries are spent.
import { WorkloadStore } from '../../src/database/workload.store.js';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ComputeService } from '../../src/jobs/compute.service.js';
import { deployment, namespace, pod, service, yaml } from '../support/mesh.js';
import { eventually, useTestApp } from '../support/test-app.js';

const MESH = yaml(
  namespace('shop'),
  service('shop', 'web', [{ name: 'http', port: 80, targetPort: 8080 }]),
  deployment('shop', 'web', { labels: { version: 'v1' }, image: 'nginx' }),
  pod('default', 'legacy', { image: 'busybox', ip: '10.1.2.3' }),
);

async function upload(app: INestApplication, name: string): Promise<string> {
  const res = await request(app.getHttpServer()).post(`/api/v1/snapshots?name=${name}`).set('content-type', 'application/yaml').send(MESH);
  expect(res.status).toBe(201);
  expect(res.body.status).toBe('PENDING');
  return res.body.id;
}

async function snapshot(app: INestApplication, id: string) {
  return (await request(app.getHttpServer()).get(`/api/v1/snapshots/${id}`)).body as {
    status: string;
    progress: number;
    error: string | null;
  };
}

describe('with an in-process worker', () => {
  const t = useTestApp();

  it('goes PENDING → COMPUTING → READY and stores the workloads', async () => {
    const id = await upload(t.app, 'transitions');
    const seen = new Set<string>();
    const ready = await eventually(async () => {
      const s = await snapshot(t.app, id);
      seen.add(s.status);
      return s.status === 'READY' ? s : undefined;
    });
    expect(ready).toMatchObject({ status: 'READY', progress: 1, error: null });
    expect([...seen].every((s) => ['PENDING', 'COMPUTING', 'READY'].includes(s))).toBe(true);
    const workloads = await t.app.get(WorkloadStore).list(id);
    expect(workloads).toEqual([
      expect.objectContaining({ namespace: 'default', name: 'legacy', kind: 'Pod', proxyType: 'NONE', ips: ['10.1.2.3'] }),
      expect.objectContaining({
        namespace: 'shop',
        name: 'web',
        kind: 'Deployment',
        proxyType: 'SIDECAR',
        labels: { app: 'web', version: 'v1' },
        services: ['web.shop.svc.cluster.local'],
      }),
    ]);
  });

  it('recomputing is idempotent: the workloads are replaced, not duplicated', async () => {
    const id = await upload(t.app, 'idempotent');
    await eventually(async () => ((await snapshot(t.app, id)).status === 'READY' ? true : undefined));
    await t.app.get(ComputeService).compute(id, async () => {});
    expect((await t.app.get(WorkloadStore).list(id)).length).toBe(2);
  });
});

describe('across a restart', () => {
  const t = useTestApp({ worker: false });

  it('a job enqueued by an app without a worker runs in the next app that has one', async () => {
    const apiOnly = t.app;
    const id = await upload(apiOnly, 'restart');
    await new Promise((r) => setTimeout(r, 300));
    expect((await snapshot(apiOnly, id)).status).toBe('PENDING');

    const next = await t.restart({ worker: true });
    const ready = await eventually(async () => {
      const s = await snapshot(next, id);
      return s.status === 'READY' ? s : undefined;
    });
    expect(ready.status).toBe('READY');
  });
});

describe('a computation that keeps failing', () => {
  let attempts = 0;
  const t = useTestApp({
    override: (builder) =>
      builder.overrideProvider(ComputeService).useValue({
        compute: async () => {
          attempts++;
          throw new Error(`generator exploded (attempt ${attempts})`);
        },
      }),
  });

  it('is retried, then marks the snapshot FAILED with the reason', async () => {
    const id = await upload(t.app, 'doomed');
    const failed = await eventually(async () => {
      const s = await snapshot(t.app, id);
      return s.status === 'FAILED' ? s : undefined;
    }, 20_000);
    // retryLimit 1 in the tests: the first attempt and one retry.
    expect(attempts).toBe(2);
    expect(failed.error).toBe('generator exploded (attempt 2)');
    await new Promise((r) => setTimeout(r, 300));
    expect((await snapshot(t.app, id)).status).toBe('FAILED');
  });
});
