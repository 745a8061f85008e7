// ingest() asks the generator to admit Istio's and the Gateway API's objects (CRDs, webhook), as the
// API's ingest threads do: one stateless generator for the bench, closed when idle.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StatelessGenerator } from '../dist/src/generator/stateless-generator.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const generator = new StatelessGenerator(process.env.MESHLENS_GENERATOR_BIN || path.join(root, 'generator', 'bin', 'generator'), 10_000);

/** The Admission ingest() takes. */
export const admit = async (objects) => (await generator.request('validate', { objects })).results;
