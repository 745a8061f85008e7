// Ingest as the service runs it: the generator (built by `pretest`) validates the objects of
// Istio's and the Gateway API's kinds. One generator process per test file, closed after it.
import { afterAll } from 'vitest';
import { loadCliConfig } from '../../src/config/config.js';
import { StatelessGenerator } from '../../src/generator/stateless-generator.js';
import { ingest } from '../../src/ingest/ingest.js';
import type { Admission, IngestResult } from '../../src/model/snapshot.js';

const generator = new StatelessGenerator(loadCliConfig().generator.binary);
afterAll(() => generator.close());

export const admit: Admission = async (objects) => (await generator.request('validate', { objects })).results;

export function ingestText(text: string, contentType?: string): Promise<IngestResult> {
  return ingest(text, contentType, admit);
}
