import { BadRequestException, ConflictException, HttpException, InternalServerErrorException, NotFoundException } from '@nestjs/common';
import { GeneratorError } from '../generator/protocol.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../model/errors.js';

/** A domain or generator failure as the REST error a client can act on (`{error}` with a 4xx, never a bare 500): the one mapping to HTTP. */
export function httpError(error: unknown): HttpException {
  if (error instanceof NotFoundError) return new NotFoundException({ error: error.message, details: [] });
  if (error instanceof ConflictError) return new ConflictException({ error: error.message, details: [] });
  if (error instanceof InvalidInputError) return new BadRequestException({ error: error.message, details: [] });
  if (error instanceof GeneratorError) {
    if (error.code === 'BAD_REQUEST') return new BadRequestException({ error: error.message, details: [] });
    if (error.code === 'NO_PROXY')
      return new BadRequestException({ error: 'the workload has no proxy (proxy type NONE): it gets no Envoy config', details: [] });
    return new InternalServerErrorException({ error: `the generator failed: ${error.message}`, details: [] });
  }
  if (error instanceof HttpException) return error;
  return new InternalServerErrorException({ error: error instanceof Error ? error.message : String(error), details: [] });
}
