import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { MeshStore } from '../database/mesh.store.js';
import { isScratchMesh, type RetentionPolicy } from '../model/access.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { QueueService } from './queue.service.js';

/** The retention that applies to a mesh, and whether the newest READY snapshot is protected. */
export interface EffectiveRetention {
  policy: RetentionPolicy;
  /** Where the policy comes from: the mesh's own settings, the MESHLENS_RETAIN_* defaults, or the scratch rule. */
  source: 'mesh' | 'defaults' | 'scratch';
  protectLatest: boolean;
}

/**
 * Retention: per mesh, keep the newest N snapshots and/or those younger than D (the mesh's own
 * settings, else MESHLENS_RETAIN_LAST / MESHLENS_RETAIN_DAYS); the newest READY snapshot of a mesh is
 * never removed. Scratch meshes (`NAME.scratch`, where `diff --head` uploads) are cleared of
 * snapshots older than MESHLENS_RETAIN_SCRATCH_MINUTES. What the removed snapshots alone reached is
 * left to the garbage collector, a background job.
 */
@Injectable()
export class RetentionService {
  private readonly logger = new Logger(RetentionService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly meshes: MeshStore,
    private readonly queue: QueueService,
    private readonly metrics: MetricsService,
  ) {}

  async effective(mesh: string): Promise<EffectiveRetention> {
    const { keepLast, keepSeconds, scratchSeconds } = this.config.retention;
    if (isScratchMesh(mesh)) return { policy: { keepLast: null, keepSeconds: scratchSeconds }, source: 'scratch', protectLatest: false };
    const own = await this.meshes.retention(mesh);
    return own
      ? { policy: own, source: 'mesh', protectLatest: true }
      : { policy: { keepLast, keepSeconds }, source: 'defaults', protectLatest: true };
  }

  /** After a mesh changed (an upload, a compute finished, new settings): its retention in the background, when it has any. */
  async afterChange(mesh: string): Promise<void> {
    const { policy } = await this.effective(mesh);
    if (policy.keepLast !== null || policy.keepSeconds !== null) await this.queue.enqueueRetention(mesh);
  }

  /** Applies the mesh's retention now; returns the removed snapshots' ids (and asks for a collection when there are any). */
  async apply(mesh: string): Promise<string[]> {
    const { policy, protectLatest, source } = await this.effective(mesh);
    const deleted = await this.meshes.applyRetention(mesh, policy, protectLatest);
    if (deleted.length) {
      this.metrics.retentionDeleted.inc(deleted.length);
      this.logger.log(
        `retention removed ${deleted.length} snapshot(s) of mesh ${mesh} (${source}: keep last ${policy.keepLast ?? '-'}, younger than ${policy.keepSeconds ?? '-'} s): ${deleted.join(', ')}`,
      );
      await this.queue.enqueueGc();
    }
    return deleted;
  }

  /** Every mesh's retention (the periodic pass: ages move on without uploads). */
  async applyAll(): Promise<number> {
    let removed = 0;
    for (const mesh of await this.meshes.names()) removed += (await this.apply(mesh)).length;
    return removed;
  }
}
