// A 10,000-resource mesh snapshot as multi-document YAML, deterministic.
import YAML from 'yaml';

export const SHAPE = {
  namespaces: 20,
  services: 1000,
  deployments: 200,
  podsPerDeployment: 25,
  virtualServices: 300,
  destinationRules: 300,
  gateways: 5,
  httpRoutes: 300,
  total: 10_000,
};

/** The ingress gateway's pod of the Istio API mesh (the router its Gateways select): a named workload of the snapshot. */
export const INGRESS_GATEWAY = { namespace: 'team-0', name: 'istio-ingressgateway', ip: '10.255.0.1' };

/**
 * The bench mesh. `gatewayApi: true` writes its 5 ingress Gateways as Kubernetes Gateway API
 * Gateways of class istio (istiod deploys a gateway workload for each, `gw-<g>-istio` in team-0)
 * plus `SHAPE.httpRoutes` HTTPRoutes attached to them, instead of Istio Gateways, the
 * VirtualServices bound to them and the ingress gateway pod they select (INGRESS_GATEWAY); the
 * rest is the same, and the total still `SHAPE.total` (ConfigMaps fill it up).
 * `deployments` below `SHAPE.deployments` makes a smaller mesh: those Deployments and their pods fewer.
 * `podsPerDeployment` scales the pods alone (bench/scale.mjs): the same Services, Deployments (so
 * the same proxy classes) and other kinds, each Deployment with that many replicas.
 */
export function generateSnapshot({
  gatewayApi = false,
  deployments = SHAPE.deployments,
  podsPerDeployment = SHAPE.podsPerDeployment,
} = {}) {
  // Fewer Deployments (a smaller run) take their pods with them; the other kinds keep their counts.
  const total =
    SHAPE.total -
    (SHAPE.deployments - deployments) * (SHAPE.podsPerDeployment + 1) +
    deployments * (podsPerDeployment - SHAPE.podsPerDeployment);
  const objects = [];
  const ns = (i) => `team-${i % SHAPE.namespaces}`;
  for (let i = 0; i < SHAPE.namespaces; i++) {
    objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `team-${i}`, labels: { 'istio-injection': 'enabled' } } });
  }
  // Deployment d runs app-d; Services 0..199 select those apps, the rest select nothing running.
  for (let d = 0; d < deployments; d++) {
    const labels = { app: `app-${d}`, version: d % 2 ? 'v2' : 'v1' };
    objects.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `app-${d}`, namespace: ns(d), labels },
      spec: {
        replicas: podsPerDeployment,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: `app-${d}`,
            containers: [{ name: 'app', image: `registry.example.com/app-${d}:1.0`, ports: [{ containerPort: 8080, name: 'http' }] }],
          },
        },
      },
    });
    for (let p = 0; p < podsPerDeployment; p++) {
      const n = d * podsPerDeployment + p;
      objects.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `app-${d}-${p}`, namespace: ns(d), labels: { ...labels, 'pod-template-hash': `h${d}` } },
        spec: {
          serviceAccountName: `app-${d}`,
          containers: [{ name: 'app', image: `registry.example.com/app-${d}:1.0`, ports: [{ containerPort: 8080, name: 'http' }] }],
        },
        status: { phase: 'Running', podIP: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` },
      });
    }
  }
  for (let s = 0; s < SHAPE.services; s++) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `svc-${s}`, namespace: ns(s) },
      spec: {
        selector: { app: `app-${s}` },
        ports: [
          { name: 'http', port: 80, targetPort: 8080 },
          { name: 'grpc', port: 9090 },
        ],
      },
    });
  }
  for (let v = 0; v < SHAPE.virtualServices; v++) {
    const host = `svc-${v}.${ns(v)}.svc.cluster.local`;
    objects.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: `vs-${v}`, namespace: ns(v) },
      // The first VirtualServices also serve the ingress gateways' hosts (what a gateway journey follows).
      spec: {
        ...(v < SHAPE.gateways && !gatewayApi
          ? { hosts: [host, `gw-${v}.example.com`], gateways: ['mesh', `team-0/gw-${v}`] }
          : { hosts: [host] }),
        http: [
          { match: [{ headers: { 'x-canary': { exact: 'true' } } }], route: [{ destination: { host, subset: 'v2' } }] },
          {
            route: [
              { destination: { host, subset: 'v1' }, weight: 90 },
              { destination: { host, subset: 'v2' }, weight: 10 },
            ],
            retries: { attempts: 3, perTryTimeout: '2s' },
          },
        ],
      },
    });
    objects.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: `dr-${v}`, namespace: ns(v) },
      spec: {
        host,
        trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' }, connectionPool: { tcp: { maxConnections: 100 } } },
        subsets: [
          { name: 'v1', labels: { version: 'v1' } },
          { name: 'v2', labels: { version: 'v2' } },
        ],
      },
    });
  }
  for (let g = 0; g < SHAPE.gateways && gatewayApi; g++) {
    objects.push({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: `gw-${g}`, namespace: 'team-0' },
      spec: {
        gatewayClassName: 'istio',
        listeners: [
          { name: 'http', port: 80, protocol: 'HTTP', hostname: `gw-${g}.example.com`, allowedRoutes: { namespaces: { from: 'All' } } },
        ],
      },
    });
  }
  // Route r, in the namespace of Service svc-r, on gateway gw-(r % 5): /items/r goes to svc-r, 90/10
  // between its port 80 and svc-(r+1) unless x-canary: true, which goes to svc-(r+1) alone.
  for (let r = 0; r < SHAPE.httpRoutes && gatewayApi; r++) {
    const next = `svc-${r + SHAPE.namespaces}`;
    objects.push({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: `route-${r}`, namespace: ns(r) },
      spec: {
        parentRefs: [{ name: `gw-${r % SHAPE.gateways}`, namespace: 'team-0' }],
        hostnames: [`gw-${r % SHAPE.gateways}.example.com`],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: `/items/${r}` }, headers: [{ name: 'x-canary', value: 'true' }] }],
            backendRefs: [{ name: next, port: 80 }],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: `/items/${r}` } }],
            backendRefs: [
              { name: `svc-${r}`, port: 80, weight: 90 },
              { name: next, port: 80, weight: 10 },
            ],
          },
        ],
      },
    });
  }
  for (let g = 0; g < SHAPE.gateways && !gatewayApi; g++) {
    objects.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: `gw-${g}`, namespace: 'team-0' },
      spec: {
        selector: { istio: 'ingressgateway' },
        servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: [`gw-${g}.example.com`] }],
      },
    });
  }
  if (!gatewayApi)
    objects.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: INGRESS_GATEWAY.name,
        namespace: INGRESS_GATEWAY.namespace,
        labels: { app: 'istio-ingressgateway', istio: 'ingressgateway', 'sidecar.istio.io/inject': 'false' },
      },
      spec: {
        serviceAccountName: 'istio-ingressgateway-service-account',
        containers: [{ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.0', args: ['proxy', 'router'] }],
      },
      status: { phase: 'Running', podIP: INGRESS_GATEWAY.ip },
    });
  for (let c = 0; objects.length < total; c++) {
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `config-${c}`, namespace: ns(c) },
      data: { 'settings.yaml': `replicas: ${c}\nfeature: on\n` },
    });
  }
  return { objects, yaml: objects.map((o) => YAML.stringify(o)).join('---\n') };
}
