import { GraphQLError } from 'graphql';
import { GeneratorError } from '../generator/protocol.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../model/errors.js';

/** A domain or generator failure as the GraphQL error a client can act on (the one mapping to GraphQL). */
export function graphqlError(error: unknown): GraphQLError {
  if (error instanceof NotFoundError) return new GraphQLError(error.message, { extensions: { code: 'NOT_FOUND' } });
  if (error instanceof ConflictError) return new GraphQLError(error.message, { extensions: { code: 'CONFLICT' } });
  if (error instanceof InvalidInputError) return new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT' } });
  if (error instanceof GeneratorError) {
    switch (error.code) {
      case 'BAD_REQUEST':
        return new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT' } });
      case 'NO_PROXY':
        return new GraphQLError('the workload has no proxy (proxy type NONE): it gets no Envoy config', {
          extensions: { code: 'BAD_USER_INPUT' },
        });
      case 'TIMEOUT':
        return new GraphQLError(`${error.message}; the session was restarted, try again`, { extensions: { code: 'GENERATOR_TIMEOUT' } });
      default:
        return new GraphQLError(`the generator failed: ${error.message}`, { extensions: { code: 'GENERATOR_FAILED' } });
    }
  }
  if (error instanceof GraphQLError) return error;
  return new GraphQLError(error instanceof Error ? error.message : String(error), { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}
