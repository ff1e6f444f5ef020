/**
 * Answers of the operator's HTTPS servers, and the guards that keep any one
 * request, upgrade or connection from ending the process: a handler that
 * throws or rejects is answered with 500 (or its socket is closed), an upgrade
 * socket always has an 'error' listener, and the server itself has one.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { drainOrClose } from './body.js';

/** What the guards log (pino's shape). */
export interface GuardLog {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A metav1.Status failure: what kube-apiserver passes on to the client. */
export function statusBody(code: number, reason: string, message: string): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/**
 * Sends a JSON answer, unless one has been sent already. When the request's
 * body was not read to its end (too large, or refused before it was read),
 * the rest is read and dropped within a bound, past which the connection is
 * closed (drainOrClose).
 */
export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent || res.writableEnded) return;
  const json = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
  if (res.req) drainOrClose(res.req);
}

/** Answers a refused upgrade request on its raw socket, and closes it. */
export function refuseUpgrade(socket: Duplex, code: number, body: object): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const json = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`);
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A request listener that answers 500 when `handle` throws or rejects, instead of ending the process. */
export function guardRequests(handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void, log: GuardLog): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const failed = (e: unknown): void => {
      log.error({ err: describe(e), method: req.method, path: req.url?.slice(0, 200) }, 'request handler failed');
      try {
        sendJson(res, 500, statusBody(500, 'InternalError', 'the request failed inside the operator; see its log'));
      } catch {
        res.destroy();
      }
    };
    try {
      void Promise.resolve(handle(req, res)).catch(failed);
    } catch (e) {
      failed(e);
    }
  };
}

/**
 * An 'upgrade' listener that gives the socket an 'error' listener before
 * anything else (the HTTP server removes its own on upgrade, and an 'error'
 * without a listener ends the process), and refuses with 500 when `handle`
 * throws or rejects.
 */
export function guardUpgrades(handle: (req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void> | void, log: GuardLog): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const failed = (e: unknown): void => {
      log.error({ err: describe(e), path: req.url?.slice(0, 200) }, 'upgrade handler failed');
      refuseUpgrade(socket, 500, statusBody(500, 'InternalError', 'the request failed inside the operator; see its log'));
    };
    try {
      void Promise.resolve(handle(req, socket, head)).catch(failed);
    } catch (e) {
      failed(e);
    }
  };
}

/**
 * Keeps a listening server's own errors (such as running out of file
 * descriptors while accepting) from ending the process: they are logged.
 * Malformed requests are answered by Node itself (400, 431), and TLS
 * handshake failures close only their own connection.
 */
export function guardServer(server: Server, log: GuardLog, what: string): void {
  server.on('error', (e) => log.error({ err: describe(e) }, `${what} server error`));
}
