import {
  ForbiddenException,
  Inject,
  Injectable,
  NotFoundException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { Request } from 'express';
import { GraphQLError } from 'graphql';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { MeshStore } from '../database/mesh.store.js';
import { REQUIRED_SCOPE } from '../http/scope.js';
import { hasScope, latestRefMesh, meshAllowed, ownerMesh, type AccessToken, type Scope } from '../model/access.js';
import { isOpenPath } from './authenticate.js';

/** REST path parameters and GraphQL arguments that name a snapshot: `MESH@latest` is resolved there, and the mesh checked. */
const REST_SNAPSHOT_PARAMS = ['id', 'base', 'head', 'snapshotId'];
const GRAPHQL_SNAPSHOT_ARGS = ['id', 'snapshotId', 'baseId', 'headId'];

type Refusal = { status: 403 | 404; message: string };

/**
 * Every REST route and GraphQL operation: the token's scope (403 naming the one needed), the meshes
 * it is limited to (403 naming the mesh, for a snapshot of another mesh by id, `MESH@latest`, or a
 * `mesh` parameter), and `MESH@latest` resolved to the mesh's newest READY snapshot wherever a
 * snapshot id is taken, so that handlers only ever see ids. Listings filter by the token themselves.
 * The token was checked before (authenticate.ts); with access control off only the resolution runs.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly meshes: MeshStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const declared = this.reflector.getAllAndOverride<Scope | undefined>(REQUIRED_SCOPE, [context.getHandler(), context.getClass()]);
    if (context.getType<string>() === 'graphql') {
      const gql = GqlExecutionContext.create(context);
      const req = gql.getContext<{ req?: Request }>().req;
      const scope = declared ?? (gql.getInfo<{ parentType: { name: string } }>().parentType.name === 'Mutation' ? 'write' : 'read');
      const refusal = await this.check(req, scope, gql.getArgs<Record<string, unknown>>(), GRAPHQL_SNAPSHOT_ARGS, []);
      if (refusal) throw graphqlRefusal(refusal);
      return true;
    }
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<Request>();
    if (isOpenPath(req.path)) return true;
    const scope = declared ?? (req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write');
    const query = typeof req.query.mesh === 'string' ? [req.query.mesh] : [];
    const refusal = await this.check(req, scope, req.params, REST_SNAPSHOT_PARAMS, query);
    if (refusal?.status === 404) throw new NotFoundException({ error: refusal.message, details: [] });
    if (refusal) throw new ForbiddenException({ error: refusal.message, details: [] });
    return true;
  }

  /** Checks and resolves in place (`values[name]` becomes a snapshot id); the refusal, or null. */
  private async check(
    req: Request | undefined,
    scope: Scope,
    values: Record<string, unknown>,
    snapshotNames: string[],
    extraMeshes: string[],
  ): Promise<Refusal | null> {
    const token = req?.accessToken;
    if (this.config.auth === 'tokens' && !token) throw new UnauthorizedException({ error: 'missing bearer token', details: [] });
    if (!hasScope(token, scope)) {
      return { status: 403, message: `this needs a token with scope "${scope}"; token ${token!.id} has ${describeScopes(token!)}` };
    }
    const meshes = [...extraMeshes, ...(typeof values.mesh === 'string' ? [values.mesh] : [])];
    for (const mesh of meshes) if (!meshAllowed(token, mesh)) return meshRefusal(token!, mesh);
    for (const name of snapshotNames) {
      const ref = values[name];
      if (typeof ref !== 'string') continue;
      const latestOf = latestRefMesh(ref);
      if (latestOf !== null) {
        if (!meshAllowed(token, latestOf)) return meshRefusal(token!, latestOf);
        const id = await this.meshes.latestReady(latestOf);
        if (!id) return { status: 404, message: `mesh ${latestOf} has no READY snapshot (${ref})` };
        values[name] = id;
      } else if (token?.meshes) {
        const mesh = await this.meshes.meshOf(ref);
        if (mesh !== null && !meshAllowed(token, mesh)) return meshRefusal(token, mesh, ref);
      }
    }
    return null;
  }
}

function describeScopes(token: AccessToken): string {
  return token.scopes.length ? token.scopes.map((s) => `"${s}"`).join(', ') : 'none';
}

function meshRefusal(token: AccessToken, mesh: string, snapshot?: string): Refusal {
  const what = snapshot ? `snapshot ${snapshot} belongs to mesh "${ownerMesh(mesh)}"` : `mesh "${ownerMesh(mesh)}"`;
  return {
    status: 403,
    message: `${what}: this needs a token for mesh "${ownerMesh(mesh)}"; token ${token.id} is limited to ${(token.meshes ?? []).map((m) => `"${m}"`).join(', ')}`,
  };
}

/** A refusal as GraphQL answers it: a 403 is the HTTP status of the response too, not only a field error. */
function graphqlRefusal(refusal: Refusal): GraphQLError {
  if (refusal.status === 404) return new GraphQLError(refusal.message, { extensions: { code: 'NOT_FOUND' } });
  return new GraphQLError(refusal.message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
}
