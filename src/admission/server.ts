/**
 * The webhook's HTTPS server: answers kube-apiserver only (by its client
 * certificate, checked per request so that health checks need none), decodes
 * AdmissionReviews, hands them to the pure handlers, and encodes the answers.
 * Bodies are bounded; nothing a request carries can end the process;
 * certificates and the trusted client CA can be swapped while it runs.
 */
import { closeServer } from '../http/close.js';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../log/logger.js';
import { RequestAborted, readBoundedBody } from '../http/body.js';
import { clientCertProblem } from '../http/client-cert.js';
import { pathOf } from '../http/request-target.js';
import { guardRequests, guardServer, sendJson, statusBody } from '../http/respond.js';
import type { ServingCerts } from '../certs/certs.js';
import type { WebhookClientTrust } from './client-trust.js';
import type { AdmissionRequest, AdmissionResponse } from './review.js';
import { outlastClientKeepAlive } from '../http/keep-alive.js';

/** The handlers by path. */
export type Handlers = Record<string, (req: AdmissionRequest) => AdmissionResponse | Promise<AdmissionResponse>>;

const MAX_BODY = 3 << 20;
const HEALTH = ['/healthz', '/readyz', '/livez'];

/** A request the webhook will not handle: answered with this code and message. */
class Refusal extends Error {
  constructor(readonly code: number, readonly reason: string, message: string) {
    super(message);
  }
}

async function readReview(req: IncomingMessage): Promise<{ apiVersion?: string; request: AdmissionRequest }> {
  const body = await readBoundedBody(req, MAX_BODY, () => new Refusal(413, 'RequestEntityTooLarge', `the AdmissionReview exceeds ${MAX_BODY} bytes`));
  let review: unknown;
  try {
    review = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Refusal(400, 'BadRequest', 'the body is not JSON; the webhook takes an admission.k8s.io/v1 AdmissionReview');
  }
  const r = (review as { request?: Partial<AdmissionRequest> } | null)?.request;
  if (typeof r !== 'object' || r === null || typeof r.uid !== 'string' || !r.uid || typeof r.userInfo !== 'object' || r.userInfo === null) {
    throw new Refusal(400, 'BadRequest', 'not an AdmissionReview: request.uid and request.userInfo are required');
  }
  const apiVersion = (review as { apiVersion?: unknown }).apiVersion;
  return { ...(typeof apiVersion === 'string' ? { apiVersion } : {}), request: r as AdmissionRequest };
}

/** The running webhook server. */
export class WebhookServer {
  private server: Server | undefined;
  private certs: ServingCerts | undefined;

  constructor(private readonly handlers: Handlers, private trust: WebhookClientTrust, private readonly log: Logger) {}

  /** Listens on host:port (port 0 picks one); resolves with the port. */
  async listen(host: string, port: number, certs: ServingCerts): Promise<number> {
    this.certs = certs;
    // A client certificate is asked for but not required at the handshake: health checks come without one.
    const server = createServer({ ...this.context(), requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, guardRequests((req, res) => this.handle(req, res), this.log));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    guardServer(server, this.log, 'admission webhook');
    outlastClientKeepAlive(server);
    return (server.address() as AddressInfo).port;
  }

  private context(): { cert?: string; key?: string; ca: string } {
    return { cert: this.certs?.cert, key: this.certs?.key, ca: this.trust.ca };
  }

  /** Serves renewed certificates from now on. */
  updateCertificates(certs: ServingCerts): void {
    this.certs = certs;
    this.server?.setSecureContext(this.context());
  }

  /** Checks clients against a new CA and names from now on (a rotated requestheader CA, say). */
  updateTrust(trust: WebhookClientTrust): void {
    this.trust = trust;
    this.server?.setSecureContext(this.context());
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  /** Why the request is not from kube-apiserver, or undefined when it is. */
  private refusal(req: IncomingMessage): Refusal | undefined {
    const r = clientCertProblem(req.socket as TLSSocket, this.trust);
    if (!r) return undefined;
    const message = `${r.problem}: the execsession admission webhook answers kube-apiserver only, which must present a client certificate of ${this.trust.description} `
      + '(kube-apiserver --admission-control-config-file, see config/README.md; or set the operator\'s --webhook-client-ca and --webhook-client-names)';
    return new Refusal(r.code, r.code === 401 ? 'Unauthorized' : 'Forbidden', message);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req.url);
    if (req.method === 'GET' && HEALTH.includes(path)) return sendJson(res, 200, { ok: true });
    try {
      const refused = this.refusal(req);
      if (refused) {
        this.log.warn({ remote: req.socket.remoteAddress, path: path.slice(0, 200), problem: refused.message }, 'webhook request refused');
        throw refused;
      }
      // Own properties only: a path such as /constructor must find nothing.
      const handler = req.method === 'POST' && Object.hasOwn(this.handlers, path) ? this.handlers[path] : undefined;
      if (!handler) throw new Refusal(404, 'NotFound', `no webhook at ${req.method} ${path.slice(0, 200)}; kube-apiserver posts AdmissionReviews to /mutate and /validate`);
      const review = await readReview(req);
      const response = await handler(review.request);
      sendJson(res, 200, { apiVersion: review.apiVersion ?? 'admission.k8s.io/v1', kind: 'AdmissionReview', response });
    } catch (e) {
      if (e instanceof Refusal) return sendJson(res, e.code, statusBody(e.code, e.reason, e.message));
      if (e instanceof RequestAborted) return this.log.debug({ err: e.message, path: path.slice(0, 200) }, 'webhook request aborted by the client');
      this.log.error({ err: String(e), path: path.slice(0, 200) }, 'admission review failed');
      sendJson(res, 500, statusBody(500, 'InternalError', 'admission review failed; see the operator\'s log'));
    }
  }
}
