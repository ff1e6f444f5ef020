/**
 * The operator's own serving certificates, which the admission webhook and the
 * aggregated API both serve: a CA and a serving certificate for the names and
 * addresses kube-apiserver dials, made with @peculiar/x509 on Node's WebCrypto
 * (ECDSA P-256). The operator keeps them in a Secret, renews them well before
 * expiry, and keeps the CA in the webhook configurations' and the APIService's
 * caBundle.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate, webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

/** PEM-encoded CA, serving certificate and its private key (PKCS#8). */
export interface ServingCerts {
  ca: string;
  cert: string;
  key: string;
}

/** What the serving certificate must name. */
export interface CertRequest {
  dnsNames: string[];
  ips: string[];
  now: Date;
  /** Lifetime of the serving certificate; the CA lives ten times as long. */
  validDays: number;
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');
}

/** Issues a fresh CA and serving certificate. */
export async function issueServingCerts(r: CertRequest): Promise<ServingCerts> {
  if (r.dnsNames.length + r.ips.length === 0) throw new Error('the webhook certificate needs at least one DNS name or IP address');
  const notBefore = new Date(r.now.getTime() - 5 * 60 * 1000);
  const caKeys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: 'CN=execsession-webhook-ca', notBefore, notAfter: new Date(r.now.getTime() + 10 * r.validDays * DAY_MS),
    keys: caKeys, signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const names = [...r.dnsNames.map((value) => ({ type: 'dns' as const, value })), ...r.ips.map((value) => ({ type: 'ip' as const, value }))];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(), subject: `CN=${r.dnsNames[0] ?? r.ips[0]}`, issuer: ca.subject, notBefore, notAfter: new Date(r.now.getTime() + r.validDays * DAY_MS),
    publicKey: keys.publicKey, signingKey: caKeys.privateKey, signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const key = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8).toString('base64').replace(/(.{64})/g, '$1\n').trimEnd()}\n-----END PRIVATE KEY-----\n`;
  return { ca: ca.toString('pem'), cert: cert.toString('pem'), key };
}

/**
 * True when the certificates must be replaced: unreadable, not signed by the CA,
 * missing a required name, or within `renewBeforeDays` of expiry.
 */
export function needsRenewal(c: Partial<ServingCerts>, r: CertRequest, renewBeforeDays: number): boolean {
  if (!c.ca || !c.cert || !c.key) return true;
  try {
    const cert = new X509Certificate(c.cert);
    if (!cert.verify(new X509Certificate(c.ca).publicKey)) return true;
    const sans = cert.subjectAltName ?? '';
    if (!r.dnsNames.every((d) => sans.includes(`DNS:${d}`)) || !r.ips.every((ip) => sans.includes(`IP Address:${ip}`))) return true;
    return Date.parse(cert.validTo) - r.now.getTime() < renewBeforeDays * DAY_MS;
  } catch {
    return true;
  }
}
