import type { AccessToken } from '../model/access.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** The bearer token of the request when access control is on, set before any route runs (src/access). */
    accessToken?: AccessToken;
  }
}

export {};
