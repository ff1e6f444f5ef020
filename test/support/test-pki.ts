/**
 * Certificates in memory for unit tests of the operator's HTTPS servers: a CA,
 * serving certificates and client certificates (ECDSA P-256, @peculiar/x509),
 * so a test can dial a server with no certificate, an untrusted one, or one
 * with a given name, without files or a cluster.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A CA that can sign. */
export interface TestCa {
  cert: string;
  keys: CryptoKeyPair;
  subject: string;
}

/** A certificate and its private key, PEM. */
export interface TestPair {
  cert: string;
  key: string;
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');
}

async function pkcs8(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd()}\n-----END PRIVATE KEY-----\n`;
}

/** A self-signed CA named `cn`. */
export async function testCa(cn: string): Promise<TestCa> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: `CN=${cn}`, notBefore: new Date(now - DAY_MS), notAfter: new Date(now + DAY_MS), keys, signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  return { cert: cert.toString('pem'), keys, subject: cert.subject };
}

/** A leaf signed by `ca`: a client certificate named `cn`, or a serving one for 127.0.0.1 with `server`. */
export async function testLeaf(ca: TestCa, cn: string, server = false): Promise<TestPair> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const now = Date.now();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([server ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
  ];
  if (server) extensions.push(new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(), subject: `CN=${cn}`, issuer: ca.subject, notBefore: new Date(now - DAY_MS), notAfter: new Date(now + DAY_MS),
    publicKey: keys.publicKey, signingKey: ca.keys.privateKey, signingAlgorithm: ALG, extensions,
  });
  return { cert: cert.toString('pem'), key: await pkcs8(keys.privateKey) };
}
