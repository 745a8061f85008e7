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
import { refOutOfOrder, scanGeneratedLine, type JobElement, type LineLayout } from './generated-line.js';
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
 * What the class key hashes (its canonical JSON's): everything istiod's generation reads about the
 * proxy except its identity. From ProxyInfo: type, namespace, config namespace, labels (as istiod
 * augments them), Istio version, service targets, Sidecar scope; the address families (IPv4, IPv6,
 * dual stack change wildcards, bind addresses and DNS lookup families), not the addresses; from the
 * pod: the node metadata above. The id and addresses are left out on purpose: where istiod does put
 * them into a proxy's config, `dependsOnIdentity` finds them and the class is split.
 */
function classFacts(proxy: ProxyInfo, pod: Body | undefined) {
  return {
    type: proxy.type,
    namespace: proxy.namespace,
    configNamespace: proxy.configNamespace,
    labels: proxy.labels,
    istioVersion: proxy.istioVersion,
    serviceTargets: proxy.serviceTargets,
    sidecar: proxy.sidecar ?? '',
    ipFamilies: proxy.ips.map((ip) => (isIPv6(ip) ? 6 : 4)),
    metadata: podClassMetadata(pod),
  };
}

/**
 * Groups the pods that have a proxy into classes, deterministically (classes by key, members by
 * name). A class's members have equal facts: each distinct stringification is canonicalised and
 * hashed once (JSON.stringify is native and cheap next to canonicalJson; equal stringifications are
 * equal facts).
 */
export function groupIntoClasses(proxies: WorkloadProxy[], pods: Map<string, Body>): MemberClass[] {
  const grouping = new ClassGrouping(pods);
  for (const wp of proxies) grouping.add(wp);
  return grouping.classes();
}

/**
 * groupIntoClasses a proxy at a time: a compute job adds a 5,000-pod mesh's proxies in slices, the
 * event loop free between two (all at once held it for 65-110 ms).
 */
export class ClassGrouping {
  private readonly byKey = new Map<string, ClassMember[]>();
  /** class keys by the facts' stringification */
  private readonly keys = new Map<string, string>();

  constructor(private readonly pods: Map<string, Body>) {}

  add(wp: WorkloadProxy): void {
    if (!wp.proxy) return;
    const facts = classFacts(wp.proxy, this.pods.get(`${wp.namespace}/${wp.name}`));
    const quick = JSON.stringify(facts);
    let key = this.keys.get(quick);
    if (!key) this.keys.set(quick, (key = contentHash(facts)));
    let members = this.byKey.get(key);
    if (!members) this.byKey.set(key, (members = []));
    members.push({ namespace: wp.namespace, name: wp.name, proxy: wp.proxy });
  }

  classes(): MemberClass[] {
    return [...this.byKey]
      .map(([classKey, workloads]) => ({
        classKey,
        proxyType: workloads[0].proxy.type,
        workloads: workloads.sort((a, b) => compareStrings(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`)),
      }))
      .sort((a, b) => compareStrings(a.classKey, b.classKey));
  }
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
  if (members.length < 2) return false;
  const index = new IdentityIndex(members);
  const objects = [config.listeners, config.routes, config.clusters].flat();
  return index.namesIdentity(
    objects.map((o) => index.scan(JSON.stringify(o))),
    rep,
    members,
  );
}

/** What names a proxy in its config: the pod's name, its proxy id, its addresses. */
export interface Identity {
  name: string;
  proxy: Pick<ProxyInfo, 'id' | 'ips'>;
}

/** The identities of a job's proxies one object's JSON names. */
export interface NamedIdentities {
  /** addresses of the job's proxies (an IPv4 literal equal to one; an IPv6 address anywhere in the text) */
  addresses: readonly string[];
  /** names of the job's proxies (identityTokens) standing as names: neither neighbour a name character */
  tokens: readonly string[];
}

const NAMES_NONE: NamedIdentities = Object.freeze({ addresses: Object.freeze([]), tokens: Object.freeze([]) });
/** An IPv4 literal: four dot-separated groups of 1-3 digits, not part of a longer run of digits and dots. */
const IPV4 = /(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])/g;
/** What an IPv6 address is written with (but for a zone, `%eth0`): it can only occur within a run of these. */
const IPV6_CHARS = /^[0-9A-Fa-f:.]+$/;

/**
 * The names dependsOnIdentity looks for of the representative: its pod's name and its proxy id's
 * first label. `name.namespace` need not be looked for: it stands as a name only where `name` does,
 * '.' being no name character.
 */
function identityTokens(m: Identity): string[] {
  return [m.name, m.proxy.id.split('.')[0]].filter((t) => t !== '');
}

/**
 * dependsOnIdentity for a whole compute job, in time linear in its distinct objects rather than
 * in its classes times their configs: most objects recur in every class. Built from the identities
 * of every workload of the job; each object's JSON is scanned once for any of them (scanOnce), and a
 * class's check intersects what its objects name with its own members (namesIdentity).
 */
export class IdentityIndex {
  private readonly ipv4 = new Set<string>();
  /** IPv6 addresses written with IPV6_CHARS only, and their lengths */
  private readonly ipv6 = new Set<string>();
  private readonly ipv6Lengths = new Set<number>();
  /** other IPv6 addresses (with a zone), looked for as substrings */
  private readonly ipv6Zoned: string[] = [];
  /** tokens by their first run of name characters (a token of name characters only is its own) */
  private readonly tokens = new Map<string, string[]>();
  /** tokens that start with no name character, looked for in the whole text */
  private readonly looseTokens: string[] = [];
  private readonly runLengths = { min: Infinity, max: 0 };
  private readonly scanned = new Map<string, NamedIdentities>();

  constructor(identities: Iterable<Identity>) {
    for (const m of identities) {
      for (const ip of m.proxy.ips) {
        if (!isIPv6(ip)) this.ipv4.add(ip);
        else if (IPV6_CHARS.test(ip)) {
          this.ipv6.add(ip);
          this.ipv6Lengths.add(ip.length);
        } else if (!this.ipv6Zoned.includes(ip)) this.ipv6Zoned.push(ip);
      }
      for (const token of identityTokens(m)) {
        const run = nameRunAt(token, 0);
        if (run === 0) {
          if (!this.looseTokens.includes(token)) this.looseTokens.push(token);
          continue;
        }
        const lead = token.slice(0, run);
        const same = this.tokens.get(lead) ?? [];
        if (!same.includes(token)) this.tokens.set(lead, [...same, token]);
        this.runLengths.min = Math.min(this.runLengths.min, run);
        this.runLengths.max = Math.max(this.runLengths.max, run);
      }
    }
  }

  /** The identities of the index's proxies that a JSON text names (usually none). */
  scan(json: string): NamedIdentities {
    const addresses = new Set<string>();
    const tokens = new Set<string>();
    if (this.ipv4.size > 0) for (const match of json.matchAll(IPV4)) if (this.ipv4.has(match[0])) addresses.add(match[0]);
    if (this.ipv6.size > 0) this.scanIPv6(json, addresses);
    for (const ip of this.ipv6Zoned) if (json.includes(ip)) addresses.add(ip);
    const { min, max } = this.runLengths;
    for (let i = 0; i < json.length; i++) {
      const run = nameRunAt(json, i);
      if (run === 0) continue;
      const candidates = run >= min && run <= max ? this.tokens.get(json.slice(i, i + run)) : undefined;
      for (const token of candidates ?? []) {
        if (token.length === run || (json.startsWith(token, i) && !isNameChar(json.charCodeAt(i + token.length)))) tokens.add(token);
      }
      i += run;
    }
    for (const token of this.looseTokens) if (containsToken(json, token)) tokens.add(token);
    return addresses.size + tokens.size === 0 ? NAMES_NONE : { addresses: [...addresses], tokens: [...tokens] };
  }

  /** scan, once per JSON text: `key` stands for the text (an object's hash), `json` gives it the first time. */
  scanOnce(key: string, json: (key: string) => string): NamedIdentities {
    let named = this.scanned.get(key);
    if (!named) this.scanned.set(key, (named = this.scan(json(key))));
    return named;
  }

  /**
   * dependsOnIdentity of a config whose listeners, routes and clusters name `named` (what scan
   * gives of each): a member's address, or the representative's name. The members must be among
   * the index's identities.
   */
  namesIdentity(named: Iterable<NamedIdentities>, rep: Identity, members: Identity[]): boolean {
    if (members.length < 2) return false;
    const addresses = new Set(members.flatMap((m) => m.proxy.ips));
    const tokens = identityTokens(rep);
    const known =
      [...addresses].every((ip) => this.ipv4.has(ip) || this.ipv6.has(ip) || this.ipv6Zoned.includes(ip)) &&
      tokens.every((t) => this.tokens.get(t.slice(0, nameRunAt(t, 0)))?.includes(t) || this.looseTokens.includes(t));
    if (!known) throw new Error(`the identity check of ${rep.name}'s class: workloads the index was not built with`);
    for (const n of named) {
      if (n.addresses.some((a) => addresses.has(a)) || n.tokens.some((t) => tokens.includes(t))) return true;
    }
    return false;
  }

  /** The IPv6 addresses in `json`: each occurs, if at all, within a maximal run of IPV6_CHARS that has a colon. */
  private scanIPv6(json: string, found: Set<string>) {
    for (const match of json.matchAll(/[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*/g)) {
      const run = match[0];
      for (const length of this.ipv6Lengths) {
        for (let at = 0; at + length <= run.length; at++) {
          const candidate = run.slice(at, at + length);
          if (this.ipv6.has(candidate)) found.add(candidate);
        }
      }
    }
  }
}

/** `token` in `text`, not as part of a longer name (neighbours are not name characters). */
function containsToken(text: string, token: string): boolean {
  for (let i = text.indexOf(token); i >= 0; i = text.indexOf(token, i + 1)) {
    if (!isNameChar(text.charCodeAt(i - 1)) && !isNameChar(text.charCodeAt(i + token.length))) return true;
  }
  return false;
}

/** [A-Za-z0-9_-]: what a Kubernetes name is made of, but for '.'. */
function isNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d;
}

/** The length of the run of name characters starting at `at` (0 when none starts there). */
function nameRunAt(text: string, at: number): number {
  let end = at;
  while (end < text.length && isNameChar(text.charCodeAt(end))) end++;
  return end - at;
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
 * What a compute job holds of the objects one generator process sent it, by ref: the generator
 * numbers them 0, 1, 2, … as it first sends each, in the order of its answers; another process
 * (the session restarted mid-job) numbers them anew, into a table of its own. A repeat costs an
 * array index, not a string and a Map lookup.
 */
export class SentObjects {
  /** each object's entry in the job's collector (its stored hash and name) */
  readonly entries: ConfigEntry[] = [];
  /** the parsed objects of the kept types, for a job that reads whole configs (connectivity) */
  readonly bodies: (EnvoyObject | undefined)[] = [];

  /** `source` names the generator process that numbered the refs; `kept`, the types whose parsed objects are kept. */
  constructor(
    readonly source: number,
    readonly kept: ReadonlySet<EnvoyType> = new Set(),
  ) {}
}

/** A compute job's answer line (hashedProxyConfig): its elements found, read against the job's SentObjects. */
export interface GeneratedLine {
  layout: LineLayout;
  text: (range: [number, number]) => string;
  /** an element's name, from its range (a JSON string); '' for none */
  name: (range: [number, number] | null) => string;
  /** each list's elements, by type */
  elements: Record<EnvoyType, JobElement[]>;
  sent: SentObjects;
  /** a list of the config, parsed, once addGenerated has read the line: only of the types `sent` keeps */
  list: (key: ConfigKey) => EnvoyObject[];
}

/** Each list's type. */
const TYPE_OF = new Map(ENVOY_TYPES.map((t) => [CONFIG_KEY[t], t]));

/** Reads an answer line, whose refs number the objects of `sent` (the job's, from the process that wrote the line). */
export function readGeneratedLine(line: Uint8Array, sent: SentObjects, decoder = new TextDecoder()): GeneratedLine {
  const layout = scanGeneratedLine(line);
  const text = ([start, end]: [number, number]) => decoder.decode(line.subarray(start, end));
  // A name with an escape (rare: a quote, a backslash, a control character) parsed, any other its
  // text. Decoded without its quotes rather than sliced from them: a flat string, which the sort of
  // every config's entries by name compares several times faster than a slice.
  const name = (range: [number, number] | null) => {
    if (!range) return '';
    const inner = text([range[0] + 1, range[1] - 1]);
    return inner.includes('\\') ? (JSON.parse(`"${inner}"`) as string) : inner;
  };
  const elements = {} as Record<EnvoyType, JobElement[]>;
  for (const type of ENVOY_TYPES) elements[type] = layout.elements[CONFIG_KEY[type]] ?? [];
  const list = (key: ConfigKey) => {
    const type = TYPE_OF.get(key)!;
    if (!sent.kept.has(type)) throw new Error(`the job keeps no ${type} bodies`);
    return elements[type].map((element) => sent.bodies[element.ref] ?? throwOutOfOrder(element.ref, sent));
  };
  return { layout, text, name, elements, sent, list };
}

function throwOutOfOrder(ref: number, sent: SentObjects): never {
  throw refOutOfOrder(ref, sent.entries.length);
}

/**
 * Adds one generated config, the generator's hashedProxyConfig answer line, to the collector: the
 * same objects, tree and hashes as parsing the config and calling addConfig, but an object is
 * hashed once per job, when the generator first sends it (under the next ref of `read.sent`), from
 * the canonical JSON the generator wrote, and parsed only if the job keeps its type; later answers
 * name it by ref. The identity check, when asked, reads the canonical
 * JSON of the listeners, routes and clusters (not the endpoints, the bulk of a sidecar's config),
 * each object once per job (the job's IdentityIndex).
 */
export function addGenerated(
  collector: EnvoyObjectCollector,
  read: GeneratedLine,
  identity?: { index: IdentityIndex; rep: ClassMember; members: ClassMember[] },
): AddConfigResult {
  const { sent } = read;
  const entries: ConfigEntry[] = [];
  // In the generator's order of refs: its lists, each in order.
  for (const type of ENVOY_TYPES) {
    for (const { ref, name, object } of read.elements[type]) {
      if (!object) {
        entries.push(sent.entries[ref] ?? throwOutOfOrder(ref, sent));
        continue;
      }
      if (ref !== sent.entries.length) throwOutOfOrder(ref, sent);
      const json = read.text(object);
      const entry = collector.addSentObject(type, read.name(name), json);
      sent.entries.push(entry);
      sent.bodies[ref] = sent.kept.has(type) ? (JSON.parse(json) as EnvoyObject) : undefined;
      entries.push(entry);
    }
  }
  const encoded = collector.addTree(entries);
  const proxy = JSON.parse(read.text(read.layout.proxy!)) as ProxyInfo;
  const proxyInfoHash = collector.addObject(PROXY_INFO_TYPE, '', classProxyInfo(proxy));
  let split = false;
  if (identity && identity.members.length > 1) {
    const { index } = identity;
    const json = (hash: string) => collector.objects.get(hash)!.json;
    const named = entries.filter((e) => e.type !== 'endpoint').map((e) => index.scanOnce(e.hash, json));
    split = index.namesIdentity(named, identity.rep, identity.members);
  }
  return { root: encoded.root, proxyInfoHash, dependsOnIdentity: split };
}

/** The class of one member of a class that was split. */
export function memberClassKey(classKey: string, m: WorkloadRef): string {
  return contentHash({ class: classKey, member: `${m.namespace}/${m.name}` });
}
