// The scenario corpus (../shared/scenarios/*.yaml) end to end: every call, check and routeCheck of
// every case is one test, through the real app (REST upload, GraphQL resolveRoute / proxyConfig, the
// generator with Istio inside) on this file's own database. Requests are built and compared exactly
// as ../shared/conformance/run.mjs does (test/support/scenarios.ts).
import path from 'node:path';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  PROXY_CONFIG_QUERY,
  RESOLVE_QUERY,
  callInput,
  callLabel,
  compare,
  corpusFiles,
  dig,
  findChecked,
  inboundClusterMap,
  manifests,
  proxyInput,
  readCases,
  routeCheckClusters,
  sameInbound,
  sharedDir,
  skipReason,
  type ProxyConfigView,
  type ScenarioCase,
} from '../support/scenarios.js';
import { useTestApp } from '../support/test-app.js';

const scenariosDir = sharedDir('scenarios');

type Resolution = Record<string, any> & { trace: { stage: string; detail: string }[] };

// No worker: the corpus asks questions on demand (generator sessions), as run.mjs does against a server;
// the compute job would only compete with them for the CPU. No app when there is no corpus.
const t = scenariosDir ? useTestApp({ worker: false }) : undefined;
const api = () => request(t!.app.getHttpServer());

async function gql<T = Record<string, any>>(query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await api().post('/graphql').send({ query, variables });
  if (res.body?.errors?.length) throw new Error('GraphQL: ' + res.body.errors.map((e: { message: string }) => e.message).join('; '));
  if (res.status >= 400) throw new Error(`GraphQL HTTP ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
  return res.body.data as T;
}

const traceText = (r: Resolution) => r.trace.map((t) => `${t.stage}: ${t.detail}`).join('\n');

/** Extra assertions on the trace for the classic puzzles: the walk must say why, not only where. */
const PUZZLES: Record<string, (results: Resolution[]) => void> = {
  'self-destination-does-not-loop': ([r]) => {
    const text = traceText(r!);
    expect(text).toContain('VirtualService default/self-destination');
    // Evaluated once, on the client's sidecar: the destination's sidecar does not re-apply it.
    expect(text).toMatch(/does not re-apply VirtualServices/);
  },
  'circular-virtualservices-evaluate-once': ([toV1, toV2]) => {
    expect(traceText(toV1!)).toContain('VirtualService default/traffic-shift-v1-to-v2');
    expect(traceText(toV1!)).not.toContain('traffic-shift-v2-to-v1');
    expect(traceText(toV2!)).toContain('VirtualService default/traffic-shift-v2-to-v1');
    expect(traceText(toV2!)).not.toContain('traffic-shift-v1-to-v2');
    // The DestinationRule of the real destination (v1) is named, with its connection limit.
    expect(traceText(toV2!)).toContain('DestinationRule default/helloworld-v1-max-connection');
    expect(traceText(toV2!)).toContain('max concurrent requests 1');
  },
  'gateway-bound-virtualservice-skips-sidecars': ([r]) => {
    const text = traceText(r!);
    expect(text).not.toContain('httpping-from-gateway');
    expect(text).toMatch(/no VirtualService applies/);
  },
  'client-without-sidecar-gets-no-mesh-routing': ([r]) => {
    expect(r!.trace.map((t) => t.stage)).toContain('kube-proxy');
    const text = traceText(r!);
    expect(text).toContain('kube-proxy');
    expect(text).toContain('no VirtualService or DestinationRule applies');
    expect(text).toContain('Service default/helloworld-v1');
    expect(text).not.toContain('helloworld-v2');
  },
  'ingress-gateway-dark-launch': ([plain, internal]) => {
    expect(traceText(plain!)).toContain('VirtualService istioinaction/catalog-vs-from-gw');
    expect(traceText(plain!)).toMatch(/Skipped route .* x-istio-cohort \(absent\) does not match/);
    expect(traceText(internal!)).toContain('subset version-v2');
  },
};

if (!scenariosDir) {
  describe.skip('scenarios: ../shared/scenarios is absent in this checkout, nothing to replay', () => {
    it('replays the corpus', () => {});
  });
} else {
  for (const file of corpusFiles(scenariosDir)) {
    describe(path.basename(file), () => {
      for (const kase of readCases(file)) describeCase(kase);
    });
  }
}

function describeCase(kase: ScenarioCase) {
  describe(kase.name, () => {
    const reason = skipReason(kase);
    const calls = kase.calls ?? [];
    if (reason) {
      it.skip(`${kase.name}: ${reason}`, () => {});
      return;
    }
    let snapshotId: string;
    const results: Resolution[] = [];
    let proxyConfig: ProxyConfigView | undefined;
    const proxy = proxyInput(kase.proxy);

    beforeAll(async () => {
      const res = await api()
        .post(`/api/v1/snapshots?name=${encodeURIComponent('scenario ' + kase.name)}`)
        .set('content-type', 'application/yaml')
        .send(manifests(kase));
      expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(201);
      snapshotId = res.body.id;
    });

    for (const [i, call] of calls.entries()) {
      it(callLabel(i, call), async () => {
        const data = await gql<{ resolveRoute: Resolution }>(RESOLVE_QUERY, { s: snapshotId, p: proxy, c: callInput(call) });
        results[i] = data.resolveRoute;
        expect(compare(call.expect ?? {}, data.resolveRoute), traceText(data.resolveRoute)).toEqual([]);
        expect(data.resolveRoute.trace.length).toBeGreaterThan(0);
      });
    }

    const puzzle = PUZZLES[kase.name];
    if (puzzle) {
      it('the trace explains it', () => {
        expect(results.filter(Boolean)).toHaveLength(calls.length);
        puzzle(results);
      });
    }

    const needsConfig = Boolean(kase.checks?.length || kase.routeChecks?.length || kase.inboundClusters);
    if (!needsConfig) return;
    const config = async () =>
      (proxyConfig ??= (await gql<{ proxyConfig: ProxyConfigView }>(PROXY_CONFIG_QUERY, { s: snapshotId, p: proxy })).proxyConfig);

    for (const [i, check] of (kase.routeChecks ?? []).entries()) {
      it(`routeCheck#${i} ${check.routeConfig} ${check.domain}`, async () => {
        expect(routeCheckClusters(await config(), check)).toEqual([...(check.clusters ?? [])].sort());
      });
    }
    if (kase.inboundClusters) {
      it('inboundClusters', async () => {
        const got = inboundClusterMap(await config());
        expect(sameInbound(kase.inboundClusters!, got), `want ${JSON.stringify(kase.inboundClusters)} got ${JSON.stringify(got)}`).toBe(
          true,
        );
      });
    }
    for (const [i, check] of (kase.checks ?? []).entries()) {
      it(`check#${i} ${check.kind} ${check.name ?? check.routeConfig} ${check.path}`, async () => {
        const target = findChecked(await config(), check);
        expect(target, `${check.kind} not found in proxy config`).toBeDefined();
        expect(dig(target, check.path)).toEqual(check.equals);
      });
    }
  });
}
