// The `meshlens` CLI, built (`npm run build`) and run as a user runs it, against a listening test
// server: outputs, exit codes (0 ok, 1 failure, 2 usage), and istioctl's tables for the seed
// scenario's gateway and sidecar against golden files (UPDATE_GOLDEN=1 rewrites them).
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/test-app.js';

const ROOT = join(import.meta.dirname, '..', '..');
const GOLDEN = join(import.meta.dirname, 'golden');

const t = useTestApp();
let server: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'dist/src/main.js'), ...args],
      { cwd: ROOT, env: { ...process.env, MESHLENS_URL: server, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function golden(file: string, got: string) {
  const path = join(GOLDEN, file);
  if (process.env.UPDATE_GOLDEN || !existsSync(path)) {
    if (!process.env.UPDATE_GOLDEN) throw new Error(`golden file ${file} missing: run with UPDATE_GOLDEN=1`);
    writeFileSync(path, got);
    return;
  }
  expect(got).toBe(readFileSync(path, 'utf8'));
}

beforeAll(async () => {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'ignore' });
  await t.app.listen(0, '127.0.0.1');
  server = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
});

describe('meshlens push, snapshots', () => {
  let id: string;

  it('pushes a directory recursively as one upload, waits for the worker, and summarises', async () => {
    const run = await cli(['push', 'examples/istioinaction', '--name', 'istioinaction', '--wait', '-o', 'json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({
      name: 'istioinaction',
      status: 'READY',
      resourceCount: 14,
      files: 5,
      workloads: { total: 4, sidecars: 3, routers: 1, none: 0 },
      diagnostics: { total: expect.any(Number) },
    });
    expect(summary.warnings).toContain('ServiceAccount istioinaction/catalog: kind not evaluated, stored only');
    id = summary.id;
  });

  it('prints a readable summary, and lists snapshots newest first', async () => {
    const run = await cli(['push', 'examples/istioinaction/catalog.yaml', 'examples/istioinaction/namespace.yaml', '--wait']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^snapshot {5}[0-9a-f-]{36}\nstatus {7}READY\nresources {4}\d+ from 2 file\(s\)\nworkloads {4}2 \(2 sidecar, 0 router, 0 without proxy\)\ndiagnostics {2}\d+ /,
    );
    const list = await cli(['snapshots']);
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATUS\s+RESOURCES\s+CREATED$/);
    expect(lines[2]).toContain(id);
    expect(lines[2]).toMatch(/istioinaction\s+READY\s+14\s/);
    const json = JSON.parse((await cli(['snapshots', '-o', 'json', '--limit', '1'])).stdout);
    expect(json.items).toHaveLength(1);
    expect(json.nextCursor).toEqual(expect.any(String));
  });

  it("counts the diagnostics by Istio's levels", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshlens-cli-'));
    writeFileSync(
      join(dir, 'vs.yaml'),
      'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: lost, namespace: shop}\nspec:\n  hosts: [web]\n  http: [{route: [{destination: {host: nowhere}, weight: 50}, {destination: {host: elsewhere}, weight: 50}]}]\n',
    );
    const json = JSON.parse((await cli(['push', dir, '--wait', '-o', 'json'])).stdout);
    expect(json.diagnostics.errors).toBeGreaterThanOrEqual(2);
    expect(json.diagnostics.errors + json.diagnostics.warnings + json.diagnostics.info).toBe(json.diagnostics.total);
    const text = await cli(['push', dir, '--wait']);
    const [, total, errors, warnings, info] = /diagnostics {2}(\d+) \((\d+) error, (\d+) warning, (\d+) info\)/
      .exec(text.stdout)!
      .map(Number);
    expect([total, errors, warnings, info]).toEqual([
      json.diagnostics.total,
      json.diagnostics.errors,
      json.diagnostics.warnings,
      json.diagnostics.info,
    ]);
  });

  it('refuses bad manifests with every problem (exit 1), and missing paths (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshlens-cli-'));
    writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 80000}]\n');
    const bad = await cli(['push', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid manifests');
    expect(bad.stderr).toContain('must be a port number from 1 to 65535');
    const missing = await cli(['push', join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file or directory');
  });
});

describe('meshlens proxy-config, proxy-status, resolve', () => {
  let id: string;
  beforeAll(async () => {
    const run = await cli(['push', 'examples/istioinaction', '--wait', '-o', 'json']);
    expect(run.code).toBe(0);
    id = JSON.parse(run.stdout).id;
  });

  const GATEWAY = 'istio-ingressgateway.istio-system';
  const SIDECAR = 'webapp.istioinaction';
  for (const [workload, label] of [
    [GATEWAY, 'gateway'],
    [SIDECAR, 'webapp'],
  ] as const) {
    for (const type of ['route', 'listener', 'cluster', 'endpoint']) {
      it(`proxy-config ${type} of the ${label} prints istioctl's table`, async () => {
        const run = await cli(['proxy-config', type, workload, '--snapshot', id]);
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        golden(`istioinaction-${label}.${type}.txt`, run.stdout);
      });
    }
  }

  it("the gateway's route table has istioctl's layout (§7.8): backend rows with trailing padding", async () => {
    const { stdout } = await cli(['pc', 'r', GATEWAY, '--snapshot', id]);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME {10}VHOST NAME {4,}DOMAINS {4,}MATCH {4,}VIRTUAL SERVICE$/);
    expect(lines[1]).toMatch(
      /^http\.8080 {5}catalog\.istioinaction\.io:80 {5}catalog\.istioinaction\.io {5}\/\* {5,}catalog-vs-from-gw\.istioinaction$/,
    );
    expect(stdout).toMatch(/\n {14}backend {5,}\* {5,}\/stats\/prometheus\* {5}\n/);
  });

  it('filters as istioctl does, and prints -o json/yaml', async () => {
    const run = await cli(['pc', 'cluster', SIDECAR, '--snapshot', id, '--fqdn', 'catalog', '--subset', 'version-v1']);
    expect(run.stdout).toBe(
      'SERVICE FQDN                                PORT     SUBSET         DIRECTION     TYPE     DESTINATION RULE\n' +
        'catalog.istioinaction.svc.cluster.local     80       version-v1     outbound      EDS      catalog.istioinaction\n',
    );
    const json = JSON.parse((await cli(['pc', 'listener', SIDECAR, '--snapshot', id, '--port', '15006', '-o', 'json'])).stdout);
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({ name: 'virtualInbound', address: { socketAddress: { portValue: 15006 } } });
    const yaml = await cli(['pc', 'route', SIDECAR, '--snapshot', id, '--name', '80', '-o', 'yaml']);
    expect(yaml.stdout).toMatch(/^- ignorePortInHostMatching: true\n/);
    expect(yaml.stdout).toContain('\n  name: "80"\n');
    const all = await cli(['pc', 'all', SIDECAR, '--snapshot', id]);
    expect(all.stdout).toMatch(/^Istio Version: +1\.31/);
    expect(all.stdout).toContain('\nNAME  ');
    expect(all.stdout).toContain('route/80 ');
  });

  it('one config dump: REST config_dump, GraphQL configDump and pc all -o json give the same bytes, stored or generated', async () => {
    const gql = async (query: string, variables: Record<string, unknown>) => {
      const res = await fetch(`${server}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data: Record<string, any>; errors?: unknown };
      expect(body.errors).toBeUndefined();
      return body.data;
    };
    // The GraphQL JSON scalar carries the parsed dump: written back as the dump's text is written.
    const asText = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
    const rest = await fetch(`${server}/api/v1/snapshots/${id}/proxies/istioinaction/webapp/config_dump`);
    expect(rest.status).toBe(200);
    expect(rest.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await rest.text();
    expect((await cli(['pc', 'all', SIDECAR, '--snapshot', id, '-o', 'json'])).stdout).toBe(text);
    const stored = await gql(
      `query($id: ID!) { proxyConfig(snapshotId: $id, proxy: {namespace: "istioinaction", name: "webapp"}) { configDump }
        snapshot(id: $id) { workloads(namespace: "istioinaction") { name ips proxyConfig { configDump } } } }`,
      { id },
    );
    expect(asText(stored.proxyConfig.configDump)).toBe(text);
    const webapp = stored.snapshot.workloads.find((w: { name: string }) => w.name === 'webapp');
    expect(asText(webapp.proxyConfig.configDump)).toBe(text);
    // The same proxy described ad hoc (its IP given): a generator session, not the stored config, and the same dump.
    const adHoc = await gql(`query($id: ID!, $proxy: ProxyInput!) { proxyConfig(snapshotId: $id, proxy: $proxy) { configDump } }`, {
      id,
      proxy: { namespace: 'istioinaction', name: 'webapp', ip: webapp.ips[0] },
    });
    expect(asText(adHoc.proxyConfig.configDump)).toBe(text);
    const dump = JSON.parse(text) as { configs: { '@type': string }[] };
    expect(dump.configs.map((c) => c['@type'].replace('type.googleapis.com/envoy.admin.v3.', ''))).toEqual([
      'BootstrapConfigDump',
      'ClustersConfigDump',
      'EndpointsConfigDump',
      'ListenersConfigDump',
      'ScopedRoutesConfigDump',
      'RoutesConfigDump',
      'SecretsConfigDump',
    ]);
  });

  it('proxy-status lists every proxy as istioctl does', async () => {
    const run = await cli(['proxy-status', '--snapshot', id]);
    expect(run.code).toBe(0);
    golden('istioinaction.proxy-status.txt', run.stdout);
    const verbose = await cli(['ps', '--snapshot', id, '-v', '1']);
    expect(verbose.stdout.split('\n')[0]).toMatch(/^NAME +CLUSTER +CDS +ECDS +EDS +LDS +RDS +ISTIOD +VERSION$/);
    const json = JSON.parse((await cli(['ps', '--snapshot', id, '-o', 'json'])).stdout);
    expect(json.resources).toHaveLength(4);
  });

  it('resolve prints the resolution and its trace', async () => {
    const args = [
      'resolve',
      '--snapshot',
      id,
      '--from',
      'istio-system/istio-ingressgateway',
      '--mode',
      'GATEWAY',
      '--port',
      '8080',
      '--host',
      'catalog.istioinaction.io',
      '--header',
      'x-istio-cohort=internal',
    ];
    const run = await cli(args);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^routed to outbound\|80\|version-v2\|catalog\.istioinaction\.svc\.cluster\.local\n/);
    expect(run.stdout).toContain('route config    http.8080');
    expect(run.stdout).toContain('VirtualService  istioinaction/catalog-vs-from-gw');
    expect(run.stdout).toMatch(/\ntrace:\n +1\. listener /);
    const json = JSON.parse((await cli([...args, '-o', 'json'])).stdout);
    expect(json).toMatchObject({
      routeConfig: 'http.8080',
      cluster: 'outbound|80|version-v2|catalog.istioinaction.svc.cluster.local',
      error: null,
    });
    const adhoc = await cli([
      'resolve',
      '--snapshot',
      id,
      '--labels',
      'app=sleep',
      '--namespace',
      'istioinaction',
      '--host',
      'webapp.istioinaction',
      '-o',
      'json',
    ]);
    expect(adhoc.code).toBe(0);
    expect(JSON.parse(adhoc.stdout).cluster).toBe('outbound|80||webapp.istioinaction.svc.cluster.local');
  });

  it('journey prints each path hop by hop, and the trace; -o json the Journey', async () => {
    const args = [
      'journey',
      '--snapshot',
      id,
      '--from',
      'istio-system/istio-ingressgateway',
      '--port',
      '8080',
      '--host',
      'catalog.istioinaction.io',
    ];
    const run = await cli(args);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^path 1: 100% DELIVERED to istioinaction\/catalog \(Deployment\)\n/);
    expect(run.stdout).toContain('  1. gateway istio-system/istio-ingressgateway (OUTBOUND): listener 0.0.0.0_8080');
    expect(run.stdout).toContain('     tls: MTLS: mTLS, because the server has a sidecar');
    expect(run.stdout).toMatch(
      /\n {2}2\. sidecar istioinaction\/catalog \(INBOUND\): listener virtualInbound, filter chain 0\.0\.0\.0_3000, route default, cluster inbound\|3000\|\|\n/,
    );
    expect(run.stdout).toContain('     authorization: ALLOW: No AuthorizationPolicy applies to istioinaction/catalog: allowed.');
    expect(run.stdout).toMatch(/\ntrace:\n +1\. sender istio-system\/istio-ingressgateway: listener /);
    const json = JSON.parse((await cli([...args, '--header', 'x-istio-cohort=internal', '-o', 'json'])).stdout);
    expect(json.paths).toMatchObject([{ share: 100, outcome: 'DELIVERED', destination: { name: 'catalog-v2' } }]);
    const bad = await cli([...args, '--claims', '[1]']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--claims takes a JSON object');
  });

  it('exit 1 for failures the server reports', async () => {
    const unknown = await cli(['pc', 'route', 'nope.istioinaction', '--snapshot', id]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no workload istioinaction\/nope.*\(HTTP 404\)/);
    const snapshot = await cli(['pc', 'route', SIDECAR, '--snapshot', '00000000-0000-0000-0000-000000000000']);
    expect(snapshot.code).toBe(1);
    expect(snapshot.stderr).toContain('HTTP 404');
    const down = await cli(['snapshots', '--server', 'http://127.0.0.1:9']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot reach meshlens at http://127.0.0.1:9');
  });

  it("exit 2 for usage errors, commander's own included", { timeout: 180_000 }, async () => {
    const cases = [
      ['pc', 'route', SIDECAR], // --snapshot missing
      ['pc', 'route'], // workload missing
      ['pc', 'secret', SIDECAR, '--snapshot', id], // unknown type
      ['pc', 'cluster', SIDECAR, '--snapshot', id, '--port', 'http'],
      ['pc', 'cluster', SIDECAR, '--snapshot', id, '--direction', 'sideways'],
      ['pc', 'cluster', SIDECAR, '--snapshot', id, '-o', 'xml'],
      ['snapshots', '--bogus'],
      ['resolve', '--snapshot', id, '--host', 'x'], // no --from / --labels
      ['resolve', '--snapshot', id, '--labels', 'app', '--namespace', 'x', '--host', 'x'],
      ['nonsense'],
    ];
    const runs = await Promise.all(cases.map((args) => cli(args)));
    runs.forEach((run, i) => {
      expect({ args: cases[i], code: run.code }).toEqual({ args: cases[i], code: 2 });
      expect(run.stdout).toBe('');
    });
    expect((await cli(['--help'])).code).toBe(0);
  });
});

describe('meshlens proxy-config and proxy-status on a gateway istiod deploys (Gateway API)', () => {
  let id: string;
  const EDGE = 'edge-istio.shop';
  beforeAll(async () => {
    const run = await cli(['push', 'examples/gateway-api', '--wait', '-o', 'json']);
    expect(run.code).toBe(0);
    id = JSON.parse(run.stdout).id;
  });

  it('pc route by name.namespace: the HTTPRoute behind each route', async () => {
    const run = await cli(['pc', 'route', EDGE, '--snapshot', id]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME +VHOST NAME +DOMAINS +MATCH +VIRTUAL SERVICE$/);
    // The VIRTUAL SERVICE column names the VirtualService istiod derived from the HTTPRoute.
    expect(run.stdout).toMatch(
      /\nhttp\.80 +shop\.example\.com:80 +shop\.example\.com +PathPrefix:\/v2 +shop~edge~istio-autogenerated-k8s-gateway~http~shop\.example\.com\.shop\n/,
    );
  });

  it('pc listener, cluster, endpoint and all', async () => {
    const listener = await cli(['pc', 'listener', EDGE, '--snapshot', id]);
    expect(listener.code).toBe(0);
    expect(listener.stdout).toMatch(/\n0\.0\.0\.0 +80 +ALL +Route: http\.80\n/);
    const clusters = await cli(['pc', 'cluster', EDGE, '--snapshot', id, '--fqdn', 'web-v2']);
    expect(clusters.code).toBe(0);
    expect(clusters.stdout).toMatch(/\nweb-v2\.shop\.svc\.cluster\.local +8080 +- +outbound +EDS/);
    const endpoints = await cli(['pc', 'endpoint', EDGE, '--snapshot', id, '--cluster', 'outbound|8080||web.shop.svc.cluster.local']);
    expect(endpoints.code).toBe(0);
    expect(endpoints.stdout.split('\n')[0]).toMatch(/^ENDPOINT +STATUS +OUTLIER CHECK +CLUSTER$/);
    const all = await cli(['pc', 'all', EDGE, '--snapshot', id]);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('route/http.80 ');
    const json = JSON.parse((await cli(['pc', 'route', EDGE, '--snapshot', id, '--name', 'http.80', '-o', 'json'])).stdout);
    expect(json[0].name).toBe('http.80');
  });

  it('proxy-status lists the deployed gateway with the sidecars', async () => {
    const run = await cli(['proxy-status', '--snapshot', id]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\nedge-istio(-[a-z0-9-]+)?\.shop +/);
    expect(run.stdout).toMatch(/\nweb(-[a-z0-9-]+)?\.shop +/);
  });
});

describe('REST proxy views', () => {
  let id: string;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshlens-cli-'));
    // A pod without a sidecar (no injection label), next to the scenario.
    writeFileSync(
      join(dir, 'legacy.yaml'),
      'apiVersion: v1\nkind: Pod\nmetadata: {name: legacy, namespace: default, labels: {app: legacy}}\nspec: {containers: [{name: legacy, image: busybox}]}\nstatus: {podIP: 10.1.2.3}\n',
    );
    const run = await cli(['push', 'examples/istioinaction', dir, '--wait', '-o', 'json']);
    expect(run.code).toBe(0);
    id = JSON.parse(run.stdout).id;
  });

  const get = (path: string) => fetch(`${server}/api/v1/snapshots/${id}${path}`);

  it('table as text/plain, json as application/json', async () => {
    const table = await get('/proxies/istioinaction/webapp/clusters');
    expect(table.status).toBe(200);
    expect(table.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await table.text()).toMatch(/^SERVICE FQDN {2,}PORT {5}SUBSET {5,}DIRECTION {5}TYPE {13}DESTINATION RULE\n/);
    const json = await get('/proxies/istioinaction/webapp/clusters?format=json&direction=inbound');
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await json.json()).map((c: { name: string }) => c.name)).toEqual(['inbound|8080||']);
    const status = await get('/proxy-status');
    expect(await status.text()).toMatch(/\nwebapp\.istioinaction {5,}Kubernetes {5}meshlens {5}1\.31\.\S+ {5,}4 \(CDS,LDS,EDS,RDS\)\n/);
  });

  it('clear 4xx errors', async () => {
    const cases: [string, number, RegExp][] = [
      ['/proxies/default/legacy/routes', 400, /no proxy \(proxy type NONE\)/],
      ['/proxies/default/nope/routes', 404, /no workload default\/nope/],
      ['/proxies/istioinaction/webapp/secrets', 404, /unknown view "secrets"/],
      ['/proxies/istioinaction/webapp/routes?format=xml', 400, /format must be one of/],
      ['/proxies/istioinaction/webapp/clusters?port=0', 400, /port must be a port number/],
      ['/proxies/istioinaction/webapp/clusters?direction=up', 400, /direction must be inbound or outbound/],
      ['/proxies/istioinaction/webapp/clusters?colour=red', 400, /unknown query parameter "colour"/],
      ['/proxy-status?verbosity=3', 400, /verbosity must be 0 or 1/],
    ];
    for (const [path, status, error] of cases) {
      const res = await get(path);
      const body = await res.json();
      expect({ path, status: res.status }).toEqual({ path, status });
      expect(body.error).toMatch(error);
    }
  });
});
