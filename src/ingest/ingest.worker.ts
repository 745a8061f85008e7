// The entry of an ingest thread (piscina): decoding, validating and serialising an upload is
// CPU work proportional to the body, kept off the event loop that serves every other request.
import { threadId } from 'node:worker_threads';
import { prepareUpload } from './ingest.js';
import type { PreparedUpload } from '../model/snapshot.js';

export interface IngestTask {
  text: string;
  contentType?: string;
}

export interface IngestTaskResult {
  /** The thread that did the work (never the main thread's 0). */
  threadId: number;
  upload: PreparedUpload;
}

export default function ingestTask({ text, contentType }: IngestTask): IngestTaskResult {
  return { threadId, upload: prepareUpload(text, contentType) };
}
