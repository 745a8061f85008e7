import { BadRequestException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { parseJsonBody, type JsonBody } from '../ingest/json-body.js';
import { readBody } from './read-body.js';

/** Bodies up to this size are parsed on the event loop (a few ms at most); larger ones on an ingest thread. */
const INLINE_BYTES = 64 * 1024;

/**
 * The JSON body parser of every JSON route but the upload (read raw): the body read up to
 * `limit` (413 beyond), parsed under bounds (json-body.ts; a 400 naming the bound), on an ingest
 * thread when large, so that no body blocks the event loop.
 */
export function jsonBody(limit: number, isJson: (req: Request) => boolean, parseLarge: (body: Buffer) => Promise<JsonBody>) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!isJson(req) || (req as { _body?: boolean })._body) return next();
    readBody(req, limit)
      .then(async (body) => {
        const parsed = body.length <= INLINE_BYTES ? parseJsonBody(body.toString('utf8')) : await parseLarge(body);
        if ('error' in parsed) throw new BadRequestException({ error: parsed.error, details: [] });
        req.body = parsed.value;
        (req as { _body?: boolean })._body = true;
        next();
      })
      .catch(next);
  };
}
