import { Worker } from 'node:worker_threads';
import { compiledFile } from '../common/compiled.js';
import type { GatewayDeployer, Methods } from '../generator/protocol.js';
import type { GeneratorInput, NormalisedSnapshot, SnapshotResource, Workload } from '../model/snapshot.js';
import type { InputIdentities } from './reuse.js';

/** Items of a normalised list per message: a part's structured clone takes the event loop a few ms. */
export const NORMALISED_PARTS = 500;

/** From the normalising thread: a part of its result, its end, or a question for the generator. */
export type NormaliseReply =
  | { op: 'workloads'; items: Workload[] }
  | { op: 'kubernetes'; items: GeneratorInput['kubernetes'] }
  | { op: 'done'; generatorInput: Omit<GeneratorInput, 'kubernetes'>; inputs: InputIdentities }
  | { op: 'deploy'; params: Methods['gatewayDeployments']['params'] }
  | { op: 'failed'; error: string };

/** To the normalising thread: the snapshot's resources, then the generator's answers to its questions. */
export type NormaliseRequest = { resources: SnapshotResource[] } | { deployed: Methods['gatewayDeployments']['result'] };

/**
 * The snapshot normalised as normaliseWithIstiod does it, with its input identities, on a thread
 * of its own (normalise.worker.ts) rather than on the event loop; `deploy` answers the thread's
 * questions for Gateway API Gateways. The thread starts (loads its modules) while `resources` are
 * read.
 */
export function normaliseOnThread(
  resources: Promise<SnapshotResource[]>,
  deploy: GatewayDeployer,
): Promise<{ normalised: NormalisedSnapshot; inputs: InputIdentities }> {
  const worker = new Worker(compiledFile(new URL('./normalise.worker.js', import.meta.url)));
  const workloads: Workload[] = [];
  const kubernetes: GeneratorInput['kubernetes'] = [];
  return new Promise<{ normalised: NormalisedSnapshot; inputs: InputIdentities }>((resolve, reject) => {
    worker.on('message', (reply: NormaliseReply) => {
      switch (reply.op) {
        case 'workloads':
          workloads.push(...reply.items);
          break;
        case 'kubernetes':
          kubernetes.push(...reply.items);
          break;
        case 'done':
          resolve({ normalised: { workloads, generatorInput: { ...reply.generatorInput, kubernetes } }, inputs: reply.inputs });
          break;
        case 'deploy':
          // The generator's failure fails the normalisation as it is (its code included), as on the event loop.
          deploy(reply.params).then((deployed) => worker.postMessage({ deployed } satisfies NormaliseRequest), reject);
          break;
        case 'failed':
          reject(new Error(reply.error));
      }
    });
    resources.then((list) => worker.postMessage({ resources: list } satisfies NormaliseRequest), reject);
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`normalising thread exited (code ${code}) before its result`)));
  }).finally(() => void worker.terminate());
}
