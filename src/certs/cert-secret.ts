/**
 * Serving certificates kept by someone else (--cert-secret): a Secret with the
 * keys cert-manager writes for a Certificate (tls.crt, tls.key, ca.crt). The
 * operator only reads it. Reading is pure, so every way it can be wrong is
 * tested without a cluster; each error names the Secret and says what to do.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { ServingCerts } from './certs.js';

/** The keys read, in the order cert-manager documents them. */
export const CERT_SECRET_KEYS = ['tls.crt', 'tls.key', 'ca.crt'] as const;

/** Which Secret, for messages. */
export interface SecretRef {
  namespace: string;
  name: string;
}

/** The certificate Secret is absent, incomplete or unreadable. */
export class CertSecretError extends Error {}

const DAY_MS = 24 * 60 * 60 * 1000;

function remedy(ref: SecretRef): string {
  return `install cert-manager and apply config/cert-manager (its Certificate writes Secret ${ref.name}), ` +
    'or drop --cert-secret to let the operator issue its own certificates';
}

/** The PEM blocks of a certificate file (tls.crt may carry the chain after the leaf). */
function pemBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** What is wrong with the PEM contents, if anything (parse errors, a key that is not the certificate's). */
function unreadable(certs: ServingCerts): string | undefined {
  const parse = (what: string, f: () => unknown): string | undefined => {
    try {
      f();
      return undefined;
    } catch (e) {
      return `${what} is not readable: ${(e as Error).message}`;
    }
  };
  const first = pemBlocks(certs.cert)[0];
  if (!first) return 'tls.crt holds no PEM certificate';
  if (pemBlocks(certs.ca).length === 0) return 'ca.crt holds no PEM certificate';
  const problem = parse('tls.crt', () => new X509Certificate(first)) ?? parse('ca.crt', () => new X509Certificate(certs.ca)) ?? parse('tls.key', () => createPrivateKey(certs.key));
  if (problem) return problem;
  return new X509Certificate(first).checkPrivateKey(createPrivateKey(certs.key)) ? undefined : 'tls.key is not the key of the certificate in tls.crt';
}

/**
 * The certificates in the Secret; throws CertSecretError naming the Secret, what
 * is missing or wrong, and what to do about it.
 */
export function readCertSecret(ref: SecretRef, secret: V1Secret | undefined): ServingCerts {
  const where = `Secret ${ref.namespace}/${ref.name} (--cert-secret)`;
  if (!secret) throw new CertSecretError(`${where} does not exist: ${remedy(ref)}`);
  const data = secret.data ?? {};
  const text = (k: string): string => Buffer.from(data[k] ?? '', 'base64').toString('utf8');
  // cert-manager leaves ca.crt empty for some issuers (ACME); empty counts as missing.
  const missing = CERT_SECRET_KEYS.filter((k) => text(k).trim() === '');
  if (missing.length > 0) {
    throw new CertSecretError(`${where} lacks ${missing.join(', ')} (it needs ${CERT_SECRET_KEYS.join(', ')}, as cert-manager writes them from a CA Issuer): ${remedy(ref)}`);
  }
  // As written, byte for byte: caBundle then equals the Secret's ca.crt.
  const certs = { cert: text('tls.crt'), key: text('tls.key'), ca: text('ca.crt') };
  const problem = unreadable(certs);
  if (problem) throw new CertSecretError(`${where}: ${problem}; check the Certificate that writes it, or drop --cert-secret to let the operator issue its own certificates`);
  return certs;
}

/** True when the chain in tls.crt ends at a certificate ca.crt signed (or at ca.crt itself). */
function chainsToCa(certs: ServingCerts): boolean {
  const chain = pemBlocks(certs.cert).map((p) => new X509Certificate(p));
  const roots = pemBlocks(certs.ca).map((p) => new X509Certificate(p));
  for (let i = 0; i + 1 < chain.length; i++) {
    const [child, parent] = [chain[i] as X509Certificate, chain[i + 1] as X509Certificate];
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) return false;
  }
  const last = chain[chain.length - 1] as X509Certificate;
  return roots.some((r) => last.fingerprint256 === r.fingerprint256 || (last.checkIssued(r) && last.verify(r.publicKey)));
}

/**
 * Why kube-apiserver would refuse these certificates, if it would: a name it dials
 * that tls.crt does not carry, a chain that does not end at ca.crt, expiry. The
 * operator cannot fix these (the Secret is not its own), so they are warnings.
 */
export function certProblems(certs: ServingCerts, dialed: { dnsNames: string[]; ips: string[] }, now: Date): string[] {
  const leaf = new X509Certificate(pemBlocks(certs.cert)[0] ?? '');
  const problems = [
    ...dialed.dnsNames.filter((d) => leaf.checkHost(d, { wildcards: true }) === undefined).map((d) => `tls.crt does not name ${d}, which kube-apiserver dials`),
    ...dialed.ips.filter((ip) => leaf.checkIP(ip) === undefined).map((ip) => `tls.crt does not name IP address ${ip}, which kube-apiserver dials`),
  ];
  if (!chainsToCa(certs)) problems.push('tls.crt is not signed by the CA in ca.crt, so kube-apiserver will not trust it');
  const left = Date.parse(leaf.validTo) - now.getTime();
  if (left <= 0) problems.push(`tls.crt expired at ${new Date(leaf.validTo).toISOString()}`);
  else if (left < DAY_MS) problems.push(`tls.crt expires at ${new Date(leaf.validTo).toISOString()}, in less than a day, and has not been renewed`);
  return problems;
}

/** True when both hold the same certificates and key. */
export function sameCerts(a: ServingCerts, b: ServingCerts): boolean {
  return a.ca === b.ca && a.cert === b.cert && a.key === b.key;
}
