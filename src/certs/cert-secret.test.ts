import 'reflect-metadata';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { before, describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import type { V1Secret } from '@kubernetes/client-node';
import { issueServingCerts, type ServingCerts } from './certs.js';
import { CertSecretError, certProblems, readCertSecret, sameCerts } from './cert-secret.js';

const REF = { namespace: 'execsession-system', name: 'execsession-serving' };
const WEBHOOK = 'execsession-webhook.execsession-system.svc';
const API = 'execsession-api.execsession-system.svc';
const NAMES = { dnsNames: [WEBHOOK, API], ips: ['10.250.0.1'] };
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A Secret as cert-manager writes it. */
function secret(data: Record<string, string>): V1Secret {
  return { metadata: REF, type: 'kubernetes.io/tls', data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) };
}

function certSecret(c: ServingCerts): V1Secret {
  return secret({ 'tls.crt': c.cert, 'tls.key': c.key, 'ca.crt': c.ca });
}

function throwsCertSecret(s: V1Secret | undefined, message: RegExp): void {
  assert.throws(() => readCertSecret(REF, s), (e: unknown) => {
    assert.ok(e instanceof CertSecretError, `not a CertSecretError: ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
}

/** root → intermediate → leaf, as a CA Issuer backed by an intermediate would issue them. */
async function chain(): Promise<{ root: string; intermediate: string; leaf: string }> {
  const key = (): Promise<webcrypto.CryptoKeyPair> => webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const [rootKeys, midKeys, leafKeys] = [await key(), await key(), await key()];
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 30 * 86_400_000);
  const caExt = [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)];
  const root = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=root', notBefore, notAfter, keys: rootKeys, signingAlgorithm: ALG, extensions: caExt });
  const mid = await x509.X509CertificateGenerator.create({
    serialNumber: '02', subject: 'CN=intermediate', issuer: root.subject, notBefore, notAfter, publicKey: midKeys.publicKey, signingKey: rootKeys.privateKey, signingAlgorithm: ALG, extensions: caExt,
  });
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '03', subject: `CN=${API}`, issuer: mid.subject, notBefore, notAfter, publicKey: leafKeys.publicKey, signingKey: midKeys.privateKey, signingAlgorithm: ALG,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: WEBHOOK }, { type: 'dns', value: API }, { type: 'ip', value: '10.250.0.1' }])],
  });
  return { root: root.toString('pem'), intermediate: mid.toString('pem'), leaf: leaf.toString('pem') };
}

describe('reading --cert-secret', () => {
  let good: ServingCerts;
  let other: ServingCerts;

  before(async () => {
    const req = { ...NAMES, now: new Date(), validDays: 90 };
    [good, other] = [await issueServingCerts(req), await issueServingCerts(req)];
  });

  it('takes tls.crt, tls.key and ca.crt byte for byte', () => {
    assert.deepEqual(readCertSecret(REF, certSecret(good)), good);
  });

  it('fails for a missing Secret, naming it and what to do', () => {
    throwsCertSecret(undefined, /^Secret execsession-system\/execsession-serving \(--cert-secret\) does not exist: install cert-manager and apply config\/cert-manager .*or drop --cert-secret/);
  });

  it('names every missing key, counting an empty one as missing', () => {
    throwsCertSecret(secret({ 'tls.crt': good.cert }), /execsession-serving \(--cert-secret\) lacks tls\.key, ca\.crt \(it needs tls\.crt, tls\.key, ca\.crt.*install cert-manager/);
    throwsCertSecret(secret({ 'tls.crt': good.cert, 'tls.key': good.key, 'ca.crt': '' }), /lacks ca\.crt \(/);
    throwsCertSecret(secret({}), /lacks tls\.crt, tls\.key, ca\.crt/);
  });

  it('refuses contents it cannot serve', () => {
    throwsCertSecret(certSecret({ ...good, key: other.key }), /tls\.key is not the key of the certificate in tls\.crt/);
    throwsCertSecret(certSecret({ ...good, cert: 'garbage' }), /tls\.crt holds no PEM certificate/);
    throwsCertSecret(certSecret({ ...good, ca: 'garbage' }), /ca\.crt holds no PEM certificate/);
    throwsCertSecret(certSecret({ ...good, key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }), /tls\.key is not readable/);
  });

  it('compares certificates', () => {
    assert.equal(sameCerts(good, { ...good }), true);
    assert.equal(sameCerts(good, { ...good, ca: other.ca }), false);
  });
});

describe('what kube-apiserver would refuse', () => {
  let good: ServingCerts;

  before(async () => {
    good = await issueServingCerts({ ...NAMES, now: new Date(), validDays: 90 });
  });

  it('nothing, for certificates naming every dialed name under their CA', () => {
    assert.deepEqual(certProblems(good, NAMES, new Date()), []);
  });

  it('a dialed name or address the certificate lacks', () => {
    assert.deepEqual(certProblems(good, { dnsNames: [API, 'other.ns.svc'], ips: ['10.0.0.9'] }, new Date()), [
      'tls.crt does not name other.ns.svc, which kube-apiserver dials',
      'tls.crt does not name IP address 10.0.0.9, which kube-apiserver dials',
    ]);
  });

  it('a certificate from another CA, and expiry', async () => {
    const other = await issueServingCerts({ ...NAMES, now: new Date(), validDays: 90 });
    assert.deepEqual(certProblems({ ...good, ca: other.ca }, NAMES, new Date()), ['tls.crt is not signed by the CA in ca.crt, so kube-apiserver will not trust it']);
    assert.match(certProblems(good, NAMES, new Date(Date.now() + 89.5 * 86_400_000)).join(), /expires at .*in less than a day/);
    assert.match(certProblems(good, NAMES, new Date(Date.now() + 91 * 86_400_000)).join(), /tls\.crt expired at /);
  });

  it('follows a chain in tls.crt up to the root in ca.crt', async () => {
    const c = await chain();
    const certs = (cert: string, ca: string): ServingCerts => ({ cert, ca, key: '' });
    assert.deepEqual(certProblems(certs(c.leaf + c.intermediate, c.root), NAMES, new Date()), [], 'leaf + intermediate, root CA');
    assert.deepEqual(certProblems(certs(c.leaf, c.intermediate), NAMES, new Date()), [], 'the issuing CA itself in ca.crt');
    assert.deepEqual(certProblems(certs(c.leaf + c.intermediate + c.root, c.root), NAMES, new Date()), [], 'the root repeated in tls.crt');
    assert.equal(certProblems(certs(c.leaf, c.root), NAMES, new Date()).length, 1, 'the intermediate missing');
    assert.equal(certProblems(certs(c.leaf + c.root, c.root), NAMES, new Date()).length, 1, 'a chain out of order');
  });
});
