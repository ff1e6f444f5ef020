/**
 * Runs the admission webhook inside the operator: settles the operator's Secret,
 * serves reviews over HTTPS, keeps both webhook configurations registered with
 * the current CA, and renews certificates before they expire.
 */
import { isIP } from 'node:net';
import type { Logger } from '../controller/types.js';
import type { Kube } from '../k8s/kube.js';
import type { CertRequest } from './certs.js';
import { webhookConfigurations, type WebhookEndpoint } from './registration.js';
import { Authorizer, describeAllowed } from '../authz/authorizer.js';
import { mutate, requesterOf, validate, type AdmissionRequest, type AdmissionResponse } from './review.js';
import { ensureOperatorSecrets, type OperatorSecrets } from './secret.js';
import { WebhookServer } from './server.js';

/** Webhook settings (flags in src/config.ts). */
export interface WebhookConfig {
  namespace: string;
  secretName: string;
  listenHost: string;
  listenPort: number;
  /** How kube-apiserver reaches us; a URL without port gets the listening port. */
  endpoint: { url?: string; service?: { namespace: string; name: string; port: number } };
  /** Further DNS names for the serving certificate (the aggregated API's Service shares it). */
  extraDnsNames?: string[];
}

const RECHECK_MS = 60 * 60 * 1000;

/** The names the serving certificate needs for an endpoint. */
export function certNames(e: WebhookEndpoint): { dnsNames: string[]; ips: string[] } {
  if ('service' in e) {
    const { name, namespace } = e.service;
    return { dnsNames: [`${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`], ips: [] };
  }
  const host = new URL(e.url).hostname.replace(/^\[|\]$/g, '');
  return isIP(host) ? { dnsNames: [], ips: [host] } : { dnsNames: [host], ips: [] };
}

export class Webhook {
  private server: WebhookServer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private secrets: OperatorSecrets | undefined;

  private readonly authorizer: Authorizer;

  constructor(private readonly kube: Kube, private readonly cfg: WebhookConfig, private readonly log: Logger) {
    this.authorizer = new Authorizer(kube);
  }

  /** Called with the certificates after every refresh (the aggregated API serves the same ones). */
  onRefresh: ((certs: OperatorSecrets['certs']) => void) | undefined;

  /** The serving certificates (after start). */
  get certs(): OperatorSecrets['certs'] {
    if (!this.secrets) throw new Error('the webhook has not started');
    return this.secrets.certs;
  }

  /** The HMAC key for requester stamps (after start). */
  get stampKey(): Buffer {
    if (!this.secrets) throw new Error('the webhook has not started');
    return this.secrets.stampKey;
  }

  /** Serves and registers; resolves once kube-apiserver can call us. */
  async start(): Promise<void> {
    const server = new WebhookServer({ '/mutate': (r) => mutate(r, this.stampKey, new Date()), '/validate': (r) => this.admit(r) }, this.log);
    // Certificate names never include the port, so the Secret can be settled before listening.
    const provisional = this.endpoint(this.cfg.listenPort);
    this.secrets = await ensureOperatorSecrets(this.kube, this.cfg.namespace, this.cfg.secretName, this.certRequest(provisional));
    const port = await server.listen(this.cfg.listenHost, this.cfg.listenPort, this.secrets.certs);
    this.server = server;
    const endpoint = this.endpoint(port);
    await this.register(endpoint);
    this.log.info({ endpoint: 'url' in endpoint ? endpoint.url : `service ${endpoint.service.namespace}/${endpoint.service.name}`, port }, 'admission webhook registered');
    this.timer = setInterval(() => void this.refresh(endpoint), RECHECK_MS);
    this.timer.unref();
  }

  /**
   * Validating webhook: formats and immutability, then on CREATE both RBAC and
   * policy. An allow names the policy (and the approvals it needs) in a warning,
   * which `kubectl create` and `--dry-run=server` show; an error here fails the
   * request (failurePolicy Fail).
   */
  private async admit(r: AdmissionRequest): Promise<AdmissionResponse> {
    const v = validate(r);
    if (!v.allowed || r.operation !== 'CREATE' || !r.object?.spec) return v;
    const requester = requesterOf(r);
    const d = await this.authorizer.authorize({ requester, namespace: r.namespace ?? '', spec: r.object.spec });
    if (!d.allowed) return { uid: r.uid, allowed: false, status: { code: 403, reason: 'Forbidden', message: `${d.reason}: ${d.message}` } };
    const later = d.pendingResolution ? '; checked again once the user is resolved inside the container' : '';
    // An approval policy admits the session; the controller holds it in WaitingForApproval.
    const approve = d.approvalsRequired > 0 ? `; approve with: kubectl execsession approve ${r.object.metadata?.name ?? r.name ?? 'NAME'} -n ${r.namespace ?? 'NAMESPACE'}` : '';
    return { uid: r.uid, allowed: true, warnings: [`${describeAllowed(d, requester)}${later}${approve}`] };
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.server?.close();
  }

  private endpoint(port: number): WebhookEndpoint {
    if (this.cfg.endpoint.service) return { service: this.cfg.endpoint.service };
    const url = new URL(this.cfg.endpoint.url ?? `https://${this.cfg.listenHost}`);
    if (!url.port) url.port = String(port);
    return { url: url.toString().replace(/\/$/, '') };
  }

  private certRequest(e: WebhookEndpoint): CertRequest {
    const names = certNames(e);
    return { ...names, dnsNames: [...names.dnsNames, ...(this.cfg.extraDnsNames ?? [])], now: new Date(), validDays: 365 };
  }

  private async register(e: WebhookEndpoint): Promise<void> {
    const { mutating, validating } = webhookConfigurations(e, this.secrets?.certs.ca ?? '');
    await this.kube.applyWebhookConfigurations(mutating, validating);
  }

  /** Renews certificates when due and re-registers (someone may have deleted or edited the configurations). */
  private async refresh(e: WebhookEndpoint): Promise<void> {
    try {
      this.secrets = await ensureOperatorSecrets(this.kube, this.cfg.namespace, this.cfg.secretName, this.certRequest(e));
      this.server?.updateCertificates(this.secrets.certs);
      this.onRefresh?.(this.secrets.certs);
      await this.register(e);
    } catch (err) {
      this.log.warn({ err: String(err) }, 'webhook refresh failed; will retry');
    }
  }
}
