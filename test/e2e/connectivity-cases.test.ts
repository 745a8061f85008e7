// Connectivity on generated config (src/connectivity, through test/support/connectivity.ts: one
// generator session, every proxy's config, the worker's builder): AuthorizationPolicies with
// principals, namespaces, ipBlocks, methods and paths, DENY overriding ALLOW, ALLOW-nothing,
// PeerAuthentication PERMISSIVE -> STRICT, a DestinationRule disabling TLS, workloads without a
// sidecar on either side; and the diff of two meshes (opened, closed, narrowed, widened, mTLS lost,
// nothing for an unrelated change), with its PR comment.
import { describe, expect, it } from 'vitest';
import { diffConnectivity } from '../../src/diff/connectivity.js';
import { composeDiff } from '../../src/diff/diff.js';
import type { ConnectionRow } from '../../src/connectivity/rows.js';
import type { Connectivity } from '../../src/model/connectivity.js';
import { connectivityOf } from '../support/connectivity.js';
import { namespace, pod, service, yaml } from '../support/mesh.js';

/** A running, ready pod of `app` with service account `sa`, serving on 8080. */
const appPod = (ns: string, name: string, app: string, sa: string, ip: string) =>
  pod(ns, name, { labels: { app }, serviceAccount: sa, ip, ready: true, image: 'app', containerPorts: [{ containerPort: 8080 }] });
const http80 = [{ name: 'http', port: 80, targetPort: 8080 }];

/** shop: db (the destination) and web; partner: reporter; shop: other (another service account); legacy: batch, without a sidecar. */
const MESH = yaml(
  namespace('shop'),
  namespace('partner'),
  namespace('legacy', { injection: false }),
  service('shop', 'db', http80, { clusterIP: '10.96.0.10' }),
  service('legacy', 'plain', http80, { clusterIP: '10.96.0.20' }),
  appPod('shop', 'db-1', 'db', 'db', '10.1.0.10'),
  appPod('shop', 'web-1', 'web', 'web', '10.1.0.11'),
  appPod('shop', 'other-1', 'other', 'other', '10.1.0.12'),
  appPod('partner', 'reporter-1', 'reporter', 'reporter', '10.1.0.13'),
  appPod('legacy', 'batch-1', 'batch', 'batch', '10.2.0.14'),
  appPod('legacy', 'plain-1', 'plain', 'plain', '10.2.0.15'),
);

const DB = 'db.shop.svc.cluster.local:80';
const PLAIN = 'plain.legacy.svc.cluster.local:80';

const doc = (yaml: string) => `---\n${yaml.trim()}\n`;
const ALLOW = doc(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: db-access, namespace: shop}
spec:
  selector: {matchLabels: {app: db}}
  rules:
  - from: [{source: {principals: [cluster.local/ns/shop/sa/web]}}]
    to: [{operation: {methods: [GET, HEAD], paths: [/api/*]}}]
  - from: [{source: {namespaces: [partner]}}]
  - from: [{source: {ipBlocks: [10.2.0.14/32]}}]
`);
const DENY_WEB = doc(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: no-web, namespace: shop}
spec:
  selector: {matchLabels: {app: db}}
  action: DENY
  rules:
  - from: [{source: {principals: [cluster.local/ns/shop/sa/web]}}]
`);
const ALLOW_NOTHING = doc(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-nothing, namespace: shop}
spec: {}
`);
const STRICT = doc(`
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: STRICT}}
`);
const PERMISSIVE = doc(`
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: PERMISSIVE}}
`);
const DR_DISABLE = doc(`
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db-plain, namespace: shop}
spec:
  host: db.shop.svc.cluster.local
  trafficPolicy: {tls: {mode: DISABLE}}
`);
const UNRELATED = doc(`
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {a: b}
`);

const NEW_TRUST_DOMAIN = doc(`
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data: {mesh: "trustDomain: new-td"}
`);
const ALLOW_WEB_IN_NEW_TD = doc(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: web-only, namespace: shop}
spec:
  selector: {matchLabels: {app: db}}
  rules:
  - from: [{source: {principals: [new-td/ns/shop/sa/web]}}]
`);

const cache = new Map<string, Promise<{ connectivity: Connectivity; rows: ConnectionRow[] }>>();
const of = (yaml: string) => {
  let c = cache.get(yaml);
  if (!c) cache.set(yaml, (c = connectivityOf(yaml)));
  return c;
};
const row = (rows: ConnectionRow[], source: string, destination: string) =>
  rows.find((r) => `${r.source.namespace}/${r.source.name}` === source && r.destination === destination);
const to = async (yaml: string, destination = DB) => {
  const { rows } = await of(yaml);
  return (source: string) => row(rows, source, destination)!;
};

describe('connectivity: what the generated RBAC filters allow each sender', { timeout: 120_000 }, () => {
  it('without policies, every workload reaches db: the sidecars over mTLS, batch (no sidecar) in plaintext', async () => {
    const { rows } = await of(MESH);
    const db = rows.filter((r) => r.destination === DB);
    expect(db.map((r) => `${r.source.namespace}/${r.source.name} ${r.verdict} ${r.tls}`)).toEqual([
      'legacy/batch-1 ALLOWED PLAINTEXT',
      'legacy/plain-1 ALLOWED PLAINTEXT',
      'partner/reporter-1 ALLOWED MTLS',
      'shop/db-1 ALLOWED MTLS',
      'shop/other-1 ALLOWED MTLS',
      'shop/web-1 ALLOWED MTLS',
    ]);
    expect(db.every((r) => r.policies.length === 0 && r.conditions === null)).toBe(true);
  });

  it('principals with methods and paths (conditional), namespaces and ipBlocks (allowed), anyone else denied', async () => {
    const at = await to(MESH + ALLOW);
    expect(at('shop/web-1')).toMatchObject({ verdict: 'CONDITIONAL', conditions: ['methods GET, HEAD on path /api/*'], tls: 'MTLS' });
    expect(at('shop/web-1').policies).toEqual([{ kind: 'AuthorizationPolicy', namespace: 'shop', name: 'db-access' }]);
    expect(at('partner/reporter-1')).toMatchObject({ verdict: 'ALLOWED', tls: 'MTLS' });
    // batch has no sidecar, so no principal; its address is in the ipBlock.
    expect(at('legacy/batch-1')).toMatchObject({ verdict: 'ALLOWED', tls: 'PLAINTEXT' });
    expect(at('legacy/plain-1')).toMatchObject({ verdict: 'DENIED', tls: 'PLAINTEXT' });
    expect(at('shop/other-1')).toMatchObject({ verdict: 'DENIED', tls: 'MTLS' });
    expect(at('shop/other-1').reason).toContain('shop/db-access');
  });

  it('DENY overrides ALLOW', async () => {
    const at = await to(MESH + ALLOW + DENY_WEB);
    expect(at('shop/web-1')).toMatchObject({ verdict: 'DENIED' });
    expect(at('shop/web-1').policies.map((p) => p.name)).toEqual(['no-web']);
    expect(at('partner/reporter-1').verdict).toBe('ALLOWED');
  });

  it('an ALLOW policy without rules allows nothing: every sender is denied', async () => {
    const { rows } = await of(MESH + ALLOW_NOTHING);
    const db = rows.filter((r) => r.destination === DB);
    expect(db.length).toBe(6);
    expect(db.every((r) => r.verdict === 'DENIED')).toBe(true);
    // Its namespace-wide selection reaches db only: plain (legacy) is untouched.
    expect(row(rows, 'shop/web-1', PLAIN)!.verdict).toBe('ALLOWED');
  });

  it('PERMISSIVE lets batch in in plaintext; STRICT refuses it, naming the PeerAuthentication', async () => {
    const permissive = await to(MESH + PERMISSIVE);
    expect(permissive('legacy/batch-1')).toMatchObject({ verdict: 'ALLOWED', tls: 'PLAINTEXT' });
    const strict = await to(MESH + STRICT);
    expect(strict('legacy/batch-1')).toMatchObject({ verdict: 'DENIED', tls: 'PLAINTEXT' });
    expect(strict('legacy/batch-1').reason).toBe(
      'PeerAuthentication shop/default requires mTLS on shop/db-1:8080 and legacy/batch-1 sends plaintext (it has no sidecar)',
    );
    expect(strict('shop/web-1')).toMatchObject({ verdict: 'ALLOWED', tls: 'MTLS' });
  });

  it('a DestinationRule disabling TLS: plaintext where the server is PERMISSIVE, refused where it is STRICT', async () => {
    const open = await to(MESH + DR_DISABLE);
    expect(open('shop/web-1')).toMatchObject({ verdict: 'ALLOWED', tls: 'PLAINTEXT' });
    const strict = await to(MESH + DR_DISABLE + STRICT);
    expect(strict('shop/web-1')).toMatchObject({ verdict: 'DENIED', tls: 'PLAINTEXT' });
    expect(strict('shop/web-1').reason).toContain('DestinationRule shop/db-plain');
  });

  it("principals are under the mesh's trust domain (meshConfig trustDomain), found with the journey authz aliases cases", async () => {
    const at = await to(MESH + NEW_TRUST_DOMAIN + ALLOW_WEB_IN_NEW_TD);
    expect(at('shop/web-1')).toMatchObject({ verdict: 'ALLOWED', tls: 'MTLS' });
    expect(at('shop/other-1')).toMatchObject({ verdict: 'DENIED', tls: 'MTLS' });
    expect(at('shop/other-1').reason).toBe('AuthorizationPolicy shop/web-only denies it');
  });

  it('a destination without a sidecar: auto mTLS sends plaintext, nothing refuses it', async () => {
    const at = await to(MESH, PLAIN);
    expect(at('shop/web-1')).toMatchObject({ verdict: 'ALLOWED', tls: 'PLAINTEXT' });
    expect(at('legacy/batch-1')).toMatchObject({ verdict: 'ALLOWED', tls: 'PLAINTEXT' });
  });
});

describe('connectivity in a diff', { timeout: 120_000 }, () => {
  const changes = async (base: string, head: string, resources: Parameters<typeof diffConnectivity>[2] = []) =>
    diffConnectivity((await of(base)).connectivity, (await of(head)).connectivity, resources);
  const lines = (cs: Awaited<ReturnType<typeof changes>>) =>
    cs.map((c) => `${c.change} ${(c.after ?? c.before)!.source.name} ${(c.after ?? c.before)!.destination}`);

  it('STRICT closes exactly the connections of the workloads without a sidecar to db, naming the PeerAuthentication', async () => {
    const cs = await changes(MESH + PERMISSIVE, MESH + STRICT, [
      { kind: 'PeerAuthentication', namespace: 'shop', name: 'default', change: 'CHANGED' },
    ]);
    expect(lines(cs)).toEqual([`CLOSED batch-1 ${DB}`, `CLOSED plain-1 ${DB}`]);
    expect(cs[0].sentence).toBe(
      `batch-1 (legacy) can no longer call ${DB}: PeerAuthentication shop/default requires mTLS on shop/db-1:8080 and legacy/batch-1 sends plaintext (it has no sidecar)`,
    );
  });

  it('a DENY policy closes, its removal opens', async () => {
    expect(lines(await changes(MESH + ALLOW, MESH + ALLOW + DENY_WEB))).toEqual([`CLOSED web-1 ${DB}`]);
    expect(lines(await changes(MESH + ALLOW + DENY_WEB, MESH + ALLOW))).toEqual([`OPENED web-1 ${DB}`]);
  });

  it('an ALLOW policy narrows (conditions) and closes; removing it widens and opens', async () => {
    const narrowed = await changes(MESH, MESH + ALLOW);
    // db itself, other (another service account) and plain (no sidecar, outside the ipBlock) lose it.
    expect(lines(narrowed)).toEqual([`CLOSED plain-1 ${DB}`, `CLOSED db-1 ${DB}`, `CLOSED other-1 ${DB}`, `NARROWED web-1 ${DB}`]);
    expect(narrowed[3].sentence).toContain('for fewer requests, now methods GET, HEAD on path /api/*');
    expect(lines(await changes(MESH + ALLOW, MESH))).toEqual([
      `OPENED plain-1 ${DB}`,
      `OPENED db-1 ${DB}`,
      `OPENED other-1 ${DB}`,
      `WIDENED web-1 ${DB}`,
    ]);
  });

  it('a DestinationRule disabling TLS loses mTLS for every sidecar sender', async () => {
    const cs = await changes(MESH, MESH + DR_DISABLE, [{ kind: 'DestinationRule', namespace: 'shop', name: 'db-plain', change: 'ADDED' }]);
    expect(new Set(cs.map((c) => c.change))).toEqual(new Set(['MTLS_LOST']));
    expect(cs.map((c) => c.after!.source.name).sort()).toEqual(['db-1', 'other-1', 'reporter-1', 'web-1']);
    expect(cs[0].sentence).toContain('is no longer mTLS (now PLAINTEXT): DestinationRule shop/db-plain added');
  });

  it('a change touching only unrelated resources changes no connection', async () => {
    expect(await changes(MESH + ALLOW, MESH + ALLOW + UNRELATED)).toEqual([]);
  });

  it('the PR comment lists the closed connections first and counts it in the summary', async () => {
    const [base, head] = await Promise.all([of(MESH + PERMISSIVE), of(MESH + STRICT)]);
    const diff = composeDiff({
      base: { id: null, name: 'base' },
      head: { id: null, name: 'head' },
      resources: { base: [], head: [] },
      diagnostics: { base: [], head: [] },
      proxies: [],
      connectivity: { base: base.connectivity, head: head.connectivity },
    });
    expect(diff.summary).toMatchObject({ connectionsChanged: 2, connectionsClosed: 2, mtlsLost: 0, effectiveChange: true });
    expect(diff.markdown).toContain('changes who can talk to whom (2 connections: 2 closed)');
    expect(diff.markdown).toContain(`#### Who can talk to whom\n\n- ⛔ batch-1 (legacy) can no longer call ${DB}`);
  });
});
