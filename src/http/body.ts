/** Reading request bodies with a size bound, for the operator's HTTPS servers. */
import type { IncomingMessage } from 'node:http';

/**
 * The whole body, or `tooLarge()` as the rejection as soon as it grows past
 * `max` bytes (the request is then destroyed: nothing more is read).
 */
export function readBoundedBody(req: IncomingMessage, max: number, tooLarge: () => Error): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(tooLarge());
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
