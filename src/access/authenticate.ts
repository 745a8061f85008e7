import type { NextFunction, Request, Response } from 'express';
import type { AppConfig } from '../config/config.js';
import type { TokenStore } from '../database/token.store.js';
import { tokenHash } from '../model/tokens.js';

/** Paths that need no token, ever: probes and the metrics scrape. */
const OPEN_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export function isOpenPath(path: string): boolean {
  return OPEN_PATHS.has(path.replace(/\/+$/, '') || '/');
}

/** Why the request carries no usable token, or null with the token attached to the request. */
async function authenticateRequest(req: Request, tokens: TokenStore, now: Date): Promise<string | null> {
  const header = req.headers.authorization;
  if (!header) return 'missing bearer token: send "Authorization: Bearer <token>" (meshlens token create)';
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!match) return 'malformed Authorization header: expected "Bearer <token>"';
  const stored = await tokens.byHash(tokenHash(match[1]));
  if (!stored) return 'invalid token';
  if (stored.revokedAt) return `token ${stored.id} was revoked`;
  if (stored.expiresAt && stored.expiresAt.getTime() <= now.getTime())
    return `token ${stored.id} expired at ${stored.expiresAt.toISOString()}`;
  req.accessToken = { id: stored.id, scopes: stored.scopes, meshes: stored.meshes };
  return null;
}

/**
 * Access control, before any route (REST, GraphQL, the API docs): with MESHLENS_AUTH=tokens (the
 * default when HOST is not loopback) a request without a valid bearer token (missing, unknown,
 * revoked, expired) is a 401, GraphQL included; a valid one is attached as `req.accessToken` for the
 * scope and mesh checks (src/access/access.guard.ts) and the rate limits. /healthz, /readyz and
 * /metrics stay open.
 */
export function authenticate(config: Pick<AppConfig, 'auth'>, tokens: TokenStore) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (config.auth === 'off' || isOpenPath(req.path)) {
      next();
      return;
    }
    authenticateRequest(req, tokens, new Date()).then(
      (problem) => {
        if (problem === null) {
          next();
          return;
        }
        res.setHeader('WWW-Authenticate', 'Bearer realm="meshlens"');
        // GraphQL clients read `errors`, REST ones `{error, details}`.
        const graphql = req.path.startsWith('/graphql') ? { errors: [{ message: problem, extensions: { code: 'UNAUTHENTICATED' } }] } : {};
        res.status(401).json({ error: problem, details: [], ...graphql });
      },
      (error: unknown) => next(error),
    );
  };
}
