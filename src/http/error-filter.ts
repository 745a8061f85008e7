import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';

/** The error body of every REST response: `{"error": "...", "details": [...]}`. */
export interface ErrorBody {
  error: string;
  details: unknown[];
}

/**
 * Shapes every HTTP error as `{error, details}`: Nest's exceptions, and the errors express's
 * body parsers raise (413, malformed JSON), which carry their status. Anything else is a bug:
 * logged with its stack, answered 500 without internals. GraphQL errors are left to GraphQL.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(exception: unknown, host: ArgumentsHost) {
    if (host.getType() !== 'http') throw exception;
    const res = host.switchToHttp().getResponse<Response>();
    const { status, body } = this.describe(exception);
    // Express's body parsers word it "request entity too large"; one wording for every route.
    if (status === 413 && body.details.length === 0) body.error = 'request body too large';
    if (res.headersSent) return;
    res.status(status).json(body);
  }

  private describe(exception: unknown): { status: number; body: ErrorBody } {
    if (exception instanceof HttpException) {
      return { status: exception.getStatus(), body: errorBody(exception.getResponse(), exception.message) };
    }
    const status = (exception as { status?: unknown; statusCode?: unknown })?.status ?? (exception as { statusCode?: unknown })?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return { status, body: { error: (exception as Error).message, details: [] } };
    }
    this.logger.error(exception instanceof Error ? exception : String(exception), (exception as Error)?.stack);
    return { status: 500, body: { error: 'internal error', details: [] } };
  }
}

/** Ours carry `{error, details}` already; Nest's built-ins carry `{message, error: <status text>}`. */
function errorBody(response: string | object, fallback: string): ErrorBody {
  if (typeof response === 'string') return { error: response, details: [] };
  const { error, details, message } = response as { error?: unknown; details?: unknown; message?: unknown };
  if (typeof error === 'string' && Array.isArray(details)) return { error, details };
  if (typeof message === 'string') return { error: message, details: [] };
  if (Array.isArray(message)) return { error: message.join('; '), details: message };
  return { error: fallback, details: [] };
}
