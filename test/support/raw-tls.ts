/**
 * Raw bytes to an HTTPS port, for tests that send what no HTTP client would:
 * malformed request lines, bad percent-encoding, oversized heads, broken
 * upgrades. Resolves with the answer's status code and text, however the
 * connection ends (answered, closed, refused at TLS, or timed out).
 */
import { connect } from 'node:tls';

/** What came back. */
export interface RawAnswer {
  /** The HTTP status code of the final response (after any 100 Continue), or undefined when none came back. */
  status: number | undefined;
  text: string;
  /** The socket error, if the connection failed (e.g. refused at the TLS handshake). */
  error?: string;
  /** True when nothing ended the exchange within the timeout. */
  timedOut: boolean;
}

/** Where and as whom to connect. */
export interface RawTarget {
  host: string;
  port: number;
  /** A client certificate and key (PEM) to present; none when absent. */
  client?: { cert: string; key: string };
}

/** The text without interim (1xx) responses, such as 100 Continue, before the final one. */
function finalResponse(text: string): string {
  let rest = text;
  while (/^HTTP\/1\.[01] 1\d\d /.test(rest)) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return '';
    rest = rest.slice(end + 4);
  }
  return rest;
}

/** Whether `text` holds one whole response: a head, and as much body as its Content-Length says. */
function complete(all: string): boolean {
  const text = finalResponse(all);
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1];
  return length !== undefined && Buffer.byteLength(text.slice(end + 4)) >= Number(length);
}

/**
 * Connects, writes `payload` (or each chunk of it in turn), and collects the
 * answer until the server closes, a whole response has arrived, or `timeoutMs` passes.
 */
export function rawExchange(target: RawTarget, payload: string | Buffer | (string | Buffer)[], timeoutMs = 5_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    let text = '';
    let error: string | undefined;
    let settled = false;
    const socket = connect({ host: target.host, port: target.port, rejectUnauthorized: false, ...(target.client ?? {}) });
    const finish = (timedOut: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(finalResponse(text))?.[1];
      resolve({ status: status ? Number(status) : undefined, text, timedOut, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.once('secureConnect', () => {
      for (const chunk of Array.isArray(payload) ? payload : [payload]) socket.write(chunk);
    });
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (complete(text)) finish(false);
    });
    socket.on('error', (e) => {
      error = e.message;
    });
    socket.on('close', () => finish(false));
  });
}

/** An HTTP/1.1 request as text, with Host and Connection: close, and Content-Length when there is a body. */
export function httpText(method: string, target: string, headers: Record<string, string> = {}, body = ''): string {
  const all: Record<string, string> = { Host: 'execsession', Connection: 'close', ...headers };
  if (body) all['Content-Length'] = String(Buffer.byteLength(body));
  return `${method} ${target} HTTP/1.1\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`;
}

/** A WebSocket upgrade request as text, with whatever headers are given on top of the usual ones. */
export function upgradeText(target: string, headers: Record<string, string> = {}): string {
  return httpText('GET', target, {
    Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Protocol': 'v5.channel.k8s.io', ...headers,
  });
}

/** Connects, writes `payload`, and closes the connection `afterMs` later without waiting for an answer (a client that leaves). */
export function sendAndLeave(target: RawTarget, payload: string | Buffer, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port, rejectUnauthorized: false, ...(target.client ?? {}) });
    socket.on('error', () => undefined);
    socket.once('secureConnect', () => {
      socket.write(payload);
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, afterMs);
    });
    socket.once('close', () => resolve());
  });
}
