import { Inject, Injectable, PayloadTooLargeException, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Piscina } from 'piscina';
import { compiledFile } from '../common/compiled.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { IngestTask, IngestTaskResult, IngestWorkerData } from '../ingest/ingest.worker.js';
import type { JsonBody } from '../ingest/json-body.js';

/**
 * Heap of an ingest thread per byte of the largest body: yaml's syntax tree and the decoded
 * values of a body of small nodes (`[[],[],...]`) take about this much (measured: see README).
 * The thread's heap is bounded by it, so one upload's memory is bounded in proportion to the body.
 */
const HEAP_BYTES_PER_BODY_BYTE = 64;
const MIN_HEAP_MB = 256;

/**
 * The threads that ingest uploads (decode, validate, canonical JSON, hashes): a body of hostile
 * nesting or a million values takes CPU in proportion to its size, which on the event loop
 * would stall every other request, `/healthz` included.
 */
@Injectable()
export class IngestPool implements OnModuleInit, OnModuleDestroy {
  private readonly pool: Piscina<IngestTask, IngestTaskResult>;
  readonly heapMb: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.heapMb = Math.max(MIN_HEAP_MB, Math.ceil((HEAP_BYTES_PER_BODY_BYTE * config.maxBodyBytes) / 2 ** 20));
    this.pool = new Piscina({
      filename: compiledFile(new URL('../ingest/ingest.worker.js', import.meta.url)),
      minThreads: 1,
      maxThreads: config.ingestThreads,
      idleTimeout: 60_000,
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb },
      workerData: { generatorBinary: config.generator.binary } satisfies IngestWorkerData,
    });
  }

  /** A first thread loads the ingest modules (yaml, Istio's schemas) before the app serves, not during the first upload. */
  async onModuleInit() {
    await this.pool.run({ manifests: '' });
  }

  async prepare(manifests: string | Buffer, contentType?: string): Promise<IngestTaskResult> {
    try {
      return await this.pool.run({ manifests, contentType }, { transferList: transferable(manifests) });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
        throw new PayloadTooLargeException({
          error: 'upload too complex',
          details: [
            `decoding it needs more than the ${this.heapMb} MiB an ingest thread may use (MESHLENS_MAX_BODY_BYTES × ${HEAP_BYTES_PER_BODY_BYTE})`,
          ],
        });
      }
      throw error;
    }
  }

  /** A JSON request body, parsed and bounded on an ingest thread. */
  async parseJson(body: Buffer): Promise<JsonBody> {
    const task = { body } as unknown as IngestTask;
    try {
      return (await this.pool.run(task, { name: 'parseJson', transferList: transferable(body) })) as unknown as JsonBody;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        return { error: `JSON body too complex: decoding it needs more than the ${this.heapMb} MiB an ingest thread may use` };
      }
      throw error;
    }
  }

  async onModuleDestroy() {
    await this.pool.destroy();
  }
}

/**
 * A body's memory, handed to the thread instead of copied on the event loop, when the buffer
 * owns all of it: a small Buffer is a slice of Node's shared pool, which must stay here.
 */
function transferable(manifests: string | Buffer): ArrayBuffer[] {
  if (typeof manifests === 'string') return [];
  const { buffer, byteOffset, byteLength } = manifests;
  return buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength ? [buffer] : [];
}
