import { createHash, randomBytes } from 'node:crypto';

/** The prefix of every meshlens token, so that a leaked one is recognisable (secret scanners). */
export const TOKEN_PREFIX = 'mlt_';

/** A new token: 256 random bits. Shown once; only its hash is stored. */
export function newToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** What is stored of a token and looked up by: its SHA-256 (a lookup by hash needs no constant-time compare). */
export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
