/**
 * The webhook's HTTPS server: decodes AdmissionReviews, hands them to the pure
 * handlers, and encodes the answers. Bodies are bounded; certificates can be
 * swapped while it runs.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../controller/types.js';
import { readBoundedBody } from '../http/body.js';
import type { WebhookCerts } from './certs.js';
import type { AdmissionRequest, AdmissionResponse } from './review.js';

/** The handlers by path. */
export type Handlers = Record<string, (req: AdmissionRequest) => AdmissionResponse | Promise<AdmissionResponse>>;

const MAX_BODY = 3 << 20;

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBoundedBody(req, MAX_BODY, () => new Error('request body too large'))).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The running webhook server. */
export class WebhookServer {
  private server: Server | undefined;

  constructor(private readonly handlers: Handlers, private readonly log: Logger) {}

  /** Listens on host:port (port 0 picks one); resolves with the port. */
  async listen(host: string, port: number, certs: WebhookCerts): Promise<number> {
    const server = createServer({ cert: certs.cert, key: certs.key, minVersion: 'TLSv1.2' }, (req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  /** Serves renewed certificates from now on. */
  updateCertificates(certs: WebhookCerts): void {
    this.server?.setSecureContext({ cert: certs.cert, key: certs.key });
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/healthz') return send(res, 200, { ok: true });
    const handler = req.method === 'POST' ? this.handlers[(req.url ?? '').split('?')[0] ?? ''] : undefined;
    if (!handler) return send(res, 404, { message: 'not found' });
    try {
      const review = JSON.parse(await readBody(req)) as { apiVersion?: string; request?: AdmissionRequest };
      if (!review.request?.uid) return send(res, 400, { message: 'not an AdmissionReview' });
      const response = await handler(review.request);
      send(res, 200, { apiVersion: review.apiVersion ?? 'admission.k8s.io/v1', kind: 'AdmissionReview', response });
    } catch (e) {
      this.log.error({ err: String(e), path: req.url }, 'admission review failed');
      send(res, 500, { message: 'admission review failed' });
    }
  }
}
