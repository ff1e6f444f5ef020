/**
 * Runs the admission webhook inside the operator: loads its certificates and the
 * stamp key (src/certs/cert-source.ts) and whom to answer (kube-apiserver,
 * by its client certificate: src/admission/client-trust.ts), serves reviews over
 * HTTPS, keeps both webhook configurations registered with the current CA, and
 * serves renewed certificates (its own, or those in --cert-secret) without a restart.
 */
import { isIP } from 'node:net';
import type { Logger } from '../log/logger.js';
import type { Kube } from '../k8s/kube.js';
import type { CertRequest } from '../certs/certs.js';
import { webhookConfigurations, type WebhookEndpoint } from './registration.js';
import { Authorizer } from '../authz/authorizer.js';
import type { OperatorMetrics } from '../metrics/metrics.js';
import { admitSession } from './admit.js';
import type { Auditor } from '../audit/auditor.js';
import { mutate, type AdmissionRequest, type AdmissionResponse } from './review.js';
import { sameCerts } from '../certs/cert-secret.js';
import { certsFromSecret, selfManagedCerts, type CertSource, type DialedNames } from '../certs/cert-source.js';
import { loadWebhookClientTrust, type WebhookClientConfig } from './client-trust.js';
import type { OperatorSecrets } from '../certs/secret.js';
import { WebhookServer } from './server.js';
import { apiMessage, apiStatus } from '../k8s/api-errors.js';
import { guardUninstall } from './uninstall-guard.js';

/** Webhook settings (flags in src/config.ts). */
export interface WebhookConfig {
  namespace: string;
  /** The operator's own Secret: the stamp key, and the certificates unless certSecret is set. */
  secretName: string;
  /** A Secret (in namespace) with tls.crt, tls.key and ca.crt that someone else keeps, e.g. cert-manager; '' = self-managed. */
  certSecret: string;
  /** How often certSecret is read again. */
  certRefreshMs: number;
  listenHost: string;
  listenPort: number;
  /** How kube-apiserver reaches us; a URL without port gets the listening port. */
  endpoint: { url?: string; service?: { namespace: string; name: string; port: number } };
  /** Further names kube-apiserver dials with the same certificate: the aggregated API's Service (NAME.NAMESPACE.svc). */
  extraDnsNames?: string[];
  /** Which client certificates the webhook answers (kube-apiserver's). */
  client: WebhookClientConfig;
}

/** The configurations are re-applied this often even without a change: someone may have deleted or edited them. */
const REREGISTER_MS = 60 * 60 * 1000;

/** The trusted client CA is read again this often, so a rotated requestheader CA is followed (as the aggregated API does). */
const TRUST_REFRESH_MS = 10 * 60 * 1000;

/** The names kube-apiserver verifies the serving certificate against, for an endpoint and further Service names. */
export function dialedNames(e: WebhookEndpoint, extraDnsNames: string[] = []): DialedNames {
  if ('service' in e) return { dnsNames: [`${e.service.name}.${e.service.namespace}.svc`, ...extraDnsNames], ips: [] };
  const host = new URL(e.url).hostname.replace(/^\[|\]$/g, '');
  return isIP(host) ? { dnsNames: extraDnsNames, ips: [host] } : { dnsNames: [host, ...extraDnsNames], ips: [] };
}

/** The names the operator's own certificate carries: the dialed ones, each Service name also as NAME.NAMESPACE.svc.cluster.local. */
export function certNames(e: WebhookEndpoint, extraDnsNames: string[] = []): DialedNames {
  const d = dialedNames(e, extraDnsNames);
  return { dnsNames: d.dnsNames.flatMap((n) => (n.endsWith('.svc') ? [n, `${n}.cluster.local`] : [n])), ips: d.ips };
}

export class Webhook {
  private server: WebhookServer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private trustTimer: NodeJS.Timeout | undefined;
  private secrets: OperatorSecrets | undefined;
  private refreshes = 0;

  private readonly authorizer: Authorizer;
  private readonly source: CertSource;

  /** `audit`: where refusals at admission are audited (src/audit). */
  constructor(private readonly kube: Kube, private readonly cfg: WebhookConfig, private readonly log: Logger, private readonly metrics?: Pick<OperatorMetrics, 'denied'>, private readonly audit?: Auditor) {
    this.authorizer = new Authorizer(kube);
    this.source = cfg.certSecret
      ? certsFromSecret(kube, cfg.namespace, cfg.secretName, cfg.certSecret, cfg.certRefreshMs)
      : selfManagedCerts(kube, cfg.namespace, cfg.secretName);
  }

  /** Called with the certificates whenever a refresh finds new ones (the aggregated API serves the same ones). */
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
    const trust = await loadWebhookClientTrust(this.kube, this.cfg.client);
    const server = new WebhookServer({ '/mutate': (r) => mutate(r, this.stampKey, new Date()), '/validate': (r) => admitSession(r, { authorizer: this.authorizer, operatorNamespace: this.cfg.namespace, metrics: this.metrics, audit: this.audit }), '/uninstall': (r) => this.guard(r) }, trust, this.log);
    // Certificate names never include the port, so certificates can be loaded before listening.
    const provisional = this.endpoint(this.cfg.listenPort);
    this.secrets = await this.source.load(this.certRequest(provisional));
    const port = await server.listen(this.cfg.listenHost, this.cfg.listenPort, this.secrets.certs);
    this.server = server;
    const endpoint = this.endpoint(port);
    this.warnIfRefused(endpoint, this.secrets.certs);
    await this.register(endpoint);
    this.log.info({ endpoint: 'url' in endpoint ? endpoint.url : `service ${endpoint.service.namespace}/${endpoint.service.name}`, port, certificates: this.source.description, clients: trust.description }, 'admission webhook registered');
    this.timer = setInterval(() => void this.refresh(endpoint), this.source.refreshMs);
    this.timer.unref();
    this.trustTimer = setInterval(() => void this.refreshTrust(), TRUST_REFRESH_MS);
    this.trustTimer.unref();
  }

  /** Reads the trusted client CA and names again; on failure the ones loaded before stay in use. */
  private async refreshTrust(): Promise<void> {
    try {
      this.server?.updateTrust(await loadWebhookClientTrust(this.kube, this.cfg.client));
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not read the webhook\'s client CA again; still checking clients against the one loaded before, will retry');
    }
  }

  /** The uninstall guard; when the sessions cannot be listed it refuses (the operator runs, so it may be protecting some). */
  private async guard(r: AdmissionRequest): Promise<AdmissionResponse> {
    let sessions;
    try {
      sessions = await this.kube.listSessions();
    } catch (err) {
      // Its own RBAC or the CRD already gone (an uninstall under way, which went on once the last
      // session ended): it can neither see nor end sessions any more, so there is nothing to protect.
      const status = apiStatus(err);
      if (status === 403 || status === 404) {
        this.log.warn({ status, resource: r.resource?.resource, name: r.name }, 'uninstall guard: cannot list sessions (RBAC or CRD removed); letting the uninstall go on');
        return { uid: r.uid, allowed: true };
      }
      const message = `UninstallGuard: execsession could not list the sessions to check that none is live (${apiMessage(err)}); ` +
        'try again, or stop the operator first (kubectl scale deployment/execsession-operator --replicas=0) to remove it regardless';
      return { uid: r.uid, allowed: false, status: { code: 503, reason: 'ServiceUnavailable', message } };
    }
    const answer = guardUninstall(r, sessions);
    if (!answer.allowed) this.log.info({ user: r.userInfo.username, resource: r.resource?.resource, name: r.name, namespace: r.namespace }, 'uninstall refused while sessions live');
    return answer;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.trustTimer) clearInterval(this.trustTimer);
    await this.server?.close();
  }

  private endpoint(port: number): WebhookEndpoint {
    if (this.cfg.endpoint.service) return { service: this.cfg.endpoint.service };
    const url = new URL(this.cfg.endpoint.url ?? `https://${this.cfg.listenHost}`);
    if (!url.port) url.port = String(port);
    return { url: url.toString().replace(/\/$/, '') };
  }

  private certRequest(e: WebhookEndpoint): CertRequest {
    return { ...certNames(e, this.cfg.extraDnsNames), now: new Date(), validDays: 365 };
  }

  /** Logs why kube-apiserver would refuse certificates the operator did not issue (it cannot fix them itself). */
  private warnIfRefused(e: WebhookEndpoint, certs: OperatorSecrets['certs']): void {
    const problems = this.source.problems(certs, dialedNames(e, this.cfg.extraDnsNames));
    if (problems.length > 0) this.log.warn({ certificates: this.source.description, problems }, 'kube-apiserver will refuse the serving certificate; fix the Certificate that writes it');
  }

  private async register(e: WebhookEndpoint): Promise<void> {
    const { mutating, validating } = webhookConfigurations(e, this.secrets?.certs.ca ?? '');
    await this.kube.applyWebhookConfigurations(mutating, validating);
  }

  /**
   * Loads the certificates again (renewing the operator's own when due); serves
   * and registers them when they changed, and re-registers hourly in any case.
   * On failure the certificates already loaded stay in use.
   */
  private async refresh(e: WebhookEndpoint): Promise<void> {
    try {
      const next = await this.source.load(this.certRequest(e));
      const changed = !this.secrets || !sameCerts(next.certs, this.secrets.certs);
      this.secrets = next;
      if (changed) {
        this.server?.updateCertificates(next.certs);
        this.onRefresh?.(next.certs);
        this.log.info({ certificates: this.source.description }, 'serving new certificates');
        this.warnIfRefused(e, next.certs);
      }
      const every = Math.max(1, Math.round(REREGISTER_MS / this.source.refreshMs));
      if (changed || ++this.refreshes % every === 0) await this.register(e);
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : String(err), certificates: this.source.description }, 'webhook refresh failed; still serving the certificates loaded before, will retry');
    }
  }
}
