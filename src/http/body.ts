/** Reading request bodies with a size bound, for the operator's HTTPS servers. */
import type { IncomingMessage } from 'node:http';

/** The client went away (or broke the body's framing) before the body was read: there is no one to answer. */
export class RequestAborted extends Error {}

/**
 * The whole body, or `tooLarge()` as the rejection as soon as it grows past
 * `max` bytes. Nothing more is read then; the answer (sendJson in respond.ts)
 * closes the connection, since the rest of the body was never read.
 */
export function readBoundedBody(req: IncomingMessage, max: number, tooLarge: () => Error): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > max) {
        req.removeListener('data', onData);
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', (e) => reject(new RequestAborted(`the request body could not be read: ${e.message}`)));
  });
}
