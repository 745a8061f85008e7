import { Inject, Injectable } from '@nestjs/common';
import { SnapshotStatus } from '../database/entities/index.js';
import { SnapshotStore, type SnapshotMetadata } from '../database/snapshot.store.js';
import { ConnectivityStore } from '../database/connectivity.store.js';
import type { ResourceEntry } from '../database/snapshot-lists.js';
import type { Connectivity } from '../model/connectivity.js';
import { ConflictError, NotFoundError } from '../model/errors.js';
import { BoundedMemo, composeDiff, proxyChanges } from './diff.js';
import type { MarkdownOptions } from './markdown.js';
import type { SnapshotDiffResult } from './model.js';
import type { ProxyConfigSource } from './proxy-class.js';
import { resourceKey, type ResourceInput } from './resources.js';

/** The ProxyConfigSource the diff reads proxy classes from (the stored classes, see stored-source.ts). */
export const PROXY_CONFIG_SOURCE = Symbol('PROXY_CONFIG_SOURCE');

export class DiffNotFoundError extends NotFoundError {}
/** A side is not READY: its proxies and diagnostics are not computed yet (or failed). */
export class DiffNotReadyError extends ConflictError {}

@Injectable()
export class DiffService {
  /** Comparisons of object pairs, by their hashes: a later diff touching the same pairs reuses them. */
  private readonly memo = new BoundedMemo();

  constructor(
    private readonly store: SnapshotStore,
    @Inject(PROXY_CONFIG_SOURCE) private readonly source: ProxyConfigSource,
    private readonly connectivity: ConnectivityStore,
  ) {}

  /**
   * The resources of both sides that differ, with their bodies: the entries of the lists' chunks
   * not both hold, then a join on the content hashes, so the bodies both snapshots share are never
   * read (resources equal on both sides change nothing).
   */
  private async differingResources(baseId: string, headId: string): Promise<{ base: ResourceInput[]; head: ResourceInput[] }> {
    const { base: baseEntries, head: headEntries } = await this.store.resourceDifference(baseId, headId);
    const byKey = (entries: ResourceEntry[]) => new Map(entries.map((r) => [`${resourceKey(r)}|${r.bodyHash}`, r]));
    const b = byKey(baseEntries);
    const h = byKey(headEntries);
    const differing = (mine: Map<string, ResourceEntry>, other: Map<string, ResourceEntry>) =>
      [...mine].filter(([k]) => !other.has(k)).map(([, r]) => r);
    const onlyBase = differing(b, h);
    const onlyHead = differing(h, b);
    const bodies = await this.store.bodies([...onlyBase, ...onlyHead].map((r) => r.bodyHash));
    const input = (r: ResourceEntry): ResourceInput => ({
      apiVersion: r.apiVersion,
      kind: r.kind,
      namespace: r.namespace,
      name: r.name,
      body: bodies.get(r.bodyHash) ?? {},
    });
    return { base: onlyBase.map(input), head: onlyHead.map(input) };
  }

  /** Both sides' connectivity; none to compare when their lists' roots are equal (the same connectivity: no change). */
  private async connectivityPair(baseId: string, headId: string): Promise<{ base: Connectivity | null; head: Connectivity | null }> {
    const [b, h] = await Promise.all([this.connectivity.roots(baseId), this.connectivity.roots(headId)]);
    if (!b || !h || (b.connections.equals(h.connections) && b.senders.equals(h.senders))) return { base: null, head: null };
    const [base, head] = await Promise.all([this.connectivity.readLists(b), this.connectivity.readLists(h)]);
    return { base, head };
  }

  async diff(baseId: string, headId: string, options: MarkdownOptions = {}): Promise<SnapshotDiffResult> {
    const statuses = await Promise.all([this.store.status(baseId), this.store.status(headId)]);
    if (statuses.some((s) => s !== SnapshotStatus.READY))
      readyPair(await Promise.all([this.store.get(baseId), this.store.get(headId)]), baseId, headId);
    // Both READY: compared while their rows are read, not after (their diagnostics are megabytes
    // of JSON on a big mesh). The ids as Postgres writes them.
    const [b, h] = [baseId.toLowerCase(), headId.toLowerCase()];
    const [rows, diagnostics, resources, proxies, connectivity] = await Promise.all([
      Promise.all([this.store.get(b), this.store.get(h)]),
      Promise.all([this.store.diagnostics(b), this.store.diagnostics(h)]),
      this.differingResources(b, h),
      proxyChanges(this.source, b, h, this.memo),
      this.connectivityPair(b, h),
    ]);
    const [base, head] = readyPair(rows, baseId, headId);
    return composeDiff(
      {
        base: { id: base.id, name: base.name },
        head: { id: head.id, name: head.name },
        resources,
        diagnostics: { base: diagnostics[0] ?? [], head: diagnostics[1] ?? [] },
        proxies,
        istioVersion: head.istioVersion,
        connectivity,
      },
      options,
    );
  }
}

/** Both snapshots, READY; otherwise the error saying which is missing or not READY (and what to do). */
function readyPair([base, head]: (SnapshotMetadata | null)[], baseId: string, headId: string): [SnapshotMetadata, SnapshotMetadata] {
  const missing = [!base && `base snapshot ${baseId}`, !head && `head snapshot ${headId}`].filter(Boolean);
  if (missing.length) throw new DiffNotFoundError(`${missing.join(' and ')} not found`);
  const notReady = [notReadyText('base', base!), notReadyText('head', head!)].filter(Boolean);
  if (notReady.length) throw new DiffNotReadyError(`cannot diff yet: ${notReady.join('; ')}; both snapshots must be READY`);
  return [base!, head!];
}

function notReadyText(side: string, s: SnapshotMetadata): string | null {
  if (s.status === SnapshotStatus.READY) return null;
  const why =
    s.status === SnapshotStatus.FAILED
      ? ` (failed: ${s.error ?? 'unknown error'})`
      : s.status === SnapshotStatus.PENDING || s.status === SnapshotStatus.COMPUTING
        ? ' (still being computed, retry shortly)'
        : '';
  return `${side} snapshot ${s.id} is ${s.status}, not READY${why}`;
}
