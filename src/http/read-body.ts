import { PayloadTooLargeException } from '@nestjs/common';
import type { Request } from 'express';

/**
 * The request body as UTF-8 text, whatever its content type (manifests come as YAML, JSON or
 * plain text). Refuses bodies over `limit` bytes with 413, before reading them when the client
 * declared the length.
 */
export async function readTextBody(req: Request, limit: number): Promise<string> {
  const tooLarge = () =>
    new PayloadTooLargeException({
      error: 'request body too large',
      details: [`the limit is ${limit} bytes (MESHLENS_MAX_BODY_BYTES)`],
    });
  if (Number(req.headers['content-length']) > limit) throw tooLarge();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      // Keep the connection (the 413 must reach the client) but stop buffering: the rest is discarded.
      req.off('data', onData);
      req.resume();
      chunks.length = 0;
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}
