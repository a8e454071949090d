import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the request body is larger than ${limit} bytes`);
  }
}

/** Past the limit the rest of the body is read and dropped (so the client gets the 413
 * instead of a reset connection) up to this many times the limit; beyond, the socket is cut. */
const DRAIN_FACTOR = 4;

/** Reads a request body into memory, refusing more than `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number.isFinite(declared) && declared > limit;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (tooLarge) {
        chunks.length = 0;
        if (size > limit * DRAIN_FACTOR) {
          req.destroy();
          reject(new BodyTooLargeError(limit));
        }
        return;
      }
      chunks.push(chunk);
    });
    // A body that came in one chunk (as small ones do) is that chunk: no copy.
    req.on('end', () => (tooLarge ? reject(new BodyTooLargeError(limit)) : resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size))));
    req.on('error', reject);
  });
}
