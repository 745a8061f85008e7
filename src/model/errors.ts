// Domain errors, in words a client can act on. Services throw them; they are mapped once to HTTP
// (src/http/errors.ts) and once to GraphQL (src/graphql/errors.ts), by class, never by message text.

/** What was asked for does not exist (a snapshot, a workload): HTTP 404, GraphQL NOT_FOUND. */
export class NotFoundError extends Error {}

/** A proxy named after a workload (pod or controller) the snapshot does not have: a NotFoundError. */
export class UnknownWorkloadError extends NotFoundError {}

/** Not possible in the current state (e.g. a snapshot not READY yet): HTTP 409, GraphQL CONFLICT. */
export class ConflictError extends Error {}

/** The request itself is wrong: HTTP 400, GraphQL BAD_USER_INPUT. */
export class InvalidInputError extends Error {}
