import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { compiledFile } from '../common/compiled.js';
import type { GatewayDeployer, Methods } from '../generator/protocol.js';
import type { GeneratorInput, NormalisedSnapshot, SnapshotResource, Workload } from '../model/snapshot.js';
import type { InputIdentities } from './reuse.js';

/** Items of a normalised list per message: a part's structured clone takes the event loop a few ms. */
export const NORMALISED_PARTS = 500;
/** Parts the thread sends before the parent took the first of them. */
export const PARTS_AHEAD = 2;

/** From the normalising thread: a part of its result, its end, or a question for the generator. */
export type NormaliseReply =
  | { op: 'workloads'; items: Workload[] }
  | { op: 'kubernetes'; items: GeneratorInput['kubernetes'] }
  | { op: 'normalised'; generatorInput: Omit<GeneratorInput, 'kubernetes'>; loadParamsJson: string }
  | { op: 'inputs'; inputs: InputIdentities }
  | { op: 'deploy'; params: Methods['gatewayDeployments']['params'] }
  | { op: 'failed'; error: string };

/** To the normalising thread: the snapshot's resources, then the generator's answers to its questions. */
export type NormaliseRequest =
  { resources: SnapshotResource[]; last: boolean } | { deployed: Methods['gatewayDeployments']['result'] } | { taken: true };

/**
 * The snapshot normalised as normaliseWithIstiod does it, its generator session's `load` params as
 * JSON (SessionInput), and its input identities, on a thread of its own (normalise.worker.ts)
 * rather than on the event loop; `deploy` answers the thread's
 * questions for Gateway API Gateways. The thread starts (loads its modules) while `resources` are
 * read; the identities follow the snapshot (`inputs` settles later than the result).
 */
export async function normaliseOnThread(
  resources: Promise<SnapshotResource[]>,
  deploy: GatewayDeployer,
): Promise<{ normalised: NormalisedSnapshot; loadParamsJson: string; inputs: Promise<InputIdentities> }> {
  const worker = new Worker(compiledFile(new URL('./normalise.worker.js', import.meta.url)));
  const workloads: Workload[] = [];
  const kubernetes: GeneratorInput['kubernetes'] = [];
  type Normalised = { normalised: NormalisedSnapshot; loadParamsJson: string };
  let snapshotSettled!: { resolve: (n: Normalised) => void; reject: (e: Error) => void };
  const snapshot = new Promise<Normalised>((resolve, reject) => (snapshotSettled = { resolve, reject }));
  const inputs = new Promise<InputIdentities>((resolve, rejectInputs) => {
    // A failure fails both (the snapshot's settled already when it came after it).
    const reject = (error: Error) => {
      snapshotSettled.reject(error);
      rejectInputs(error);
    };
    worker.on('message', (reply: NormaliseReply) => {
      switch (reply.op) {
        case 'workloads':
        case 'kubernetes':
          (reply.op === 'workloads' ? workloads : kubernetes).push(...(reply.items as never[]));
          // A port delivers every message it holds in one go: the thread keeps at most PARTS_AHEAD
          // in it, sending the next once the event loop has served what waited.
          setImmediate(() => worker.postMessage({ taken: true } satisfies NormaliseRequest));
          break;
        case 'normalised':
          snapshotSettled.resolve({
            normalised: { workloads, generatorInput: { ...reply.generatorInput, kubernetes } },
            loadParamsJson: reply.loadParamsJson,
          });
          break;
        case 'inputs':
          resolve(reply.inputs);
          break;
        case 'deploy':
          // The generator's failure fails the normalisation as it is (its code included), as on the event loop.
          deploy(reply.params).then((deployed) => worker.postMessage({ deployed } satisfies NormaliseRequest), reject);
          break;
        case 'failed':
          reject(new Error(reply.error));
      }
    });
    resources.then((list) => sendInParts(worker, list), reject);
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`normalising thread exited (code ${code}) before its result`)));
  }).finally(() => void worker.terminate());
  // Awaited by the caller later, or never when the snapshot failed.
  inputs.catch(() => undefined);
  return { ...(await snapshot), inputs };
}

/** The resources in parts, the event loop free between two (each part's structured clone a few ms). */
async function sendInParts(worker: Worker, resources: SnapshotResource[]): Promise<void> {
  for (let i = 0; i === 0 || i < resources.length; i += NORMALISED_PARTS) {
    if (i > 0) await yieldToLoop();
    const last = i + NORMALISED_PARTS >= resources.length;
    worker.postMessage({ resources: resources.slice(i, i + NORMALISED_PARTS), last } satisfies NormaliseRequest);
  }
}
