// The thread that normalises a snapshot for its compute job (node:worker_threads, one per job):
// normalisation and the input identities are a few hundred ms of CPU on the bench mesh, which on
// the event loop would hold every request the API serves meanwhile. Its result crosses back in
// parts, each a message of its own, so that taking it in never holds the event loop long either.
import { parentPort } from 'node:worker_threads';
import { loadParams, type Methods } from '../generator/protocol.js';
import { normaliseWithIstiod } from '../ingest/gateway-deployments.js';
import type { SnapshotResource } from '../model/snapshot.js';
import { inputIdentities } from './reuse.js';
import { NORMALISED_PARTS, PARTS_AHEAD, type NormaliseReply, type NormaliseRequest } from './normalise-thread.js';

type Deployed = Methods['gatewayDeployments']['result'];

const port = parentPort!;
// The first messages are the snapshot's resources, in parts (the thread starts while they are
// read); the others answer the thread's questions, in order.
const received: NormaliseRequest[] = [];
const waiting: ((message: NormaliseRequest) => void)[] = [];
port.on('message', (message: NormaliseRequest) => {
  const waiter = waiting.shift();
  if (waiter) waiter(message);
  else received.push(message);
});
const next = () =>
  received.length > 0 ? Promise.resolve(received.shift()!) : new Promise<NormaliseRequest>((resolve) => waiting.push(resolve));

// What istiod deploys for Gateway API Gateways is asked of the job's generator, through the parent
// (which ends this thread if the generator fails).
const deploy = async (params: Methods['gatewayDeployments']['params']): Promise<Deployed> => {
  const answer = next();
  port.postMessage({ op: 'deploy', params } satisfies NormaliseReply);
  return ((await answer) as { deployed: Deployed }).deployed;
};

const post = (reply: NormaliseReply) => port.postMessage(reply);
try {
  const resources: SnapshotResource[] = [];
  for (let last = false; !last;) {
    const part = (await next()) as { resources: SnapshotResource[]; last: boolean };
    resources.push(...part.resources);
    last = part.last;
  }
  const normalised = await normaliseWithIstiod(resources, deploy);
  const { workloads, generatorInput } = normalised;
  const { kubernetes, ...rest } = generatorInput;
  const parts: NormaliseReply[] = [];
  for (let i = 0; i < workloads.length; i += NORMALISED_PARTS)
    parts.push({ op: 'workloads', items: workloads.slice(i, i + NORMALISED_PARTS) });
  for (let i = 0; i < kubernetes.length; i += NORMALISED_PARTS)
    parts.push({ op: 'kubernetes', items: kubernetes.slice(i, i + NORMALISED_PARTS) });
  // At most PARTS_AHEAD parts the parent has not taken yet (see normaliseOnThread): the next is
  // cloned here while the parent takes one.
  for (const [i, part] of parts.entries()) {
    if (i >= PARTS_AHEAD) await next();
    post(part);
  }
  for (let i = 0; i < Math.min(PARTS_AHEAD, parts.length); i++) await next();
  const load = loadParams(normalised);
  post({ op: 'normalised', generatorInput: rest, loadParamsJson: JSON.stringify(load) });
  // After the snapshot: the job starts its generator session meanwhile, and needs these only later.
  post({ op: 'inputs', inputs: inputIdentities(load) });
} catch (error) {
  post({ op: 'failed', error: error instanceof Error ? error.message : String(error) });
}
