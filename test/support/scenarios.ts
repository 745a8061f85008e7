// The scenario corpus (../shared/scenarios/*.yaml) as the conformance runner
// (../shared/conformance/run.mjs) reads it: request building and comparison replicated here, so the
// e2e tests judge a call exactly as the runner does.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The shared corpus folder next to the checkout (../shared), or null when this checkout has none. */
export function sharedDir(...parts: string[]): string | null {
  const dir = path.resolve(projectRoot, '..', 'shared', ...parts);
  return fs.existsSync(dir) ? dir : null;
}

export interface ScenarioRef {
  namespace: string;
  name: string;
}

export interface ScenarioExpect {
  listener?: string;
  filterChain?: string;
  routeConfig?: string;
  virtualHost?: string;
  route?: string;
  cluster?: string;
  error?: string;
  strict?: boolean;
  virtualService?: ScenarioRef | null;
  destinationRule?: ScenarioRef | null;
  weightedClusters?: { cluster: string; weight: number }[];
}

export interface ScenarioCall {
  mode?: string;
  address?: string;
  port: number;
  protocol?: string;
  tls?: string;
  host?: string;
  sni?: string;
  alpn?: string | string[];
  path?: string;
  method?: string;
  headers?: Record<string, unknown>;
  expect?: ScenarioExpect;
}

export interface ScenarioCheck {
  kind: 'cluster' | 'listener' | 'route';
  name?: string;
  routeConfig?: string;
  virtualHost?: string;
  index?: number;
  path: string;
  equals: unknown;
  description?: string;
}

export interface ScenarioCase {
  name: string;
  description?: string;
  config?: string;
  mesh?: Record<string, unknown>;
  features?: Record<string, unknown>;
  skip?: unknown;
  proxy: Record<string, any>;
  calls?: ScenarioCall[];
  checks?: ScenarioCheck[];
  routeChecks?: { routeConfig: string; domain: string; clusters?: string[] }[];
  inboundClusters?: Record<string, string[] | null>;
}

export function corpusFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .sort()
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(dir, f));
}

export function readCases(file: string): ScenarioCase[] {
  return (YAML.parse(fs.readFileSync(file, 'utf8'))?.cases ?? []) as ScenarioCase[];
}

/** Why the runner would skip a case (features it cannot express in a snapshot), or null. */
export function skipReason(kase: ScenarioCase): string | null {
  if (kase.skip) return `marked skip: ${typeof kase.skip === 'string' ? kase.skip : JSON.stringify(kase.skip)}`;
  if (kase.features && Object.keys(kase.features).length) return `needs istiod feature flags ${Object.keys(kase.features).join(', ')}`;
  return null;
}

const MODES: Record<string, string> = { outbound: 'OUTBOUND', inbound: 'INBOUND', gateway: 'GATEWAY' };
const PROTOCOLS: Record<string, string> = { http: 'HTTP', http2: 'HTTP2', tcp: 'TCP', grpc: 'HTTP2' };
const TLS: Record<string, string> = { plaintext: 'PLAINTEXT', tls: 'TLS', mtls: 'MTLS' };
const PROXY_TYPES: Record<string, string> = { sidecar: 'SIDECAR', router: 'ROUTER', none: 'NONE' };

export function proxyInput(p: Record<string, any>): Record<string, unknown> {
  const out: Record<string, unknown> = { namespace: p.namespace };
  if (p.name) out.name = p.name;
  if (p.labels && Object.keys(p.labels).length) out.labels = p.labels;
  if (p.ip) out.ip = p.ip;
  if (p.ips) out.ips = p.ips;
  if (p.type) out.type = PROXY_TYPES[String(p.type).toLowerCase()] ?? String(p.type).toUpperCase();
  if (p.istioVersion) out.istioVersion = String(p.istioVersion);
  const metadata: Record<string, unknown> = { ...(p.metadata ?? {}) };
  if (p.clusterID) metadata.CLUSTER_ID = p.clusterID;
  if (p.dnsDomain) metadata.DNS_DOMAIN = p.dnsDomain;
  if (Object.keys(metadata).length) out.metadata = metadata;
  return out;
}

export function callInput(c: ScenarioCall): Record<string, unknown> {
  const out: Record<string, unknown> = { mode: MODES[c.mode ?? 'outbound'], port: c.port };
  if (c.address) out.address = c.address;
  if (c.protocol) out.protocol = PROTOCOLS[c.protocol];
  if (c.tls) out.tls = TLS[c.tls];
  if (c.host) out.host = c.host;
  if (c.sni) out.sni = c.sni;
  if (c.alpn) out.alpn = Array.isArray(c.alpn) ? c.alpn : [c.alpn];
  if (c.path) out.path = c.path;
  if (c.method) out.method = c.method;
  if (c.headers) out.headers = Object.entries(c.headers).map(([name, value]) => ({ name, value: String(value) }));
  return out;
}

export function manifests(kase: ScenarioCase): string {
  let text = kase.config ?? '';
  if (kase.mesh && Object.keys(kase.mesh).length) {
    text +=
      '\n---\n' +
      YAML.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'istio', namespace: 'istio-system' },
        data: { mesh: YAML.stringify(kase.mesh) },
      });
  }
  return text;
}

export function callLabel(i: number, call: ScenarioCall): string {
  return `call#${i} ${call.mode ?? 'outbound'} ${call.host ?? call.address ?? ''}:${call.port}${call.path ?? ''}`;
}

const NAMES = ['listener', 'filterChain', 'routeConfig', 'virtualHost', 'route', 'cluster'] as const;
const ref = (r: ScenarioRef | null | undefined) => (r ? `${r.namespace}/${r.name}` : null);

/** run.mjs's compare: absent `error` means the call must succeed; `strict` means every name field must match ("" = none). */
export function compare(expect: ScenarioExpect, got: Record<string, any>): string[] {
  const problems: string[] = [];
  const blank = (v: unknown) => (v === undefined || v === null || v === '' ? null : v);
  for (const key of [...NAMES, 'error'] as const) {
    const checked = key in expect || key === 'error' || (expect.strict && (NAMES as readonly string[]).includes(key));
    if (!checked) continue;
    const want = blank(expect[key]);
    if (blank(got[key]) !== want) problems.push(`${key}: want ${JSON.stringify(want)} got ${JSON.stringify(blank(got[key]))}`);
  }
  for (const key of ['virtualService', 'destinationRule'] as const) {
    if (!(key in expect)) continue;
    const want = expect[key] ? ref(expect[key]) : null;
    if (ref(got[key]) !== want) problems.push(`${key}: want ${want} got ${ref(got[key])}`);
  }
  if ('weightedClusters' in expect) {
    const norm = (l: { cluster: string; weight: number }[] | null | undefined) =>
      (l ?? [])
        .map((w) => `${w.cluster}=${w.weight}`)
        .sort()
        .join(', ');
    if (norm(expect.weightedClusters) !== norm(got.weightedClusters))
      problems.push(`weightedClusters: want [${norm(expect.weightedClusters)}] got [${norm(got.weightedClusters)}]`);
  }
  return problems;
}

export function dig(obj: unknown, p: string): unknown {
  let cur: any = obj;
  for (const part of p.match(/[^.[\]]+/g) ?? []) {
    if (cur == null) return undefined;
    cur = cur[/^\d+$/.test(part) ? Number(part) : part];
  }
  return cur;
}

export interface ProxyConfigView {
  clusters: { name: string; config: any }[];
  routes: { name: string; config: any }[];
  listeners: { name: string; config: any }[];
}

export function findChecked(pc: ProxyConfigView, check: ScenarioCheck): unknown {
  if (check.kind === 'cluster') return pc.clusters.find((c) => c.name === check.name)?.config;
  if (check.kind === 'listener') return pc.listeners.find((l) => l.name === check.name)?.config;
  if (check.kind === 'route') {
    const rc = pc.routes.find((r) => r.name === check.routeConfig)?.config;
    if (!check.virtualHost) return rc;
    const vh = rc?.virtualHosts?.find((v: any) => v.name === check.virtualHost);
    return check.index === undefined ? vh : vh?.routes?.[check.index];
  }
  return undefined;
}

export function routeCheckClusters(pc: ProxyConfigView, check: { routeConfig: string; domain: string }): string[] {
  const rc = pc.routes.find((r) => r.name === check.routeConfig)?.config;
  const vh = rc?.virtualHosts?.find((v: any) => (v.domains ?? []).includes(check.domain));
  return (vh?.routes ?? [])
    .map((r: any) => r.route?.cluster)
    .filter(Boolean)
    .sort();
}

export function inboundClusterMap(pc: ProxyConfigView): Record<string, string[] | null> {
  const out: Record<string, string[] | null> = {};
  for (const c of pc.clusters) {
    if (!c.name.startsWith('inbound')) continue;
    const addrs: string[] = [];
    for (const group of c.config?.loadAssignment?.endpoints ?? []) {
      for (const lb of group.lbEndpoints ?? []) {
        const a = lb.endpoint?.address;
        if (a?.socketAddress) addrs.push(`${a.socketAddress.address}:${a.socketAddress.portValue}`);
        else if (a?.pipe) addrs.push(a.pipe.path);
      }
    }
    out[c.name] = addrs.length ? addrs.sort() : null;
  }
  return out;
}

export function sameInbound(want: Record<string, string[] | null>, got: Record<string, string[] | null>): boolean {
  const norm = (m: Record<string, string[] | null>) =>
    JSON.stringify(
      Object.keys(m ?? {})
        .sort()
        .map((k) => [k, m[k] ? [...m[k]!].sort() : null]),
    );
  return norm(want) === norm(got);
}

export const RESOLVE_QUERY = `query($s: ID!, $p: ProxyInput!, $c: CallInput!) {
  resolveRoute(snapshotId: $s, proxy: $p, call: $c) {
    listener filterChain routeConfig virtualHost route cluster error
    weightedClusters { cluster weight }
    virtualService { kind namespace name }
    destinationRule { kind namespace name }
    trace { stage detail }
  }
}`;

export const PROXY_CONFIG_QUERY = `query($s: ID!, $p: ProxyInput!) {
  proxyConfig(snapshotId: $s, proxy: $p) {
    clusters { name config }
    routes { name config }
    listeners { name config }
  }
}`;
