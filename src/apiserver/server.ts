/**
 * The aggregated API server: HTTPS that only kube-apiserver's front proxy may
 * call (its client certificate is checked against the cluster's requestheader
 * CA), serving discovery, the POST subresources (approve, deny, revoke, extend)
 * and the attach WebSocket. The caller's identity is the one kube-apiserver
 * forwards; kube-apiserver has already checked RBAC on the subresource.
 */
import { closeServer } from '../http/close.js';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import type { Logger } from '../log/logger.js';
import { RequestAborted, readBoundedBody } from '../http/body.js';
import { pathOf, splitTarget } from '../http/request-target.js';
import { guardRequests, guardServer, guardUpgrades, refuseUpgrade, sendJson, statusBody } from '../http/respond.js';
import type { ServingCerts } from '../certs/certs.js';
import {
  SUBRESOURCES, SUBRESOURCE_BASE, SUBRESOURCE_GROUP, SUBRESOURCE_GROUP_VERSION, SUBRESOURCE_VERSION, parseSubresourcePath, parseTerminalAssetPath, type SubresourceTarget,
} from '../api/subresources.js';
import { KIND, PLURAL, type ExecSession, type Person } from '../api/types.js';
import { PRODUCT_VERSION, VERSION_HEADER } from '../api/version.js';
import type { Attacher } from './attach.js';
import { chooseProtocol, PROTOCOLS } from '../api/channels.js';
import type { RequestHeaderConfig } from '../k8s/request-header.js';
import { callerFrom, frontProxyProblem } from './front-proxy.js';
import { METRICS_PATH, type MetricsEndpoint } from './metrics-endpoint.js';
import { ApiError, type Action, type ActionContext } from './types.js';
import { serveRecording } from './recording.js';
import { serveTerminalAsset, serveTerminalPage } from './terminal.js';
import type { RecordingStore } from '../recording/store.js';
import { auditIdOf, withLogContext } from '../log/context.js';
import { outlastClientKeepAlive } from '../http/keep-alive.js';

const MAX_BODY = 64 << 10;

/** The discovery document of the group version. */
export function resourceList(): object {
  return {
    kind: 'APIResourceList', apiVersion: 'v1', groupVersion: SUBRESOURCE_GROUP_VERSION,
    resources: SUBRESOURCES.map((s) => ({ name: `${PLURAL}/${s.name}`, singularName: '', namespaced: true, kind: KIND, verbs: [...s.verbs] })),
  };
}

function groupDocument(): object {
  const gv = { groupVersion: SUBRESOURCE_GROUP_VERSION, version: SUBRESOURCE_VERSION };
  return { kind: 'APIGroup', apiVersion: 'v1', name: SUBRESOURCE_GROUP, versions: [gv], preferredVersion: gv };
}

/** The discovery documents by path (a Map: a path such as `__proto__` must find nothing). */
const DISCOVERY = new Map<string, () => object>([[`/apis/${SUBRESOURCE_GROUP}`, groupDocument], [SUBRESOURCE_BASE, resourceList]]);

const HEALTH = ['/healthz', '/readyz', '/livez'];

/** The JSON object a POST carries ({} when empty). */
async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBoundedBody(req, MAX_BODY, () => new ApiError(413, 'RequestEntityTooLarge', `the request body exceeds ${MAX_BODY} bytes`));
  const text = body.toString('utf8').trim();
  if (!text) return {};
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw new ApiError(400, 'BadRequest', 'the request body must be a JSON object, e.g. {"reason": "..."}');
  }
}

/** What the server needs from the rest of the operator. */
export interface ApiServerDeps {
  attacher: Attacher;
  actions: Record<string, Action>;
  /** Runs after a POST action succeeded (e.g. ending local attaches after a revoke). */
  afterAction?: (sub: string, ctx: ActionContext, session: ExecSession) => void;
  stampKey: () => Buffer;
  log: Logger;
  /** Where recordings are read from (GET .../recording); undefined: --recording-store=none. */
  recordings?: RecordingStore;
  /** GET /metrics for authorized scrapers (ADR 22); undefined: not served (--metrics=false). */
  metrics?: MetricsEndpoint;
}

/**
 * The largest request head taken (Node's default is 16 KiB): an attach's query
 * carries its command, up to 64 KiB (src/api/command-limits.ts), percent-encoded
 * up to three times as long, so that its limit, not the server's, answers
 * (400 CommandTooLarge naming the parameter, not a bare 431).
 */
const MAX_REQUEST_HEAD_BYTES = 256 * 1024;

/** A request's log fields: kube-apiserver's Audit-Id where it forwarded one, and the session named in the path. */
function requestLogFields(req: IncomingMessage): Record<string, string | undefined> {
  const target = parseSubresourcePath(pathOf(req.url));
  return { auditID: auditIdOf(req.headers['audit-id']), namespace: target?.namespace, name: target?.name };
}

export class ApiServer {
  private server: Server | undefined;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20, handleProtocols: (offered) => chooseProtocol(offered) ?? false });
  private requestHeader: RequestHeaderConfig;

  constructor(private readonly deps: ApiServerDeps, requestHeader: RequestHeaderConfig) {
    this.requestHeader = requestHeader;
  }

  /** Listens on host:port (port 0 picks one); resolves with the port. */
  async listen(host: string, port: number, certs: ServingCerts): Promise<number> {
    const log = this.deps.log;
    // Every request and upgrade is guarded: whatever one of them throws is answered, never ends the process.
    // Each request's log lines carry kube-apiserver's Audit-Id and the session it is about.
    const server = createServer({ ...this.tlsOptions(certs), maxHeaderSize: MAX_REQUEST_HEAD_BYTES },
      guardRequests((req, res) => withLogContext(requestLogFields(req), () => this.handle(req, res)), log));
    server.on('upgrade', guardUpgrades((req, socket, head) => withLogContext(requestLogFields(req), () => this.upgrade(req, socket, head)), log));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    guardServer(server, log, 'aggregated API');
    outlastClientKeepAlive(server);
    return (server.address() as AddressInfo).port;
  }

  private tlsOptions(certs: ServingCerts): object {
    // Client certificates are asked for and checked per request: health checks come without one.
    return { cert: certs.cert, key: certs.key, ca: this.requestHeader.clientCA, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' };
  }

  /** Serves renewed certificates, or a rotated requestheader CA, from now on. */
  update(certs: ServingCerts, requestHeader?: RequestHeaderConfig): void {
    if (requestHeader) this.requestHeader = requestHeader;
    this.server?.setSecureContext(this.tlsOptions(certs));
  }

  async close(): Promise<void> {
    this.deps.attacher.close();
    // Each attach was sent why it ends and a close: give the clients a second to get them, then cut the rest.
    const deadline = Date.now() + 1000;
    while (this.wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const c of this.wss.clients) c.terminate();
    await closeServer(this.server);
  }

  /**
   * The forwarded caller, or the reason the request is not from the front proxy.
   * It reads only the TLS socket and the headers; the request target is parsed after it.
   */
  private authenticate(req: IncomingMessage): Person | ApiError {
    const problem = frontProxyProblem(req.socket as TLSSocket, this.requestHeader);
    if (problem) return new ApiError(401, 'Unauthorized', problem);
    try {
      const caller = callerFrom(req.headers, req.headersDistinct, this.requestHeader);
      return caller ?? new ApiError(401, 'Unauthorized', 'the front proxy forwarded no user name');
    } catch (e) {
      // A forwarded header that cannot be read (malformed extra key): 400, never a throw out of the handler.
      return e instanceof ApiError ? e : new ApiError(400, 'BadRequest', `the forwarded identity cannot be read: ${String(e)}`);
    }
  }

  /** Paths answered without the front proxy: health checks, and /metrics (which checks its own caller). */
  private servesUnproxied(path: string): boolean {
    return HEALTH.includes(path) || (path === METRICS_PATH && this.deps.metrics !== undefined);
  }

  private async unproxied(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    // Scrapers come straight to the Service with a bearer token, not through kube-apiserver.
    if (path === METRICS_PATH && this.deps.metrics) return this.deps.metrics.serve(req, res);
    sendJson(res, 200, { ok: true });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req.url);
    if (req.method === 'GET' && this.servesUnproxied(path)) return this.unproxied(req, res, path);
    const caller = this.authenticate(req);
    if (caller instanceof ApiError) return sendJson(res, caller.code, statusBody(caller.code, caller.reason, caller.message));
    const discovery = req.method === 'GET' ? DISCOVERY.get(path) : undefined;
    if (discovery) {
      res.setHeader(VERSION_HEADER, PRODUCT_VERSION);
      return sendJson(res, 200, discovery());
    }
    const target = parseSubresourcePath(path);
    const sub = target?.subresource;
    try {
      const read = this.read(req, res, target, path, caller);
      if (read) return await read;
      const action = this.route(target, req.method ?? '', path);
      const ctx: ActionContext = { kube: this.deps.attacher.kube, caller, namespace: target?.namespace ?? '', name: target?.name ?? '', body: await readBody(req), stampKey: this.deps.stampKey(), now: new Date() };
      const session = await action(ctx);
      this.deps.log.info({ session: `${ctx.namespace}/${ctx.name}`, user: caller.username, action: sub }, 'subresource action');
      this.deps.afterAction?.(sub ?? '', ctx, session);
      sendJson(res, 200, session);
    } catch (e) {
      this.fail(res, e, sub, path);
    }
  }

  /** The answer to a request that reads (a recording, the terminal page or its assets); undefined for the others. */
  private read(req: IncomingMessage, res: ServerResponse, target: SubresourceTarget | undefined, path: string, caller: Person): Promise<void> | undefined {
    if (target?.subresource === 'recording') return this.recording(req, res, target, caller);
    if (target?.subresource === 'terminal') return serveTerminalPage(req, res, target, caller, this.deps.attacher);
    const asset = target ? undefined : parseTerminalAssetPath(path);
    return asset ? serveTerminalAsset(req, res, asset.asset) : undefined;
  }

  /** Answers a failed request with its Status; a response already streaming (a recording) is cut off. */
  private fail(res: ServerResponse, e: unknown, sub: string | undefined, path: string): void {
    if (e instanceof RequestAborted) return this.deps.log.debug({ err: e.message, path: path.slice(0, 200) }, 'request aborted by the client');
    const err = e instanceof ApiError ? e : new ApiError(500, 'InternalError', `${sub ?? 'request'} failed: ${e instanceof Error ? e.message : String(e)}`);
    if (err.code >= 500) this.deps.log.error({ err: String(e), path }, 'aggregated API request failed');
    if (res.headersSent) return void res.destroy();
    sendJson(res, err.code, statusBody(err.code, err.reason, err.message));
  }

  /**
   * GET .../recording: kube-apiserver has checked `get` on execsessions/recording.
   * The session's current uid picks its recordings; a deleted session's are
   * found by name (the newest uid) or `?uid=`.
   */
  private async recording(req: IncomingMessage, res: ServerResponse, target: SubresourceTarget, caller: Person): Promise<void> {
    if (req.method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', 'recording takes GET');
    const session = await this.deps.attacher.kube.getSession(target.namespace, target.name);
    const { query } = splitTarget(req.url);
    this.deps.log.info({ session: `${target.namespace}/${target.name}`, user: caller.username, action: 'recording', attach: query.get('attach') ?? 'list' }, 'recording read');
    await serveRecording(this.deps.recordings, target, query, session?.metadata.uid, res);
  }

  /** The action for a POST path, or the error that says what is wrong with the request. */
  private route(target: SubresourceTarget | undefined, method: string, path: string): Action {
    if (!target) throw new ApiError(404, 'NotFound', `no such path ${path.slice(0, 200)}; see ${SUBRESOURCE_BASE}`);
    const sub = target.subresource;
    if (sub === 'attach') throw new ApiError(400, 'BadRequest', `attach is a WebSocket (${PROTOCOLS.join(' or ')}); use: kubectl execsession attach ${target.name} -n ${target.namespace}`);
    // Own properties only: `constructor` matches the path pattern too.
    const action = Object.hasOwn(this.deps.actions, sub) ? this.deps.actions[sub] : undefined;
    if (!action) throw new ApiError(404, 'NotFound', `no subresource ${sub}; there are ${SUBRESOURCES.map((s) => s.name).join(', ')}`);
    if (method !== 'POST') throw new ApiError(405, 'MethodNotAllowed', `${sub} takes POST`);
    return action;
  }

  /** An attach WebSocket: authenticated first, from the socket and headers alone, then the target is read. */
  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const caller = this.authenticate(req);
    if (caller instanceof ApiError) return refuseUpgrade(socket, caller.code, statusBody(caller.code, caller.reason, caller.message));
    const { path, query } = splitTarget(req.url);
    const target = parseSubresourcePath(path);
    if (target?.subresource !== 'attach') return refuseUpgrade(socket, 404, statusBody(404, 'NotFound', `only .../execsessions/NAME/attach takes a WebSocket, not ${path.slice(0, 200)}`));
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!chooseProtocol(offered)) {
      return refuseUpgrade(socket, 400, statusBody(400, 'BadRequest', `offer one of the subprotocols ${PROTOCOLS.join(', ')}`));
    }
    let plan;
    try {
      plan = await this.deps.attacher.prepare(caller, target.namespace, target.name, query);
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(500, 'InternalError', e instanceof Error ? e.message : String(e));
      this.deps.log.info({ session: `${target.namespace}/${target.name}`, user: caller.username, reason: err.reason }, 'attach refused');
      this.deps.attacher.metrics?.attach('refused');
      return refuseUpgrade(socket, err.code, statusBody(err.code, err.reason, err.message));
    }
    // The reserved attach slot goes back if the socket closes before the attach starts
    // (the client left during the inspection, or the handshake fails); start() takes it over.
    if (socket.destroyed) return plan.release();
    socket.once('close', plan.release);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.deps.attacher.start(plan, ws));
  }
}
