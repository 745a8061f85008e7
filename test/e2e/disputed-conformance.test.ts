// The conformance results disputed in conformance/disputed.yaml: with the node metadata the corpus
// records (metadataNamespace) passed as istio-proxy would report it, meshlens gives Istio's answer.
import { existsSync, readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, startTestApp, type TestDatabase } from '../support/test-app.js';

const corpus = new URL('../../../shared/conformance/istio-sim/gateway_simulation_test.TestTargetPort.yaml', import.meta.url);
const disputed = YAML.parse(readFileSync(new URL('../../conformance/disputed.yaml', import.meta.url), 'utf8')) as { file: string; case: string; call: number }[];

interface Case {
  name: string;
  config: string;
  proxy: { namespace: string; metadataNamespace?: string; ip?: string; labels?: Record<string, string>; istioVersion?: string };
  calls: { port: number; host?: string; expect: Record<string, string> }[];
}

describe.skipIf(!existsSync(corpus))('disputed TestTargetPort results, with the metadata namespace passed', () => {
  let db: TestDatabase;
  let app: INestApplication;
  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp({ databaseUrl: db.url });
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const cases = (YAML.parse(readFileSync(corpus, 'utf8')) as { cases: Case[] }).cases;
  for (const d of disputed.filter((x) => x.file === 'gateway_simulation_test.TestTargetPort.yaml')) {
    it(`${d.case} call#${d.call}`, async () => {
      const kase = cases.find((c) => c.name === d.case)!;
      const call = kase.calls[d.call]!;
      const created = await request(app.getHttpServer()).post('/api/v1/snapshots').set('content-type', 'application/yaml').send(kase.config);
      expect(created.status).toBe(201);
      const proxy = {
        namespace: kase.proxy.namespace,
        labels: kase.proxy.labels,
        ip: kase.proxy.ip,
        type: 'ROUTER',
        istioVersion: kase.proxy.istioVersion,
        metadata: { NAMESPACE: kase.proxy.metadataNamespace },
      };
      const res = await request(app.getHttpServer())
        .post('/graphql')
        .send({
          query: `query($s: ID!, $p: ProxyInput!, $c: CallInput!) { resolveRoute(snapshotId: $s, proxy: $p, call: $c) { listener routeConfig virtualHost cluster error } }`,
          variables: { s: created.body.id, p: proxy, c: { mode: 'GATEWAY', port: call.port, host: call.host } },
        });
      const got = res.body.data.resolveRoute;
      expect(got.error).toBeNull();
      for (const key of ['listener', 'routeConfig', 'virtualHost', 'cluster']) if (key in call.expect) expect(got[key]).toBe(call.expect[key]);
    });
  }
});
