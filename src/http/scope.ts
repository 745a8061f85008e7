import { SetMetadata } from '@nestjs/common';
import type { Scope } from '../model/access.js';

export const REQUIRED_SCOPE = 'meshlens:required-scope';

/**
 * The scope a route or resolver needs when access control is on. Without it: REST `GET`/`HEAD`
 * need `read` and every other method `write`; GraphQL queries `read`, mutations `write`.
 */
export const RequireScope = (scope: Scope) => SetMetadata(REQUIRED_SCOPE, scope);
