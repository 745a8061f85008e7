// What a config change does to traffic, in plain words, derived from the Envoy objects of one proxy
// class before and after (never from the YAML). Pure.
import type { EnvoyObject } from '../model/proxy.js';
import { clusterLabel, clusterPolicies, endpointAddresses, parseClusterName } from '../envoy/describe-cluster.js';
import { describeAction, describeWeights, routeClusters, routePolicies, weightShares } from '../envoy/describe.js';
import type { FilterChain, Listener, Route, RouteConfiguration, VirtualHost } from '../envoy/xds.js';
import { describeRouteMatch } from '../envoy/match.js';
import { formatRef, formatRouteSource, istioConfigRef, type RouteSources } from '../envoy/provenance.js';
import { canonicalJson, jsonHash } from '../model/canonical.js';
import { firstMatching, matchKey, sampleRequest } from './describe.js';
import { canonicalEqual } from './json-diff.js';
import type { EnvoyType } from '../model/proxy.js';
import type { RoutingChange } from './model.js';
import type { ProxyClass } from './proxy-class.js';
import { compareStrings } from '../model/compare.js';

/** One side of a class pair: the names it has, and the objects that were loaded. */
export interface SideView {
  hash(type: EnvoyType, name: string): string | undefined;
  get(type: EnvoyType, name: string): EnvoyObject | undefined;
  /** The Gateway API routes behind the side's snapshot's routes, when known. */
  routeSources?: RouteSources;
}

export function sideView(cls: ProxyClass | null, lookup: (hash: string) => EnvoyObject | undefined, routeSources?: RouteSources): SideView {
  // The sentences look the same names up several times, and a stored config's index searches
  // each of its parts (configIndex): each name once per view.
  const seen = new Map<EnvoyType, Map<string, string | undefined>>();
  const hash = (type: EnvoyType, name: string) => {
    let names = seen.get(type);
    if (!names) seen.set(type, (names = new Map<string, string | undefined>()));
    if (names.has(name)) return names.get(name);
    const h = cls?.objects[type][name];
    names.set(name, h);
    return h;
  };
  return {
    routeSources,
    hash,
    get: (type, name) => {
      const h = hash(type, name);
      return h === undefined ? undefined : lookup(h);
    },
  };
}

/** Memo shared across classes of one diff: equal object pairs are compared once. */
export interface Memo {
  get(key: string): unknown;
  set(key: string, value: unknown): unknown;
}

/**
 * `compute()` once per key in `m` (none: every time). One lookup per call, not has-then-get: keys
 * are long, and writing and hashing them is most of a hit's cost. Computations never give undefined.
 */
export function memoised<T>(m: Memo | undefined, key: string, compute: () => T): T {
  if (!m) return compute();
  const known = m.get(key);
  if (known !== undefined) return known as T;
  const v = compute();
  m.set(key, v);
  return v;
}

/**
 * `memoised(m, `${kind}|${a}|${b}`, compute)`, through a PairMemo's maps when `m` is one: the
 * entries of two object hashes, looked up for every changed object of every class pair.
 */
export function memoisedPair<T>(m: Memo | undefined, kind: string, a: string, b: string, compute: () => T): T {
  return m instanceof PairMemo ? m.pair(kind, a, b, compute) : memoised(m, `${kind}|${a}|${b}`, compute);
}

/**
 * A memo for one diff in front of a lasting one: the entries of two object hashes also kept in
 * maps by kind and hash, so that a class pair's hundreds of lookups (every sidecar has the same
 * changed clusters) write no key; the key is written for the lasting memo once per entry.
 */
export class PairMemo implements Memo {
  private readonly pairs = new Map<string, Map<string, Map<string, unknown>>>();

  constructor(private readonly lasting: Memo) {}

  get(key: string): unknown {
    return this.lasting.get(key);
  }

  set(key: string, value: unknown): void {
    this.lasting.set(key, value);
  }

  pair<T>(kind: string, a: string, b: string, compute: () => T): T {
    let byA = this.pairs.get(kind);
    if (!byA) this.pairs.set(kind, (byA = new Map<string, Map<string, unknown>>()));
    let byB = byA.get(a);
    if (!byB) byA.set(a, (byB = new Map<string, unknown>()));
    const known = byB.get(b);
    if (known !== undefined) return known as T;
    const v = memoised(this.lasting, `${kind}|${a}|${b}`, compute);
    byB.set(b, v);
    return v;
  }
}

const MAX_ADDED_CLUSTER_SENTENCES = 25;

/** Every routing change of one class pair, in a deterministic order. */
export function routingChanges(
  delta: Record<EnvoyType, { added: string[]; removed: string[]; changed: string[] }>,
  base: SideView,
  head: SideView,
  m?: Memo,
): RoutingChange[] {
  const out: RoutingChange[] = [];
  out.push(...listenerChanges(delta.listener, base, head));
  for (const name of [...delta.route.added, ...delta.route.removed, ...delta.route.changed].sort()) {
    // A route configuration's sentences depend on its two sides and on the head's clusters and
    // endpoints its changed virtual hosts send to: keyed by all their hashes, they are computed once
    // for every class that shares them (all of a big mesh's sidecars, for an outbound change).
    const hb = base.hash('route', name) ?? '-';
    const hh = head.hash('route', name) ?? '-';
    const context = memoised(m, `rn|${hb}|${hh}`, () => vhostClusters(name, base, head, m))
      .map((c) => `${head.hash('cluster', c) ?? '-'}/${head.hash('endpoint', c) ?? '-'}`)
      .join(',');
    out.push(
      ...memoised(m, `rc|${name}|${hb}|${hh}|${context}${routeSourcesKey(base, head)}`, () => routeConfigChanges(name, base, head, m)),
    );
  }
  out.push(...clusterChanges(delta, base, head, m));
  return out;
}

// ---- route configurations -------------------------------------------------------------------

interface VhostPair {
  name: string;
  before?: VirtualHost;
  after?: VirtualHost;
}

function changedVhosts(rcName: string, base: SideView, head: SideView, m?: Memo): VhostPair[] {
  const hb = base.hash('route', rcName) ?? '-';
  const hh = head.hash('route', rcName) ?? '-';
  return memoised(m, `vh|${hb}|${hh}`, () => {
    const b = base.get('route', rcName) as RouteConfiguration | undefined;
    const h = head.get('route', rcName) as RouteConfiguration | undefined;
    const bv = new Map((b?.virtualHosts ?? []).map((v) => [v.name, v]));
    const hv = new Map((h?.virtualHosts ?? []).map((v) => [v.name, v]));
    const out: VhostPair[] = [];
    for (const name of new Set([...bv.keys(), ...hv.keys()])) {
      const before = bv.get(name);
      const after = hv.get(name);
      if (before && after && canonicalEqual(before, after)) continue;
      out.push({ name, before, after });
    }
    return out.sort((x, y) => compareStrings(x.name, y.name));
  });
}

function routeLabel(r: Route): string {
  return r.name ? `route \`${r.name}\`` : 'an unnamed route';
}

/** The resource a route comes from: the Gateway API route when istiod derived it from one, else the VirtualService. */
function provenance(r: Route | undefined, side: SideView): string | null {
  const source = r && side.routeSources?.of(r);
  if (source) return formatRouteSource(source, r.name);
  const ref = istioConfigRef(r?.metadata);
  return ref ? formatRef(ref) : null;
}

function matchText(r: Route | undefined): string {
  return describeRouteMatch(r?.match);
}

function wildcardFallback(rc: RouteConfiguration | undefined): VirtualHost | undefined {
  return rc?.virtualHosts?.find((v) => v.domains?.includes('*'));
}

function routeConfigChanges(rcName: string, base: SideView, head: SideView, m?: Memo): RoutingChange[] {
  const out: RoutingChange[] = [];
  const headRc = head.get('route', rcName) as RouteConfiguration | undefined;
  for (const pair of changedVhosts(rcName, base, head, m)) {
    const dest = pair.name;
    const ctx = { routeConfig: rcName, virtualHost: pair.name };
    if (!pair.before && pair.after) {
      const routes = pair.after.routes ?? [];
      const listed = routes.slice(0, 6).map((r) => `${matchText(r)} → ${annotate(describeAction(r), r, head)}`);
      const vs = [...new Set(routes.map((r) => provenance(r, head)).filter(Boolean))];
      out.push({
        kind: 'ROUTE',
        destination: dest,
        sentence: `${dest} is newly routed (route configuration ${rcName}${vs.length ? `, ${vs.join(', ')}` : ''}): ${listed.join('; ')}${routes.length > 6 ? `; and ${routes.length - 6} more routes` : ''}.`,
        ...ctx,
        after: listed.join('; '),
      });
      continue;
    }
    if (pair.before && !pair.after) {
      const routes = pair.before.routes ?? [];
      const was = routes
        .slice(0, 6)
        .map((r) => `${matchText(r)} → ${describeAction(r)}`)
        .join('; ');
      const fallback = headRc ? wildcardFallback(headRc) : undefined;
      const now = !headRc
        ? `route configuration ${rcName} is gone`
        : fallback
          ? `requests for it now fall to virtual host ${fallback.name} (${describeAction(fallback.routes?.[0])})`
          : 'no virtual host matches it any more (404)';
      out.push({
        kind: 'ROUTE',
        destination: dest,
        sentence: `${dest} is no longer routed on route configuration ${rcName}: ${now}; before: ${was}.`,
        ...ctx,
        before: was,
        after: now,
      });
      continue;
    }
    // The sentences depend on the two virtual hosts' routes (not their domains, which name the
    // proxy's namespace: each namespace's route configuration differs) and, for the notes on where
    // requests now go, on the head's clusters and endpoints the routes send to: keyed by all of
    // them, they are computed once for all the callers of a changed service in every namespace.
    const context = [...new Set(pair.after!.routes?.flatMap((r) => routeClusters(r).map((c) => c.name)))]
      .map((c) => `${head.hash('cluster', c) ?? '-'}/${head.hash('endpoint', c) ?? '-'}`)
      .join(',');
    const key = `vs|${rcName}|${pair.name}|${routesHash(pair.before!)}|${routesHash(pair.after!)}|${context}${routeSourcesKey(base, head)}`;
    out.push(...memoised(m, key, () => vhostChanges(pair.before!, pair.after!, rcName, base, head)));
  }
  return out;
}

/**
 * A virtual host's routes as a key: plain JSON, not canonical (a host's routes parsed from one
 * stored body keep its key order); routes serialised in another key order are only computed apart.
 */
function routesHash(v: VirtualHost): string {
  let hash = routesHashes.get(v);
  if (hash === undefined) routesHashes.set(v, (hash = jsonHash(JSON.stringify(v.routes ?? []))));
  return hash;
}

/**
 * Computed once per virtual host object: a route configuration is parsed once per diff and its
 * changed hosts compared for every class that has it (hundreds of sidecars for an outbound change).
 */
const routesHashes = new WeakMap<VirtualHost, string>();

/** Sentences naming Gateway API routes depend on the sides' route sources too (empty: no key, as before there were any). */
export function routeSourcesKey(base: SideView, head: SideView): string {
  const b = base.routeSources?.key ?? '';
  const h = head.routeSources?.key ?? '';
  return b || h ? `|rs:${b}:${h}` : '';
}

function vhostChanges(bv: VirtualHost, hv: VirtualHost, rcName: string, base: SideView, head: SideView): RoutingChange[] {
  const out: RoutingChange[] = [];
  const dest = hv.name;
  const ctx = { routeConfig: rcName, virtualHost: hv.name };
  const bRoutes = bv.routes ?? [];
  const hRoutes = hv.routes ?? [];
  const keyed = (routes: Route[]) => {
    const seen = new Map<string, number>();
    return routes.map((r) => {
      const k = matchKey(r.match);
      const n = seen.get(k) ?? 0;
      seen.set(k, n + 1);
      return `${k}#${n}`;
    });
  };
  const bk = keyed(bRoutes);
  const hk = keyed(hRoutes);
  const bIndex = new Map(bk.map((k, i) => [k, i]));
  const pairs: [Route, Route][] = [];
  const unpairedHead: Route[] = [];
  const pairedBase = new Set<number>();
  hRoutes.forEach((r, j) => {
    const i = bIndex.get(hk[j]);
    if (i !== undefined) {
      pairs.push([bRoutes[i], r]);
      pairedBase.add(i);
    } else unpairedHead.push(r);
  });
  let unpairedBase = bRoutes.filter((_, i) => !pairedBase.has(i));
  // The same named route with a new match.
  const rematched: [Route, Route][] = [];
  for (const r of [...unpairedHead]) {
    if (!r.name || r.name === 'default') continue;
    const old = unpairedBase.find((b) => b.name === r.name);
    if (!old) continue;
    rematched.push([old, r]);
    unpairedBase = unpairedBase.filter((b) => b !== old);
    unpairedHead.splice(unpairedHead.indexOf(r), 1);
  }

  const routeSentence = (before: Route, after: Route, match: string): RoutingChange | null => {
    const was = describeAction(before);
    const now = describeAction(after);
    if (was === now) return null;
    const vsBefore = provenance(before, base);
    const vsAfter = provenance(after, head);
    const nowText = annotate(now, after, head);
    let sentence: string;
    if (vsBefore && !vsAfter)
      sentence = `Requests to ${dest} (${match}) now take the default route to ${nowText}: ${vsBefore} no longer applies to this proxy; before: ${was}.`;
    else if (!vsBefore && vsAfter)
      sentence = `Requests to ${dest} (${match}) now follow ${vsAfter} to ${nowText}; before: the default route to ${was}.`;
    else sentence = `Requests to ${dest} (${match}) now go to ${nowText}; before: ${was}${vsAfter ? ` (${vsAfter})` : ''}.`;
    return { kind: 'ROUTE', destination: dest, sentence, ...ctx, route: after.name ?? undefined, before: was, after: now };
  };

  for (const [b, h] of pairs) {
    const s = routeSentence(b, h, matchText(h));
    if (s) out.push(s);
    out.push(...policySentences(b, h, dest, ctx));
  }
  for (const [b, h] of rematched) {
    out.push({
      kind: 'ROUTE',
      destination: dest,
      sentence: `${routeLabel(h)} for ${dest} now matches ${matchText(h)}; before: ${matchText(b)}.`,
      ...ctx,
      route: h.name ?? undefined,
      before: matchText(b),
      after: matchText(h),
    });
    const s = routeSentence(b, h, matchText(h));
    if (s) out.push(s);
    out.push(...policySentences(b, h, dest, ctx));
  }
  for (const h of unpairedHead) {
    const sample = sampleRequest(h.match);
    const prev = sample ? firstMatching(bRoutes, sample) : undefined;
    const vs = provenance(h, head);
    const now = annotate(describeAction(h), h, head);
    const before = !sample
      ? 'not determined'
      : prev
        ? `${describeAction(prev)} (${prev.name === 'default' && !provenance(prev, base) ? 'the default route' : routeLabel(prev)})`
        : 'no route matched (404)';
    out.push({
      kind: 'ROUTE',
      destination: dest,
      sentence: `New ${routeLabel(h)}${vs ? ` (${vs})` : ''}: requests to ${dest} with ${matchText(h)} now go to ${now}; before: ${before}.`,
      ...ctx,
      route: h.name ?? undefined,
      before,
      after: describeAction(h),
    });
  }
  for (const b of unpairedBase) {
    const sample = sampleRequest(b.match);
    const next = sample ? firstMatching(hRoutes, sample) : undefined;
    const vs = provenance(b, base);
    const now = !sample
      ? 'not determined'
      : next
        ? `${annotate(describeAction(next), next, head)} (${next.name === 'default' && !provenance(next, head) ? 'the default route' : routeLabel(next)})`
        : 'no route (404)';
    out.push({
      kind: 'ROUTE',
      destination: dest,
      sentence: `${capitalise(routeLabel(b))}${vs ? ` (${vs})` : ''} is gone: requests to ${dest} with ${matchText(b)} now go to ${now}; before: ${describeAction(b)}.`,
      ...ctx,
      route: b.name ?? undefined,
      before: describeAction(b),
      after: now,
    });
  }
  return out;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function policySentences(b: Route, h: Route, dest: string, ctx: { routeConfig: string; virtualHost: string }): RoutingChange[] {
  const pb = routePolicies(b);
  const ph = routePolicies(h);
  const out: RoutingChange[] = [];
  for (const aspect of Object.keys(ph)) {
    if (pb[aspect] === ph[aspect]) continue;
    out.push({
      kind: 'POLICY',
      destination: dest,
      sentence: `Requests to ${dest} (${matchText(h)}): ${aspect} ${pb[aspect]} → ${ph[aspect]}.`,
      ...ctx,
      route: h.name ?? undefined,
      before: `${aspect}: ${pb[aspect]}`,
      after: `${aspect}: ${ph[aspect]}`,
    });
  }
  return out;
}

/** What a destination cluster really is on this proxy: missing, or without endpoints. */
function annotate(text: string, route: Route, side: SideView): string {
  const notes: string[] = [];
  for (const { name } of routeClusters(route)) {
    const problem = clusterProblem(name, side);
    if (problem) notes.push(`${clusterLabel(name)} ${problem}`);
  }
  return notes.length ? `${text} (${notes.join('; ')})` : text;
}

/** "has no endpoints: …" / "does not exist on this proxy: …", or null when the cluster can serve. */
export function clusterProblem(name: string, side: SideView): string | null {
  if (side.hash('cluster', name) === undefined)
    return 'does not exist on this proxy, so it has no endpoints: Envoy answers 503 (NC, no cluster)';
  const cluster = side.get('cluster', name) as { type?: string; loadAssignment?: EnvoyObject } | undefined;
  if (!cluster || cluster.type !== 'EDS') return null;
  if (side.hash('endpoint', name) === undefined) return 'has no endpoints: Envoy answers 503 (UH, no healthy upstream)';
  const cla = side.get('endpoint', name);
  if (cla && endpointAddresses(cla).length === 0) return 'has no endpoints: Envoy answers 503 (UH, no healthy upstream)';
  return null;
}

/** The clusters that head routes in the changed virtual hosts send to: their endpoints are needed to annotate them. */
export function referencedClusters(delta: { added: string[]; changed: string[] }, base: SideView, head: SideView, m?: Memo): string[] {
  const names = new Set<string>();
  for (const rc of [...delta.added, ...delta.changed]) for (const c of vhostClusters(rc, base, head, m)) names.add(c);
  return [...names].sort();
}

/** The clusters that head routes in route configuration `rcName`'s changed virtual hosts send to, sorted. */
function vhostClusters(rcName: string, base: SideView, head: SideView, m?: Memo): string[] {
  const names = new Set<string>();
  for (const pair of changedVhosts(rcName, base, head, m))
    for (const r of pair.after?.routes ?? []) for (const c of routeClusters(r)) names.add(c.name);
  return [...names].sort();
}

// ---- clusters and endpoints ----------------------------------------------------------------------

function serviceOf(name: string): string {
  const p = parseClusterName(name);
  return p ? (p.direction === 'inbound' ? `inbound:${p.port}` : `${p.fqdn}:${p.port}`) : name;
}

function clusterChanges(
  delta: Record<EnvoyType, { added: string[]; removed: string[]; changed: string[] }>,
  base: SideView,
  head: SideView,
  m?: Memo,
): RoutingChange[] {
  const out: RoutingChange[] = [];
  const added = delta.cluster.added;
  for (const name of added.slice(0, MAX_ADDED_CLUSTER_SENTENCES)) {
    out.push(
      memoised(m, `ca|${name}|${head.hash('cluster', name) ?? '-'}|${head.hash('endpoint', name) ?? '-'}`, (): RoutingChange => {
        const dr = istioConfigRef((head.get('cluster', name) as { metadata?: never } | undefined)?.metadata);
        const eps = head.hash('endpoint', name) !== undefined ? endpointAddresses(head.get('endpoint', name)).length : null;
        return {
          kind: 'CLUSTER',
          destination: serviceOf(name),
          cluster: name,
          sentence: `New cluster ${name} (${clusterLabel(name)})${dr ? `, shaped by ${formatRef(dr)}` : ''}${eps !== null ? `, ${eps} endpoint${eps === 1 ? '' : 's'}` : ''}.`,
        };
      }),
    );
  }
  if (added.length > MAX_ADDED_CLUSTER_SENTENCES) {
    out.push({ kind: 'CLUSTER', destination: '*', sentence: `And ${added.length - MAX_ADDED_CLUSTER_SENTENCES} more new clusters.` });
  }
  const removed = delta.cluster.removed;
  for (const name of removed.slice(0, MAX_ADDED_CLUSTER_SENTENCES)) {
    out.push({
      kind: 'CLUSTER',
      destination: serviceOf(name),
      cluster: name,
      sentence: `Cluster ${name} (${clusterLabel(name)}) is gone from this proxy.`,
    });
  }
  if (removed.length > MAX_ADDED_CLUSTER_SENTENCES) {
    out.push({ kind: 'CLUSTER', destination: '*', sentence: `And ${removed.length - MAX_ADDED_CLUSTER_SENTENCES} more clusters gone.` });
  }
  for (const name of delta.cluster.changed) {
    const b = base.get('cluster', name);
    const h = head.get('cluster', name);
    if (!b || !h) continue;
    // The two objects say it all (the name is in them): a DestinationRule change reads the same on every caller.
    out.push(...memoisedPair(m, 'c', base.hash('cluster', name)!, head.hash('cluster', name)!, () => clusterPolicyChanges(name, b, h)));
  }
  const addedSet = new Set([...delta.cluster.added, ...delta.cluster.removed]);
  for (const name of [...delta.endpoint.added, ...delta.endpoint.removed, ...delta.endpoint.changed].sort()) {
    if (addedSet.has(name)) continue;
    const change = memoised(
      m,
      `e|${name}|${base.hash('endpoint', name) ?? '-'}|${head.hash('endpoint', name) ?? '-'}`,
      (): RoutingChange | null => {
        const before = base.hash('endpoint', name) !== undefined ? endpointAddresses(base.get('endpoint', name)) : [];
        const after = head.hash('endpoint', name) !== undefined ? endpointAddresses(head.get('endpoint', name)) : [];
        if (canonicalEqual(before, after)) return null;
        const gone = after.length === 0 ? ': no endpoints left, requests to it get 503 (UH, no healthy upstream)' : '';
        return {
          kind: 'ENDPOINTS',
          destination: serviceOf(name),
          cluster: name,
          sentence: `Cluster ${name} (${clusterLabel(name)}): ${before.length} → ${after.length} endpoint${after.length === 1 ? '' : 's'}${gone}.`,
          before: String(before.length),
          after: String(after.length),
        };
      },
    );
    if (change) out.push(change);
  }
  return out;
}

/** What a DestinationRule change does to one cluster, aspect by aspect. */
function clusterPolicyChanges(name: string, b: EnvoyObject, h: EnvoyObject): RoutingChange[] {
  const out: RoutingChange[] = [];
  const pb = clusterPolicies(b);
  const ph = clusterPolicies(h);
  const drB = istioConfigRef((b as { metadata?: never }).metadata);
  const drH = istioConfigRef((h as { metadata?: never }).metadata);
  const by = drH ? ` (${formatRef(drH)})` : drB ? ` (${formatRef(drB)} no longer applies)` : '';
  const aspects = [...new Set([...Object.keys(pb), ...Object.keys(ph)])].filter((a) => (pb[a] ?? 'none') !== (ph[a] ?? 'none'));
  for (const a of aspects) {
    out.push({
      kind: 'POLICY',
      destination: serviceOf(name),
      cluster: name,
      sentence: `Cluster ${name}: ${a} ${pb[a] ?? 'none'} → ${ph[a] ?? 'none'}${by}.`,
      before: `${a}: ${pb[a] ?? 'none'}`,
      after: `${a}: ${ph[a] ?? 'none'}`,
    });
  }
  if (aspects.length === 0 && (drB ? formatRef(drB) : '') !== (drH ? formatRef(drH) : '')) {
    out.push({
      kind: 'POLICY',
      destination: serviceOf(name),
      cluster: name,
      sentence: drH ? `Cluster ${name} is now shaped by ${formatRef(drH)}.` : `Cluster ${name} is no longer shaped by ${formatRef(drB!)}.`,
    });
  }
  return out;
}

// ---- listeners ---------------------------------------------------------------------------------

function listenerAddress(l: Listener | undefined, name: string): string {
  const s = l?.address?.socketAddress;
  return s ? `${s.address}:${s.portValue ?? 0}` : name;
}

function chainKey(c: FilterChain): string {
  return c.name || canonicalJson(c.filterChainMatch ?? {});
}

function chainMatch(c: FilterChain): string {
  const m = c.filterChainMatch;
  if (!m) return 'all traffic';
  const parts: string[] = [];
  if (m.destinationPort !== undefined) parts.push(`port ${m.destinationPort}`);
  if (m.prefixRanges?.length) parts.push(`addresses ${m.prefixRanges.map((r) => `${r.addressPrefix}/${r.prefixLen ?? 0}`).join(',')}`);
  if (m.serverNames?.length) parts.push(`SNI ${m.serverNames.join(',')}`);
  if (m.transportProtocol) parts.push(m.transportProtocol);
  if (m.applicationProtocols?.length) parts.push(`ALPN ${m.applicationProtocols.join(',')}`);
  return parts.length ? parts.join(', ') : 'all traffic';
}

function chainDestination(c: FilterChain): string {
  for (const f of c.filters ?? []) {
    const tc = (f.typedConfig ?? {}) as Record<string, unknown>;
    if (f.name === 'envoy.filters.network.http_connection_manager') {
      const rds = (tc.rds as { routeConfigName?: string } | undefined)?.routeConfigName;
      if (rds) return `HTTP, route configuration ${rds}`;
      const inline = tc.routeConfig as { virtualHosts?: { routes?: Route[] }[] } | undefined;
      return `HTTP, inline route to ${describeAction(inline?.virtualHosts?.[0]?.routes?.[0])}`;
    }
    if (f.name === 'envoy.filters.network.tcp_proxy') {
      if (typeof tc.cluster === 'string') return `TCP to ${clusterLabel(tc.cluster)}`;
      const weighted = (tc.weightedClusters as { clusters?: { name: string; weight?: number }[] } | undefined)?.clusters ?? [];
      return `TCP to ${describeWeights(weightShares(weighted), clusterLabel)}`;
    }
  }
  return 'no HTTP or TCP proxy';
}

function listenerChanges(
  delta: { added: string[]; removed: string[]; changed: string[] },
  base: SideView,
  head: SideView,
): RoutingChange[] {
  const out: RoutingChange[] = [];
  for (const name of delta.added) {
    const l = head.get('listener', name) as Listener | undefined;
    out.push({
      kind: 'LISTENER',
      destination: listenerAddress(l, name),
      listener: name,
      sentence: `New listener ${name} on ${listenerAddress(l, name)}.`,
    });
  }
  for (const name of delta.removed) {
    const l = base.get('listener', name) as Listener | undefined;
    out.push({
      kind: 'LISTENER',
      destination: listenerAddress(l, name),
      listener: name,
      sentence: `Listener ${name} is gone: nothing listens on ${listenerAddress(l, name)} any more.`,
    });
  }
  for (const name of delta.changed) {
    const b = base.get('listener', name) as Listener | undefined;
    const h = head.get('listener', name) as Listener | undefined;
    if (!b || !h) continue;
    const addr = listenerAddress(h, name);
    const chains = (l: Listener) =>
      new Map([...(l.filterChains ?? []), ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])].map((c) => [chainKey(c), c]));
    const cb = chains(b);
    const ch = chains(h);
    for (const [k, c] of ch) {
      const old = cb.get(k);
      if (!old)
        out.push({
          kind: 'LISTENER',
          destination: addr,
          listener: name,
          sentence: `Listener ${name}: new filter chain for ${chainMatch(c)} → ${chainDestination(c)}.`,
        });
      else if (chainDestination(old) !== chainDestination(c))
        out.push({
          kind: 'LISTENER',
          destination: addr,
          listener: name,
          sentence: `Listener ${name}, ${chainMatch(c)}: now ${chainDestination(c)}; before: ${chainDestination(old)}.`,
          before: chainDestination(old),
          after: chainDestination(c),
        });
    }
    for (const [k, c] of cb) {
      if (!ch.has(k))
        out.push({
          kind: 'LISTENER',
          destination: addr,
          listener: name,
          sentence: `Listener ${name}: the filter chain for ${chainMatch(c)} (${chainDestination(c)}) is gone.`,
        });
    }
  }
  return out;
}
