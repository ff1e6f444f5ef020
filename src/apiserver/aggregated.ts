/**
 * Runs the aggregated API inside the operator: reads the cluster's front-proxy
 * trust, serves over HTTPS with the operator's certificates (the webhook's, which
 * also name the API's Service), keeps the APIService registered with the current
 * CA, and re-reads the requestheader CA periodically so a rotation is picked up.
 */
import type { V1APIService } from '@kubernetes/client-node';
import type { ServingCerts } from '../certs/certs.js';
import { SUBRESOURCE_GROUP, SUBRESOURCE_VERSION } from '../api/subresources.js';
import type { Logger } from '../log/logger.js';
import { HelperClient, type RuntimePaths } from '../exec/helper-client.js';
import type { Kube } from '../k8s/kube.js';
import { loadRequestHeaderConfig } from '../k8s/request-header.js';
import { Authorizer } from '../authz/authorizer.js';
import { approve, deny } from './approve.js';
import { Attacher, type AttachConfig } from './attach.js';
import { failureStatus } from '../api/channels.js';
import { Extender, revoke } from './lifetime.js';
import { ApiServer } from './server.js';
import { MetricsEndpoint } from './metrics-endpoint.js';
import type { OperatorMetrics } from '../metrics/metrics.js';
import { FileRecordingStore } from '../recording/file-store.js';
import type { S3StoreConfig } from '../recording/s3-store.js';
import type { RecordingStore } from '../recording/store.js';
import type { Auditor } from '../audit/auditor.js';
import { actionEvent } from './action-audit.js';

const RECHECK_MS = 10 * 60 * 1000;

/** How the aggregated API listens and is registered (src/config.ts reads it from flags). */
export interface ApiConfig {
  listenHost: string;
  listenPort: number;
  service: { namespace: string; name: string };
  /** '' means the operator's own API server URL. */
  publicServer: string;
  attach: AttachConfig;
  /** Serve GET /metrics to scrapers that TokenReview and SubjectAccessReview let in (ADR 22). */
  metrics: boolean;
  /** Where attaches are recorded (docs/audit.md, "Recordings"); retentionMs 0 keeps them. */
  recording: { store: 'file' | 's3' | 'none'; dir: string; s3: S3StoreConfig; retentionMs: number };
}

/** The recording store the flags name; undefined for none. The AWS SDK is loaded only for s3 (it is large). */
export async function recordingStore(cfg: ApiConfig['recording']): Promise<RecordingStore | undefined> {
  if (cfg.store === 'file') return new FileRecordingStore(cfg.dir);
  if (cfg.store !== 's3') return undefined;
  const { S3RecordingStore } = await import('../recording/s3-store.js');
  return new S3RecordingStore(cfg.s3);
}

/** The DNS name kube-apiserver verifies the serving certificate against. */
export function apiServiceDnsName(cfg: ApiConfig): string {
  return `${cfg.service.name}.${cfg.service.namespace}.svc`;
}

/** The APIService registration, with the CA that signed the serving certificate. */
export function apiService(cfg: ApiConfig, ca: string): V1APIService {
  return {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: `${SUBRESOURCE_VERSION}.${SUBRESOURCE_GROUP}`, labels: { 'app.kubernetes.io/name': 'execsession' } },
    spec: {
      group: SUBRESOURCE_GROUP, version: SUBRESOURCE_VERSION, groupPriorityMinimum: 1000, versionPriority: 15,
      service: { namespace: cfg.service.namespace, name: cfg.service.name, port: 443 },
      caBundle: Buffer.from(ca).toString('base64'),
    },
  };
}

export class AggregatedApi {
  private server: ApiServer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private certs: ServingCerts | undefined;
  private pruner: NodeJS.Timeout | undefined;

  private readonly metrics: OperatorMetrics;
  private readonly audit: Auditor | undefined;

  /** `parts.audit`: where approvals, denials, revocations, extensions and attaches are audited. */
  constructor(private readonly kube: Kube, private readonly cfg: ApiConfig, private readonly runtimePaths: RuntimePaths, private readonly log: Logger, parts: { metrics: OperatorMetrics; audit?: Auditor }) {
    this.metrics = parts.metrics;
    this.audit = parts.audit;
  }

  /** Serves and registers; resolves with the port. */
  async start(certs: ServingCerts, stampKey: () => Buffer): Promise<number> {
    const requestHeader = await loadRequestHeaderConfig(this.kube);
    const helpers = new HelperClient(this.kube, this.runtimePaths);
    const recordings = await recordingStore(this.cfg.recording);
    // Not fatal: sessions under BestEffort and Off still attach; Required ones are refused, naming the store.
    const problem = await recordings?.problem();
    if (problem) this.log.error({ store: recordings?.description }, `${problem}; attaches to sessions whose policy makes recording Required are refused until it can`);
    else if (recordings) this.log.info({ store: recordings.description }, 'recording attaches');
    this.prune(recordings);
    const attacher = new Attacher(this.kube, helpers, this.cfg.attach, this.log, { sealKey: stampKey, metrics: this.metrics, recordings, audit: this.audit });
    const server = new ApiServer({
      attacher, stampKey, log: this.log, recordings,
      metrics: this.cfg.metrics ? new MetricsEndpoint({ kube: this.kube, metrics: this.metrics, log: this.log }) : undefined,
      actions: { approve, deny, revoke, extend: new Extender({ authorizer: new Authorizer(this.kube), helpers }).extend },
      afterAction: (sub, ctx, session) => {
        const event = actionEvent(sub, ctx, session);
        if (event) this.audit?.emit(event);
        const key = `${ctx.namespace}/${ctx.name}`;
        if (sub === 'approve' || sub === 'deny') this.metrics.approval(sub === 'approve' ? 'approved' : 'denied');
        if (sub === 'revoke') {
          const msg = `session ${key} was revoked by ${ctx.caller.username}`;
          attacher.endSession(key, failureStatus('Revoked', msg, 410), msg);
        }
      },
    }, requestHeader);
    const port = await server.listen(this.cfg.listenHost, this.cfg.listenPort, certs);
    this.server = server;
    this.certs = certs;
    await this.kube.applyApiService(apiService(this.cfg, certs.ca));
    this.log.info({ port, service: `${this.cfg.service.namespace}/${this.cfg.service.name}` }, 'aggregated API registered');
    this.timer = setInterval(() => void this.refresh(), RECHECK_MS);
    this.timer.unref();
    return port;
  }

  /** Deletes recordings past --recording-retention, now and hourly. */
  private prune(store: RecordingStore | undefined): void {
    const { retentionMs } = this.cfg.recording;
    if (!store || retentionMs <= 0) return;
    const run = (): void => void store.prune(Date.now() - retentionMs).then(
      (n) => n > 0 && this.log.info({ removed: n, store: store.description }, 'recordings past their retention deleted'),
      (e: unknown) => this.log.warn({ err: String(e), store: store.description }, 'could not prune recordings'),
    );
    run();
    this.pruner = setInterval(run, 60 * 60 * 1000);
    this.pruner.unref();
  }

  /** New certificates from the webhook's renewal. */
  updateCertificates(certs: ServingCerts): void {
    this.certs = certs;
    this.server?.update(certs);
    void this.kube.applyApiService(apiService(this.cfg, certs.ca)).catch((e: unknown) => this.log.warn({ err: String(e) }, 'could not update the APIService'));
  }

  private async refresh(): Promise<void> {
    try {
      const requestHeader = await loadRequestHeaderConfig(this.kube);
      if (this.certs) {
        this.server?.update(this.certs, requestHeader);
        await this.kube.applyApiService(apiService(this.cfg, this.certs.ca));
      }
    } catch (e) {
      this.log.warn({ err: String(e) }, 'aggregated API refresh failed; will retry');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.pruner) clearInterval(this.pruner);
    await this.server?.close();
  }
}
