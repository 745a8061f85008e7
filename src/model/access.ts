// Access control and meshes: the vocabulary every layer shares. Plain data and pure helpers.
import { InvalidInputError } from './errors.js';

/** What a token may do: `read` (queries), `write` (upload, delete snapshots), `admin` (mesh settings such as retention). */
export type Scope = 'read' | 'write' | 'admin';
export const SCOPES: readonly Scope[] = ['read', 'write', 'admin'];

/**
 * The token an authenticated request carries, attached to the Express request as `req.accessToken`
 * (absent when access control is off; src/http/access-request.ts). `meshes` null: every mesh.
 */
export interface AccessToken {
  id: string;
  scopes: string[];
  meshes: string[] | null;
}

/** The mesh of a snapshot uploaded without one. */
export const DEFAULT_MESH = 'default';

/** The suffix of the scratch mesh `meshlens diff MESH@latest --head` uploads to (`prod.scratch`): retention clears it. */
export const SCRATCH_SUFFIX = '.scratch';

const MESH_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Why `name` is not a mesh name (a DNS label, optionally `.scratch`), or null when it is one. */
export function meshNameProblem(name: string): string | null {
  const base = isScratchMesh(name) ? name.slice(0, -SCRATCH_SUFFIX.length) : name;
  if (MESH_NAME.test(base)) return null;
  return `mesh name "${name.length > 80 ? `${name.slice(0, 80)}…` : name}" must be a DNS label (lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit), optionally followed by "${SCRATCH_SUFFIX}"`;
}

export function isScratchMesh(name: string): boolean {
  return name.endsWith(SCRATCH_SUFFIX);
}

/** The scratch mesh of a mesh: where `diff MESH@latest --head PATH` uploads its head. */
export function scratchMeshOf(mesh: string): string {
  return isScratchMesh(mesh) ? mesh : `${mesh}${SCRATCH_SUFFIX}`;
}

/** The mesh a scratch mesh belongs to (itself for a real mesh): access to `prod` includes `prod.scratch`. */
export function ownerMesh(mesh: string): string {
  return isScratchMesh(mesh) ? mesh.slice(0, -SCRATCH_SUFFIX.length) : mesh;
}

/** Whether the token (undefined: access control off) may touch `mesh`. */
export function meshAllowed(token: AccessToken | undefined, mesh: string): boolean {
  return !token || token.meshes === null || token.meshes.includes(ownerMesh(mesh));
}

/** Whether the token (undefined: access control off) has the scope. */
export function hasScope(token: AccessToken | undefined, scope: Scope): boolean {
  return !token || token.scopes.includes(scope);
}

/** The meshes a listing may show for the token: null for all of them. */
export function visibleMeshes(token: AccessToken | undefined): string[] | null {
  if (!token || token.meshes === null) return null;
  return token.meshes.flatMap((m) => [m, scratchMeshOf(m)]);
}

/** `MESH@latest`: the newest READY snapshot of MESH. Returns the mesh, or null when `ref` is not of that form. */
export function latestRefMesh(ref: string): string | null {
  const match = /^(.+)@latest$/.exec(ref);
  return match ? match[1] : null;
}

/**
 * `90d`, `12h`, `30m`, `3600s` (or a bare number of seconds) as seconds; null when not of that
 * form. Used for token expiries and retention ages.
 */
export function parseDuration(text: string): number | null {
  const match = /^(\d+)\s*([smhdw]?)$/.exec(text.trim());
  if (!match) return null;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[match[2] as '' | 's' | 'm' | 'h' | 'd' | 'w'];
  const seconds = Number(match[1]) * unit;
  return Number.isSafeInteger(seconds) && seconds > 0 ? seconds : null;
}

/** Per-mesh retention: keep the newest `keepLast` and/or those younger than `keepSeconds`; null: that rule is off. */
export interface RetentionPolicy {
  keepLast: number | null;
  keepSeconds: number | null;
}

/**
 * The meshes a listing shows: the one asked for, else all the token may see (null: every mesh).
 * A requested name that no mesh can have is an InvalidInputError, not a query.
 */
export function listingMeshes(token: AccessToken | undefined, requested: string | null | undefined): string[] | null {
  if (!requested) return visibleMeshes(token);
  const problem = meshNameProblem(requested);
  if (problem) throw new InvalidInputError(problem);
  return [requested];
}
