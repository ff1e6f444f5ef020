/**
 * `kubectl execsession web`'s local proxy (docs/browser.md, ADR 34): HTTP on
 * 127.0.0.1 that passes one session's terminal page, its two assets and its
 * attach WebSocket to the API server with the kubeconfig's credentials, as
 * `kubectl proxy` does for everything. Nothing else of the API is reachable
 * through it, and only with this run's random token as the first path segment,
 * a Host naming the proxy itself (no DNS rebinding) and, when a browser sends
 * one, an Origin that is the proxy's own (no other site's page can use it).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, request as httpRequest, STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TERMINAL_ASSETS, subresourcePath } from '../api/subresources.js';

/** The API server and how to call it (the CLI's Api). */
export interface Upstream {
  readonly server: string;
  httpsOptions(): Promise<RequestOptions>;
}

/** What one request may reach, or why it may not. */
export type Verdict = { ok: true; path: string; kind: 'page' | 'asset' | 'attach' } | { ok: false; code: number; message: string };

/** What a request is checked against. */
export interface ProxyScope {
  port: number;
  token: string;
  namespace: string;
  name: string;
}

/** A token of 32 random bytes, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The origins of the proxy itself: what Host and Origin must name. */
function ownHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/**
 * Decides one request (pure, so every refusal is unit-tested): the Host, the
 * Origin, the token, then the path, which must be the session's page, one of
 * its assets, or (upgrades only) its attach.
 */
export function decide(req: { method?: string; url?: string; headers: IncomingHttpHeaders }, scope: ProxyScope, upgrade: boolean): Verdict {
  const hosts = ownHosts(scope.port);
  const host = req.headers.host ?? '';
  if (!hosts.includes(host)) return { ok: false, code: 403, message: `Host "${host.slice(0, 100)}" is not this proxy (${hosts[0]}); open the URL that kubectl execsession web printed` };
  const origin = req.headers.origin;
  if (origin !== undefined && !hosts.some((h) => origin === `http://${h}`)) {
    return { ok: false, code: 403, message: `requests from other sites are refused (Origin ${origin.slice(0, 100)}); this proxy serves only its own page` };
  }
  const url = req.url ?? '';
  const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
  const path = query ? url.slice(0, url.indexOf('?')) : url;
  const [, token = '', ...rest] = path.split('/');
  if (!sameSecret(token, scope.token)) return { ok: false, code: 403, message: 'this proxy needs the token of the URL that kubectl execsession web printed' };
  if (req.method !== 'GET' && req.method !== 'HEAD') return { ok: false, code: 405, message: 'this proxy takes GET only' };
  const target = `/${rest.join('/')}`;
  const page = subresourcePath(scope.namespace, scope.name, 'terminal');
  if (upgrade) {
    const attach = subresourcePath(scope.namespace, scope.name, 'attach');
    return target === attach ? { ok: true, path: `${attach}${query}`, kind: 'attach' } : notHere(scope);
  }
  if (target === page) return { ok: true, path: page, kind: 'page' };
  if (TERMINAL_ASSETS.some((a) => target === `${page}/${a}`)) return { ok: true, path: target, kind: 'asset' };
  return notHere(scope);
}

function notHere(scope: ProxyScope): Verdict {
  return { ok: false, code: 404, message: `this proxy serves only the terminal of execsession ${scope.namespace}/${scope.name}; use kubectl proxy for the rest of the API` };
}

/** The request headers passed on: what the page and the WebSocket need, never the browser's cookies or credentials. */
const PASSED = ['accept', 'accept-language', 'if-none-match', 'user-agent', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol'];
/** Response headers not passed back (hop by hop, or cookies). */
const DROPPED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'set-cookie']);

function passed(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(PASSED.flatMap((h) => (typeof headers[h] === 'string' ? [[h, headers[h]]] : [])));
}

function refuse(res: ServerResponse, code: number, message: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.end(`${message}\n`);
}

function refuseSocket(socket: Duplex, code: number, message: string): void {
  socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`);
}

/** Raw header lines of a response, without the hop-by-hop ones unless `keep`. */
function headerLines(res: IncomingMessage, keep: string[] = []): string {
  let out = '';
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    const name = res.rawHeaders[i] ?? '';
    if (DROPPED.has(name.toLowerCase()) && !keep.includes(name.toLowerCase())) continue;
    out += `${name}: ${res.rawHeaders[i + 1] ?? ''}\r\n`;
  }
  return out;
}

/** The local proxy for one session's terminal. */
export class WebProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket | Duplex>();
  private port = 0;

  constructor(private readonly upstream: Upstream, private readonly session: { namespace: string; name: string }, readonly token: string = newToken()) {}

  /** Listens on 127.0.0.1 (a free port unless given); resolves with the page's URL. */
  async listen(port = 0): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(req, socket, head));
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return `http://127.0.0.1:${this.port}/${this.token}${subresourcePath(this.session.namespace, this.session.name, 'terminal')}`;
  }

  /** Stops listening and cuts every connection. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private scope(): ProxyScope {
    return { port: this.port, token: this.token, ...this.session };
  }

  private async request(path: string, headers: Record<string, string>): Promise<{ url: URL; opts: RequestOptions; send: typeof httpsRequest }> {
    const url = new URL(this.upstream.server + path);
    const opts = await this.upstream.httpsOptions();
    return { url, opts: { ...opts, headers: { ...opts.headers, ...headers } }, send: url.protocol === 'http:' ? httpRequest : httpsRequest };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const v = decide(req, this.scope(), false);
    if (!v.ok) return refuse(res, v.code, v.message);
    try {
      const { url, opts, send } = await this.request(v.path, passed(req.headers));
      const up = send(url, { ...opts, method: req.method }, (ures) => {
        const headers = Object.fromEntries(Object.entries(ures.headers).filter(([k]) => !DROPPED.has(k)));
        res.writeHead(ures.statusCode ?? 502, headers);
        ures.pipe(res);
      });
      up.on('error', (e) => (res.headersSent ? res.destroy() : refuse(res, 502, `cannot reach the API server at ${url.origin}: ${e.message}`)));
      up.end();
    } catch (e) {
      refuse(res, 502, (e as Error).message);
    }
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const v = decide(req, this.scope(), true);
    if (!v.ok) return refuseSocket(socket, v.code, v.message);
    try {
      const { url, opts, send } = await this.request(v.path, { ...passed(req.headers), Connection: 'Upgrade', Upgrade: 'websocket' });
      const up = send(url, { ...opts, method: 'GET' });
      up.on('upgrade', (ures, usock, uhead) => this.splice(socket, head, ures, usock, uhead));
      // A refusal (the operator's 403, 404, 410...) goes back to the browser as it came.
      up.on('response', (ures) => {
        socket.write(`HTTP/1.1 ${ures.statusCode ?? 502} ${ures.statusMessage ?? ''}\r\n${headerLines(ures)}Connection: close\r\n\r\n`);
        ures.pipe(socket);
      });
      up.on('error', (e) => refuseSocket(socket, 502, `cannot reach the API server at ${url.origin}: ${e.message}`));
      up.end();
    } catch (e) {
      refuseSocket(socket, 502, (e as Error).message);
    }
  }

  /** Joins the browser's socket to the API server's once it switched protocols. */
  private splice(socket: Duplex, head: Buffer, ures: IncomingMessage, usock: Duplex, uhead: Buffer): void {
    this.sockets.add(usock);
    usock.once('close', () => this.sockets.delete(usock));
    socket.write(`HTTP/1.1 101 Switching Protocols\r\n${headerLines(ures, ['connection', 'upgrade'])}\r\n`);
    if (uhead.length > 0) socket.write(uhead);
    if (head.length > 0) usock.write(head);
    usock.on('error', () => socket.destroy());
    socket.on('close', () => usock.destroy());
    usock.on('close', () => socket.destroy());
    usock.pipe(socket);
    socket.pipe(usock);
  }
}
