// The thread that normalises a snapshot for its compute job (node:worker_threads, one per job):
// normalisation and the input identities are a few hundred ms of CPU on the bench mesh, which on
// the event loop would hold every request the API serves meanwhile. Its result crosses back in
// parts, each a message of its own, so that taking it in never holds the event loop long either.
import { parentPort } from 'node:worker_threads';
import { loadParams, type Methods } from '../generator/protocol.js';
import { normaliseWithIstiod } from '../ingest/gateway-deployments.js';
import type { SnapshotResource } from '../model/snapshot.js';
import { inputIdentities } from './reuse.js';
import { NORMALISED_PARTS, type NormaliseReply, type NormaliseRequest } from './normalise-thread.js';

type Deployed = Methods['gatewayDeployments']['result'];

const port = parentPort!;
// The first message is the snapshot's resources (the thread starts while they are read); the
// others answer the thread's questions, in order.
const messages: ((message: NormaliseRequest) => void)[] = [];
port.on('message', (message: NormaliseRequest) => messages.shift()!(message));
const next = () => new Promise<NormaliseRequest>((resolve) => messages.push(resolve));

// What istiod deploys for Gateway API Gateways is asked of the job's generator, through the parent
// (which ends this thread if the generator fails).
const deploy = async (params: Methods['gatewayDeployments']['params']): Promise<Deployed> => {
  const answer = next();
  port.postMessage({ op: 'deploy', params } satisfies NormaliseReply);
  return ((await answer) as { deployed: Deployed }).deployed;
};

const post = (reply: NormaliseReply) => port.postMessage(reply);
try {
  const { resources } = (await next()) as { resources: SnapshotResource[] };
  const normalised = await normaliseWithIstiod(resources, deploy);
  const inputs = inputIdentities(loadParams(normalised));
  const { workloads, generatorInput } = normalised;
  for (let i = 0; i < workloads.length; i += NORMALISED_PARTS) post({ op: 'workloads', items: workloads.slice(i, i + NORMALISED_PARTS) });
  const { kubernetes, ...rest } = generatorInput;
  for (let i = 0; i < kubernetes.length; i += NORMALISED_PARTS)
    post({ op: 'kubernetes', items: kubernetes.slice(i, i + NORMALISED_PARTS) });
  post({ op: 'done', generatorInput: rest, inputs });
} catch (error) {
  post({ op: 'failed', error: error instanceof Error ? error.message : String(error) });
}
