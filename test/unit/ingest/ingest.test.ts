import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash } from '../../../src/model/canonical.js';
import { ingestText as ingest } from '../../support/admission.js';
import type { SnapshotResource } from '../../../src/model/snapshot.js';

async function resourcesOf(text: string): Promise<{ resources: SnapshotResource[]; warnings: string[] }> {
  const result = await ingest(text);
  if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 1));
  return result;
}

describe('ingest', () => {
  it('defaults the namespace of namespaced kinds to default, as kubectl does, into the body too', async () => {
    const { resources } = await resourcesOf(`apiVersion: v1
kind: Service
metadata: {name: web}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: shop}
spec: {hosts: [web], http: [{route: [{destination: {host: web}}]}]}
`);
    expect(resources.map((r) => [r.kind, r.namespace, r.name, (r.body.metadata as { namespace?: string }).namespace])).toEqual([
      ['Service', 'default', 'web', 'default'],
      ['VirtualService', 'shop', 'web', 'shop'],
    ]);
  });

  it('gives cluster-scoped kinds no namespace, even when one is written', async () => {
    const { resources } = await resourcesOf(`apiVersion: v1
kind: Namespace
metadata: {name: shop, namespace: ignored}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: istio-sidecar-injector}
---
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: letsencrypt}
`);
    expect(resources.map((r) => [r.kind, r.namespace, (r.body.metadata as Record<string, unknown>).namespace])).toEqual([
      ['Namespace', null, undefined],
      ['ClusterRole', null, undefined],
      ['MutatingWebhookConfiguration', null, undefined],
      ['ClusterIssuer', null, undefined],
    ]);
  });

  it('keeps no byte of a Secret value anywhere in the stored body, only its key names', async () => {
    const password = 'hunter2-secret-value';
    const encoded = Buffer.from(password).toString('base64');
    const lastApplied = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', data: { password: encoded } });
    const { resources, warnings } = await resourcesOf(`apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
  labels: {leak: "${encoded}"}
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '${lastApplied}'
type: Opaque
data:
  password: ${encoded}
stringData:
  token: ${password}
`);
    const stored = JSON.stringify(resources);
    expect(stored).not.toContain(password);
    expect(stored).not.toContain(encoded);
    expect(resources[0].body).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'shop', annotations: { 'meshlens.io/secret-facts': '{}' } },
      type: 'Opaque',
      data: { password: '', token: '' },
    });
    // Evaluated: istiod's gateway controller reads Secrets (with stand-in values) for Gateway certificates.
    expect(warnings).toEqual([]);
  });

  it("keeps of a gateway credential only the facts Istio's analyzers judge: validity, empty keys, the multicluster label", async () => {
    const certificate = readFileSync(new URL('./certificate.pem', import.meta.url), 'utf8');
    const key = 'a-private-key-never-stored';
    const { resources } = await resourcesOf(`apiVersion: v1
kind: Secret
metadata:
  name: shop-credential
  namespace: istio-system
  labels: {istio/multiCluster: "true", other: dropped}
type: kubernetes.io/tls
data:
  tls.crt: ${Buffer.from(certificate).toString('base64')}
  tls.key: ${Buffer.from(key).toString('base64')}
  ca.crt: ""
---
apiVersion: v1
kind: Secret
metadata: {name: not-a-certificate, namespace: istio-system}
stringData: {cert: "not PEM", key: "k"}
`);
    const stored = JSON.stringify(resources);
    expect(stored).not.toContain(key);
    expect(stored).not.toContain(certificate.split('\n')[1]);
    expect(resources[0].body.metadata).toEqual({
      name: 'shop-credential',
      namespace: 'istio-system',
      labels: { 'istio/multiCluster': 'true' },
      annotations: {
        'meshlens.io/secret-facts': JSON.stringify({
          emptyKeys: ['ca.crt'],
          certificates: { 'tls.crt': [{ notBefore: '2026-12-02T03:11:53.000Z', notAfter: '2036-11-29T03:11:53.000Z' }] },
        }),
      },
    });
    expect(resources[1].body.metadata).toEqual({
      name: 'not-a-certificate',
      namespace: 'istio-system',
      annotations: { 'meshlens.io/secret-facts': JSON.stringify({ certificates: { cert: null } }) },
    });
  });

  it('marks evaluated kinds and warns about the rest, in upload order', async () => {
    const { resources, warnings } = await resourcesOf(`apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: ef, namespace: istio-system}
spec: {configPatches: [{applyTo: HTTP_FILTER, patch: {operation: MERGE, value: {anything: goes}}}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: route}
spec: {}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template: {metadata: {labels: {app: web, version: v1}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
---
apiVersion: example.com/v1
kind: Service
metadata: {name: not-core}
`);
    expect(resources.map((r) => [r.kind, r.evaluated, r.document])).toEqual([
      ['EnvoyFilter', false, 0],
      ['HTTPRoute', true, 1],
      ['Deployment', true, 2],
      ['ClusterRole', false, 3],
      ['Service', false, 4],
    ]);
    // Istio's webhook warns about EnvoyFilters: its warnings are the upload's.
    expect(warnings).toEqual([
      'EnvoyFilter istio-system/ef: EnvoyFilter exposes internal implementation details that may change at any time. Prefer other APIs if possible, and exercise extreme caution, especially around upgrades.',
      'EnvoyFilter istio-system/ef: Envoy filter: unknown field "anything" in envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter',
      'EnvoyFilter istio-system/ef: kind not evaluated, stored only',
      'ClusterRole reader: kind not evaluated, stored only',
      'Service default/not-core: kind not evaluated, stored only',
    ]);
  });

  it('is deterministic: the same upload gives the same resources and hash', async () => {
    const text = `apiVersion: v1\nkind: Service\nmetadata: {name: b}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: a}\n`;
    expect(contentHash((await resourcesOf(text)).resources)).toBe(contentHash((await resourcesOf(text)).resources));
    expect((await resourcesOf(text)).resources.map((r) => r.name)).toEqual(['b', 'a']);
  });
});

describe('canonicalJson and contentHash', () => {
  it('sorts keys recursively, keeps array order and drops undefined members', async () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined }, e: null })).toBe(
      '{"a":{"d":[3,{"y":2,"z":1}]},"b":1,"e":null}',
    );
  });

  it('orders integer-like keys and __proto__ by code unit too, as any other key', () => {
    expect(canonicalJson({ b: { '2': 1, '1': 0 }, '9': 2, '10': 1 })).toBe('{"10":1,"9":2,"b":{"1":0,"2":1}}');
    expect(canonicalJson(JSON.parse('{"z": [{"__proto__": 1, "a": 0}], "__proto__": {}}'))).toBe(
      '{"__proto__":{},"z":[{"__proto__":1,"a":0}]}',
    );
  });

  it('hashes equal content equally, whatever the key order', async () => {
    expect(contentHash({ a: 1, b: [1, 2] })).toBe(contentHash({ b: [1, 2], a: 1 }));
    expect(contentHash({ a: 1 })).not.toBe(contentHash({ a: 2 }));
    expect(contentHash('x')).toMatch(/^[0-9a-f]{64}$/);
  });
});

// What a cluster running the embedded Istio release accepts: the schemas of an npm package that
// lagged the release refused these.
describe("ingest accepts what the API server with Istio's CRDs and webhook accepts", () => {
  const accepted = {
    'HTTPRedirect.prefixRewrite': `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: shop}
spec:
  hosts: [web]
  http:
  - redirect: {prefixRewrite: /new}
`,
    'AuthorizationPolicy source.trustDomains and notTrustDomains': `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: a, namespace: shop}
spec:
  rules:
  - from:
    - source: {trustDomains: [td1], notTrustDomains: [td2]}
`,
    'unknown fields under status (dropped on create)': `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: d, namespace: shop}
spec: {host: web}
status: {anything: [1, 2], conditions: [{type: Reconciled, extra: true}]}
`,
    "an EnvoyFilter patch's match: null (the API server drops nulls)": `apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: e, namespace: shop}
spec:
  configPatches:
  - applyTo: NETWORK_FILTER
    match: null
    patch:
      operation: MERGE
      value: {name: envoy.filters.network.http_connection_manager}
`,
  };
  it.each(Object.entries(accepted))('%s', async (_, text) => {
    const result = await ingest(text);
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it("returns Istio's webhook warnings as upload warnings", async () => {
    const { warnings } = await resourcesOf(`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: g, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: cert, httpsRedirect: true}
`);
    expect(warnings).toEqual(['Gateway shop/g: tls.httpsRedirect should only be used with http servers']);
  });
});

describe('ingest leniency and problem hygiene', () => {
  it('stores kinds it does not evaluate under their own naming rules', async () => {
    const { resources } = await resourcesOf(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:aggregate-to-admin
  labels: {rbac.authorization.k8s.io/aggregate-to-admin: "true"}
rules: []
`);
    expect(resources.map((r) => [r.kind, r.name, r.evaluated])).toEqual([['ClusterRole', 'system:aggregate-to-admin', false]]);
  });

  it('refuses metadata the API server cannot decode once, without asking the CRD schema or the webhook', async () => {
    const result = await ingest(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: vs
  labels: {version: 2}
spec: {hosts: [vs]}
`);
    expect(result).toMatchObject({
      ok: false,
      problems: [{ path: '/metadata/labels/version', line: 5, message: expect.stringMatching(/quote it in YAML/) }],
    });
    expect(result.ok ? [] : result.problems).toHaveLength(1);
  });

  it('never quotes the uploaded text in a problem (it could be a Secret value)', async () => {
    const secret = 'c3VwZXItc2VjcmV0';
    const results = [
      await ingest(`apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  password: ${secret}\n  password: ${secret}\n`),
      await ingest(
        `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"password": ${secret}}}`,
        'application/json',
      ),
    ];
    for (const result of results) {
      expect(result.ok).toBe(false);
      expect(JSON.stringify(result)).not.toContain(secret);
    }
  });
});
