import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import './access-request.js';
import type { JsonLogger } from '../logging/json-logger.js';
import { requestContext } from '../logging/request-context.js';
import type { MetricsService } from '../metrics/metrics.service.js';

const REQUEST_ID_HEADER = 'x-request-id';
// A client's id is echoed only when it is a sane token; anything else is replaced.
const ACCEPTABLE_REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Every request gets an id (the client's `x-request-id`, or a new one), echoed in the response and
 * carried by every log line written while serving it; when it finishes, one access-log line and
 * one observation of `http_request_duration_seconds`.
 */
export function requestObserver(logger: JsonLogger, metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction) => {
    const offered = req.header(REQUEST_ID_HEADER);
    const requestId = offered && ACCEPTABLE_REQUEST_ID.test(offered) ? offered : randomUUID();
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routePattern(req);
      metrics.httpRequestDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      requestContext.run({ requestId }, () =>
        logger.event(res.statusCode >= 500 ? 'error' : 'info', 'request', {
          method: req.method,
          path: req.originalUrl,
          route,
          status: res.statusCode,
          // The access token behind it, when access control is on (its id, never the token).
          ...(req.accessToken ? { token: req.accessToken.id } : {}),
          durationMs: Math.round(seconds * 1000 * 10) / 10,
        }),
      );
    });
    requestContext.run({ requestId }, next);
  };
}

/** The route's pattern (`/api/v1/snapshots/:id`), so the metric has one series per route, not per URL. */
function routePattern(req: Request): string {
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof pattern === 'string') return req.baseUrl + pattern;
  if (req.originalUrl.startsWith('/graphql')) return '/graphql';
  if (req.originalUrl.startsWith('/api/docs')) return '/api/docs';
  return 'unmatched';
}
