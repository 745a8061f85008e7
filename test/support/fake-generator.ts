// A generator that answers from the test's functions, recording what it was asked: for service
// tests without a generator process.
import { createHash } from 'node:crypto';
import type { GeneratorService } from '../../src/generator/generator.service.js';
import type { Methods } from '../../src/generator/protocol.js';
import { fake } from './fakes.js';
import { CONFIG_KEY, ENVOY_TYPES, type GeneratedConfig } from '../../src/model/proxy.js';
import { canonicalJson } from '../../src/model/canonical.js';
import { objectName } from '../../src/envoy/names.js';

/**
 * A config as the generator's hashedProxyConfig answer line: each object by ref, with its name and
 * canonical JSON only when `sent` (the job's objects so far, by hash, here of their JSON, to their
 * refs) does not hold it yet, under the next ref.
 */
export function hashedLine(id: number, config: GeneratedConfig, sent: Map<string, number>): Uint8Array {
  const lists = ENVOY_TYPES.map((type) => {
    const elements = (config[CONFIG_KEY[type]] ?? []).map((object) => {
      const hash = createHash('sha256')
        .update(`${type}\u0000${JSON.stringify(object)}`)
        .digest('hex');
      const ref = sent.get(hash);
      if (ref !== undefined) return `{"ref":${ref}}`;
      sent.set(hash, sent.size);
      const name = objectName(type, object);
      return `{"ref":${sent.size - 1}${name ? `,"name":${JSON.stringify(name)}` : ''},"object":${canonicalJson(object)}}`;
    });
    return `,${JSON.stringify(CONFIG_KEY[type])}:[${elements.join(',')}]`;
  });
  return new TextEncoder().encode(`{"id":${id},"result":{"proxy":${JSON.stringify(config.proxy)}${lists.join('')}}}`);
}

export type Answers = {
  [M in keyof Methods]?: (params: Methods[M]['params'], snapshotId: string) => Methods[M]['result'] | Promise<Methods[M]['result']>;
};

export interface Asked {
  snapshotId: string;
  method: keyof Methods;
  params: unknown;
}

/** A GeneratorService answering `ask`, `askRaw` (and `deployGateways`) from `answers`; a method without one fails. */
export function fakeGenerator(answers: Answers): { service: GeneratorService; asked: Asked[] } {
  const asked: Asked[] = [];
  const jobs = new Map<string, Map<string, number>>();
  const service = fake<GeneratorService>(
    {
      ask: async (snapshotId, method, params) => {
        asked.push({ snapshotId, method, params });
        const answer = answers[method];
        if (!answer) throw new Error(`fake generator: no answer for ${method}`);
        return answer(params, snapshotId);
      },
      // The answer's line, as GeneratorProcess.requestRaw gives it; hashedProxyConfig's from the
      // test's proxyConfig answer, each object sent once per job as the generator sends it.
      askRaw: async (snapshotId, method, params) => {
        asked.push({ snapshotId, method, params });
        const answer = (method === 'hashedProxyConfig' ? answers.proxyConfig : answers[method]) as
          ((p: unknown, s: string) => unknown) | undefined;
        if (!answer) throw new Error(`fake generator: no answer for ${method}`);
        const result = await answer(params, snapshotId);
        if (method !== 'hashedProxyConfig')
          return { line: new TextEncoder().encode(JSON.stringify({ id: asked.length, result })), process: 1 };
        const { job } = params as Methods['hashedProxyConfig']['params'];
        if (!jobs.has(job)) jobs.set(job, new Map());
        return { line: hashedLine(asked.length, result as GeneratedConfig, jobs.get(job)!), process: 1 };
      },
      endJob: async (_snapshotId, job) => {
        jobs.delete(job);
      },
      deployGateways: async (params) => (answers.gatewayDeployments ? answers.gatewayDeployments(params, '') : []),
    },
    'generator',
  );
  return { service, asked };
}
