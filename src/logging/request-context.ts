import { AsyncLocalStorage } from 'node:async_hooks';

/** Per-request data every log line written while serving the request carries. */
export interface RequestContext {
  requestId: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();
