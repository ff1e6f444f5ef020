/**
 * The operator's Secret: the webhook's CA, serving certificate and key, and the
 * HMAC key that signs requester stamps. Every replica reads the same Secret; the
 * first to find it missing creates it, and certificates are renewed in place well
 * before expiry while the stamp key stays.
 */
import { randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { apiStatus, type Kube } from '../k8s/kube.js';
import { issueWebhookCerts, needsRenewal, type CertRequest, type WebhookCerts } from './certs.js';

/** What the Secret holds, decoded. */
export interface OperatorSecrets {
  certs: WebhookCerts;
  stampKey: Buffer;
}

const RENEW_BEFORE_DAYS = 30;

function decode(secret: V1Secret | undefined): Partial<WebhookCerts> & { stampKey?: Buffer } {
  const d = secret?.data ?? {};
  const text = (k: string): string | undefined => (d[k] ? Buffer.from(d[k], 'base64').toString('utf8') : undefined);
  return { ca: text('ca.crt'), cert: text('tls.crt'), key: text('tls.key'), stampKey: d['stamp.key'] ? Buffer.from(d['stamp.key'], 'base64') : undefined };
}

function encode(namespace: string, name: string, s: OperatorSecrets, resourceVersion?: string): V1Secret {
  const b64 = (v: string | Buffer): string => Buffer.from(v).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { namespace, name, ...(resourceVersion ? { resourceVersion } : {}), labels: { 'app.kubernetes.io/component': 'execsession-operator' } },
    type: 'Opaque',
    data: { 'ca.crt': b64(s.certs.ca), 'tls.crt': b64(s.certs.cert), 'tls.key': b64(s.certs.key), 'stamp.key': b64(s.stampKey) },
  };
}

/** Reads the Secret, creating or renewing what is missing or due; safe for several replicas at once. */
export async function ensureOperatorSecrets(kube: Kube, namespace: string, name: string, req: CertRequest): Promise<OperatorSecrets> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = await kube.getSecret(namespace, name);
    const have = decode(existing);
    const renew = needsRenewal(have, req, RENEW_BEFORE_DAYS);
    if (!renew && have.stampKey && have.stampKey.length >= 32) return { certs: have as WebhookCerts, stampKey: have.stampKey };
    const next: OperatorSecrets = {
      certs: renew ? await issueWebhookCerts(req) : (have as WebhookCerts),
      stampKey: have.stampKey && have.stampKey.length >= 32 ? have.stampKey : randomBytes(32),
    };
    try {
      if (existing) await kube.replaceSecret(encode(namespace, name, next, existing.metadata?.resourceVersion));
      else await kube.createSecret(encode(namespace, name, next));
      return next;
    } catch (e) {
      // Another replica wrote it first: read theirs.
      if (apiStatus(e) !== 409) throw e;
    }
  }
  throw new Error(`could not settle Secret ${namespace}/${name} after 5 attempts`);
}
