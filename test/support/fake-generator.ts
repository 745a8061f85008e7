// A generator that answers from the test's functions, recording what it was asked: for service
// tests without a generator process.
import type { GeneratorService } from '../../src/generator/generator.service.js';
import type { Methods } from '../../src/generator/protocol.js';
import { fake } from './fakes.js';

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
  const service = fake<GeneratorService>(
    {
      ask: async (snapshotId, method, params) => {
        asked.push({ snapshotId, method, params });
        const answer = answers[method];
        if (!answer) throw new Error(`fake generator: no answer for ${method}`);
        return answer(params, snapshotId);
      },
      // The answer's line, as GeneratorProcess.requestRaw gives it.
      askRaw: async (snapshotId, method, params) => {
        asked.push({ snapshotId, method, params });
        const answer = answers[method] as ((p: unknown, s: string) => unknown) | undefined;
        if (!answer) throw new Error(`fake generator: no answer for ${method}`);
        return new TextEncoder().encode(JSON.stringify({ id: asked.length, result: await answer(params, snapshotId) }));
      },
      deployGateways: async (params) => (answers.gatewayDeployments ? answers.gatewayDeployments(params, '') : []),
    },
    'generator',
  );
  return { service, asked };
}
