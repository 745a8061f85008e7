import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { AdmissionResult } from '../snapshots/ingest/types.js';
import { StatelessGenerator } from './stateless-generator.js';

/**
 * Uploads validated as a cluster running the embedded Istio release would: the generator holds
 * the release's CRDs and Istio's webhook. One long-lived process serves every upload.
 */
@Injectable()
export class AdmissionService implements OnModuleDestroy {
  private readonly generator = new StatelessGenerator();

  readonly admit = async (objects: Record<string, unknown>[]): Promise<AdmissionResult[]> => (await this.generator.request('validate', { objects })).results;

  onModuleDestroy() {
    this.generator.close();
  }
}
