// The entry of an ingest thread (piscina): decoding, validating and serialising an upload is
// CPU work proportional to the body, kept off the event loop that serves every other request.
import { threadId } from 'node:worker_threads';
import { prepareUpload } from './ingest.js';
import type { PreparedUpload } from '../model/snapshot.js';

export interface IngestTask {
  /** The upload, as text or as UTF-8 bytes (a request body, transferred rather than copied). */
  manifests: string | Uint8Array;
  contentType?: string;
}

export interface IngestTaskResult {
  /** The thread that did the work (never the main thread's 0). */
  threadId: number;
  upload: PreparedUpload;
}

export default function ingestTask({ manifests, contentType }: IngestTask): IngestTaskResult {
  const text = typeof manifests === 'string' ? manifests : Buffer.from(manifests.buffer, manifests.byteOffset, manifests.byteLength).toString('utf8');
  return { threadId, upload: prepareUpload(text, contentType) };
}
