import { Injectable, Logger } from '@nestjs/common';
import { MeshStore, type MeshSummary } from '../database/mesh.store.js';
import { RetentionService, type EffectiveRetention } from '../jobs/retention.service.js';
import { meshNameProblem, parseDuration, visibleMeshes, type AccessToken, type RetentionPolicy } from '../model/access.js';
import { InvalidInputError } from '../model/errors.js';

/** A mesh's retention as the API shows it: the rules in force and where they come from. */
export interface RetentionView {
  mesh: string;
  keepLast: number | null;
  maxAgeSeconds: number | null;
  source: EffectiveRetention['source'];
  /** Whether the newest READY snapshot is kept whatever the rules say (always, except for scratch meshes). */
  keepsLatestReady: boolean;
}

/** Meshes: the listing, and their retention settings. */
@Injectable()
export class MeshesService {
  private readonly logger = new Logger('Meshes');

  constructor(
    private readonly store: MeshStore,
    private readonly retention: RetentionService,
  ) {}

  /** The meshes the token may see (all without access control), by name. */
  list(token: AccessToken | undefined): Promise<MeshSummary[]> {
    return this.store.list(visibleMeshes(token));
  }

  async retentionOf(mesh: string): Promise<RetentionView> {
    checkMesh(mesh);
    const effective = await this.retention.effective(mesh);
    return {
      mesh,
      keepLast: effective.policy.keepLast,
      maxAgeSeconds: effective.policy.keepSeconds,
      source: effective.source,
      keepsLatestReady: effective.protectLatest,
    };
  }

  /**
   * Sets the mesh's own retention (replacing the defaults for it; both null: keep everything), then
   * applies it in the background. `maxAge`: a duration (`30d`, `12h`, `90m`, `3600s`).
   */
  async setRetention(
    mesh: string,
    input: { keepLast?: unknown; maxAge?: unknown },
    token: AccessToken | undefined,
  ): Promise<RetentionView> {
    checkMesh(mesh);
    const policy = parsePolicy(input);
    await this.store.setRetention(mesh, policy);
    this.logger.log(
      `retention of mesh ${mesh} set to keep last ${policy.keepLast ?? '-'}, younger than ${policy.keepSeconds ?? '-'} s by ${token ? `token ${token.id}` : 'an anonymous client (access control off)'}`,
    );
    await this.retention.afterChange(mesh);
    return this.retentionOf(mesh);
  }

  /** Applies the mesh's retention now (GC follows in the background); the removed snapshots' ids. */
  async applyRetention(mesh: string, token: AccessToken | undefined): Promise<string[]> {
    checkMesh(mesh);
    const removed = await this.retention.apply(mesh);
    this.logger.log(
      `retention of mesh ${mesh} applied by ${token ? `token ${token.id}` : 'an anonymous client'}: ${removed.length} removed`,
    );
    return removed;
  }
}

function checkMesh(mesh: string) {
  const problem = meshNameProblem(mesh);
  if (problem) throw new InvalidInputError(problem);
}

function parsePolicy(input: { keepLast?: unknown; maxAge?: unknown }): RetentionPolicy {
  const { keepLast, maxAge } = input;
  if (
    keepLast !== undefined &&
    keepLast !== null &&
    !(Number.isInteger(keepLast) && (keepLast as number) >= 1 && (keepLast as number) <= 1_000_000)
  ) {
    throw new InvalidInputError(`keepLast must be an integer from 1 to 1000000, or null, got ${JSON.stringify(keepLast)}`);
  }
  let keepSeconds: number | null = null;
  if (maxAge !== undefined && maxAge !== null) {
    const parsed =
      typeof maxAge === 'string'
        ? parseDuration(maxAge)
        : typeof maxAge === 'number' && Number.isInteger(maxAge) && maxAge > 0
          ? maxAge
          : null;
    if (parsed === null || parsed > 100 * 365 * 86400) {
      throw new InvalidInputError(
        `maxAge must be a duration such as "30d", "12h", "90m" or "3600s" (or seconds), or null, got ${JSON.stringify(maxAge)}`,
      );
    }
    keepSeconds = parsed;
  }
  return { keepLast: (keepLast as number | null | undefined) ?? null, keepSeconds };
}
