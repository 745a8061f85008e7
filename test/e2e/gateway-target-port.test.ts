// Istio's TestTargetPort: a router whose node metadata NAMESPACE (istio-system) differs from its
// config namespace (default) finds its service targets in the metadata namespace, and so maps the
// Gateway's service port to the target port istiod listens on.
import { existsSync, readFileSync } from 'node:fs';
import request from 'supertest';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/test-app.js';

const corpus = new URL('../../../shared/conformance/istio-sim/gateway_simulation_test.TestTargetPort.yaml', import.meta.url);

interface Case {
  name: string;
  config: string;
  proxy: { namespace: string; metadataNamespace?: string; ip?: string; labels?: Record<string, string>; istioVersion?: string };
  calls: { port: number; host?: string; expect: Record<string, string> }[];
}

describe.skipIf(!existsSync(corpus))('TestTargetPort, with the metadata namespace passed as node metadata', () => {
  const t = useTestApp();

  // The suite's callback runs even when skipped: without the corpus, no cases.
  const cases = existsSync(corpus) ? (YAML.parse(readFileSync(corpus, 'utf8')) as { cases: Case[] }).cases : [];
  const calls = cases.flatMap((kase) => kase.calls.map((call, index) => ({ kase, call, index })));
  for (const { kase, call, index } of calls) {
    it(`${kase.name} call#${index}`, async () => {
      const created = await request(t.app.getHttpServer())
        .post('/api/v1/snapshots')
        .set('content-type', 'application/yaml')
        .send(kase.config);
      expect(created.status).toBe(201);
      const proxy = {
        namespace: kase.proxy.namespace,
        labels: kase.proxy.labels,
        ip: kase.proxy.ip,
        type: 'ROUTER',
        istioVersion: kase.proxy.istioVersion,
        metadata: { NAMESPACE: kase.proxy.metadataNamespace },
      };
      const res = await request(t.app.getHttpServer())
        .post('/graphql')
        .send({
          query: `query($s: ID!, $p: ProxyInput!, $c: CallInput!) { resolveRoute(snapshotId: $s, proxy: $p, call: $c) { listener routeConfig virtualHost cluster error } }`,
          variables: { s: created.body.id, p: proxy, c: { mode: 'GATEWAY', port: call.port, host: call.host } },
        });
      const got = res.body.data.resolveRoute;
      expect(got.error).toBeNull();
      for (const key of ['listener', 'routeConfig', 'virtualHost', 'cluster'])
        if (key in call.expect) expect(got[key]).toBe(call.expect[key]);
    });
  }
});
