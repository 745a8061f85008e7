// A generator's error answer becomes one error of the service, once (src/generator/protocol.ts), and
// that error one HTTP status and one GraphQL code: an unknown workload is NOT_FOUND by its code.
import { describe, expect, it } from 'vitest';
import { GeneratorError, generatorFailure } from '../../../src/generator/protocol.js';
import { graphqlError } from '../../../src/graphql/errors.js';
import { httpError } from '../../../src/http/errors.js';
import { NotFoundError, UnknownWorkloadError } from '../../../src/model/errors.js';

describe('generator errors', () => {
  it('NOT_FOUND is an unknown workload: 404 and NOT_FOUND, with the message as the generator wrote it', () => {
    const error = generatorFailure({ code: 'NOT_FOUND', message: 'no workload shop/nope in the snapshot' });
    expect(error).toBeInstanceOf(UnknownWorkloadError);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(httpError(error).getStatus()).toBe(404);
    expect(httpError(error).getResponse()).toEqual({ error: 'no workload shop/nope in the snapshot', details: [] });
    expect(graphqlError(error).extensions.code).toBe('NOT_FOUND');
  });

  it('a bad request that mentions a workload is still a bad request: no mapping by message text', () => {
    const error = generatorFailure({ code: 'BAD_REQUEST', message: 'invalid proxy: no workload label selects anything' });
    expect(error).toBeInstanceOf(GeneratorError);
    expect(httpError(error).getStatus()).toBe(400);
    expect(graphqlError(error).extensions.code).toBe('BAD_USER_INPUT');
  });
});
