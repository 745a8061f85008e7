// journey's authorization: the RBAC filters istiod generated for the receiving sidecar
// (test/e2e/journey/policies.yaml), evaluated with Envoy's semantics, for ALLOW, DENY, AUDIT,
// CUSTOM and dry-run policies, and a weighted route whose two destinations have different policies.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { authorize } from '../../src/journey/authorization.js';
import type { FilterChain } from '../../src/envoy/xds.js';
import { askJourney, fixture, type JourneyResult } from '../support/journey.js';
import { uploadSnapshot, waitReady, useTestApp } from '../support/test-app.js';

const API = 'api.shop.svc.cluster.local';

describe('journey: authorization on the receiving side', () => {
  const t = useTestApp();
  let id: string;
  beforeAll(async () => {
    id = await uploadSnapshot(t.app, fixture('policies.yaml'), 'policies');
    await waitReady(t.app, id, 120_000);
  }, 300_000);

  const web = { namespace: 'shop', name: 'web' };
  const reporter = { namespace: 'partner', name: 'reporter' };
  const only = (j: JourneyResult) => {
    expect(j.paths).toHaveLength(1);
    return j.paths[0]!;
  };
  const decision = (j: JourneyResult) => only(j).hops.at(-1)!.authorization!;

  it('ALLOW by principal, method and path prefix; AUDIT logs it; the dry-run DENY would have refused it', async () => {
    const j = await askJourney(t.app, id, web, { port: 80, host: API, path: '/items' });
    expect(only(j)).toMatchObject({ outcome: 'DELIVERED', status: null, destination: { namespace: 'shop', name: 'api' } });
    const d = decision(j);
    expect(d).toMatchObject({ verdict: 'ALLOW', policy: { namespace: 'shop', name: 'api-readers' }, rule: 0, action: 'ALLOW' });
    expect(d.reason).toContain('AUDIT policy shop/audit-items rule 0');
    expect(d.dryRun).toEqual(['dry-run DENY policy shop/would-deny-gets rule 0 would deny this request']);
    expect(only(j).hops.at(-1)!.tls!.mode).toBe('MTLS');
  });

  it('HEAD on a path under the prefix is allowed by the same rule; AUDIT (exact path) does not log it', async () => {
    const d = decision(await askJourney(t.app, id, web, { port: 80, host: API, path: '/items/42', method: 'HEAD' }));
    expect(d).toMatchObject({ verdict: 'ALLOW', rule: 0 });
    expect(d.reason).not.toContain('AUDIT');
  });

  it('DENY by method and exact path, whatever ALLOW says', async () => {
    const j = await askJourney(t.app, id, web, { port: 80, host: API, path: '/admin', method: 'POST' });
    expect(only(j)).toMatchObject({ outcome: 'DENIED', status: 403 });
    expect(decision(j)).toMatchObject({
      verdict: 'DENY',
      policy: { namespace: 'shop', name: 'deny-admin-writes' },
      rule: 0,
      action: 'DENY',
    });
  });

  it('ALLOW policies exist and none matches: denied, each rule saying why', async () => {
    const j = await askJourney(t.app, id, web, { port: 80, host: API, path: '/orders', method: 'PUT' });
    expect(only(j)).toMatchObject({ outcome: 'DENIED', status: 403 });
    const d = decision(j);
    expect(d).toMatchObject({ verdict: 'DENY', policy: null, rule: null, action: 'ALLOW' });
    expect(d.reason).toContain('ALLOW policies exist for shop/api and none matches');
    expect(d.reason).toContain('method PUT');
    expect(d.reason).toContain("the request principal's issuer (JWT claim iss) is absent");
  });

  it('request principals: a validated token matches the requestPrincipals rule', async () => {
    const j = await askJourney(
      t.app,
      id,
      web,
      { port: 80, host: API, path: '/orders' },
      { requestPrincipal: 'https://issuer.example.com/alice' },
    );
    expect(decision(j)).toMatchObject({ verdict: 'ALLOW', policy: { name: 'api-readers' }, rule: 2 });
    const wrongIssuer = await askJourney(
      t.app,
      id,
      web,
      { port: 80, host: API, path: '/orders' },
      { requestPrincipal: 'https://other.example.com/alice' },
    );
    expect(decision(wrongIssuer).verdict).toBe('DENY');
  });

  it('namespaces, ipBlocks, hosts, ports, path suffix and a when condition on a claim', async () => {
    const call = { port: 80, host: API, path: '/v1/health' };
    const admin = await askJourney(t.app, id, reporter, call, {
      requestPrincipal: 'https://issuer.example.com/bob',
      claims: { groups: ['admin', 'dev'] },
    });
    expect(decision(admin)).toMatchObject({ verdict: 'ALLOW', policy: { name: 'api-readers' }, rule: 1 });
    const notAdmin = await askJourney(t.app, id, reporter, call, {
      requestPrincipal: 'https://issuer.example.com/bob',
      claims: { groups: ['dev'] },
    });
    expect(decision(notAdmin).verdict).toBe('DENY');
    const otherPath = await askJourney(t.app, id, reporter, { ...call, path: '/v1/health/deep' }, { claims: { groups: ['admin'] } });
    expect(decision(otherPath).verdict).toBe('DENY');
    const otherHost = await askJourney(t.app, id, reporter, { ...call, host: 'api.shop' }, { claims: { groups: ['admin'] } });
    expect(decision(otherHost).reason).toContain('host "api.shop"');
  });

  it('notIpBlocks: a source outside 10.0.0.0/8 is denied by the DENY rule', async () => {
    const adHoc = { namespace: 'partner', labels: { app: 'reporter' }, ip: '192.168.1.5', metadata: { SERVICE_ACCOUNT: 'reporter' } };
    const j = await askJourney(t.app, id, adHoc, { port: 80, host: API, path: '/items' });
    expect(decision(j)).toMatchObject({ verdict: 'DENY', policy: { name: 'deny-admin-writes' }, rule: 1 });
  });

  it('a sender without a sidecar has no principal: the ALLOW rules on principals do not match', async () => {
    // kube-proxy ignores subsets: the Service's endpoints are v1's and v2's pods, one path each.
    const j = await askJourney(t.app, id, { namespace: 'legacy', name: 'batch' }, { port: 80, host: 'api.shop', path: '/items' });
    // Paths come in endpoint (IP) order.
    expect(j.paths.map((p) => [p.share, p.destination?.name, p.outcome]).sort()).toEqual([
      [50, 'api', 'DENIED'],
      [50, 'api-v2', 'DELIVERED'],
    ]);
    const v1 = j.paths.find((p) => p.destination?.name === 'api');
    // Each path's kube-proxy hop names its own workload's endpoint, not the Service's every endpoint.
    const endpoints = j.paths.map((p) => p.hops[0]!.endpoints);
    expect(endpoints.map((e) => e?.length)).toEqual([1, 1]);
    expect(endpoints[0]).not.toEqual(endpoints[1]);
    expect(v1!.hops.map((h) => h.proxyType)).toEqual(['NONE', 'SIDECAR']);
    expect(v1!.hops[1]!.tls!.mode).toBe('PLAINTEXT');
    expect(v1!.hops[1]!.authorization!.reason).toContain('the connection is not mTLS, so there is no source principal');
  });

  // The table the Go cross-check holds Istio's generated RBAC protos to (generator/internal/session/authz_test.go).
  it("the shared cross-check table: the journey's evaluator on the generated config gives the same decisions", async () => {
    const table = JSON.parse(fixture('authz-cases.json')) as {
      receiver: { port: number };
      cases: {
        name: string;
        principal: string | null;
        sourceIp: string;
        method: string;
        path: string;
        host: string;
        requestPrincipal?: string;
        claims?: Record<string, unknown>;
        expect: { verdict: string; policy: string | null; rule: number | null };
      }[];
    };
    const res = await request(t.app.getHttpServer())
      .post('/graphql')
      .send({
        query:
          'query($s: ID!) { proxyConfig(snapshotId: $s, proxy: {namespace: "shop", name: "api"}) { listeners(port: 15006) { config } } }',
        variables: { s: id },
      });
    const listener = res.body.data.proxyConfig.listeners[0].config as { filterChains: FilterChain[] };
    const chain = listener.filterChains.find(
      (c) => c.filterChainMatch?.destinationPort === table.receiver.port && c.filterChainMatch?.transportProtocol === 'tls',
    )!;
    for (const c of table.cases) {
      const payload: Record<string, unknown> = { ...(c.claims ?? {}) };
      if (c.requestPrincipal)
        [payload.iss, payload.sub] = [
          c.requestPrincipal.slice(0, c.requestPrincipal.lastIndexOf('/')),
          c.requestPrincipal.slice(c.requestPrincipal.lastIndexOf('/') + 1),
        ];
      const d = authorize(
        chain,
        {
          principal: c.principal,
          directRemoteIp: c.sourceIp,
          remoteIp: c.sourceIp,
          destinationIp: '10.0.0.10',
          destinationPort: table.receiver.port,
          sni: null,
          headers: new Map([
            [':method', c.method],
            [':path', c.path],
            [':authority', c.host],
          ]),
          path: c.path,
          metadata: c.requestPrincipal || c.claims ? { 'envoy.filters.http.jwt_authn': { payload } } : {},
        },
        'shop/api',
      );
      expect({ verdict: d.verdict, policy: d.policy?.name ?? null, rule: d.rule }, c.name).toEqual(c.expect);
    }
  });

  it('a weighted route to destinations with different policies: one path per destination, with its share', async () => {
    const j = await askJourney(t.app, id, web, { port: 80, host: API, path: '/ext', headers: [{ name: 'x-canary', value: '50' }] });
    expect(j.paths.map((p) => [p.share, p.destination?.name, p.outcome, p.hops.at(-1)!.authorization!.verdict])).toEqual([
      [50, 'api', 'DENIED', 'DENY'],
      [50, 'api-v2', 'DELIVERED', 'NOT_DECIDED'],
    ]);
    const custom = j.paths[1]!.hops.at(-1)!.authorization!;
    expect(custom).toMatchObject({ policy: { namespace: 'shop', name: 'ext' }, rule: 0, action: 'CUSTOM' });
    expect(custom.reason).toContain('the external authorizer decides at runtime');
    // api-v2's sidecar walks the request word for word as api's, but for its address: one step, naming api's.
    const stages = (who: string) => j.trace.filter((t) => t.stage.startsWith(`receiver ${who}:`)).map((t) => t.stage);
    expect(stages('shop/api')).toContain('receiver shop/api: filter chain');
    expect(stages('shop/api-v2')).toEqual([
      'receiver shop/api-v2: walk',
      'receiver shop/api-v2: tls',
      'receiver shop/api-v2: authorization',
      'receiver shop/api-v2: dry-run',
    ]);
    const walk = j.trace.find((t) => t.stage === 'receiver shop/api-v2: walk')!.detail;
    expect(walk).toContain('as shop/api did');
    expect(walk).toContain('filter chain "0.0.0.0_8080"');
    expect(walk).toContain('cluster inbound|8080||');
  });

  it('CUSTOM does not apply where its rule does not match: v2 has no ALLOW policy, so it is allowed', async () => {
    const j = await askJourney(t.app, id, web, { port: 80, host: API, path: '/items', headers: [{ name: 'x-canary', value: '50' }] });
    expect(j.paths.map((p) => [p.destination?.name, p.hops.at(-1)!.authorization!.verdict, p.hops.at(-1)!.authorization!.action])).toEqual([
      ['api', 'ALLOW', 'ALLOW'],
      ['api-v2', 'ALLOW', 'AUDIT'],
    ]);
  });
});
