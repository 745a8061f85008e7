import { Inject, Injectable } from '@nestjs/common';
import { SnapshotStatus, type SnapshotEntity } from '../database/entities/index.js';
import { SnapshotStore } from '../database/snapshot.store.js';
import type { AnalyzerMessage } from '../generator/protocol.js';
import { composeDiff, proxyChanges } from './diff.js';
import type { MarkdownOptions } from './markdown.js';
import type { SnapshotDiffResult } from './model.js';
import type { ProxyConfigSource } from './proxy-class.js';

/** The ProxyConfigSource the diff reads proxy classes from (the generator today; stored classes later). */
export const PROXY_CONFIG_SOURCE = Symbol('PROXY_CONFIG_SOURCE');

export class DiffNotFoundError extends Error {}
/** A side is not READY: its proxies and diagnostics are not computed yet (or failed). */
export class DiffNotReadyError extends Error {}

@Injectable()
export class DiffService {
  constructor(
    private readonly store: SnapshotStore,
    @Inject(PROXY_CONFIG_SOURCE) private readonly source: ProxyConfigSource,
  ) {}

  async diff(baseId: string, headId: string, options: MarkdownOptions = {}): Promise<SnapshotDiffResult> {
    const [base, head] = await Promise.all([this.store.get(baseId), this.store.get(headId)]);
    const missing = [!base && `base snapshot ${baseId}`, !head && `head snapshot ${headId}`].filter(Boolean);
    if (missing.length) throw new DiffNotFoundError(`${missing.join(' and ')} not found`);
    const notReady = [notReadyText('base', base!), notReadyText('head', head!)].filter(Boolean);
    if (notReady.length) throw new DiffNotReadyError(`cannot diff yet: ${notReady.join('; ')}; both snapshots must be READY`);
    const [baseResources, headResources, proxies] = await Promise.all([
      this.store.resources(base!.id),
      this.store.resources(head!.id),
      proxyChanges(this.source, base!.id, head!.id),
    ]);
    return composeDiff(
      {
        base: { id: base!.id, name: base!.name },
        head: { id: head!.id, name: head!.name },
        resources: { base: baseResources, head: headResources },
        diagnostics: { base: base!.diagnostics as AnalyzerMessage[], head: head!.diagnostics as AnalyzerMessage[] },
        proxies,
        istioVersion: head!.istioVersion,
      },
      options,
    );
  }
}

function notReadyText(side: string, s: SnapshotEntity): string | null {
  if (s.status === SnapshotStatus.READY) return null;
  const why = s.status === SnapshotStatus.FAILED ? ` (failed: ${s.error ?? 'unknown error'})` : s.status === SnapshotStatus.PENDING || s.status === SnapshotStatus.COMPUTING ? ' (still being computed, retry shortly)' : '';
  return `${side} snapshot ${s.id} is ${s.status}, not READY${why}`;
}
