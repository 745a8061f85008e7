// The snapshot diff through the API (REST and GraphQL) on scenario pairs built from the istioinaction
// seed story, and the offline PR-bot mode once. Needs the generator binary (`npm run build:generator`).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffCommand, runDiff } from '../../src/cli/diff.js';
import { uploadSnapshot, waitReady, useTestApp } from '../support/test-app.js';
import { scenarios, type Scenario } from '../unit/diff/scenarios.js';

const HOST = 'catalog.istioinaction.svc.cluster.local';
const SIDECARS = 'istioinaction/catalog, istioinaction/catalog-v2, istioinaction/webapp';

const t = useTestApp();
const all = scenarios();

interface Diff {
  summary: Record<string, number | boolean>;
  resources: { change: string; kind: string; name: string; fields: { path: string; before?: unknown; after?: unknown }[] }[];
  proxies: {
    workloads: { namespace: string; name: string }[];
    proxyType: string;
    objects: { type: string; name: string; change: string }[];
    routing: { kind: string; sentence: string; destination: string }[];
  }[];
  diagnostics: { introduced: { code: string; level: string; message: string }[]; resolved: unknown[] };
  markdown: string;
}

const ids: Record<string, { base: string; head: string }> = {};
const diffs: Record<string, Diff> = {};

beforeAll(async () => {
  for (const [key, s] of Object.entries(all))
    ids[key] = { base: await uploadSnapshot(t.app, s.base, `${key}-base`), head: await uploadSnapshot(t.app, s.head, `${key}-head`) };
  for (const pair of Object.values(ids)) {
    await waitReady(t.app, pair.base);
    await waitReady(t.app, pair.head);
  }
  for (const [key, pair] of Object.entries(ids)) {
    const res = await request(t.app.getHttpServer()).get(`/api/v1/snapshots/${pair.base}/diff/${pair.head}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    diffs[key] = res.body;
  }
}, 300_000);

// Each sidecar is its own class (their labels differ); the same sentence once.
const sentences = (d: Diff) => [...new Set(d.proxies.flatMap((p) => p.routing.map((r) => r.sentence)))];
const workloads = (d: Diff) => d.proxies.flatMap((p) => p.workloads.map((w) => `${w.namespace}/${w.name}`)).sort();
const byWorkload = (d: Diff, name: string) => d.proxies.find((p) => p.workloads.some((w) => `${w.namespace}/${w.name}` === name));

describe('scenario pairs', () => {
  it('all traffic to v1 → 90/10 canary', () => {
    const d = diffs.canary!;
    const webapp = byWorkload(d, 'istioinaction/webapp')!;
    expect(workloads(d)).toEqual(['istioinaction/catalog', 'istioinaction/catalog-v2', 'istioinaction/webapp']);
    expect(webapp.routing.map((r) => r.sentence)).toEqual([
      `Requests to ${HOST}:80 (any path) now go to ${HOST}:80: 90% subset version-v1, 10% subset version-v2; before: ${HOST}:80 subset version-v1 (VirtualService istioinaction/catalog).`,
    ]);
    expect(webapp.objects).toEqual([expect.objectContaining({ type: 'routes', name: '80', change: 'CHANGED' })]);
    expect(d.resources).toEqual([expect.objectContaining({ change: 'CHANGED', kind: 'VirtualService', name: 'catalog' })]);
    expect(d.resources[0]!.fields.map((f) => f.path)).toEqual([
      'spec.http[name=canary].route[0].weight',
      'spec.http[name=canary].route[1]',
    ]);
    // The gateway's routes come from catalog-vs-from-gw: unchanged.
    expect(byWorkload(d, 'istio-system/istio-ingressgateway')).toBeUndefined();
    expect(d.summary).toMatchObject({ workloadsAffected: 3, routingChanges: 1, effectiveChange: true, diagnosticsIntroduced: 0 });
  });

  it('adding the x-istio-cohort: internal rule', () => {
    expect(sentences(diffs.cohort!)).toEqual([
      `New route \`internal-cohort\` (VirtualService istioinaction/catalog): requests to ${HOST}:80 with any path, header x-istio-cohort is exactly "internal" now go to ${HOST}:80 subset version-v2; before: ${HOST}:80: 90% subset version-v1, 10% subset version-v2 (route \`canary\`).`,
    ]);
  });

  it("a DestinationRule with http2MaxRequests: 1 changes the callers' clusters and the callee's inbound one", () => {
    const d = diffs.circuitBreaker!;
    const callers = byWorkload(d, 'istioinaction/webapp')!;
    expect(callers.routing.map((r) => r.sentence)).toEqual([
      `Cluster outbound|80|version-v1|${HOST}: max concurrent requests unlimited → 1 (DestinationRule istioinaction/catalog).`,
      `Cluster outbound|80|version-v2|${HOST}: max concurrent requests unlimited → 1 (DestinationRule istioinaction/catalog).`,
      `Cluster outbound|80||${HOST}: max concurrent requests unlimited → 1 (DestinationRule istioinaction/catalog).`,
    ]);
    const gateway = byWorkload(d, 'istio-system/istio-ingressgateway')!;
    expect(gateway.proxyType).toBe('ROUTER');
    expect(gateway.routing).toHaveLength(3);
    // The callers' outbound clusters change, and so does catalog's inbound cluster (on its target
    // port 3000): istiod applies a DestinationRule's connection pool to the service's own side too.
    const changed = d.proxies.flatMap((p) => p.objects.map((o) => o.name));
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((n) => (n.startsWith('outbound|80|') && n.endsWith(`|${HOST}`)) || n === 'inbound|3000||')).toBe(true);
    const callee = d.proxies.filter((p) => p.workloads.some((w) => w.name.startsWith('catalog')));
    expect(callee.flatMap((p) => p.objects.map((o) => o.name))).toContain('inbound|3000||');
  });

  it('a VirtualService moved from mesh to a named gateway: sidecars fall back to the default route', () => {
    const d = diffs.toGateway!;
    expect(sentences(d)).toEqual([
      `Requests to ${HOST}:80 (any path) now take the default route to ${HOST}:80: VirtualService istioinaction/catalog no longer applies to this proxy; before: ${HOST}:80: 90% subset version-v1, 10% subset version-v2.`,
      `Route \`internal-cohort\` (VirtualService istioinaction/catalog) is gone: requests to ${HOST}:80 with any path, header x-istio-cohort is exactly "internal" now go to ${HOST}:80 (the default route); before: ${HOST}:80 subset version-v2.`,
    ]);
    expect(d.resources[0]!.fields).toEqual([{ path: 'spec.gateways', change: 'CHANGED', before: ['mesh'], after: ['catalog-gateway'] }]);
    expect(d.diagnostics.introduced.map((m) => m.code)).toEqual(['IST0132']);
  });

  it('a route to a subset no DestinationRule defines: IST0101, and the cluster has no endpoints', () => {
    const d = diffs.missingSubset!;
    expect(d.diagnostics.introduced).toEqual([
      expect.objectContaining({
        code: 'IST0101',
        level: 'Error',
        message: 'Referenced host+subset in destinationrule not found: "catalog+version-v3"',
      }),
    ]);
    expect(sentences(d)).toEqual([
      `Requests to ${HOST}:80 (any path) now go to ${HOST}:80: 90% subset version-v1, 10% subset version-v3 (${HOST}:80 subset version-v3 does not exist on this proxy, so it has no endpoints: Envoy answers 503 (NC, no cluster)); before: ${HOST}:80: 90% subset version-v1, 10% subset version-v2 (VirtualService istioinaction/catalog).`,
    ]);
    expect(d.summary).toMatchObject({ errorsIntroduced: 1 });
  });

  it('a change only in status and annotations: no effective change', () => {
    const d = diffs.noise!;
    expect(d.proxies).toEqual([]);
    expect(d.summary).toMatchObject({ effectiveChange: false, resourcesChanged: 1, resourcesNoiseOnly: 1 });
    expect(d.resources[0]!.fields).toEqual([
      { path: 'metadata.annotations', change: 'ADDED', after: { 'example.com/owner': 'team-catalog' } },
    ]);
  });
});

describe('markdown', () => {
  it('the canary as a PR comment', async () => {
    const res = await request(t.app.getHttpServer()).get(`/api/v1/snapshots/${ids.canary!.base}/diff/${ids.canary!.head}?format=markdown`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/markdown/);
    const md = res.text;
    expect(md).toBe(diffs.canary!.markdown);
    expect(
      md.startsWith(
        '### meshlens: what this change does\n\n**This change changes the Envoy config of 3 workloads (1 distinct routing change).** 1 resource changed.\n',
      ),
    ).toBe(true);
    expect(md).toContain(
      `| ${SIDECARS} | sidecar | \`${HOST}:80\` | Requests to ${HOST}:80 (any path) now go to ${HOST}:80: 90% subset version-v1, 10% subset version-v2; before: ${HOST}:80 subset version-v1 (VirtualService istioinaction/catalog). |`,
    );
    expect(md).toContain(
      `<details><summary><b>${SIDECARS}</b> (sidecar, 3 workloads with this same change): 1 routing change, 1 Envoy object changed</summary>`,
    );
    expect(md).toContain('- changed: `VirtualService istioinaction/catalog`\n  - `spec.http[name=canary].route[0].weight`: added `90`');
    expect(md).toMatch(/<sub>meshlens · Istio 1\.\d+\.\d+ · canary-base → canary-head<\/sub>\n$/);
  });

  it('the missing subset: the error first, before the details', () => {
    const md = diffs.missingSubset!.markdown;
    expect(md).toContain(
      '**This change changes the Envoy config of 3 workloads (1 distinct routing change) and introduces 1 diagnostic (1 error).**',
    );
    expect(md).toContain(
      '#### Diagnostics introduced\n\n- 🔴 **Error** `IST0101` VirtualService istioinaction/catalog: Referenced host+subset in destinationrule not found: "catalog+version-v3"',
    );
    expect(md.indexOf('Diagnostics introduced')).toBeLessThan(md.indexOf('<details>'));
  });

  it('no effective change', () => {
    const md = diffs.noise!.markdown;
    expect(md).toContain(
      "**No effective change:** 1 resource changed, but no proxy's Envoy config and no diagnostic changed; 1 resource differed only in fields the API server writes (status, resourceVersion, …), ignored.",
    );
    expect(md).not.toContain('| workload |');
  });

  it('is the same on every call', async () => {
    const again = await request(t.app.getHttpServer()).get(
      `/api/v1/snapshots/${ids.circuitBreaker!.base}/diff/${ids.circuitBreaker!.head}?format=markdown`,
    );
    expect(again.text).toBe(diffs.circuitBreaker!.markdown);
  });
});

describe('GraphQL and errors', () => {
  it('diff(baseId, headId) with resources, proxies, diagnostics and markdown', async () => {
    const { base, head } = ids.missingSubset!;
    const res = await request(t.app.getHttpServer())
      .post('/graphql')
      .send({
        query: `query ($b: ID!, $h: ID!) { diff(baseId: $b, headId: $h) {
          summary { effectiveChange workloadsAffected }
          resources { change kind name fields { path change before after } }
          proxies { classKey proxyType workloads { namespace name } objects { type name change fields { path } } routing { kind destination sentence routeConfig virtualHost route } }
          diagnostics { introduced { code level message resource { kind namespace name } } resolved { code } }
          markdown } }`,
        variables: { b: base, h: head },
      });
    expect(res.body.errors).toBeUndefined();
    const d = res.body.data.diff;
    expect(d.summary).toEqual({ effectiveChange: true, workloadsAffected: 3 });
    expect(d.resources[0].fields).toEqual([
      { path: 'spec.http[name=canary].route[1].destination.subset', change: 'CHANGED', before: 'version-v2', after: 'version-v3' },
    ]);
    expect(d.proxies[0].routing[0]).toMatchObject({
      kind: 'ROUTE',
      destination: `${HOST}:80`,
      routeConfig: '80',
      virtualHost: `${HOST}:80`,
      route: 'canary',
    });
    expect(d.diagnostics.introduced[0]).toEqual({
      code: 'IST0101',
      level: 'Error',
      message: 'Referenced host+subset in destinationrule not found: "catalog+version-v3"',
      resource: { kind: 'VirtualService', namespace: 'istioinaction', name: 'catalog' },
    });
    expect(d.markdown).toBe(diffs.missingSubset!.markdown);
  });

  it('409 naming the side that is not READY; 404 for an unknown snapshot; 400 for a bad format', async () => {
    const { base, head } = ids.canary!;
    await t.db.query(`UPDATE snapshots SET status = 'COMPUTING' WHERE id = $1`, [head]);
    try {
      const res = await request(t.app.getHttpServer()).get(`/api/v1/snapshots/${base}/diff/${head}`);
      expect(res.status).toBe(409);
      expect(res.body.error).toBe(
        `cannot diff yet: head snapshot ${head} is COMPUTING, not READY (still being computed, retry shortly); both snapshots must be READY`,
      );
      const gql = await request(t.app.getHttpServer())
        .post('/graphql')
        .send({ query: `{ diff(baseId: "${base}", headId: "${head}") { markdown } }` });
      expect(gql.body.errors[0]).toMatchObject({ message: res.body.error, extensions: { code: 'CONFLICT' } });
    } finally {
      await t.db.query(`UPDATE snapshots SET status = 'READY' WHERE id = $1`, [head]);
    }
    const missing = await request(t.app.getHttpServer()).get(`/api/v1/snapshots/${base}/diff/00000000-0000-0000-0000-000000000000`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('head snapshot 00000000-0000-0000-0000-000000000000 not found');
    const bad = await request(t.app.getHttpServer()).get(`/api/v1/snapshots/${base}/diff/${head}?format=html`);
    expect(bad.status).toBe(400);
  });
});

describe('offline PR-bot mode (meshlens diff --base PATH --head PATH)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshlens-diff-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (s: Scenario, side: 'base' | 'head') => {
    // A folder of several files, nested, as a repository holds them.
    const root = join(dir, side);
    mkdirSync(join(root, 'routing'), { recursive: true });
    const docs = s[side].split(/^---$/m);
    writeFileSync(join(root, 'mesh.yaml'), docs.slice(0, 6).join('---'));
    writeFileSync(join(root, 'routing', 'rest.yml'), docs.slice(6).join('---'));
    writeFileSync(join(root, 'README.md'), 'not a manifest');
    return root;
  };

  it('gives the markdown the server gives, and exits 1 on --fail-on error when an error is introduced', async () => {
    const s = all.missingSubset!;
    const base = write(s, 'base');
    const head = write(s, 'head');
    let out = '';
    let err = '';
    const io = { stdout: (t: string) => void (out += t), stderr: (t: string) => void (err += t) };
    const code = await runDiff(undefined, undefined, { base, head, format: 'markdown', failOn: 'error', server: '' }, io);
    expect(err).toBe('meshlens diff: the change introduces an error (--fail-on error)\n');
    expect(code).toBe(1);
    const server = diffs.missingSubset!.markdown;
    const strip = (md: string) => md.replace(/<sub>.*<\/sub>\n$/, '');
    expect(strip(out)).toBe(strip(server));

    out = '';
    expect(await runDiff(undefined, undefined, { base, head, format: 'json', failOn: 'never', server: '' }, io)).toBe(0);
    expect(JSON.parse(out).diagnostics.introduced[0].code).toBe('IST0101');
  });

  it('exits 2 on usage errors', async () => {
    const codes: number[] = [];
    const cmd = diffCommand({ stdout: () => {}, stderr: () => {}, exit: (c) => void codes.push(c) });
    await cmd.parseAsync(['--base', 'a'], { from: 'user' });
    expect(codes).toEqual([2]);
    await expect(
      diffCommand({ stdout: () => {}, stderr: () => {}, exit: (c) => void codes.push(c) }).parseAsync(['--format', 'html'], {
        from: 'user',
      }),
    ).rejects.toThrow();
    expect(codes).toEqual([2, 2]);
  });
});
