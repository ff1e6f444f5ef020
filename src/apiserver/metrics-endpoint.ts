/**
 * GET /metrics on the aggregated API's HTTPS port, for authorized scrapers only
 * (ADR 22), as kubebuilder's metrics endpoint does it: the caller's bearer token
 * is authenticated with a TokenReview, and a SubjectAccessReview asks whether
 * that identity may `get` the non-resource URL `/metrics` (a ClusterRole with
 * `nonResourceURLs: [/metrics]`, docs/audit.md). Answers are cached briefly,
 * keyed by a hash of the token, so a scrape every 15 s costs kube-apiserver
 * two reviews a minute at most.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Person } from '../api/types.js';
import { sendJson, statusBody } from '../http/respond.js';
import { apiMessage, type Kube } from '../k8s/kube.js';
import type { Logger } from '../log/logger.js';
import type { OperatorMetrics } from '../metrics/metrics.js';

export const METRICS_PATH = '/metrics';

/** How long an answer is reused: an allowed scraper for a minute, a refused one for ten seconds. */
export const ALLOW_CACHE_MS = 60_000;
export const DENY_CACHE_MS = 10_000;
const MAX_CACHED = 1000;

/** What a scrape was answered, before the body. */
type Verdict = { code: 200 } | { code: 401 | 403; reason: string; message: string };

/** The bearer token of a request, or undefined. */
export function bearerToken(req: Pick<IncomingMessage, 'headers'>): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

/** What the endpoint needs: the two reviews, the registry, a log and a clock. */
export interface MetricsEndpointDeps {
  kube: Pick<Kube, 'reviewToken' | 'nonResourceAccessReview'>;
  metrics: Pick<OperatorMetrics, 'exposition'>;
  log: Logger;
  now?: () => number;
}

export class MetricsEndpoint {
  private readonly cache = new Map<string, { until: number; verdict: Verdict }>();
  private readonly now: () => number;

  constructor(private readonly d: MetricsEndpointDeps) {
    this.now = d.now ?? Date.now;
  }

  /** Answers one GET /metrics: the exposition, or 401/403 saying what is missing. */
  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let verdict: Verdict;
    try {
      verdict = await this.authorize(bearerToken(req));
    } catch (e) {
      // The reviews could not be made: nothing is served, and the scraper is told why.
      this.d.log.warn({ err: apiMessage(e) }, 'metrics: could not review the scraper\'s token');
      return sendJson(res, 503, statusBody(503, 'ServiceUnavailable', `could not check the scraper's token with kube-apiserver: ${apiMessage(e)}`));
    }
    if (verdict.code !== 200) return sendJson(res, verdict.code, statusBody(verdict.code, verdict.reason, verdict.message));
    const { contentType, body } = await this.d.metrics.exposition();
    res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
    res.end(body);
  }

  /** The verdict for a token, from the cache or from kube-apiserver. */
  async authorize(token: string | undefined): Promise<Verdict> {
    if (!token) {
      return { code: 401, reason: 'Unauthorized', message: `${METRICS_PATH} needs a bearer token (Authorization: Bearer ...) that kube-apiserver authenticates, e.g. the scraper's ServiceAccount token` };
    }
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return hit.verdict;
    const verdict = await this.review(token);
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(key, { until: this.now() + (verdict.code === 200 ? ALLOW_CACHE_MS : DENY_CACHE_MS), verdict });
    return verdict;
  }

  private async review(token: string): Promise<Verdict> {
    const who: Person | undefined = await this.d.kube.reviewToken(token);
    if (!who) return { code: 401, reason: 'Unauthorized', message: 'kube-apiserver does not authenticate this bearer token (TokenReview); use a valid ServiceAccount token' };
    const r = await this.d.kube.nonResourceAccessReview(who, METRICS_PATH, 'get');
    if (r.allowed) return { code: 200 };
    const message = `${JSON.stringify(who.username)} may not get ${METRICS_PATH}${r.reason ? ` (${r.reason})` : ''}; bind it a ClusterRole with nonResourceURLs ["${METRICS_PATH}"] and verb get (config/prometheus/scraper-rbac.yaml)`;
    return { code: 403, reason: 'Forbidden', message };
  }
}
