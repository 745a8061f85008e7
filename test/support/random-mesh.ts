// Random meshes and calls for the walk's differential check against Istio's traffic simulation:
// Services with HTTP, TCP and TLS ports, their pods, VirtualServices with path matches and subsets,
// DestinationRules, an ingress gateway with HTTP, TLS-terminating and passthrough servers, Sidecars
// and PeerAuthentications (namespace, workload and port level), all drawn from one seed.
import YAML from 'yaml';
import type { SimulationCall } from '../../src/generator/protocol.js';

/** mulberry32: small, fast, and the same sequence for a seed on every platform. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  some<T>(items: readonly T[], p = 0.5): T[] {
    return items.filter(() => this.chance(p));
  }
}

interface PortSpec {
  name: string;
  port: number;
  targetPort: number;
  /** How a client speaks to it. */
  kind: 'http' | 'tcp' | 'tls' | 'auto';
}

interface ServiceSpec {
  namespace: string;
  name: string;
  clusterIP: string;
  ports: PortSpec[];
  /** Pods backing it: versions v1 and v2 of app=<name>. */
  pods: { name: string; ip: string; version: string }[];
}

export interface RandomProxy {
  namespace: string;
  name: string;
  type: 'SIDECAR' | 'ROUTER';
}

export interface RandomMesh {
  seed: number;
  yaml: string;
  proxies: { proxy: RandomProxy; calls: SimulationCall[] }[];
}

const NAMESPACES = ['alpha', 'beta'];
const PORT_CHOICES: Omit<PortSpec, 'targetPort'>[] = [
  { name: 'http', port: 80, kind: 'http' },
  { name: 'http-api', port: 8080, kind: 'http' },
  { name: 'grpc', port: 9090, kind: 'http' },
  { name: 'tcp-db', port: 3306, kind: 'tcp' },
  { name: 'tls', port: 443, kind: 'tls' },
  { name: 'web', port: 7070, kind: 'auto' },
];
/** Paths already in normal form: Istio's simulation does not normalise (it matches the raw path). */
const PATHS = ['/', '/api', '/api/', '/api/v1', '/apix', '/static/app.css', '/v2', '/v2/items', '/health'];
const PREFIXES = ['/', '/api', '/api/', '/static', '/v2'];
const EXACTS = ['/health', '/api/v1', '/v2'];
const REGEXES = ['/v[0-9]+', '/api/.*', '/(static|v2)/.*'];
const GATEWAY_HOSTS = ['shop.example.com', 'api.example.com'];

export function randomMesh(seed: number): RandomMesh {
  const r = new Random(seed);
  const docs: Record<string, unknown>[] = [];
  let ip = 10;
  const services: ServiceSpec[] = [];
  const serviceCount = 2 + r.int(3);
  for (let i = 0; i < serviceCount; i++) {
    const namespace = r.pick(NAMESPACES);
    const name = `svc${i}`;
    const chosen = r.some(PORT_CHOICES, 0.35);
    const ports = (chosen.length ? chosen : [r.pick(PORT_CHOICES)]).map((p) => ({
      ...p,
      targetPort: r.chance(0.5) ? p.port : p.port + 1000,
    }));
    const versions = r.chance(0.5) ? ['v1', 'v2'] : ['v1'];
    const pods = versions.map((version) => ({ name: `${name}-${version}`, ip: `10.1.${i}.${ip++}`, version }));
    services.push({ namespace, name, clusterIP: r.chance(0.1) ? 'None' : `10.96.${i}.10`, ports, pods });
  }

  if (r.chance(0.3)) {
    const mesh = { outboundTrafficPolicy: { mode: r.pick(['ALLOW_ANY', 'REGISTRY_ONLY']) } };
    docs.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'istio', namespace: 'istio-system' },
      data: { mesh: YAML.stringify(mesh) },
    });
  }
  const externals = r.some(EXTERNALS, 0.4);
  for (const e of externals) docs.push(serviceEntry(r, e));
  for (const namespace of [...NAMESPACES, 'istio-system']) {
    docs.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace, labels: namespace === 'istio-system' ? {} : { 'istio-injection': 'enabled' } },
    });
  }
  for (const s of services) {
    docs.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: s.name, namespace: s.namespace },
      spec: {
        clusterIP: s.clusterIP,
        selector: { app: s.name },
        ports: s.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort, protocol: 'TCP' })),
      },
    });
    for (const pod of s.pods)
      docs.push(
        podDoc(
          s.namespace,
          pod.name,
          { app: s.name, version: pod.version },
          pod.ip,
          s.ports.map((p) => p.targetPort),
        ),
      );
  }

  // The ingress gateway: a router pod in istio-system, its Service mapping 80/443 to 8080/8443.
  const withGateway = r.chance(0.6);
  if (withGateway) {
    docs.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'istio-ingressgateway', namespace: 'istio-system' },
      spec: {
        clusterIP: '10.96.200.1',
        selector: { istio: 'ingressgateway' },
        ports: [
          { name: 'http2', port: 80, targetPort: 8080, protocol: 'TCP' },
          { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
        ],
      },
    });
    docs.push(podDoc('istio-system', 'ingressgateway', { istio: 'ingressgateway' }, '10.1.200.5', [8080, 8443], true));
    const servers: Record<string, unknown>[] = [
      ...(r.chance(0.3) ? [{ port: { number: 31400, name: 'tcp', protocol: 'TCP' }, hosts: ['*'] }] : []),
      ...(r.chance(0.3)
        ? [{ port: { number: 15443, name: 'tls-mesh', protocol: 'TLS' }, hosts: ['*.example.com'], tls: { mode: 'AUTO_PASSTHROUGH' } }]
        : []),
      {
        port: { number: 80, name: 'http', protocol: 'HTTP' },
        hosts: r.some(GATEWAY_HOSTS, 0.7).length ? GATEWAY_HOSTS.slice(0, 1 + r.int(2)) : ['*'],
      },
    ];
    if (r.chance(0.5))
      servers.push({
        port: { number: 443, name: 'https', protocol: 'HTTPS' },
        hosts: [r.pick(GATEWAY_HOSTS)],
        tls: { mode: 'SIMPLE', credentialName: 'shop-cert' },
      });
    // eslint-disable-next-line no-dupe-else-if -- r.chance draws anew: half of the other half
    else if (r.chance(0.5))
      servers.push({ port: { number: 443, name: 'tls', protocol: 'TLS' }, hosts: [r.pick(GATEWAY_HOSTS)], tls: { mode: 'PASSTHROUGH' } });
    if (r.chance(0.3)) {
      const http = servers.findIndex((s) => (s.port as { protocol: string }).protocol === 'HTTP');
      servers[http] = { ...servers[http], tls: { httpsRedirect: true } };
    }
    docs.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: 'ingress', namespace: 'istio-system' },
      spec: { selector: { istio: 'ingressgateway' }, servers },
    });
    if (servers.some((s) => (s.port as { number: number }).number === 31400) && r.chance(0.7)) {
      const s = r.pick(services);
      const port = r.pick(s.ports).port;
      docs.push({
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'gateway-tcp', namespace: 'istio-system' },
        spec: {
          hosts: ['*'],
          gateways: ['ingress'],
          tcp: [
            {
              match: [{ port: 31400 }],
              route: [{ destination: { host: `${s.name}.${s.namespace}.svc.cluster.local`, port: { number: port } } }],
            },
          ],
        },
      });
    }
    if (servers.some((s) => (s.tls as { mode?: string } | undefined)?.mode === 'PASSTHROUGH') && r.chance(0.7)) {
      const s = r.pick(services);
      docs.push({
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'gateway-tls', namespace: 'istio-system' },
        spec: {
          hosts: GATEWAY_HOSTS,
          gateways: ['ingress'],
          tls: [
            {
              match: [{ port: 443, sniHosts: [r.pick(GATEWAY_HOSTS)] }],
              route: [{ destination: { host: `${s.name}.${s.namespace}.svc.cluster.local`, port: { number: r.pick(s.ports).port } } }],
            },
          ],
        },
      });
    }
  }

  for (const s of services) {
    const fqdn = `${s.name}.${s.namespace}.svc.cluster.local`;
    if (s.pods.length > 1 || r.chance(0.3)) {
      docs.push({
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: s.name, namespace: s.namespace },
        spec: { host: fqdn, subsets: s.pods.map((p) => ({ name: p.version, labels: { version: p.version } })) },
      });
    }
    if (r.chance(0.7)) docs.push(virtualService(r, s, services, withGateway));
  }

  for (const namespace of NAMESPACES) {
    if (r.chance(0.3)) {
      docs.push({
        apiVersion: 'networking.istio.io/v1',
        kind: 'Sidecar',
        metadata: { name: 'default', namespace },
        spec: {
          egress: [
            ...(r.chance(0.3)
              ? [{ port: { number: 8080, protocol: 'HTTP', name: 'egress-http' }, hosts: [`${r.pick(NAMESPACES)}/*`] }]
              : []),
            { hosts: r.chance(0.5) ? ['./*', 'istio-system/*'] : [`${r.pick(NAMESPACES)}/*`] },
          ],
          ...(r.chance(0.4)
            ? {
                ingress: [{ port: { number: 9080, protocol: r.pick(['HTTP', 'TCP']), name: 'custom' }, defaultEndpoint: '127.0.0.1:8080' }],
              }
            : {}),
          ...(r.chance(0.5) ? { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } } : {}),
        },
      });
    }
  }
  docs.push(...peerAuthentications(r, services));

  const proxies: RandomMesh['proxies'] = [];
  const clients = r.some(
    services.flatMap((s) => s.pods.map((p) => ({ s, p }))),
    0.6,
  );
  if (!clients.length) clients.push({ s: services[0]!, p: services[0]!.pods[0]! });
  for (const { s, p } of clients)
    proxies.push({
      proxy: { namespace: s.namespace, name: p.name, type: 'SIDECAR' },
      calls: sidecarCalls(r, s, p.ip, services, externals),
    });
  if (withGateway) proxies.push({ proxy: { namespace: 'istio-system', name: 'ingressgateway', type: 'ROUTER' }, calls: gatewayCalls(r) });

  return { seed, yaml: docs.map((d) => YAML.stringify(d)).join('---\n'), proxies };
}

function podDoc(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  ip: string,
  ports: number[],
  router = false,
): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: {
      containers: [
        router
          ? {
              name: 'istio-proxy',
              image: 'istio/proxyv2',
              args: ['proxy', 'router'],
              ports: ports.map((containerPort) => ({ containerPort })),
            }
          : { name: 'app', image: 'app', ports: ports.map((containerPort) => ({ containerPort })) },
      ],
    },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function virtualService(r: Random, s: ServiceSpec, services: ServiceSpec[], withGateway: boolean): Record<string, unknown> {
  const fqdn = `${s.name}.${s.namespace}.svc.cluster.local`;
  const subsets = s.pods.map((p) => p.version);
  const destination = () => {
    const other = r.chance(0.2) ? r.pick(services) : s;
    const dest: Record<string, unknown> = { host: `${other.name}.${other.namespace}.svc.cluster.local` };
    if (other === s && r.chance(0.6)) dest.subset = r.pick(subsets);
    if (other.ports.length > 1) dest.port = { number: r.pick(other.ports).port };
    return dest;
  };
  const http = [];
  const routeCount = 1 + r.int(3);
  for (let i = 0; i < routeCount; i++) {
    const uri = r.pick([{ prefix: r.pick(PREFIXES) }, { exact: r.pick(EXACTS) }, { regex: r.pick(REGEXES) }]);
    const match: Record<string, unknown> = { uri };
    // Conditions the simulation does not look at: Envoy matches them, the calls carry none.
    if (r.chance(0.15)) match.headers = { 'x-canary': { exact: 'yes' } };
    if (r.chance(0.1)) match.method = { exact: 'POST' };
    if (r.chance(0.1)) match.queryParams = { debug: { exact: '1' } };
    if (r.chance(0.1)) match.sourceLabels = { app: r.pick(services).name };
    const action = r.pick([
      () => ({
        route: r.chance(0.25)
          ? [
              { destination: destination(), weight: 70 },
              { destination: destination(), weight: 30 },
            ]
          : [{ destination: destination() }],
      }),
      () => ({ route: [{ destination: destination() }] }),
      () => ({ route: [{ destination: destination() }], rewrite: { uri: '/' }, timeout: '5s' }),
      () => ({ redirect: { uri: '/moved' } }),
      () => ({ directResponse: { status: 503 } }),
    ])();
    http.push({ name: `r${i}`, ...(r.chance(0.85) ? { match: [match] } : {}), ...action });
  }
  const spec: Record<string, unknown> = { hosts: [withGateway && r.chance(0.5) ? r.pick(GATEWAY_HOSTS) : fqdn], http };
  if ((spec.hosts as string[])[0] !== fqdn) spec.gateways = r.chance(0.5) ? ['istio-system/ingress'] : ['istio-system/ingress', 'mesh'];
  const tcpPort = s.ports.find((p) => p.kind === 'tcp');
  if (tcpPort && r.chance(0.5))
    spec.tcp = [{ match: [{ port: tcpPort.port }], route: [{ destination: { host: fqdn, port: { number: tcpPort.port } } }] }];
  const tlsPort = s.ports.find((p) => p.kind === 'tls');
  if (tlsPort && !spec.gateways && r.chance(0.5))
    spec.tls = [
      { match: [{ port: tlsPort.port, sniHosts: [fqdn] }], route: [{ destination: { host: fqdn, port: { number: tlsPort.port } } }] },
    ];
  return { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: s.name, namespace: s.namespace }, spec };
}

const MODES = ['STRICT', 'PERMISSIVE', 'DISABLE'];

/** Mesh, namespace, workload and port level, on declared target ports and on ports no Service declares. */
function peerAuthentications(r: Random, services: ServiceSpec[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const pa = (namespace: string, name: string, spec: Record<string, unknown>) =>
    out.push({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name, namespace }, spec });
  if (r.chance(0.5)) pa('istio-system', 'default', { mtls: { mode: r.pick(MODES) } });
  for (const namespace of NAMESPACES) if (r.chance(0.3)) pa(namespace, 'default', { mtls: { mode: r.pick(MODES) } });
  for (const s of services) {
    if (!r.chance(0.5)) continue;
    const ports = [
      ...r.some(
        s.ports.map((p) => p.targetPort),
        0.5,
      ),
      ...(r.chance(0.6) ? [UNDECLARED_PORT] : []),
    ];
    const portLevelMtls = Object.fromEntries(ports.map((p) => [String(p), { mode: r.pick(MODES) }]));
    pa(s.namespace, s.name, {
      selector: { matchLabels: { app: s.name } },
      ...(r.chance(0.6) ? { mtls: { mode: r.pick([...MODES, 'UNSET']) } } : {}),
      ...(ports.length ? { portLevelMtls } : {}),
    });
  }
  return out;
}

/** A port the pods listen on that no Service declares: served by the inbound passthrough chains. */
const UNDECLARED_PORT = 9999;

function sidecarCalls(r: Random, own: ServiceSpec, ownIp: string, services: ServiceSpec[], externals: External[]): SimulationCall[] {
  const calls: SimulationCall[] = [];
  for (const e of externals) {
    const port = r.pick(e.ports);
    const call = clientCall(
      r,
      'OUTBOUND',
      e.address ?? r.pick(['1.2.3.4', '93.184.216.34']),
      port.number,
      port.kind,
      r.pick([e.host, `${e.host}:${port.number}`]),
    );
    calls.push(call);
  }
  for (let i = 0; i < 10; i++) {
    const s = r.pick(services);
    const port = r.pick(s.ports);
    const fqdn = `${s.name}.${s.namespace}.svc.cluster.local`;
    const host = r.pick([fqdn, `${fqdn}:${port.port}`, s.name, `${s.name}.${s.namespace}`, 'unknown.example.com']);
    // A headless Service's listeners bind each pod's address; other calls go to the VIP or elsewhere.
    const address = s.clusterIP === 'None' || r.chance(0.1) ? r.pick(s.pods).ip : r.chance(0.85) ? s.clusterIP : '10.200.0.1';
    calls.push(clientCall(r, 'OUTBOUND', address, r.chance(0.2) ? port.targetPort : port.port, port.kind, host));
  }
  for (let i = 0; i < 6; i++) {
    const port = r.chance(0.7) ? r.pick(own.ports).targetPort : r.pick([UNDECLARED_PORT, 12345, 9080]);
    const kind = own.ports.find((p) => p.targetPort === port)?.kind ?? r.pick(['http', 'tcp'] as const);
    calls.push({
      ...clientCall(r, 'INBOUND', ownIp, port, kind, `${own.name}.${own.namespace}.svc.cluster.local`),
      tls: r.pick(['PLAINTEXT', 'MTLS', 'MTLS', 'TLS'] as const),
    });
  }
  return calls;
}

function clientCall(
  r: Random,
  mode: SimulationCall['mode'],
  address: string,
  port: number,
  kind: PortSpec['kind'],
  host: string,
): SimulationCall {
  const protocol = kind === 'tcp' || kind === 'tls' ? (r.chance(0.8) ? 'TCP' : 'HTTP') : r.pick(['HTTP', 'HTTP', 'HTTP2', 'TCP'] as const);
  const tls = kind === 'tls' ? 'TLS' : r.chance(0.1) ? 'TLS' : 'PLAINTEXT';
  const call: SimulationCall = { mode, address, port, protocol, tls, host, path: r.pick(PATHS) };
  if (tls === 'TLS') call.sni = host.replace(/:\d+$/, '');
  return call;
}

function gatewayCalls(r: Random): SimulationCall[] {
  const calls: SimulationCall[] = [];
  for (let i = 0; i < 8; i++) {
    const port = r.pick([8080, 8443, 80, 15021, 31400, 15443]);
    const host = r.pick([...GATEWAY_HOSTS, 'other.example.com']);
    const tls =
      port === 8443 || port === 15443 ? (r.chance(0.8) ? (port === 15443 && r.chance(0.5) ? 'MTLS' : 'TLS') : 'PLAINTEXT') : 'PLAINTEXT';
    const call: SimulationCall = {
      mode: 'GATEWAY',
      address: '10.1.200.5',
      port,
      protocol: r.pick(['HTTP', 'HTTP2', 'TCP'] as const),
      tls,
      host,
      path: r.pick(PATHS),
    };
    if (tls !== 'PLAINTEXT') call.sni = port === 15443 ? `outbound_.80_._.${host}` : host;
    calls.push(call);
  }
  return calls;
}

interface External {
  host: string;
  /** A VIP when the ServiceEntry has one; else calls go to a random outside address. */
  address?: string;
  ports: { number: number; name: string; protocol: string; kind: PortSpec['kind'] }[];
}

const EXTERNALS: External[] = [
  {
    host: 'api.partner.com',
    ports: [
      { number: 443, name: 'tls', protocol: 'TLS', kind: 'tls' },
      { number: 80, name: 'http', protocol: 'HTTP', kind: 'http' },
    ],
  },
  { host: 'db.partner.com', address: '240.0.0.10', ports: [{ number: 5432, name: 'tcp', protocol: 'TCP', kind: 'tcp' }] },
  { host: 'web.partner.com', address: '240.0.0.11', ports: [{ number: 8000, name: 'http', protocol: 'HTTP', kind: 'http' }] },
];

function serviceEntry(r: Random, e: External): Record<string, unknown> {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name: e.host.split('.')[0], namespace: r.pick(NAMESPACES) },
    spec: {
      hosts: [e.host],
      ...(e.address ? { addresses: [e.address] } : {}),
      location: 'MESH_EXTERNAL',
      resolution: r.pick(['DNS', 'NONE']),
      ports: e.ports.map(({ number, name, protocol }) => ({ number, name, protocol })),
    },
  };
}
