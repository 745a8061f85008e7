// The entry of an ingest thread (piscina): decoding, validating and serialising an upload is
// CPU work proportional to the body, kept off the event loop that serves every other request.
import { threadId } from 'node:worker_threads';
import { workerData } from 'piscina';
import { StatelessGenerator } from '../generator/stateless-generator.js';
import type { Admission, PreparedUpload } from '../model/snapshot.js';
import { prepareUpload } from './ingest.js';
import { parseJsonBody, type JsonBody } from './json-body.js';

export interface IngestTask {
  /** The upload, as text or as UTF-8 bytes (a request body, transferred rather than copied). */
  manifests: string | Uint8Array;
  contentType?: string;
}

/** What every ingest thread is started with: the service's configuration it needs. */
export interface IngestWorkerData {
  /** The configured generator binary (null: the one `npm ci` built). */
  generatorBinary: string | null;
}

export interface IngestTaskResult {
  /** The thread that did the work (never the main thread's 0). */
  threadId: number;
  upload: PreparedUpload;
}

/**
 * The thread's generator, which validates Istio's and the Gateway API's kinds with the embedded
 * release's CRDs and webhook: started with the thread and kept as long as it lives (its stdin
 * closes with the thread), so an upload pays neither a process start nor the CRDs' compilation.
 */
const generator = new StatelessGenerator((workerData as IngestWorkerData).generatorBinary, Infinity);
generator.start();
const admit: Admission = async (objects) => (await generator.request('validate', { objects })).results;

export default function ingestTask({ manifests, contentType }: IngestTask): Promise<IngestTaskResult> {
  const text =
    typeof manifests === 'string' ? manifests : Buffer.from(manifests.buffer, manifests.byteOffset, manifests.byteLength).toString('utf8');
  return prepareUpload(text, contentType, admit).then((upload) => ({ threadId, upload }));
}

/** A JSON request body (piscina task `parseJson`): decoded and bounded here, not on the event loop. */
export function parseJson({ body }: { body: Uint8Array }): JsonBody {
  return parseJsonBody(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
}
