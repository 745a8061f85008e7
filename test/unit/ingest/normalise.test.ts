import { describe, expect, it } from 'vitest';
import { ingestText as ingest } from '../../support/admission.js';
import { normaliseSnapshot } from '../../../src/ingest/normalise.js';
import type { NormalisedSnapshot, Workload } from '../../../src/model/snapshot.js';

async function normalise(...documents: string[]): Promise<NormalisedSnapshot> {
  const result = await ingest(documents.join('\n---\n'));
  if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 1));
  return normaliseSnapshot(result.resources);
}

function workload(snapshot: NormalisedSnapshot, namespace: string, name: string): Workload {
  const found = snapshot.workloads.find((w) => w.namespace === namespace && w.name === name);
  if (!found)
    throw new Error(`no workload ${namespace}/${name} in ${snapshot.workloads.map((w) => `${w.namespace}/${w.name}`).join(', ')}`);
  return found;
}

const namespace = (name: string, labels = '{}') => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}, labels: ${labels}}`;

function deployment(
  name: string,
  ns: string,
  options: { labels?: string; annotations?: string; spec?: string; kind?: string } = {},
): string {
  const labels = options.labels ?? `{app: ${name}}`;
  return `apiVersion: apps/v1
kind: ${options.kind ?? 'Deployment'}
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {matchLabels: ${labels}}
  template:
    metadata: {labels: ${labels}, annotations: ${options.annotations ?? '{}'}}
    spec: ${options.spec ?? `{containers: [{name: app, image: app, ports: [{name: http, containerPort: 8080}]}]}`}`;
}

const pod = (name: string, ns: string, labels: string, ip?: string, extra = '') =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: ${ns}, labels: ${labels}${extra}}\nspec: {containers: [{name: app, image: app, ports: [{name: web, containerPort: 9090}]}]}${ip ? `\nstatus: {phase: Running, podIP: ${ip}}` : ''}`;

const service = (name: string, ns: string, selector: string, ports = '[{name: http, port: 80, targetPort: http}]') =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: {selector: ${selector}, ports: ${ports}}`;

describe('normaliseSnapshot: workloads', () => {
  it('makes a workload of each Pod and of each controller whose pods are absent', async () => {
    const snapshot = await normalise(
      deployment('web', 'shop'),
      deployment('db', 'shop', { kind: 'StatefulSet', spec: '{serviceAccountName: db, containers: [{name: db, image: pg}]}' }),
      deployment('api', 'shop'),
      pod('api-7d9f-abcde', 'shop', '{app: api}', '10.1.0.7'),
    );
    expect(snapshot.workloads.map((w) => [w.namespace, w.name, w.kind, w.serviceAccount])).toEqual([
      ['shop', 'api-7d9f-abcde', 'Pod', 'default'],
      ['shop', 'db', 'StatefulSet', 'db'],
      ['shop', 'web', 'Deployment', 'default'],
    ]);
    expect(workload(snapshot, 'shop', 'api-7d9f-abcde').ips).toEqual(['10.1.0.7']);
    expect(workload(snapshot, 'shop', 'web').labels).toEqual({ app: 'web' });
  });

  it('does not double a ReplicaSet owned by an uploaded Deployment, nor a controller whose pods are owned through it', async () => {
    const replicaSet = `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-5c9d
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u1}]
spec:
  selector: {matchLabels: {app: web, pod-template-hash: 5c9d}}
  template: {metadata: {labels: {app: web, pod-template-hash: 5c9d}}}`;
    const ownedPod = pod(
      'web-5c9d-x1',
      'shop',
      '{other: label}',
      '10.1.0.9',
      ', ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5c9d, uid: u2}]',
    );
    expect((await normalise(deployment('web', 'shop'), replicaSet)).workloads.map((w) => [w.name, w.kind])).toEqual([
      ['web', 'Deployment'],
    ]);
    expect((await normalise(deployment('web', 'shop'), replicaSet, ownedPod)).workloads.map((w) => [w.name, w.kind])).toEqual([
      ['web-5c9d-x1', 'Pod'],
    ]);
  });

  it('gives absent pods a synthetic IP in 10.128.0.0/9 that does not move when another workload is added', async () => {
    const before = await normalise(deployment('web', 'shop'), deployment('db', 'shop'));
    const after = await normalise(
      deployment('web', 'shop'),
      deployment('db', 'shop'),
      deployment('cache', 'shop'),
      deployment('web', 'other'),
    );
    const ip = workload(before, 'shop', 'web').ips;
    expect(ip).toHaveLength(1);
    expect(ip[0]).toMatch(/^10\.(1[2-9][0-9]|2[0-5][0-9])\.\d+\.\d+$/);
    expect(workload(after, 'shop', 'web').ips).toEqual(ip);
    expect(workload(after, 'shop', 'db').ips).toEqual(workload(before, 'shop', 'db').ips);
    expect(workload(after, 'other', 'web').ips).not.toEqual(ip);
  });

  it('probes past an IP a real pod already has', async () => {
    const [synthetic] = workload(await normalise(deployment('web', 'shop')), 'shop', 'web').ips;
    const snapshot = await normalise(deployment('web', 'shop'), pod('squatter', 'other', '{app: x}', synthetic));
    const [moved] = workload(snapshot, 'shop', 'web').ips;
    const asNumber = (ip: string) => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
    expect(asNumber(moved) - asNumber(synthetic)).toBeGreaterThan(0);
    expect(asNumber(moved) - asNumber(synthetic)).toBeLessThanOrEqual(3); // the next host address
  });

  it('lists the hostnames of the Services of the namespace whose selector matches, sorted', async () => {
    const snapshot = await normalise(
      deployment('web', 'shop', { labels: '{app: web, tier: front}' }),
      service('web', 'shop', '{app: web}'),
      service('front', 'shop', '{tier: front}'),
      service('other-ns', 'other', '{app: web}'),
      service('no-selector', 'shop', '{}'),
      service('mismatch', 'shop', '{app: web, tier: back}'),
    );
    expect(workload(snapshot, 'shop', 'web').services).toEqual(['front.shop.svc.cluster.local', 'web.shop.svc.cluster.local']);
  });
});

describe('normaliseSnapshot: proxy type', () => {
  const typeOf = async (...documents: string[]) => (await normalise(...documents)).workloads.map((w) => `${w.name}=${w.proxyType}`);

  it('namespace label istio-injection=enabled injects; disabled or absent does not', async () => {
    expect(await typeOf(namespace('on', '{istio-injection: enabled}'), deployment('a', 'on'))).toEqual(['a=SIDECAR']);
    expect(await typeOf(namespace('off', '{istio-injection: disabled, istio.io/rev: default}'), deployment('a', 'off'))).toEqual([
      'a=NONE',
    ]);
    expect(await typeOf(deployment('a', 'plain'))).toEqual(['a=NONE']);
  });

  it('namespace label istio.io/rev injects', async () => {
    expect(await typeOf(namespace('rev', '{istio.io/rev: canary}'), deployment('a', 'rev'))).toEqual(['a=SIDECAR']);
  });

  it('pod label sidecar.istio.io/inject overrides the namespace, and wins over the annotation', async () => {
    expect(
      await typeOf(
        namespace('on', '{istio-injection: enabled}'),
        deployment('a', 'on', { labels: '{app: a, sidecar.istio.io/inject: "false"}' }),
      ),
    ).toEqual(['a=NONE']);
    expect(await typeOf(deployment('a', 'plain', { labels: '{app: a, sidecar.istio.io/inject: "true"}' }))).toEqual(['a=SIDECAR']);
    expect(
      await typeOf(
        deployment('a', 'plain', {
          labels: '{app: a, sidecar.istio.io/inject: "false"}',
          annotations: '{sidecar.istio.io/inject: "true"}',
        }),
      ),
    ).toEqual(['a=NONE']);
  });

  it('the annotation decides when there is no label', async () => {
    expect(
      await typeOf(
        namespace('on', '{istio-injection: enabled}'),
        deployment('a', 'on', { annotations: '{sidecar.istio.io/inject: "false"}' }),
      ),
    ).toEqual(['a=NONE']);
    expect(await typeOf(deployment('a', 'plain', { annotations: '{sidecar.istio.io/inject: "true"}' }))).toEqual(['a=SIDECAR']);
  });

  it('a pod already carrying istio-proxy has a sidecar; hostNetwork and kube-system pods are never injected', async () => {
    expect(
      await typeOf(deployment('a', 'plain', { spec: '{containers: [{name: app, image: a}, {name: istio-proxy, image: proxyv2}]}' })),
    ).toEqual(['a=SIDECAR']);
    expect(
      await typeOf(
        namespace('on', '{istio-injection: enabled}'),
        deployment('a', 'on', { spec: '{hostNetwork: true, containers: [{name: app, image: a}]}' }),
      ),
    ).toEqual(['a=NONE']);
    expect(await typeOf(namespace('kube-system', '{istio-injection: enabled}'), deployment('a', 'kube-system'))).toEqual(['a=NONE']);
  });

  it('a workload selected by an Istio Gateway (any namespace) is a ROUTER, even without injection', async () => {
    const gateway = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]`;
    expect(
      await typeOf(
        gateway,
        deployment('istio-ingressgateway', 'istio-system', { labels: '{istio: ingressgateway, app: istio-ingressgateway}' }),
      ),
    ).toEqual(['istio-ingressgateway=ROUTER']);
  });
});

describe('normaliseSnapshot: generator input', () => {
  const kubernetesOf = (snapshot: NormalisedSnapshot, kind: string) => snapshot.generatorInput.kubernetes.filter((o) => o.kind === kind);

  it('derives one EndpointSlice per selector Service, resolving named targetPorts per pod', async () => {
    const snapshot = await normalise(
      deployment('web', 'shop', { labels: '{app: web, version: v2}' }), // container port http -> 8080, synthetic pod
      pod('web-legacy', 'shop', '{app: web, version: v1}', '10.1.0.5'), // container port named web only: http does not resolve
      service(
        'web',
        'shop',
        '{app: web}',
        '[{name: http, port: 80, targetPort: http}, {name: metrics, port: 9000, targetPort: 9000, appProtocol: http}]',
      ),
    );
    const [synthetic] = workload(snapshot, 'shop', 'web').ips;
    const slices = kubernetesOf(snapshot, 'EndpointSlice');
    expect(slices.map((s) => [(s.metadata as { name: string }).name, s.ports])).toEqual([
      [
        'web-ipv4-0',
        [
          { name: 'http', port: 8080, protocol: 'TCP' },
          { name: 'metrics', port: 9000, protocol: 'TCP', appProtocol: 'http' },
        ],
      ],
      ['web-ipv4-1', [{ name: 'metrics', port: 9000, protocol: 'TCP', appProtocol: 'http' }]],
    ]);
    expect(slices[0]).toMatchObject({
      apiVersion: 'discovery.k8s.io/v1',
      metadata: { namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [synthetic], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'web', namespace: 'shop' } }],
    });
    expect(slices[1].endpoints).toEqual([
      { addresses: ['10.1.0.5'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'web-legacy', namespace: 'shop' } },
    ]);
  });

  it('puts IPv6 pod addresses in their own slice', async () => {
    const dualStack = `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop, labels: {app: p}}
spec: {containers: [{name: app, image: a}]}
status: {phase: Running, podIP: 10.1.0.1, podIPs: [{ip: 10.1.0.1}, {ip: "fd00::1"}]}`;
    const snapshot = await normalise(dualStack, service('p', 'shop', '{app: p}', '[{name: http, port: 80}]'));
    expect(
      kubernetesOf(snapshot, 'EndpointSlice').map((s) => [s.addressType, (s.endpoints as { addresses: string[] }[])[0].addresses]),
    ).toEqual([
      ['IPv4', ['10.1.0.1']],
      ['IPv6', ['fd00::1']],
    ]);
  });

  it('converts core Endpoints to EndpointSlices and derives none for their Service', async () => {
    const endpoints = `apiVersion: v1
kind: Endpoints
metadata: {name: db, namespace: shop}
subsets:
- addresses: [{ip: 10.2.0.1, targetRef: {kind: Pod, name: db-0, namespace: shop}}]
  notReadyAddresses: [{ip: 10.2.0.2}]
  ports: [{name: pg, port: 5432, protocol: TCP}]`;
    const snapshot = await normalise(deployment('db', 'shop'), service('db', 'shop', '{app: db}', '[{name: pg, port: 5432}]'), endpoints);
    expect(kubernetesOf(snapshot, 'Endpoints')).toEqual([]);
    expect(kubernetesOf(snapshot, 'EndpointSlice')).toEqual([
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: 'db-ipv4-0',
          namespace: 'shop',
          labels: { 'kubernetes.io/service-name': 'db', 'endpointslice.kubernetes.io/managed-by': 'meshlens' },
        },
        addressType: 'IPv4',
        ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
        endpoints: [
          { addresses: ['10.2.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'db-0', namespace: 'shop' } },
          { addresses: ['10.2.0.2'], conditions: { ready: false } },
        ],
      },
    ]);
  });

  it('holds Namespaces (synthetic ones for those only referenced), Services, ConfigMaps, real and synthetic Pods, sorted by kind, namespace, name', async () => {
    const snapshot = await normalise(
      namespace('shop', '{istio-injection: enabled}'),
      deployment('web', 'shop', { annotations: '{proxy.istio.io/config: "{}"}' }),
      pod('a', 'other', '{app: a}', '10.9.0.1'),
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {k: v}`,
    );
    const kinds = snapshot.generatorInput.kubernetes.map(
      (o) => `${String(o.kind)} ${(o.metadata as { namespace?: string }).namespace ?? ''}/${(o.metadata as { name: string }).name}`,
    );
    expect(kinds).toEqual(['ConfigMap shop/settings', 'Namespace /other', 'Namespace /shop', 'Pod other/a', 'Pod shop/web']);
    // As the injector and the API server leave the pod: the tlsMode label (sidecar), port protocols defaulted.
    expect(kubernetesOf(snapshot, 'Pod')[1]).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'web',
        namespace: 'shop',
        labels: { app: 'web', 'security.istio.io/tlsMode': 'istio' },
        annotations: { 'proxy.istio.io/config': '{}' },
      },
      spec: { containers: [{ name: 'app', image: 'app', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }] },
      status: {
        phase: 'Running',
        podIP: workload(snapshot, 'shop', 'web').ips[0],
        podIPs: [{ ip: workload(snapshot, 'shop', 'web').ips[0] }],
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    });
    expect(kubernetesOf(snapshot, 'Namespace')[0]).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'other', labels: { 'kubernetes.io/metadata.name': 'other' } },
    });
  });

  it('passes evaluated Istio and Gateway API objects, not EnvoyFilters, and the root mesh config', async () => {
    const mesh = 'rootNamespace: istio-system\noutboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n';
    const snapshot = await normalise(
      `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs, namespace: shop}\nspec: {hosts: [web], http: [{route: [{destination: {host: web}}]}]}`,
      `apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: ef, namespace: shop}\nspec: {}`,
      `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: route, namespace: shop}\nspec: {}`,
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n${mesh.replace(/^/gm, '    ').trimEnd()}\n`,
    );
    expect(snapshot.generatorInput.istio.map((o) => o.kind)).toEqual(['VirtualService']);
    // istiod's gateway controller reads the Gateway API through its Kubernetes client.
    expect(
      snapshot.generatorInput.kubernetes.filter((o) => o.kind === 'HTTPRoute').map((o) => (o.metadata as { name: string }).name),
    ).toEqual(['route']);
    expect(snapshot.generatorInput.meshConfig).toBe(mesh);
    expect((await normalise(deployment('a', 'b'))).generatorInput.meshConfig).toBe('');
  });

  it("passes Ingresses and IngressClasses with the Kubernetes objects, for istiod's ingress controller, not twice for analysis", async () => {
    const snapshot = await normalise(
      `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: shop, annotations: {kubernetes.io/ingress.class: istio}}\nspec: {defaultBackend: {service: {name: web, port: {number: 80}}}}`,
      `apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: istio}\nspec: {controller: istio.io/ingress-controller}`,
    );
    expect(kubernetesOf(snapshot, 'Ingress').map((o) => (o.metadata as { name: string }).name)).toEqual(['web']);
    expect(kubernetesOf(snapshot, 'IngressClass').map((o) => (o.metadata as { name: string }).name)).toEqual(['istio']);
    expect(snapshot.generatorInput.analysis.filter((o) => String(o.kind).startsWith('Ingress'))).toEqual([]);
  });

  it("passes the snapshot's other objects for Istio's analyzers only: controllers, EnvoyFilters, webhooks; Secrets to istiod", async () => {
    const snapshot = await normalise(
      deployment('web', 'shop'),
      service('web', 'shop', '{app: web}'),
      `apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: ef, namespace: shop}\nspec: {}`,
      `apiVersion: v1\nkind: Secret\nmetadata: {name: credential, namespace: shop}\ndata: {password: aHVudGVyMg==}`,
      `apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: {name: istio-sidecar-injector}\nwebhooks: []`,
      // Already in `kubernetes` (istiod's gateway controller reads it there): not twice.
      `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: route, namespace: shop}\nspec: {}`,
    );
    const names = (objects: Record<string, unknown>[]) => objects.map((o) => `${String(o.kind)} ${(o.metadata as { name: string }).name}`);
    expect(names(snapshot.generatorInput.analysis)).toEqual([
      'Deployment web',
      'EnvoyFilter ef',
      'MutatingWebhookConfiguration istio-sidecar-injector',
    ]);
    // Secrets, as stored (no values), go to istiod, whose gateway controller checks the
    // certificates of Gateway listeners; the analyzers read them there too.
    expect(names(snapshot.generatorInput.kubernetes)).toContain('Secret credential');
    expect(JSON.stringify(snapshot.generatorInput)).not.toContain('aHVudGVyMg==');
    // The controller also stands in as a pod, as a cluster would run one.
    expect(names(snapshot.generatorInput.kubernetes)).toContain('Pod web');
  });
});
