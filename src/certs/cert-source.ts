/**
 * Where the webhook's serving certificates and the stamp key come from: the
 * operator's own Secret, in which it issues and renews certificates itself (the
 * default), or a Secret someone else keeps (--cert-secret, e.g. cert-manager's),
 * which it only reads. The stamp key is the operator's own in both cases.
 */
import { apiMessage, apiStatus, type Kube } from '../k8s/kube.js';
import type { CertRequest, ServingCerts } from './certs.js';
import { CertSecretError, certProblems, readCertSecret } from './cert-secret.js';
import { ensureOperatorSecrets, ensureStampKey, type OperatorSecrets } from './secret.js';

/** The names kube-apiserver dials, to check certificates the operator did not issue. */
export interface DialedNames {
  dnsNames: string[];
  ips: string[];
}

/** One place certificates come from. */
export interface CertSource {
  /** For logs: where the certificates come from. */
  readonly description: string;
  /** How often to load again (a renewal is served from the next load on). */
  readonly refreshMs: number;
  /** The certificates and stamp key now; issues or renews certificates that are the operator's own. */
  load(req: CertRequest): Promise<OperatorSecrets>;
  /** Why kube-apiserver would refuse the certificates; [] for the operator's own, which it issues to fit. */
  problems(certs: ServingCerts, dialed: DialedNames): string[];
}

/** Self-managed checks are hourly: renewal starts 30 days before expiry. */
const SELF_MANAGED_REFRESH_MS = 60 * 60 * 1000;

/** Certificates the operator issues and renews in its own Secret. */
export function selfManagedCerts(kube: Kube, namespace: string, secretName: string): CertSource {
  return {
    description: `self-managed in Secret ${namespace}/${secretName}`,
    refreshMs: SELF_MANAGED_REFRESH_MS,
    load: (req) => ensureOperatorSecrets(kube, namespace, secretName, req),
    problems: () => [],
  };
}

/** Certificates read from `certSecret`, which someone else writes; the stamp key from the operator's own Secret. */
export function certsFromSecret(kube: Kube, namespace: string, secretName: string, certSecret: string, refreshMs: number): CertSource {
  const ref = { namespace, name: certSecret };
  let stampKey: Buffer | undefined;
  return {
    description: `Secret ${namespace}/${certSecret}`,
    refreshMs,
    async load() {
      const secret = await kube.getSecret(namespace, certSecret).catch((e: unknown) => {
        const why = apiStatus(e) === 403 ? 'the operator may not get it (config/cert-manager/role.yaml grants that)' : apiMessage(e);
        throw new CertSecretError(`could not read Secret ${namespace}/${certSecret} (--cert-secret): ${why}`);
      });
      // Certificates first, so a missing Secret fails startup before anything is written.
      const certs = readCertSecret(ref, secret);
      // The stamp key never changes while the operator runs: read (or create) it once.
      stampKey ??= await ensureStampKey(kube, namespace, secretName);
      return { certs, stampKey };
    },
    problems: (certs, dialed) => certProblems(certs, dialed, new Date()),
  };
}
