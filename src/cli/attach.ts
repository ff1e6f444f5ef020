/**
 * attach: a WebSocket to the operator's attach subresource, through
 * kube-apiserver, speaking the pods/exec channel protocol (frames.ts). Local
 * stdin goes to channel 0 (paused while the socket's buffer is full), channels
 * 1 and 2 to stdout and stderr, channel 3's Status becomes the exit code.
 */
import type { RequestOptions } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import WebSocket, { type ClientOptions, type RawData } from 'ws';
import { subresourcePath } from '../api/subresources.js';
import type { Api } from './client.js';
import { CliError, apiErrorFrom } from './errors.js';
import {
  Channel, PROTOCOLS, closeStdinFrame, decodeFrame, encodeFrame, parseStatusFrame, resizeFrame, statusToOutcome, type AttachOutcome,
} from './frames.js';
import { printable } from './printable.js';
import { enterRawMode, type ProcessHooks, type RawCapableInput, type Restore } from './terminal.js';

/** Which session to attach to, and how. */
export interface AttachTarget {
  namespace: string;
  name: string;
  /** argv for a session without spec.command; empty for its default. */
  command: string[];
  tty: boolean;
  stdin: boolean;
}

/** The process's streams and hooks (process.* in real use). */
export interface AttachIO {
  stdin: Readable & RawCapableInput;
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable;
  proc: ProcessHooks;
}

/** Makes the WebSocket; a seam for tests. */
export type SocketFactory = (url: string, protocols: string[], opts: ClientOptions) => WebSocket;

/** Stop reading stdin above this many unsent bytes; read again below the low mark. */
export const HIGH_WATER = 1 << 20;
export const LOW_WATER = 64 << 10;

/** The attach URL: the cluster's server with ws(s), the subresource path and the query. */
export function attachUrl(server: string, t: AttachTarget): string {
  const query = new URLSearchParams({ tty: String(t.tty), stdin: String(t.stdin) });
  for (const arg of t.command) query.append('command', arg);
  return `${server.replace(/^http/, 'ws')}${subresourcePath(t.namespace, t.name, 'attach')}?${query.toString()}`;
}

/** Attaches and resolves with the exit code once the server closes; the terminal is restored on every way out. */
export async function attach(api: Api, t: AttachTarget, io: AttachIO, factory: SocketFactory = (u, p, o) => new WebSocket(u, p, o)): Promise<number> {
  const url = attachUrl(api.server, t);
  api.debug(`attach ${url}`);
  const ws = factory(url, [...PROTOCOLS], toClientOptions(await api.httpsOptions()));
  await opened(ws, url);
  api.debug(`attached with protocol ${ws.protocol || '(none)'}`);
  const outcome = await stream(ws, t, io);
  if (outcome.message) io.stderr.write(`${printable(outcome.message)}\n`);
  return outcome.exitCode;
}

/** https options (TLS, Authorization, agent) as ws takes them; ws sets method, host and path itself. */
function toClientOptions(opts: RequestOptions): ClientOptions {
  return { ...(opts as ClientOptions), handshakeTimeout: 30_000 };
}

/** Resolves once the handshake succeeded; a refusal rejects with the Status message of the response. */
function opened(ws: WebSocket, url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.on('error', (e) => reject(new CliError(`cannot attach (${new URL(url).origin}): ${e.message}`)));
    ws.once('unexpected-response', (req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        reject(apiErrorFrom(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), 'attach'));
        req.destroy();
      });
    });
  });
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** Pumps the streams until the server closes; always restores the terminal and stops reading stdin. */
function stream(ws: WebSocket, t: AttachTarget, io: AttachIO): Promise<AttachOutcome> {
  const restore: Restore = t.tty ? enterRawMode(io.stdin, io.proc) : () => undefined;
  const stopResize = t.tty ? sendSizes(ws, io) : () => undefined;
  const stopStdin = t.stdin ? pumpStdin(ws, io.stdin) : () => undefined;
  let outcome: AttachOutcome | undefined;
  let failure: string | undefined;
  ws.on('message', (raw) => {
    const frame = decodeFrame(toBuffer(raw));
    if (!frame) return;
    if (frame.channel === Channel.stdout) writeWithBackpressure(ws, io.stdout, frame.data);
    else if (frame.channel === Channel.stderr) writeWithBackpressure(ws, io.stderr, frame.data);
    else if (frame.channel === Channel.status) outcome = statusToOutcome(parseStatusFrame(frame.data));
  });
  ws.on('error', (e) => {
    failure = e.message;
  });
  return new Promise((resolve) => {
    ws.once('close', (code, reason) => {
      stopStdin();
      stopResize();
      restore();
      resolve(outcome ?? {
        exitCode: 1,
        message: `the connection closed (${failure ?? `${code} ${reason.toString() || 'no reason'}`}) before the session reported how it ended; ` +
          `"kubectl execsession get ${t.name} -n ${t.namespace}" shows its phase`,
      });
    });
  });
}

/** Writes remote output; while the local stream is full, stops reading the socket. */
function writeWithBackpressure(ws: WebSocket, out: Writable, data: Buffer): void {
  if (data.length === 0) return;
  if (!out.write(data)) {
    ws.pause();
    out.once('drain', () => ws.resume());
  }
}

/** Sends the terminal size now and on every SIGWINCH; returns the unhook. */
function sendSizes(ws: WebSocket, io: AttachIO): () => void {
  if (!io.stdout.isTTY) return () => undefined;
  const send = (): void => {
    if (ws.readyState === WebSocket.OPEN && io.stdout.columns && io.stdout.rows) ws.send(resizeFrame(io.stdout.columns, io.stdout.rows));
  };
  send();
  io.proc.on('SIGWINCH', send);
  return () => void io.proc.removeListener('SIGWINCH', send);
}

/**
 * Sends stdin on channel 0, pausing it while the socket holds more than
 * HIGH_WATER unsent bytes, so a fast producer cannot fill memory. At end of
 * file, v5 closes the remote stdin; v4 has no way to. Returns the unhook.
 */
function pumpStdin(ws: WebSocket, stdin: Readable): () => void {
  const resumeWhenDrained = (): void => {
    if (stdin.isPaused() && ws.bufferedAmount < LOW_WATER && ws.readyState === WebSocket.OPEN) stdin.resume();
  };
  const onData = (chunk: Buffer | string): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(encodeFrame(Channel.stdin, chunk), resumeWhenDrained);
    if (ws.bufferedAmount > HIGH_WATER) stdin.pause();
  };
  const onEnd = (): void => {
    if (ws.readyState === WebSocket.OPEN && ws.protocol === PROTOCOLS[0]) ws.send(closeStdinFrame());
  };
  stdin.on('data', onData);
  stdin.once('end', onEnd);
  stdin.resume();
  return () => {
    stdin.removeListener('data', onData);
    stdin.removeListener('end', onEnd);
    stdin.pause();
  };
}
