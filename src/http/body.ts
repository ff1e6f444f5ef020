/** Reading request bodies with a size bound, for the operator's HTTPS servers. */
import type { IncomingMessage } from 'node:http';

/** The client went away (or broke the body's framing) before the body was read: there is no one to answer. */
export class RequestAborted extends Error {}

/**
 * The whole body, or `tooLarge()` as the rejection as soon as it grows past
 * `max` bytes. Nothing more is kept then; the answer (sendJson in respond.ts)
 * reads and drops the rest within a bound (drainOrClose).
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

/** At most this much of a refused request's unread body is read and dropped... */
export const DRAIN_MAX_BYTES = 8 << 20;
/** ...for at most this long; past either, the connection is closed. */
export const DRAIN_MAX_MS = 10_000;

/**
 * Reads and drops the rest of a request body that was answered before it was
 * read (too large, or refused first), so that the answer arrives whole: a
 * proxy such as kube-apiserver still writing the body while the connection
 * closes reports a broken pipe (503) instead of our answer. A body longer than
 * `maxBytes`, or one still arriving after `maxMs`, has its connection closed.
 */
export function drainOrClose(req: IncomingMessage, maxBytes = DRAIN_MAX_BYTES, maxMs = DRAIN_MAX_MS): void {
  if (req.complete || req.destroyed) return;
  let left = maxBytes;
  const done = (): void => {
    clearTimeout(timer);
    req.removeListener('data', onData);
  };
  const cut = (): void => {
    done();
    req.socket.destroy();
  };
  const onData = (c: Buffer): void => {
    left -= c.length;
    if (left < 0) cut();
  };
  const timer = setTimeout(cut, maxMs);
  timer.unref();
  req.on('data', onData);
  req.once('end', done);
  req.once('close', done);
  req.resume();
}
