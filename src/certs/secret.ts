/**
 * The operator's Secret: the HMAC key that signs requester stamps and, unless
 * certificates come from elsewhere (--cert-secret), the webhook's CA, serving
 * certificate and key. Every replica reads the same Secret; the first to find it
 * missing creates it, and certificates are renewed in place well before expiry
 * while the stamp key stays.
 */
import { randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { classifyApiError } from '../k8s/api-errors.js';
import type { Kube } from '../k8s/kube.js';
import { issueServingCerts, needsRenewal, type CertRequest, type ServingCerts } from './certs.js';

/** What the Secret holds, decoded. */
export interface OperatorSecrets {
  certs: ServingCerts;
  stampKey: Buffer;
}

/** The Secret's contents as found: any of them may be missing. */
interface Stored {
  certs: Partial<ServingCerts>;
  stampKey?: Buffer;
}

/** What a settle step keeps: its result, and the Secret's new contents when they must change. */
interface Plan<T> {
  result: T;
  write?: Stored;
}

const RENEW_BEFORE_DAYS = 30;
const STAMP_KEY_BYTES = 32;

function decode(secret: V1Secret | undefined): Stored {
  const d = secret?.data ?? {};
  const text = (k: string): string | undefined => (d[k] ? Buffer.from(d[k], 'base64').toString('utf8') : undefined);
  return { certs: { ca: text('ca.crt'), cert: text('tls.crt'), key: text('tls.key') }, stampKey: d['stamp.key'] ? Buffer.from(d['stamp.key'], 'base64') : undefined };
}

function encode(namespace: string, name: string, s: Stored, resourceVersion?: string): V1Secret {
  const entries: Array<[string, string | Buffer | undefined]> = [['ca.crt', s.certs.ca], ['tls.crt', s.certs.cert], ['tls.key', s.certs.key], ['stamp.key', s.stampKey]];
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { namespace, name, ...(resourceVersion ? { resourceVersion } : {}), labels: { 'app.kubernetes.io/component': 'execsession-operator' } },
    type: 'Opaque',
    // Only what is there: with --cert-secret the Secret holds the stamp key alone.
    data: Object.fromEntries(entries.filter(([, v]) => v !== undefined).map(([k, v]) => [k, Buffer.from(v as string | Buffer).toString('base64')])),
  };
}

/** The stored stamp key, if it is long enough to keep. */
function usableStampKey(s: Stored): Buffer | undefined {
  return s.stampKey && s.stampKey.length >= STAMP_KEY_BYTES ? s.stampKey : undefined;
}

/**
 * Reads the Secret, asks `plan` what it should hold, and writes that if it
 * changed; safe for several replicas at once (a conflict means another replica
 * wrote first, so the plan is made again from theirs).
 */
async function settle<T>(kube: Kube, namespace: string, name: string, plan: (have: Stored) => Promise<Plan<T>>): Promise<T> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = await kube.getSecret(namespace, name);
    const { result, write } = await plan(decode(existing));
    if (!write) return result;
    try {
      if (existing) await kube.replaceSecret(encode(namespace, name, write, existing.metadata?.resourceVersion));
      else await kube.createSecret(encode(namespace, name, write));
      return result;
    } catch (e) {
      if (classifyApiError(e) !== 'conflict') throw e;
    }
  }
  throw new Error(`could not settle Secret ${namespace}/${name} after 5 attempts`);
}

/** Reads the Secret, creating or renewing what is missing or due: the operator's own certificates and the stamp key. */
export function ensureOperatorSecrets(kube: Kube, namespace: string, name: string, req: CertRequest): Promise<OperatorSecrets> {
  return settle(kube, namespace, name, async (have) => {
    const renew = needsRenewal(have.certs, req, RENEW_BEFORE_DAYS);
    const kept = usableStampKey(have);
    const result = { certs: renew ? await issueServingCerts(req) : (have.certs as ServingCerts), stampKey: kept ?? randomBytes(STAMP_KEY_BYTES) };
    return { result, write: renew || !kept ? result : undefined };
  });
}

/**
 * Reads the stamp key, creating the Secret with it alone when missing. For
 * certificates from elsewhere (--cert-secret): certificates already in the
 * Secret, from earlier self-managed runs, are left as they are.
 */
export function ensureStampKey(kube: Kube, namespace: string, name: string): Promise<Buffer> {
  return settle(kube, namespace, name, async (have) => {
    const kept = usableStampKey(have);
    if (kept) return { result: kept };
    const stampKey = randomBytes(STAMP_KEY_BYTES);
    return { result: stampKey, write: { certs: have.certs, stampKey } };
  });
}
