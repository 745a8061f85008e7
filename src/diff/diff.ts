// Putting the parts together: resources, proxies, diagnostics, summary and markdown.
import type { AnalyzerMessage } from '../model/diagnostics.js';
import type { Connectivity } from '../model/connectivity.js';
import { diffConnectivity, type ConnectionChange } from './connectivity.js';
import type { EnvoyObject } from '../model/proxy.js';
import { diffDiagnostics, levelRank } from './diagnostics.js';
import { renderMarkdown, type MarkdownOptions } from './markdown.js';
import type { ProxyConfigChange, RoutingChange, SideInfo, SnapshotDiffResult } from './model.js';
import { contextHashes, diffProxies, planProxyDiff, routingId, trimmableRoutePairs } from './proxies.js';
import type { ProxyConfigSource } from './proxy-class.js';
import { diffResources, type ResourceInput } from './resources.js';
import type { Memo } from './routing.js';

export interface DiffInputs {
  base: SideInfo;
  head: SideInfo;
  resources: { base: readonly ResourceInput[]; head: readonly ResourceInput[] };
  diagnostics: { base: readonly AnalyzerMessage[]; head: readonly AnalyzerMessage[] };
  proxies: ProxyConfigChange[];
  istioVersion?: string | null;
  /** Both sides' connectivity; absent (or a side without it): no connectivity changes. */
  connectivity?: { base: Connectivity | null; head: Connectivity | null };
}

/** The whole diff from its parts. Pure. */
export function composeDiff(input: DiffInputs, options: MarkdownOptions = {}): SnapshotDiffResult {
  const resources = diffResources(input.resources.base, input.resources.head);
  const diagnostics = diffDiagnostics(input.diagnostics.base, input.diagnostics.head);
  const proxies = input.proxies;
  const workloads = new Set(proxies.flatMap((p) => p.workloads.map((w) => `${w.namespace}/${w.name}`)));
  const count = (c: string) => resources.changes.filter((r) => r.change === c).length;
  const connectivity = diffConnectivity(input.connectivity?.base ?? null, input.connectivity?.head ?? null, resources.changes);
  const connections = connectionCounts(connectivity);
  const summary = {
    resourcesAdded: count('ADDED'),
    resourcesRemoved: count('REMOVED'),
    resourcesChanged: count('CHANGED'),
    resourcesNoiseOnly: resources.noiseOnly.length,
    proxyClassesChanged: new Set(proxies.flatMap((p) => p.classKeys)).size,
    workloadsAffected: workloads.size,
    routingChanges: new Set(proxies.flatMap((p) => p.routing.map((r) => r.sentence))).size,
    diagnosticsIntroduced: diagnostics.introduced.length,
    diagnosticsResolved: diagnostics.resolved.length,
    errorsIntroduced: diagnostics.introduced.filter((m) => levelRank(m.level) === 0).length,
    connectionsChanged: connections.changed,
    connectionsClosed: connections.closed,
    mtlsLost: connections.mtlsLost,
    effectiveChange: proxies.length > 0 || diagnostics.introduced.length > 0 || diagnostics.resolved.length > 0 || connectivity.length > 0,
  };
  const markdown = renderMarkdown(
    {
      base: input.base,
      head: input.head,
      summary,
      resources: resources.changes,
      noiseOnly: resources.noiseOnly,
      proxies,
      introduced: diagnostics.introduced,
      resolved: diagnostics.resolved,
      connectivity,
      istioVersion: input.istioVersion,
    },
    options,
  );
  return {
    base: input.base,
    head: input.head,
    summary,
    resources: resources.changes,
    noiseOnly: resources.noiseOnly,
    proxies,
    routing: distinctRouting(proxies),
    diagnostics,
    connectivity,
    markdown,
  };
}

/**
 * The distinct connections (source, destination) changed, closed and losing mTLS: a connection can
 * change in two ways at once. One pass, each connection's key written once (tens of thousands on a
 * big mesh).
 */
function connectionCounts(changes: readonly ConnectionChange[]): { changed: number; closed: number; mtlsLost: number } {
  const changed = new Set<string>();
  const closed = new Set<string>();
  const mtlsLost = new Set<string>();
  for (const c of changes) {
    const row = (c.after ?? c.before)!;
    const key = `${row.source.namespace}/${row.source.name}/${row.source.kind}|${row.destination}`;
    changed.add(key);
    if (c.change === 'CLOSED') closed.add(key);
    else if (c.change === 'MTLS_LOST') mtlsLost.add(key);
  }
  return { changed: changed.size, closed: closed.size, mtlsLost: mtlsLost.size };
}

/** Every routing change once: most of a changed service's sentences are the same for all its callers. */
function distinctRouting(proxies: readonly ProxyConfigChange[]): RoutingChange[] {
  const seen = new Map<string, RoutingChange>();
  for (const p of proxies) {
    for (const r of p.routing) {
      // Digested once per change object: the classes that share a change share its objects.
      const key = routingId(r);
      if (!seen.has(key)) seen.set(key, r);
    }
  }
  return [...seen.values()];
}

/**
 * The proxy part, read through a source: classes of both sides, then only the objects that differ,
 * then the clusters and endpoints that changed routes now send to. `memo` may outlive the call:
 * its entries are keyed by content hashes only (see BoundedMemo).
 */
export async function proxyChanges(
  source: ProxyConfigSource,
  baseId: string,
  headId: string,
  memo: Memo = new Map(),
): Promise<ProxyConfigChange[]> {
  const { base, head } = source.classesOfPair
    ? await source.classesOfPair(baseId, headId)
    : await Promise.all([source.classes(baseId), source.classes(headId)]).then(([b, h]) => ({ base: b, head: h }));
  const plan = planProxyDiff(base, head, memo);
  const pool = new Map<string, EnvoyObject>();
  const fetch = async (hashes: string[]) => {
    if (!hashes.length) return;
    const found = source.objectsOfPair
      ? [await source.objectsOfPair(baseId, headId, hashes)]
      : await Promise.all([source.objects(baseId, hashes), source.objects(headId, hashes)]);
    for (const m of found) for (const [k, v] of m) pool.set(k, v);
  };
  // Changed route configurations, trimmed to what differs where the source can (megabytes each on a big mesh).
  const trimmable = source.trimmedRoutePairs ? trimmableRoutePairs(plan) : [];
  if (trimmable.length) for (const [k, v] of await source.trimmedRoutePairs!(trimmable)) pool.set(k, v);
  await fetch(plan.hashes.filter((h) => !pool.has(h)));
  const lookup = (hash: string) => pool.get(hash);
  await fetch(contextHashes(plan, lookup, memo));
  const [baseSources, headSources] = source.routeSources
    ? await Promise.all([source.routeSources(baseId), source.routeSources(headId)])
    : [];
  return diffProxies(plan, lookup, memo, { base: baseSources, head: headSources });
}

/** The highest level introduced, for --fail-on; `connectivity`: a connection closed or mTLS lost. */
export function failLevelReached(diff: SnapshotDiffResult, failOn: 'error' | 'warning' | 'never' | 'connectivity'): boolean {
  if (failOn === 'never') return false;
  if (failOn === 'connectivity') return (diff.connectivity ?? []).some((c) => c.change === 'CLOSED' || c.change === 'MTLS_LOST');
  const threshold = failOn === 'error' ? 0 : 1;
  return diff.diagnostics.introduced.some((m) => levelRank(m.level) <= threshold);
}

/**
 * A Memo to keep across diffs: every entry the diff memoises is keyed by the content hashes of the
 * objects it was computed from (`f|`, `vh|`, `rn|`, `c|`, `e|` of two objects, `ca|` of one; `rc|`
 * of two route configurations and `vs|` of two virtual hosts' routes, with the clusters and
 * endpoints their routes send to; `d|` and `p|` of two configs: `d|base|head`),
 * so it never goes stale. At most `max` entries, in two generations: an entry neither set nor read
 * while `max / 2` others were set leaves. Not an exact LRU on purpose: moving an entry to the end
 * of one map on every hit (a delete and a set, ~110,000 hits in a cold diff of the bench mesh)
 * left the map rehashing its deleted slots.
 */
export class BoundedMemo implements Memo {
  private recent = new Map<string, unknown>();
  private older = new Map<string, unknown>();

  constructor(private readonly max = 20_000) {}

  get(key: string): unknown {
    const v = this.recent.get(key);
    if (v !== undefined) return v;
    const old = this.older.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: string, value: unknown): void {
    this.recent.set(key, value);
    if (this.recent.size >= this.max / 2) {
      this.older = this.recent;
      this.recent = new Map();
    }
  }
}
