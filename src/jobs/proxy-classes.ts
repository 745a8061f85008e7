// Proxy classes: proxies istiod gives the same config, so the worker generates it once per class.
// Pure functions, no I/O.
import { isIPv6 } from 'node:net';
import { PROXY_INFO_TYPE, type ConfigEntry, type EnvoyObjectCollector } from '../database/envoy-tree.js';
import {
  CONFIG_KEY,
  ENVOY_TYPES,
  type ConfigKey,
  type EnvoyObject,
  type EnvoyType,
  type GeneratedConfig,
  type ProxyInfo,
  type WorkloadProxy,
} from '../model/proxy.js';
import { hashedElement, scanGeneratedLine, unsentObject, type HashedElement, type LineLayout } from './generated-line.js';
import { contentHash } from '../model/canonical.js';
import { compareStrings } from '../model/compare.js';
import type { ClassMember, ProxyClass, WorkloadRef } from '../model/proxy-class.js';

type Body = Record<string, unknown>;

/** The compute job's classes: their workloads with the proxy istiod sees (src/model/proxy-class.ts). */
export type { ClassMember };
export type MemberClass = ProxyClass<ClassMember>;

/**
 * The node metadata istio-proxy reports for a pod, minus what identifies the instance (its name,
 * its owner's name, its addresses): what istiod's config generation may read besides the registry.
 * Mirrors the generator's podMetadata (generator/internal/session/proxy.go).
 */
export function podClassMetadata(pod: Body | undefined): Body {
  if (!pod) return {};
  const metadata = (pod.metadata ?? {}) as Body;
  const spec = (pod.spec ?? {}) as Body;
  const containers = Array.isArray(spec.containers) ? (spec.containers as Body[]) : [];
  return {
    annotations: metadata.annotations ?? {},
    serviceAccount: spec.serviceAccountName ?? 'default',
    nodeName: spec.nodeName ?? '',
    // POD_PORTS: a named targetPort resolves through them; istio-proxy's own container args (router).
    containers: containers.map((c) => ({ name: c.name, ports: c.ports ?? [], args: c.args ?? [] })),
  };
}

/**
 * The class key: a hash of the canonical JSON of everything istiod's generation reads about the
 * proxy except its identity. From ProxyInfo: type, namespace, config namespace, labels (as istiod
 * augments them), Istio version, service targets, Sidecar scope; the address families (IPv4, IPv6,
 * dual stack change wildcards, bind addresses and DNS lookup families), not the addresses; from the
 * pod: the node metadata above. The id and addresses are left out on purpose: where istiod does put
 * them into a proxy's config, `dependsOnIdentity` finds them and the class is split.
 */
export function classKey(proxy: ProxyInfo, pod: Body | undefined): string {
  return contentHash({
    type: proxy.type,
    namespace: proxy.namespace,
    configNamespace: proxy.configNamespace,
    labels: proxy.labels,
    istioVersion: proxy.istioVersion,
    serviceTargets: proxy.serviceTargets,
    sidecar: proxy.sidecar ?? '',
    ipFamilies: proxy.ips.map((ip) => (isIPv6(ip) ? 6 : 4)),
    metadata: podClassMetadata(pod),
  });
}

/** Groups the pods that have a proxy into classes, deterministically (classes by key, members by name). */
export function groupIntoClasses(proxies: WorkloadProxy[], pods: Map<string, Body>): MemberClass[] {
  const byKey = new Map<string, ClassMember[]>();
  for (const wp of proxies) {
    if (!wp.proxy) continue;
    const key = classKey(wp.proxy, pods.get(`${wp.namespace}/${wp.name}`));
    let members = byKey.get(key);
    if (!members) byKey.set(key, (members = []));
    members.push({ namespace: wp.namespace, name: wp.name, proxy: wp.proxy });
  }
  return [...byKey]
    .map(([classKey, workloads]) => ({
      classKey,
      proxyType: workloads[0].proxy.type,
      workloads: workloads.sort((a, b) => compareStrings(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`)),
    }))
    .sort((a, b) => compareStrings(a.classKey, b.classKey));
}

/**
 * Whether the representative's generated config names the identity of a class member: istiod
 * writes a proxy's own address into some objects (an inbound cluster whose Sidecar ingress
 * `defaultEndpoint` is 0.0.0.0:port, HBONE prefix ranges) and leaves it out of others (a headless
 * Service's per-endpoint outbound listeners skip the proxy's own pod: each class-mate gets the
 * listeners of the others), and, without app labels, the pod's name as the tracing service name.
 * Any member's address, or the representative's own name, in its listeners, routes or clusters
 * means class-mates' configs differ; the class is then generated member by member. Endpoints
 * (EDS) are left out: they list the Services' pods, the same for every proxy that asks.
 */
export function dependsOnIdentity(
  config: Pick<GeneratedConfig, 'listeners' | 'routes' | 'clusters'>,
  rep: ClassMember,
  members: ClassMember[],
): boolean {
  return members.length > 1 && identityInText(JSON.stringify([config.listeners, config.routes, config.clusters]), rep, members);
}

/** dependsOnIdentity of a config's listeners, routes and clusters given as their JSON text. */
export function identityInText(text: string, rep: ClassMember, members: ClassMember[]): boolean {
  if (members.length < 2) return false;
  const ipv4 = new Set<string>();
  const ipv6: string[] = [];
  for (const m of members) {
    for (const ip of m.proxy.ips) {
      if (isIPv6(ip)) ipv6.push(ip);
      else ipv4.add(ip);
    }
  }
  for (const match of text.matchAll(/(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])/g)) if (ipv4.has(match[0])) return true;
  if (ipv6.some((ip) => text.includes(ip))) return true;
  const idName = rep.proxy.id.split('.')[0] ?? rep.name;
  return [rep.name, idName, `${rep.name}.${rep.namespace}`].some((token) => containsToken(text, token));
}

/** `token` in `text`, not as part of a longer name (neighbours are not name characters). */
export function containsToken(text: string, token: string): boolean {
  if (!token) return false;
  const nameChar = /[A-Za-z0-9_-]/;
  for (let i = text.indexOf(token); i >= 0; i = text.indexOf(token, i + 1)) {
    const before = text[i - 1] ?? '';
    const after = text[i + token.length] ?? '';
    if (!nameChar.test(before) && !nameChar.test(after)) return true;
  }
  return false;
}

/** What adding a generated config to a collector gives: its tree's root, its class ProxyInfo's hash, whether to split. */
export interface AddConfigResult {
  root: string;
  proxyInfoHash: string;
  dependsOnIdentity: boolean;
}

/** What the members of a class share of their ProxyInfo: all but the id and the addresses. */
export function classProxyInfo(proxy: ProxyInfo): Omit<ProxyInfo, 'id' | 'ips'> {
  const { id: _id, ips: _ips, ...shared } = proxy;
  return shared;
}

/**
 * A compute job's answer line (hashedProxyConfig): its elements found, each object parsed at most
 * once per job, when the generator first sends it.
 */
export interface GeneratedLine {
  layout: LineLayout;
  text: (range: [number, number]) => string;
  /** each list's elements, by type */
  elements: Record<EnvoyType, HashedElement[]>;
  /** an element's object, parsed (from `bodies`, when the job keeps them, after its first time) */
  parse: (element: HashedElement) => EnvoyObject;
  /** a list of the config, parsed: only for a job that keeps its objects' bodies */
  list: (key: ConfigKey) => EnvoyObject[];
}

/**
 * Reads an answer line. `bodies`, the job's parsed objects by the generator's hash, is for a job
 * that reads whole configs (connectivity): answers name most objects by hash only.
 */
export function readGeneratedLine(line: Uint8Array, decoder = new TextDecoder(), bodies?: Map<string, EnvoyObject>): GeneratedLine {
  const layout = scanGeneratedLine(line);
  const text = ([start, end]: [number, number]) => decoder.decode(line.subarray(start, end));
  const elements = {} as Record<EnvoyType, HashedElement[]>;
  for (const type of ENVOY_TYPES) elements[type] = (layout.elements[CONFIG_KEY[type]] ?? []).map((range) => hashedElement(line, range));
  const parse = (element: HashedElement) => {
    let body = bodies?.get(element.hash);
    if (!body) {
      if (!element.object) throw unsentObject(element.hash);
      body = JSON.parse(text(element.object)) as EnvoyObject;
      bodies?.set(element.hash, body);
    }
    return body;
  };
  const typeOf = new Map(ENVOY_TYPES.map((t) => [CONFIG_KEY[t], t]));
  return { layout, text, elements, parse, list: (key) => elements[typeOf.get(key)!].map(parse) };
}

/**
 * Adds one generated config, the generator's hashedProxyConfig answer line, to the collector: the
 * same objects, tree and hashes as parsing the config and calling addConfig, but an object is
 * parsed and canonicalised once per job, when the generator first sends it; later answers name it
 * by hash. The identity check, when asked, reads the canonical JSON of the listeners, routes and
 * clusters (not the endpoints, the bulk of a sidecar's config).
 */
export function addGenerated(
  collector: EnvoyObjectCollector,
  read: GeneratedLine,
  identity?: { rep: ClassMember; members: ClassMember[] },
): AddConfigResult {
  const entries: ConfigEntry[] = [];
  for (const type of ENVOY_TYPES) {
    for (const element of read.elements[type]) {
      const { hash, name } = collector.addRawObject(type, element.hash, () => read.parse(element));
      entries.push({ type, name, hash });
    }
  }
  const encoded = collector.addTree(entries);
  const proxy = JSON.parse(read.text(read.layout.proxy!)) as ProxyInfo;
  const proxyInfoHash = collector.addObject(PROXY_INFO_TYPE, '', classProxyInfo(proxy));
  let split = false;
  if (identity && identity.members.length > 1) {
    const json = (type: EnvoyType) =>
      `[${entries.flatMap((e) => (e.type === type ? [collector.objects.get(e.hash)!.json] : [])).join(',')}]`;
    split = identityInText(`[${json('listener')},${json('route')},${json('cluster')}]`, identity.rep, identity.members);
  }
  return { root: encoded.root, proxyInfoHash, dependsOnIdentity: split };
}

/** The class of one member of a class that was split. */
export function memberClassKey(classKey: string, m: WorkloadRef): string {
  return contentHash({ class: classKey, member: `${m.namespace}/${m.name}` });
}
