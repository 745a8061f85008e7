// The entry of an ingest thread (piscina): decoding, validating and serialising an upload is
// CPU work proportional to the body, kept off the event loop that serves every other request.
import { threadId } from 'node:worker_threads';
import { StatelessGenerator } from '../generator/stateless-generator.js';
import type { Admission, PreparedUpload } from '../model/snapshot.js';
import { prepareUpload } from './ingest.js';

export interface IngestTask {
  text: string;
  contentType?: string;
}

export interface IngestTaskResult {
  /** The thread that did the work (never the main thread's 0). */
  threadId: number;
  upload: PreparedUpload;
}

/**
 * The thread's generator, which validates Istio's and the Gateway API's kinds with the embedded
 * release's CRDs and webhook: started on the first upload, kept while uploads come (closed when
 * idle), so an upload does not pay a process start.
 */
const generator = new StatelessGenerator();
const admit: Admission = async (objects) => (await generator.request('validate', { objects })).results;

export default function ingestTask({ text, contentType }: IngestTask): Promise<IngestTaskResult> {
  return prepareUpload(text, contentType, admit).then((upload) => ({ threadId, upload }));
}
