// Per-client request rate limit (@nestjs/throttler): MESHLENS_RATE_LIMIT requests per minute per
// access token, or per client address when the request has none; REST and GraphQL count alike,
// one per HTTP request. Over it: 429 with Retry-After. /healthz, /readyz and /metrics are exempt.
import type { ApolloServerPlugin } from '@apollo/server';
import { HttpException, HttpStatus, Injectable, Module, type DynamicModule, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { GqlExecutionContext, type GqlContextType } from '@nestjs/graphql';
import { ThrottlerGuard, ThrottlerModule, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { GraphQLError } from 'graphql';

const RATE_LIMITED = 'RATE_LIMITED';

/**
 * A GraphQL request refused by the limit is an HTTP 429, as a REST one: the guard runs inside
 * execution, where Apollo would answer 200 with the error.
 */
export const rateLimitStatusPlugin: ApolloServerPlugin = {
  requestDidStart() {
    return Promise.resolve({
      willSendResponse({ response }) {
        if (response.body.kind !== 'single') return Promise.resolve();
        const refusal = response.body.singleResult.errors?.find((error) => error.extensions?.code === RATE_LIMITED);
        if (refusal) {
          // A refusal of the whole request: no `data` (so Nest's plugin keeps the status), one error.
          response.body.singleResult = { errors: [refusal] };
          response.http.status = HttpStatus.TOO_MANY_REQUESTS;
        }
        return Promise.resolve();
      },
    });
  },
};

/** Paths a probe or a scraper calls: never limited. */
const EXEMPT = new Set(['/healthz', '/readyz', '/metrics']);
const MINUTE_MS = 60_000;

/** Requests already counted: a GraphQL request runs the guard once per top-level field. */
const counted = new WeakSet<object>();

@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- ThrottlerGuard's own signature
  protected override getRequestResponse(context: ExecutionContext): { req: Record<string, any>; res: Record<string, any> } {
    if (context.getType<GqlContextType>() === 'graphql') {
      const { req, res } = GqlExecutionContext.create(context).getContext<{ req: Request; res?: Response }>();
      return { req, res: res ?? req.res ?? {} };
    }
    const http = context.switchToHttp();
    return { req: http.getRequest<Request>(), res: http.getResponse<Response>() };
  }

  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    const { req } = this.getRequestResponse(context);
    const path = ((req as Request).originalUrl ?? (req as Request).url ?? '').split('?')[0];
    if (EXEMPT.has(path.replace(/\/+$/, ''))) return Promise.resolve(true);
    if (counted.has(req)) return Promise.resolve(true);
    counted.add(req);
    return Promise.resolve(false);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- ThrottlerGuard's own signature
  protected override getTracker(req: Record<string, any>): Promise<string> {
    const token = (req as Request).accessToken?.id;
    return Promise.resolve(
      token ? `token:${token}` : `address:${(req as Request).ip ?? (req as Request).socket?.remoteAddress ?? 'unknown'}`,
    );
  }

  /** One budget per client, whatever the route (the default key is per route). */
  protected override generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return `${name}:${tracker}`;
  }

  protected override throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const retryAfter = Math.max(1, detail.timeToBlockExpire);
    const message = `rate limit exceeded: ${detail.limit} requests per minute (MESHLENS_RATE_LIMIT); retry after ${retryAfter} s`;
    if (context.getType<GqlContextType>() === 'graphql') {
      // Retry-After is on the response already; the status is set by rateLimitStatusPlugin.
      throw new GraphQLError(message, { extensions: { code: RATE_LIMITED } });
    }
    return Promise.reject(new HttpException({ error: message, details: [] }, HttpStatus.TOO_MANY_REQUESTS));
  }
}

/** The limit as a global guard; `ratePerMinute` 0: no limit. */
@Module({})
export class RateLimitModule {
  static forRoot(ratePerMinute: number): DynamicModule {
    if (ratePerMinute === 0) return { module: RateLimitModule };
    return {
      module: RateLimitModule,
      imports: [ThrottlerModule.forRoot({ throttlers: [{ ttl: MINUTE_MS, limit: ratePerMinute }] })],
      providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
    };
  }
}
