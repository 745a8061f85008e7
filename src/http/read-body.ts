import { PayloadTooLargeException } from '@nestjs/common';
import type { Request } from 'express';

/**
 * The request body as bytes, whatever its content type (manifests come as YAML, JSON or plain
 * text). Refuses bodies over `limit` bytes with 413, before reading them when the client
 * declared the length. With a declared length the bytes are copied into one buffer as they
 * arrive, a chunk per event: no copy of the whole body blocks the event loop at the end, and the
 * buffer can be handed to a worker thread as it is.
 */
export async function readBody(req: Request, limit: number): Promise<Buffer> {
  const tooLarge = () =>
    new PayloadTooLargeException({
      error: 'request body too large',
      details: [`the limit is ${limit} bytes (MESHLENS_MAX_BODY_BYTES)`],
    });
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw tooLarge();
  const body = Number.isInteger(declared) && declared > 0 ? Buffer.allocUnsafeSlow(declared) : undefined;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      if (size + chunk.length <= limit) {
        // Node's HTTP parser never delivers more than the declared length.
        if (body) chunk.copy(body, size);
        else chunks.push(chunk);
        size += chunk.length;
        return;
      }
      // Keep the connection (the 413 must reach the client) but stop buffering: the rest is discarded.
      req.off('data', onData);
      req.resume();
      chunks.length = 0;
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('end', () => resolve(body ? body.subarray(0, size) : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
